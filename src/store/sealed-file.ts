// Whole-document files (campaign.json, plan.json, snapshot.json): one sealed JSON object per file,
//   {"kind":"hvroll-snapshot","format":1,<header fields>,"data":<document>,"crc":"xxxxxxxx"}\n
// written atomically (unique temp name + fsync + rename + fsync of the directory) and verified on read.

import { seal, unsealBytes } from './crc.ts';
import type { StoreFs } from './fs.ts';
import { corruptFile, jsonProblem, nulProblem, parseProblem } from './problems.ts';
import { tempName } from './paths.ts';
import { writeFileDurable } from '../io/durable-write.ts';
import { STORE_FORMAT } from './doc.ts';

export type SealedKind = 'hvroll-campaign' | 'hvroll-plan' | 'hvroll-snapshot';

export function encodeSealed(kind: SealedKind, header: Record<string, number | string>, dataJson: string): string {
  const head = JSON.stringify({ kind, format: STORE_FORMAT, ...header });
  return `${seal(`${head.slice(0, -1)},"data":${dataJson}}`)}\n`;
}

/** Writes a new version of `path` so that a crash leaves either the old or the new file, never a mix. Returns bytes written. */
export async function writeSealedAtomic(
  fs: StoreFs,
  path: string,
  kind: SealedKind,
  header: Record<string, number | string>,
  dataJson: string,
): Promise<number> {
  const bytes = Buffer.from(encodeSealed(kind, header, dataJson));
  await writeBytesAtomic(fs, path, bytes);
  return bytes.length;
}

/** Replaces (or creates) `path` with `bytes` so that a crash leaves the old file or the new one, durably. */
export function writeBytesAtomic(fs: StoreFs, path: string, bytes: Uint8Array): Promise<void> {
  return writeFileDurable(path, bytes, { fs, temp: tempName(path) });
}

export interface SealedDoc {
  header: Record<string, unknown>;
  data: unknown;
  bytes: number;
}

/** Reads and verifies a sealed file; null when it does not exist. Any damage throws a store error naming the file. */
export async function readSealed(fs: StoreFs, path: string, kind: SealedKind): Promise<SealedDoc | null> {
  const raw = await fs.readFile(path);
  if (raw === null) return null;
  return decodeSealed(raw, path, kind);
}

export function decodeSealed(raw: Uint8Array, path: string, kind: SealedKind): SealedDoc {
  if (raw.length === 0) throw corruptFile({ file: path, problem: 'the file is empty (0 bytes)' });
  const nul = nulProblem(raw);
  if (nul !== undefined) throw corruptFile({ file: path, problem: nul });
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const opening = `{"kind":"${kind}"`;
  if (!bytes.subarray(0, opening.length).equals(Buffer.from(opening))) {
    const head = JSON.stringify(bytes.subarray(0, 40).toString('utf8'));
    throw corruptFile({ file: path, problem: `invalid content: it does not begin with ${opening} (begins with ${head}); not valid store JSON` });
  }
  if (bytes.length < 2 || bytes[bytes.length - 2] !== 0x7d || bytes[bytes.length - 1] !== 0x0a) {
    throw corruptFile({ file: path, problem: `the file is cut short (${raw.length} bytes, no complete end): it was truncated` });
  }
  const u = unsealBytes(bytes.subarray(0, -1));
  if (!u.ok) {
    const invalid = jsonProblem(bytes.toString('utf8'));
    const problem =
      invalid !== undefined
        ? `${invalid}; no valid checksum either`
        : u.problem === 'no-checksum'
        ? 'no checksum trailer: the content is not a complete store document (truncated or edited)'
        : 'checksum mismatch: the content changed after it was written (edited by hand or disk damage)';
    throw corruptFile({ file: path, problem });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(u.body);
  } catch (e) {
    throw corruptFile({ file: path, problem: parseProblem(e) });
  }
  if (typeof parsed !== 'object' || parsed === null || !('data' in parsed)) {
    throw corruptFile({ file: path, problem: 'not a store document (no "data")' });
  }
  const { kind: k, format, data, ...rest } = parsed as Record<string, unknown>;
  if (k !== kind) throw corruptFile({ file: path, problem: `holds a ${JSON.stringify(k)} document, expected ${kind}` });
  if (format !== STORE_FORMAT) {
    throw corruptFile(
      { file: path, problem: `store format ${JSON.stringify(format)} is not supported (this hvroll reads format ${STORE_FORMAT})` },
      'Use the hvroll version that wrote this campaign.',
    );
  }
  return { header: rest, data, bytes: raw.length };
}

const TRAILER = /^,"crc":"[0-9a-f]{8}"\}\n$/;
const TRAILER_BYTES = ',"crc":"00000000"}\n'.length;

/**
 * The bytes of the `data` member of a sealed file written with an empty header (plan.json), exactly as on
 * disk: for a hash over the stored text without parsing 50 MB again. Its checksum is not verified here (the
 * store verifies it on open; a hash over these bytes covers them anyway).
 */
export function sealedData(raw: Uint8Array, path: string, kind: SealedKind): Uint8Array {
  const head = Buffer.from(`${JSON.stringify({ kind, format: STORE_FORMAT }).slice(0, -1)},"data":`);
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const tail = bytes.length >= head.length + TRAILER_BYTES ? bytes.subarray(bytes.length - TRAILER_BYTES).toString('latin1') : '';
  if (!bytes.subarray(0, head.length).equals(head) || !TRAILER.test(tail)) {
    throw corruptFile({ file: path, problem: `it is not a ${kind} document as the store writes it (${head.toString()}…,"crc":…})` });
  }
  return bytes.subarray(head.length, bytes.length - TRAILER_BYTES);
}
