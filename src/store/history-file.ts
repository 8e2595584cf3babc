// history-<seq>.ndjson: finished journal entries archived by the compaction at snapshot sequence <seq>.
// Written once, atomically (temp + fsync + rename + fsync dir) before the snapshot that lists it; never
// changed after. One sealed JSON object per line:
//   {"kind":"hvroll-history","format":2,"campaignId":"c1","seq":120,"entries":2,"crc":"…"}
//   {"id":7,"key":"c1/g1/migrate/vm1",…,"outcome":{…},"crc":"…"}
// Only history readers (audit, report, tests) open these; resume never does.

import { join } from 'node:path';
import { decodeLine } from './journal-file.ts';
import { seal } from './crc.ts';
import { STORE_FORMAT, type JournalEntry, type SegmentRef } from './doc.ts';
import type { StoreFs } from './fs.ts';
import { errorOfKind } from '../model/errors.ts';
import { corruptFile, nulProblem } from './problems.ts';
import { writeBytesAtomic } from './sealed-file.ts';

const NAME = /^history-(\d{12})\.ndjson$/;

export function segmentName(seq: number): string {
  return `history-${String(seq).padStart(12, '0')}.ndjson`;
}

/** The compaction sequence number of a segment file name, or null when it is not one. */
export function segmentSeq(name: string): number | null {
  const m = NAME.exec(name);
  return m ? Number(m[1]) : null;
}

export function encodeSegment(campaignId: string, seq: number, entries: readonly JournalEntry[]): Buffer {
  let text = `${seal(JSON.stringify({ kind: 'hvroll-history', format: STORE_FORMAT, campaignId, seq, entries: entries.length }))}\n`;
  for (const e of entries) text += `${seal(JSON.stringify(e))}\n`;
  return Buffer.from(text);
}

export interface EncodedSegment {
  ref: SegmentRef;
  bytes: Buffer;
}

/** Entries are written in id order, whatever order they finished in. */
export function segmentOf(campaignId: string, seq: number, entries: readonly JournalEntry[]): EncodedSegment {
  const sorted = [...entries].sort((a, b) => a.id - b.id);
  const bytes = encodeSegment(campaignId, seq, sorted);
  return { ref: { file: segmentName(seq), seq, entries: sorted.length, bytes: bytes.length }, bytes };
}

export function writeSegment(fs: StoreFs, dir: string, s: EncodedSegment): Promise<void> {
  return writeBytesAtomic(fs, join(dir, s.ref.file), s.bytes);
}

function fix(path: string): string {
  return `Restore ${path} from a backup of the campaign directory. The campaign itself can still resume (its live state is in snapshot.json and journal.ndjson); the audit trail and the report need this file.`;
}

function isEntry(o: Record<string, unknown>): boolean {
  return (
    typeof o.id === 'number' &&
    typeof o.key === 'string' &&
    typeof o.group === 'string' &&
    typeof o.step === 'string' &&
    typeof o.host === 'string' &&
    typeof o.outcome === 'object' &&
    o.outcome !== null
  );
}

/** Reads and verifies one segment against its reference in the snapshot; any damage throws naming the file. */
export async function readSegment(fs: StoreFs, dir: string, campaignId: string, ref: SegmentRef): Promise<JournalEntry[]> {
  const path = join(dir, ref.file);
  const raw = await fs.readFile(path);
  if (raw === null) throw corruptFile({ file: path, problem: 'the history file listed in snapshot.json is missing (deleted?)' }, fix(path));
  const damaged = (p: { problem: string; line?: number; offset?: number }) => corruptFile({ file: path, ...p }, fix(path));
  const nul = nulProblem(raw);
  if (nul !== undefined) throw damaged({ problem: nul });
  if (raw.length !== ref.bytes) throw damaged({ problem: `it holds ${raw.length} bytes, but snapshot.json recorded ${ref.bytes}: truncated, extended or replaced` });
  const out: JournalEntry[] = [];
  let pos = 0;
  let line = 1;
  while (pos < raw.length) {
    const nl = raw.indexOf(0x0a, pos);
    if (nl < 0) throw damaged({ line, offset: pos, problem: 'the last line is cut short (no newline)' });
    let o: Record<string, unknown>;
    try {
      o = decodeLine(raw.subarray(pos, nl), path, line, pos);
    } catch (e) {
      const detail = errorOfKind(e, 'store')?.details?.problem;
      throw detail === undefined ? e : damaged({ line, offset: pos, problem: detail });
    }
    if (line === 1) {
      if (o.kind !== 'hvroll-history' || o.format !== STORE_FORMAT || o.campaignId !== campaignId || o.seq !== ref.seq) {
        throw damaged({ line, offset: pos, problem: `the header does not match (expected campaign ${JSON.stringify(campaignId)}, sequence ${ref.seq}, format ${STORE_FORMAT})` });
      }
    } else {
      if (!isEntry(o)) throw damaged({ line, offset: pos, problem: 'the line is not a finished journal entry' });
      out.push(o as unknown as JournalEntry);
    }
    pos = nl + 1;
    line++;
  }
  if (out.length !== ref.entries) throw damaged({ problem: `it holds ${out.length} entries, but snapshot.json recorded ${ref.entries}` });
  return out;
}
