// The lowdb Adapter behind `Low<CampaignDoc>`. lowdb's own JSONFile rewrites the whole document on every
// write (O(fleet) per step); this one keeps a snapshot file plus an append-only journal of ops:
//   read()  = verify campaign.json, plan.json, snapshot.json + replay journal.ndjson (never the history),
//             and check that the journal still holds the last record the durability marker names
//   write() = append the ops queued since the last write (one line each), fdatasync, rewrite the marker
//             in place (pwrite + fdatasync), then resolve
// so one checkpoint costs the size of its op, whatever the size of the campaign. A write that fails (disk
// full, I/O error) cuts the journal back to its last acknowledged record when it can; when it cannot, the
// marker still tells that unacknowledged tail from damage on the next open. When the journal
// outgrows the snapshot, a compaction writes the finished entries of settled groups to a new history file
// (history-<seq>.ndjson), then the snapshot of the live state (which lists the history files), then an
// empty journal; its cost is amortised over at least as many journal bytes as it writes, and the snapshot
// holds group snapshots and the journal of groups in flight only, not the campaign's history.

import type { Adapter } from 'lowdb';
import type { HvrollError } from '../model/errors.ts';
import { applyOp, liveState, persistedState, type CampaignDoc, type CampaignMeta, type PersistedState } from './doc.ts';
import { segmentOf, writeSegment, type EncodedSegment } from './history-file.ts';
import type { AppendFile, StoreFs } from './fs.ts';
import { mapFsFault } from './guarded-fs.ts';
import { encodeRecord, lineCrc, parseJournal, parseRecords, writeFreshJournal } from './journal-file.ts';
import { join } from 'node:path';
import { checkMark, createMarker, markOf, missingMarker, openMarker, readMarker, type Mark, type MarkerWriter, type ReadMark } from './marker.ts';
import type { StoreFiles } from './paths.ts';
import { corruptFile, missingStore, storeError } from './problems.ts';
import { readSealed, writeSealedAtomic } from './sealed-file.ts';
import type { PlanFile } from '../model/plan.ts';

export interface CompactionPolicy {
  /** Compact when the journal holds this many records. */
  maxJournalRecords: number;
  /** Compact when the journal reaches max(this, size of the snapshot) bytes: amortised O(1) per op. */
  minJournalBytes: number;
}

export const DEFAULT_COMPACTION: CompactionPolicy = { maxJournalRecords: 100_000, minJournalBytes: 16 * 1024 * 1024 };

export interface AdapterStats {
  /** Bytes and calls of journal appends (one per write() that had ops). */
  appendedBytes: number;
  appends: number;
  compactions: number;
  snapshotBytes: number;
  journalBytes: number;
  journalRecords: number;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isStart(x: unknown): boolean {
  const s = x as Record<string, unknown>;
  return isObject(x) && typeof s.plan === 'string' && typeof s.runbook === 'string' && typeof s.runbookSha === 'string' && isObject(s.vars) && Object.values(s.vars).every((v) => typeof v === 'string');
}

function checkMeta(data: unknown, file: string): CampaignMeta {
  const m = data as Partial<CampaignMeta>;
  if (
    !isObject(data) ||
    typeof m.campaignId !== 'string' ||
    typeof m.createdAt !== 'string' ||
    typeof m.operator !== 'string' ||
    typeof m.planFingerprint !== 'string' ||
    typeof m.machineVersion !== 'string' ||
    (m.planSeal !== undefined && typeof m.planSeal !== 'string') ||
    (m.start !== undefined && !isStart(m.start))
  ) {
    throw corruptFile({ file, problem: 'campaign metadata is incomplete (needs campaignId, createdAt, operator, planFingerprint, machineVersion; planSeal and start, when present, well formed)' });
  }
  return m as CampaignMeta;
}

function checkState(data: unknown, file: string): PersistedState {
  const s = data as Partial<PersistedState>;
  if (
    !isObject(data) ||
    typeof s.epoch !== 'number' ||
    !isObject(s.groups) ||
    typeof s.lastId !== 'number' ||
    !Array.isArray(s.journal) ||
    !Array.isArray(s.unarchived) ||
    !isObject(s.tally) ||
    !Array.isArray(s.approvals) ||
    !Array.isArray(s.notifications) ||
    !Array.isArray(s.audit) ||
    !Array.isArray(s.segments) ||
    !s.segments.every((r) => isObject(r) && typeof r.file === 'string' && typeof r.seq === 'number' && typeof r.entries === 'number' && typeof r.bytes === 'number')
  ) {
    throw corruptFile({ file, problem: 'snapshot content is incomplete (needs epoch, groups, lastId, journal, unarchived, tally, approvals, notifications, audit, segments)' });
  }
  return s as PersistedState;
}

export class LogAdapter implements Adapter<CampaignDoc> {
  readonly warnings: string[] = [];
  /** Writer epoch (set by the store once it holds the lock). */
  epoch = 0;
  /**
   * A torn last line is an interrupted append only if a writer could have died mid-write, and such a
   * writer always leaves its lock behind. Without one (clean close), a cut-off line means the file was
   * truncated later: damage, refused. The store sets this from the lock's presence (or breakLock's).
   */
  allowTornTail = false;
  /**
   * Accept a missing or unreadable durability marker and write a new one at the journal's end (an operator's
   * explicit, audited `hvroll unlock --adopt`). A valid marker is still checked: adoption never accepts a
   * journal that ends before a record the marker says was acknowledged.
   */
  adoptMarker = false;
  /** Called before every append and compaction; throws when this writer has been superseded. */
  checkLock: () => Promise<void> = () => Promise.resolve();

