// The durability marker: how far the journal is known to be durable — the sequence number, epoch and checksum
// of its last acknowledged record, and the journal's length after it. The store rewrites it in place (pwrite +
// fdatasync) after every journal append and before the write is acknowledged. On open, the journal must still
// hold that record, unchanged: then whatever follows it (a torn line, a complete record) was never
// acknowledged and may be dropped, and a journal that ends earlier — cut at a record boundary or in the middle
// of one — is refused instead of being taken for a torn last write.
//
// It lives outside the campaign directory, in the state root (<root>/.marks/<id>.mark, paths.ts), so neither a
// truncation of the journal nor a campaign directory restored from an older backup takes it along. A restore
// of the whole state root brings back an equally old marker: that, only the hosts can tell.
//
// The file is two fixed-size slots written alternately, each a sealed JSON line padded with spaces to 512
// bytes (one disk sector):
//   {"kind":"hvroll-mark","format":2,"campaign":"5d1e2a0b","n":42,"epoch":3,"base":120,"seq":161,"length":20480,"last":"1c291ca3","crc":"…"}
// (`campaign`: a checksum of the campaign id, so a marker copied to the wrong campaign is not believed.)
// The valid slot with the highest `n` counts. A write torn by a power loss damages only the slot being
// written; the other still holds the previous mark, which is older and so still true.

import { basename, join } from 'node:path';
import { crcHex, seal, unseal } from './crc.ts';
import { STORE_FORMAT } from './doc.ts';
import type { InPlaceFile, StoreFs } from './fs.ts';
import type { JournalRecord, ParsedJournal } from './journal-file.ts';
import type { StoreFiles } from './paths.ts';
import { corruptFile, storeError } from './problems.ts';
import { writeBytesAtomic } from './sealed-file.ts';

export const SLOT_BYTES = 512;
const SLOTS = 2;

/** What one mark says. `seq`/`epoch`/`last` name the journal's last complete line (the header's seq is `base`). */
export interface Mark {
  epoch: number;
  /** The journal generation (its header's base). */
  base: number;
  seq: number;
  /** Journal bytes up to and including that line. */
  length: number;
  /** That line's checksum. */
  last: string;
}

export interface ReadMark extends Mark {
  /** Write counter: the slot is n % 2. */
  n: number;
  /** Checksum of the campaign id. */
  campaign: string;
}

/** What a marker calls its campaign. */
export function campaignTag(campaignId: string): string {
  return crcHex(campaignId);
}

/** The slot's JSON text, sealed. Numbers and a hex checksum only, so a template is exact (and cheaper than JSON.stringify per append). */
function slotText(m: Mark, n: number, campaign: string): string {
  const text = seal(`{"kind":"hvroll-mark","format":${STORE_FORMAT},"campaign":"${campaign}","n":${n},"epoch":${m.epoch},"base":${m.base},"seq":${m.seq},"length":${m.length},"last":"${m.last}"}`);
  if (text.length > SLOT_BYTES - 1) throw new Error(`marker slot overflow (${text.length} bytes)`);
  return text;
}

/** One slot: the sealed text padded with spaces, ending in a newline. */
export function encodeSlot(m: Mark, n: number, campaign: string, into: Buffer = Buffer.alloc(SLOT_BYTES)): Buffer {
  into.fill(0x20);
  into.write(slotText(m, n, campaign), 0, 'latin1');
  into[SLOT_BYTES - 1] = 0x0a;
  return into;
}

const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

