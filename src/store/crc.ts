// A sealed text is a JSON object whose last member is a CRC32 of everything before it:
//   {"a":1,"b":2,"crc":"1c291ca3"}   with crc = crc32(utf8('{"a":1,"b":2}'))
// The checksum covers the exact bytes on disk (no re-serialisation), and the result is still plain JSON.

import { crc32 } from 'node:zlib';

const TRAILER_LENGTH = ',"crc":"00000000"}'.length;
const TRAILER = /^,"crc":"([0-9a-f]{8})"\}$/;

export function crcHex(text: string): string {
  return (crc32(text) >>> 0).toString(16).padStart(8, '0');
}

/** `json` must be the JSON text of a non-empty object. */
export function seal(json: string): string {
  return `${json.slice(0, -1)},"crc":"${crcHex(json)}"}`;
}

export type UnsealResult = { ok: true; body: string } | { ok: false; problem: 'no-checksum' | 'checksum-mismatch' };

/** Checks the trailer and returns the original JSON text (without the crc member). */
export function unseal(text: string): UnsealResult {
  // Match on the fixed-size tail only: a regex over a 60 MB snapshot would scan it all.
  const m = TRAILER.exec(text.slice(-TRAILER_LENGTH));
  if (!m) return { ok: false, problem: 'no-checksum' };
  const body = `${text.slice(0, text.length - TRAILER_LENGTH)}}`;
  return crcHex(body) === m[1] ? { ok: true, body } : { ok: false, problem: 'checksum-mismatch' };
}

const CLOSE = Buffer.from('}');

/**
 * `unseal` on the raw bytes of a sealed text: the checksum is computed over the bytes as they are, without
 * decoding and re-encoding a 50 MB plan twice; only the body is decoded, once.
 */
export function unsealBytes(bytes: Uint8Array): UnsealResult {
  if (bytes.length < TRAILER_LENGTH) return { ok: false, problem: 'no-checksum' };
  const cut = bytes.length - TRAILER_LENGTH;
  const tail = Buffer.from(bytes.buffer, bytes.byteOffset + cut, TRAILER_LENGTH).toString('latin1');
  const m = TRAILER.exec(tail);
  if (!m) return { ok: false, problem: 'no-checksum' };
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, cut);
  const crc = (crc32(CLOSE, crc32(head)) >>> 0).toString(16).padStart(8, '0');
  return crc === m[1] ? { ok: true, body: `${head.toString('utf8')}}` } : { ok: false, problem: 'checksum-mismatch' };
}