  private readonly fs: StoreFs;
  private readonly files: StoreFiles;
  private readonly policy: CompactionPolicy;
  private doc: CampaignDoc | null = null;
  private pending: string[] = [];
  private file: AppendFile | null = null;
  private chain: Promise<void> = Promise.resolve();
  private broken: HvrollError | Error | null = null;
  private compactionQueued = false;
  private lastSeq = 0;
  private snapshotSeq = 0;
  private torn: { offset: number; length: number } | undefined;
  /** The marker as read (null: none, or adopted), the mark of the journal's end, and the open marker file. */
  private mark: ReadMark | null = null;
  private endMark: Mark | null = null;
  private marker: MarkerWriter | null = null;
  private journalBase = 0;
  private readSeq = 0;
  /** What the disk work under way is doing, for the message if it fails (the hot path's calls are not wrapped). */
  private doing = '';
  private readonly says: Record<'fence' | 'append' | 'sync' | 'mark' | 'cut' | 'close', string>;
  private readonly s: AdapterStats = { appendedBytes: 0, appends: 0, compactions: 0, snapshotBytes: 0, journalBytes: 0, journalRecords: 0 };

  constructor(fs: StoreFs, files: StoreFiles, policy: CompactionPolicy) {
    this.fs = fs;
    this.files = files;
    this.policy = policy;
    this.says = {
      fence: `checking the lock ${files.lock} and the size of ${files.journal}`,
      append: `appending to ${files.journal}`,
      sync: `syncing ${files.journal} to disk`,
      mark: `updating the durability marker ${files.marker}`,
      cut: `cutting the torn last line off ${files.journal}`,
      close: `closing ${files.journal}`,
    };
  }

  get stats(): Readonly<AdapterStats> {
    return { ...this.s };
  }