function decodeSlot(bytes: Uint8Array): ReadMark | null {
  if (bytes.length !== SLOT_BYTES || bytes[SLOT_BYTES - 1] !== 0x0a) return null;
  const u = unseal(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1').trimEnd());
  if (!u.ok) return null;
  try {
    const o = JSON.parse(u.body) as Record<string, unknown>;
    if (o.kind !== 'hvroll-mark' || o.format !== STORE_FORMAT || typeof o.last !== 'string' || typeof o.campaign !== 'string') return null;
    if (![o.n, o.epoch, o.base, o.seq, o.length].every(isInt)) return null;
    return { n: o.n as number, campaign: o.campaign, epoch: o.epoch as number, base: o.base as number, seq: o.seq as number, length: o.length as number, last: o.last };
  } catch {
    return null;
  }
}

/** The newest valid slot, or the reason there is none. */
export function decodeMarker(raw: Uint8Array): { mark: ReadMark } | { problem: string } {
  if (raw.length === 0) return { problem: 'the file is empty (0 bytes)' };
  let best: ReadMark | null = null;
  for (let i = 0; i < SLOTS; i++) {
    const m = decodeSlot(raw.subarray(i * SLOT_BYTES, (i + 1) * SLOT_BYTES));
    if (m !== null && m.n % SLOTS === i && (best === null || m.n > best.n)) best = m;
  }
  if (best !== null) return { mark: best };
  return { problem: `neither of its two ${SLOT_BYTES}-byte records verifies (${raw.length} bytes: truncated, overwritten, or disk damage)` };
}

/** Writes marks into alternate slots of an open marker file, each durable before it resolves. */
export class MarkerWriter {
  private n: number;
  private readonly slot = Buffer.alloc(SLOT_BYTES);
  constructor(
    private readonly file: InPlaceFile,
    lastN: number,
    private readonly campaign: string,
  ) {
    this.n = lastN;
  }

  async write(m: Mark): Promise<void> {
    const n = this.n + 1;
    await this.file.writeAt(encodeSlot(m, n, this.campaign, this.slot), (n % SLOTS) * SLOT_BYTES);
    await this.file.datasync();
    this.n = n;
  }

  close(): Promise<void> {
    return this.file.close();
  }
}

/** Reads the marker: null when there is none; a store error naming it when it cannot be trusted. */
export async function readMarker(fs: StoreFs, files: StoreFiles): Promise<ReadMark | null> {
  const raw = await fs.readFile(files.marker);
  if (raw === null) return null;
  const d = decodeMarker(raw);
  if ('mark' in d) return d.mark;
  throw corruptFile(
    { file: files.marker, problem: `the durability marker of ${files.dir} is unreadable: ${d.problem}` },
    `Restore ${files.marker} from a backup of the state root (an older marker is accepted: it vouches for less), or, if you are sure ${files.journal} is complete, adopt the store as it is with \`hvroll unlock ${basename(files.dir)} --adopt\` (audited).`,
  );
}

/** A store that keeps a marker (its journal says so) but has none here: it cannot be told from a cut one. */
export function missingMarker(files: StoreFiles): Error {
  const id = basename(files.dir);
  const fix = `If the campaign directory was moved or copied here from another state root, copy ${join('.marks', `${id}.mark`)} from that root into ${files.marks} as well. If you are sure ${files.dir} is the newest copy of the campaign, adopt it as it is with \`hvroll unlock ${id} --adopt\` (recorded in the audit trail).`;
  return storeError(
    `the durability marker ${files.marker} of campaign store ${files.dir} is missing, but the store keeps one (its journal says so): the campaign directory was moved or copied here without it, restored from a backup, or the marker was deleted. Without it, a journal cut short cannot be told from a complete one, and resuming from a cut journal would repeat steps that already changed hosts. Nothing was changed on disk. ${fix}`,
    { file: files.marker, dir: files.dir, fix },
  );
}

/** Creates (or replaces) the marker file with `m` in both slots, durably, and opens it for writing. */
export async function createMarker(fs: StoreFs, files: StoreFiles, campaignId: string, m: Mark): Promise<MarkerWriter> {
  await writeMarkerFile(fs, files, campaignId, m);
  return new MarkerWriter(await fs.openInPlace(files.marker), 1, campaignTag(campaignId));
}

/** Writes a complete marker file (n = 0 and 1, the same mark) atomically. */
export async function writeMarkerFile(fs: StoreFs, files: StoreFiles, campaignId: string, m: Mark): Promise<void> {
  const tag = campaignTag(campaignId);
  await fs.mkdir(files.marks);
  await fs.syncDir(join(files.marks, '..'));
  await writeBytesAtomic(fs, files.marker, Buffer.concat([encodeSlot(m, 0, tag), encodeSlot(m, 1, tag)]));
}

export async function openMarker(fs: StoreFs, files: StoreFiles, mark: ReadMark): Promise<MarkerWriter> {
  return new MarkerWriter(await fs.openInPlace(files.marker), mark.n, mark.campaign);
}

/** The mark for a journal as parsed: its last complete line. */
export function markOf(j: ParsedJournal, epoch: number): Mark {
  const r = j.records.at(-1);
  if (r === undefined) return { epoch, base: j.header.base, seq: j.header.base, length: j.headerEnd, last: j.headerCrc };
  return { epoch: r.epoch, base: j.header.base, seq: r.seq, length: r.end, last: r.crc };
}

const FIX_BEHIND = (files: StoreFiles, seq: number) =>
  `Restore the newest copy of the campaign directory ${files.dir}, one whose journal still holds record ${seq}. If there is none, move the directory aside and plan a new campaign (every host is checked afresh). Do not delete the marker to get past this: it is the only record of how far the campaign got.`;

/**
 * Checks that the journal (with the snapshot it continues, at `snapSeq`) holds everything the marker says was
 * acknowledged. `reached` is the last sequence number replay reached.
 */
export function checkMark(mark: ReadMark, j: ParsedJournal, snapSeq: number, reached: number, files: StoreFiles): Error | undefined {
  if (mark.campaign !== campaignTag(j.header.campaignId)) {
    return corruptFile(
      { file: files.marker, problem: `the durability marker belongs to another campaign than ${JSON.stringify(j.header.campaignId)} (copied or restored to the wrong name?)` },
      `Put back the marker of campaign ${j.header.campaignId} (from the state root it was moved from, or a backup of it); or, if you are sure ${files.dir} is the newest copy, remove the wrong marker and adopt the store with \`hvroll unlock ${basename(files.dir)} --adopt\`.`,
    );
  }
  // Covered by the snapshot: the compaction that wrote it came after the mark (or the mark names a header).
  if (mark.seq <= snapSeq) return undefined;
  const lastLine = j.records.at(-1);
  const ends = `it ends at record ${reached} (${lastLine?.end ?? j.headerEnd} bytes${j.header.base < mark.base ? `, journal generation ${j.header.base}` : ''})`;
  const acked = `record ${mark.seq} (${mark.length} bytes${j.header.base < mark.base ? `, journal generation ${mark.base}` : ''}) was acknowledged, as the durability marker ${files.marker} records`;
  const found: JournalRecord | undefined = j.records.find((r) => r.seq === mark.seq && r.epoch === mark.epoch);
  if (found === undefined) {
    const why =
      j.header.base < mark.base
        ? 'the journal is older than the marker: the campaign directory (or this file) was restored from an older backup'
        : 'the journal was cut short (records lost from its end: a truncated file, a filesystem that lost a suffix, an edit), or the campaign directory was restored from an older backup';
    return corruptFile({ file: files.journal, problem: `${ends}, but ${acked}: ${why}. Resuming from it would repeat steps that already changed hosts` }, FIX_BEHIND(files, mark.seq));
  }
  if (found.crc !== mark.last) {
    return corruptFile(
      { file: files.journal, line: found.line, offset: found.offset, problem: `record ${mark.seq} is not the one acknowledged (checksum ${found.crc}, the durability marker ${files.marker} records ${mark.last}): the journal was replaced or edited` },
      FIX_BEHIND(files, mark.seq),
    );
  }
  if (j.header.base === mark.base && found.end !== mark.length) {
    return corruptFile(
      { file: files.journal, line: found.line, offset: found.offset, problem: `record ${mark.seq} ends at byte ${found.end}, but the durability marker ${files.marker} records ${mark.length}: lines were removed or added before it` },
      FIX_BEHIND(files, mark.seq),
    );
  }
  return undefined;
}
