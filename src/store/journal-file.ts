// journal.ndjson: one sealed JSON object per line. Line 1 is a header naming the campaign and the snapshot
// sequence number the journal continues from; every later line is one op:
//   {"kind":"hvroll-journal","format":2,"campaignId":"c1","base":120,"marked":true,"crc":"…"}
//   {"seq":121,"epoch":3,"op":{"t":"group",…},"crc":"…"}
// Appends are whole lines; a crash mid-append leaves at most one torn LAST line (no newline), which was
// never acknowledged and is ignored. Anything else that does not verify is damage and is refused. How far
// the journal must reach — its last acknowledged record — is kept outside it, in the durability marker
// (marker.ts): `"marked":true` says this store keeps one (journals written before it have no such field).

import { seal, unseal } from './crc.ts';
import { STORE_FORMAT, type Op } from './doc.ts';
import type { StoreFs } from './fs.ts';
import { corruptFile, jsonProblem, nulProblem, parseProblem } from './problems.ts';
import { writeBytesAtomic } from './sealed-file.ts';

export interface JournalHeader {
  campaignId: string;
  /** Sequence number of the snapshot this journal continues; its first record is base + 1 (or lower, already in the snapshot). */
  base: number;
  /** The store keeps a durability marker (absent in journals written before markers existed: false). */
  marked: boolean;
}

export interface JournalRecord {
  seq: number;
  epoch: number;
  op: Op;
  /** 1-based line number and byte offset, for error messages. */
  line: number;
  offset: number;
  /** Byte offset just past its newline, and its checksum (what the durability marker names). */
  end: number;
  crc: string;
}

export interface ParsedJournal {
  header: JournalHeader;
  /** The header line's checksum, and the offset just past it. */
  headerCrc: string;
  headerEnd: number;
  records: JournalRecord[];
  /** Bytes up to the end of the last complete line. */
  validLength: number;
  /** A last line without newline: a crash mid-append. */
  torn?: { offset: number; length: number };
}

const NEWLINE = 0x0a;

export function encodeHeader(h: JournalHeader): string {
  const fields = { kind: 'hvroll-journal', format: STORE_FORMAT, campaignId: h.campaignId, base: h.base, ...(h.marked ? { marked: true } : {}) };
  return `${seal(JSON.stringify(fields))}\n`;
}

export function encodeRecord(seq: number, epoch: number, opJson: string): string {
  return `${seal(`{"seq":${seq},"epoch":${epoch},"op":${opJson}}`)}\n`;
}

/** The checksum of an encoded line (with its newline): `…,"crc":"1c291ca3"}\n`. */
export function lineCrc(line: string): string {
  return line.slice(-11, -3);
}

/** The checksum of a verified line's bytes (without its newline). */
function crcOfLine(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + bytes.byteLength - 10, 8).toString('latin1');
}

/** Replaces the journal by a fresh one holding only the header (atomic; used by create and compaction). Returns its length and checksum. */
export async function writeFreshJournal(fs: StoreFs, path: string, h: JournalHeader): Promise<{ length: number; crc: string }> {
  const text = encodeHeader(h);
  const bytes = Buffer.from(text);
  await writeBytesAtomic(fs, path, bytes);
  return { length: bytes.length, crc: lineCrc(text) };
}

function isInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

/** Verifies one line (without its newline) and returns the parsed object. */
export function decodeLine(bytes: Uint8Array, path: string, line: number, offset: number): Record<string, unknown> {
  const nul = nulProblem(bytes);
  if (nul !== undefined) throw corruptFile({ file: path, line, offset, problem: nul });
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  const u = unseal(text);
  if (!u.ok) {
    const invalid = jsonProblem(text);
    const problem =
      invalid !== undefined
        ? `${invalid}; no valid checksum either`
        : u.problem === 'no-checksum'
        ? 'the line is not a complete record (no checksum trailer): cut short, or edited'
        : 'checksum mismatch: the record changed after it was written (edited by hand or disk damage)';
    throw corruptFile({ file: path, line, offset, problem });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(u.body);
  } catch (e) {
    throw corruptFile({ file: path, line, offset, problem: parseProblem(e) });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw corruptFile({ file: path, line, offset, problem: 'the line is not a JSON object' });
  }
  return parsed as Record<string, unknown>;
}

function toRecord(o: Record<string, unknown>, path: string, line: number, offset: number, end: number, crc: string): JournalRecord {
  const op = o.op as { t?: unknown } | undefined;
  if (!isInt(o.seq) || !isInt(o.epoch) || typeof op !== 'object' || op === null || typeof op.t !== 'string') {
    throw corruptFile({ file: path, line, offset, problem: 'the line is not a journal record (needs seq, epoch, op)' });
  }
  return { seq: o.seq, epoch: o.epoch, op: op as Op, line, offset, end, crc };
}

/**
 * Splits `raw` (starting at byte `start`, line number `firstLine`) into verified records.
 * The trailing bytes after the last newline are returned as `torn`, unless they contain NUL bytes (damage).
 */
export function parseRecords(
  raw: Uint8Array,
  path: string,
  start: number,
  firstLine: number,
): { records: JournalRecord[]; validLength: number; torn?: { offset: number; length: number } } {
  const records: JournalRecord[] = [];
  let pos = start;
  let line = firstLine;
  for (;;) {
    const nl = raw.indexOf(NEWLINE, pos);
    if (nl < 0) break;
    const bytes = raw.subarray(pos, nl);
    records.push(toRecord(decodeLine(bytes, path, line, pos), path, line, pos, nl + 1, crcOfLine(bytes)));
    pos = nl + 1;
    line++;
  }
  if (pos === raw.length) return { records, validLength: pos };
  const tail = raw.subarray(pos);
  const nul = nulProblem(tail);
  if (nul !== undefined) throw corruptFile({ file: path, line, offset: pos, problem: nul });
  return { records, validLength: pos, torn: { offset: pos, length: tail.length } };
}

export function parseJournal(raw: Uint8Array, path: string): ParsedJournal {
  if (raw.length === 0) {
    throw corruptFile({ file: path, problem: 'the file is empty (0 bytes), but a journal always begins with a header line: it was truncated' });
  }
  const nl = raw.indexOf(NEWLINE);
  if (nl < 0) {
    const nul = nulProblem(raw);
    throw corruptFile({ file: path, line: 1, offset: 0, problem: nul ?? 'the header line is incomplete: the file was truncated' });
  }
  const headerBytes = raw.subarray(0, nl);
  const h = decodeLine(headerBytes, path, 1, 0);
  if (h.kind !== 'hvroll-journal' || typeof h.campaignId !== 'string' || !isInt(h.base)) {
    throw corruptFile({ file: path, line: 1, offset: 0, problem: 'the first line is not a journal header' });
  }
  if (h.format !== STORE_FORMAT) {
    throw corruptFile(
      { file: path, line: 1, offset: 0, problem: `store format ${JSON.stringify(h.format)} is not supported (this hvroll reads format ${STORE_FORMAT})` },
      'Use the hvroll version that wrote this campaign.',
    );
  }
  const body = parseRecords(raw, path, nl + 1, 2);
  return { header: { campaignId: h.campaignId, base: h.base, marked: h.marked === true }, headerCrc: crcOfLine(headerBytes), headerEnd: nl + 1, ...body };
}