  async read(): Promise<CampaignDoc> {
    const { fs, files } = this;
    // Marker, then journal, then snapshot. A writer rewrites the marker only once its journal write is
    // durable, so the journal read next holds at least what this mark names; and if a writer compacts in
    // between, the newer snapshot covers every record of the older journal, so a reader never sees a gap.
    const mark = await this.readMark();
    const journalRaw = await fs.readFile(files.journal);
    const snap = await readSealed(fs, files.snapshot, 'hvroll-snapshot');
    const meta = await readSealed(fs, files.meta, 'hvroll-campaign');
    const plan = await readSealed(fs, files.plan, 'hvroll-plan');
    const missing = [
      meta === null ? files.meta : null,
      plan === null ? files.plan : null,
      snap === null ? files.snapshot : null,
      journalRaw === null ? files.journal : null,
    ].filter((x): x is string => x !== null);
    if (meta === null || plan === null || snap === null || journalRaw === null) throw missingStore(files.dir, missing);

    const m = checkMeta(meta.data, files.meta);
    const persisted = checkState(snap.data, files.snapshot);
    // History segments are read only by history readers, but a missing one is refused now: its entries
    // would silently vanish from the audit trail.
    if (persisted.segments.length > 0) {
      const names = new Set((await fs.readdir(files.dir)) ?? []);
      const gone = persisted.segments.filter((r) => !names.has(r.file)).map((r) => join(files.dir, r.file));
      if (gone.length > 0) {
        throw corruptFile(
          { file: gone[0]!, problem: `${gone.length} history file(s) listed in ${files.snapshot} are missing (deleted?): ${gone.slice(0, 3).join(', ')}${gone.length > 3 ? ', …' : ''}` },
          `Restore the missing history file(s) from a backup of the campaign directory; the audit trail and report need them.`,
        );
      }
    }
    const state = liveState(persisted);
    const snapSeq = snap.header.seq;
    if (typeof snapSeq !== 'number' || snap.header.epoch !== state.epoch) {
      throw corruptFile({ file: files.snapshot, problem: 'snapshot header is inconsistent (seq/epoch)' });
    }
    const j = parseJournal(journalRaw, files.journal);
    if (j.header.campaignId !== m.campaignId) {
      throw corruptFile({ file: files.journal, line: 1, problem: `the journal belongs to campaign ${JSON.stringify(j.header.campaignId)}, not ${JSON.stringify(m.campaignId)}` });
    }
    if (j.header.base > snapSeq) {
      throw corruptFile({
        file: files.journal,
        line: 1,
        problem: `the journal continues from record ${j.header.base}, but ${files.snapshot} only holds records up to ${snapSeq} (the snapshot is older than the journal, e.g. restored from an older backup)`,
      });
    }

    let seq = snapSeq;
    let applied = false;
    for (const r of j.records) {
      if (!applied && r.seq <= snapSeq) continue; // already in the snapshot (crash between snapshot and journal rotation)
      if (r.epoch < state.epoch) {
        this.warnings.push(
          `${files.journal} line ${r.line}: record ${r.seq} was written by a superseded writer (epoch ${r.epoch}) after epoch ${state.epoch} began; ignored`,
        );
        continue;
      }
      const bad = (problem: string) => corruptFile({ file: files.journal, line: r.line, offset: r.offset, problem });
      if (r.seq !== seq + 1) throw bad(`record ${r.seq} follows record ${seq}: records are missing or duplicated`);
      if (r.op.t === 'epoch' ? r.epoch !== r.op.epoch : r.epoch !== state.epoch) {
        throw bad(`record ${r.seq} carries epoch ${r.epoch}, but the store is at epoch ${state.epoch}`);
      }
      const problem = applyOp(state, r.op);
      if (problem !== undefined) throw bad(`record ${r.seq} cannot be applied: ${problem}`);
      seq = r.seq;
      applied = true;
    }
    if (mark !== null) {
      const behind = checkMark(mark, j, snapSeq, seq, files);
      if (behind !== undefined) throw behind;
    } else if (j.header.marked && !this.adoptMarker) {
      throw missingMarker(files);
    }
    // With a marker, a torn last line follows the last acknowledged record (checked just above): an
    // interrupted write, whoever holds the lock. Without one (a store written before markers), only a
    // crashed writer's lock left behind says so.
    if (j.torn !== undefined && mark === null && !this.allowTornTail) {
      throw corruptFile(
        { file: files.journal, offset: j.torn.offset, problem: `the last line is cut short (${j.torn.length} bytes, no newline) although no writer holds the campaign lock, so it is not an interrupted write: the file was truncated` },
        `Restore ${files.journal} from a backup. Only if you know hvroll was killed while writing and its lock file was removed by hand, reopen accepting the torn line (acceptTornTail) — it was never acknowledged.`,
      );
    }
    if (j.torn !== undefined) {
      this.warnings.push(
        `${files.journal}: ignored a torn last line (${j.torn.length} bytes at byte ${j.torn.offset}, no newline): a write interrupted by a crash, never acknowledged. It is cut off at the next open for writing.`,
      );
    }
    this.lastSeq = seq;
    this.readSeq = seq;
    this.snapshotSeq = snapSeq;
    this.torn = j.torn;
    this.mark = mark;
    this.endMark = markOf(j, state.epoch);
    this.journalBase = j.header.base;
    this.s.snapshotBytes = snap.bytes;
    this.s.journalBytes = j.validLength;
    this.s.journalRecords = j.records.length;
    // Written by `create` from a PlanFile and verified against its checksum just now: trusted as one (a 50 MB
    // plan is not validated again on every open).
    this.doc = { meta: m, plan: plan.data as PlanFile, ...state };
    return this.doc;
  }

  /** The marker, or null when there is none (or it is unreadable and being adopted). */
  private async readMark(): Promise<ReadMark | null> {
    try {
      return await readMarker(this.fs, this.files);
    } catch (e) {
      if (!this.adoptMarker) throw e;
      this.warnings.push(`${this.files.marker}: unreadable, replaced by a new marker at the end of ${this.files.journal} (adopted)`);
      return null;
    }
  }

