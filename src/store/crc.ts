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