  /** Opens the journal for appending; drops a torn tail first (we hold the lock, and it was never acknowledged). */
  async openForAppend(): Promise<void> {
    try {
      await this.openFiles();
    } catch (e) {
      throw mapFsFault(e, this.doing, this.files.dir);
    }
  }

  private async openFiles(): Promise<void> {
    this.doing = this.says.cut;
    if (this.torn !== undefined) {
      const f = await this.fs.openAppend(this.files.journal);
      try {
        await f.truncate(this.torn.offset);
      } finally {
        await f.close();
      }
      this.warnings.push(`${this.files.journal}: cut off the torn last line (${this.torn.length} bytes).`);
      this.torn = undefined;
    }
    this.file = await this.fs.openAppend(this.files.journal);
    this.doing = this.says.mark;
    if (this.mark !== null) {
      this.marker = await openMarker(this.fs, this.files, this.mark);
    } else {
      // A store written before markers existed, or one being adopted: the marker starts at the journal's end.
      this.marker = await createMarker(this.fs, this.files, this.doc!.meta.campaignId, this.endMark!);
      this.warnings.push(`${this.files.marker}: durability marker created at record ${this.endMark!.seq} (${this.endMark!.length} bytes of ${this.files.journal})`);
    }
  }

  /** Queues one op (its JSON text); the next write() makes it durable. */
  enqueue(opJson: string): void {
    this.pending.push(opJson);
  }

  /** lowdb calls this from `db.write()`. Resolves once every op queued before the call is on disk. */
  write(_data: CampaignDoc): Promise<void> {
    return this.run(() => this.flush());
  }

  compact(): Promise<void> {
    return this.run(() => this.compactNow());
  }

  /** Waits for queued work, compacts if anything was journaled (clean close), and closes the journal. */
  async close(compact: boolean): Promise<void> {
    try {
      if (compact) await this.run(() => (this.s.journalRecords > 0 ? this.compactNow() : Promise.resolve()));
      else await this.chain;
    } finally {
      const f = this.file;
      const m = this.marker;
      this.file = null;
      this.marker = null;
      if (f !== null) await f.close().catch(() => undefined);
      if (m !== null) await m.close().catch(() => undefined);
    }
  }

  get failure(): Error | null {
    return this.broken;
  }

  /** Serialises all disk work; after a failure nothing more is written (memory may be ahead of disk). */
  private run<T>(task: () => Promise<T>): Promise<T> {
    const p = this.chain.then(async () => {
      if (this.broken !== null) throw this.broken;
      try {
        return await task();
      } catch (raw) {
        const e = mapFsFault(raw, this.doing, this.files.dir);
        this.broken = e instanceof Error ? e : storeError(String(e));
        throw e;
      }
    });
    this.chain = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const file = this.file;
    if (file === null) throw storeError('the campaign store is open read-only (or closed); it cannot record anything');
    await this.fence(file);
    const ops = this.pending;
    this.pending = [];
    let text = '';
    let line = '';
    for (const op of ops) text += line = encodeRecord(++this.lastSeq, this.epoch, op);
    const bytes = Buffer.from(text);
    const start = this.s.journalBytes;
    try {
      this.doing = this.says.append;
      await file.append(bytes);
      this.doing = this.says.sync;
      await file.datasync();
    } catch (e) {
      await this.rollBack(file, start);
      throw e;
    }
    // The records are durable; the write is acknowledged once the marker names them. If the marker update
    // fails, the records stay: the marker may name them or not (a failed fdatasync may still reach the disk),
    // and the journal holds them either way.
    this.doing = this.says.mark;
    await this.marker!.write({ epoch: this.epoch, base: this.journalBase, seq: this.lastSeq, length: start + bytes.length, last: lineCrc(line) });
    this.s.appendedBytes += bytes.length;
    this.s.appends++;
    this.s.journalBytes += bytes.length;
    this.s.journalRecords += ops.length;
    const p = this.policy;
    if (!this.compactionQueued && (this.s.journalRecords >= p.maxJournalRecords || this.s.journalBytes >= Math.max(p.minJournalBytes, this.s.snapshotBytes))) {
      this.compactionQueued = true;
      // Not awaited by the writer whose append triggered it; a failure stops the store (see run()).
      this.run(() => this.compactNow()).catch(() => undefined);
    }
  }

  /**
   * After a failed append: cut the journal back to its last acknowledged record (a partial line would
   * otherwise stay behind). Best effort — on a failing disk the cut may fail too, and then the marker tells
   * the unacknowledged tail from damage on the next open.
   */
  private async rollBack(file: AppendFile, length: number): Promise<void> {
    try {
      await this.checkLock(); // never cut a journal another writer has taken over
      if ((await file.size()) > length) await file.truncate(length);
    } catch (e) {
      this.warnings.push(`${this.files.journal}: could not cut the unacknowledged tail back to ${length} bytes (${e instanceof Error ? e.message : String(e)}); the durability marker tells it apart on the next open`);
    }
  }

  /** A superseded writer must not write late: the lock must still name us, and nobody else may have appended. */
  private async fence(file: AppendFile): Promise<void> {
    this.doing = this.says.fence;
    const [, size] = await Promise.all([this.checkLock(), file.size()]);
    if (size === this.s.journalBytes) return;
    if (size < this.s.journalBytes) {
      throw storeError(`${this.files.journal} shrank under this writer (epoch ${this.epoch}): another writer has taken over the campaign. No further write was made.`);
    }
    // Bytes we did not write: tolerable only if they come from an older (superseded) writer; the reader skips those.
    const raw = (await this.fs.readFile(this.files.journal)) ?? new Uint8Array();
    const foreign = parseRecords(raw.subarray(0, size), this.files.journal, this.s.journalBytes, 0);
    const newer = foreign.records.find((r) => r.epoch >= this.epoch);
    if (newer !== undefined || foreign.torn !== undefined) {
      throw storeError(
        `another writer appended to ${this.files.journal}${newer ? ` with epoch ${newer.epoch}` : ''}; this writer (epoch ${this.epoch}) is superseded. No further write was made.`,
      );
    }
    this.warnings.push(`${this.files.journal}: ${foreign.records.length} late record(s) from a superseded writer found and left to be ignored`);
    this.s.journalBytes = size;
  }

  private async compactNow(): Promise<void> {
    this.compactionQueued = true; // the flushes below must not queue another one
    try {
      await this.compactInner();
    } finally {
      this.compactionQueued = false;
    }
  }

  private async compactInner(): Promise<void> {
    const doc = this.doc;
    if (doc === null || this.file === null) throw storeError('the campaign store is not open for writing; cannot compact');
    await this.fence(this.file);
    while (this.pending.length > 0) await this.flush();
    // From here to the snapshot text nothing awaits: the text is exactly the state at lastSeq.
    const seq = this.lastSeq;
    const epoch = doc.epoch;
    const archived = doc.journal.unarchived.length;
    const segments = [...doc.segments];
    let segmentText: EncodedSegment | null = null;
    if (archived > 0) {
      segmentText = segmentOf(doc.meta.campaignId, seq, doc.journal.unarchived);
      segments.push(segmentText.ref);
    }
    const stateJson = JSON.stringify(persistedState(doc, [], segments));
    // The history segment first, then the snapshot that lists it (and no longer holds its entries), then
    // the fresh journal, each durable before the next. A crash after the segment leaves an unlisted file
    // (its entries are still in the old snapshot + journal; the next writer removes it); a crash after
    // the snapshot leaves the old journal, whose records are all <= seq and are skipped on replay.
    if (segmentText !== null) {
      await writeSegment(this.fs, this.files.dir, segmentText);
      // Entries archived while the segment was written stay for the next compaction.
      doc.journal.unarchived = doc.journal.unarchived.slice(archived);
      doc.segments = segments;
    }
    const snapBytes = await writeSealedAtomic(this.fs, this.files.snapshot, 'hvroll-snapshot', { seq, epoch }, stateJson);
    const fresh = await writeFreshJournal(this.fs, this.files.journal, { campaignId: doc.meta.campaignId, base: seq, marked: true });
    const old = this.file;
    this.file = await this.fs.openAppend(this.files.journal);
    this.doing = this.says.close;
    await old.close();
    this.snapshotSeq = seq;
    this.journalBase = seq;
    this.s.snapshotBytes = snapBytes;
    this.s.journalBytes = fresh.length;
    // A crash before this leaves the old mark, whose record is in the new snapshot: still true.
    this.doing = this.says.mark;
    await this.marker!.write({ epoch: this.epoch, base: seq, seq, length: fresh.length, last: fresh.crc });
    this.s.journalRecords = 0;
    this.s.compactions++;
  }

  get sequence(): { last: number; snapshot: number } {
    return { last: this.lastSeq, snapshot: this.snapshotSeq };
  }

  /** The last sequence number the journal reached when it was read (before this writer added anything). */
  get reachedOnRead(): number {
    return this.readSeq;
  }
}
