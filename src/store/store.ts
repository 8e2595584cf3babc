// The campaign store: the one place the engine reads and records a campaign's durable state.
// Every mutation is an op, applied to the in-memory document (lowdb's `db.data`) and made durable by
// `db.write()` through LogAdapter before the returned promise resolves: a checkpoint is on disk before
// the step it guards acts.

import { Low } from 'lowdb';
import { basename, dirname, join } from 'node:path';
import { HvrollError } from '../model/errors.ts';
import type { PlanFile } from '../model/plan.ts';
import { DEFAULT_COMPACTION, LogAdapter, type AdapterStats, type CompactionPolicy } from './adapter.ts';
import {
  OUTPUT_TAIL_MAX,
  applyOp,
  emptyState,
  liveState,
  type Approval,
  type AuditEvent,
  type CampaignDoc,
  type CampaignMeta,
  type CampaignStart,
  type HostRelease,
  type IntentEntry,
  type JournalEntry,
  type JournalId,
  type NotificationRecord,
  type Op,
  type OutcomeEntry,
  type PersistedGroup,
} from './doc.ts';
import { isCode, nodeFs, type StoreFs } from './fs.ts';
import { guardedFs, mapFsFault } from './guarded-fs.ts';
import { readSegment, segmentSeq } from './history-file.ts';
import { writeFreshJournal } from './journal-file.ts';
import type { StepTally } from './live-journal.ts';
import { LockSeen, acquireLock, checkLock, defaultLockEnv, describeLock, newLock, readLock, releaseLock, rewriteLock, type LockEnv, type LockInfo, type LockState } from './lock.ts';
import { readMarker, writeMarkerFile } from './marker.ts';
import { FILES, storeFiles, tempName } from './paths.ts';
import { missingStore, storeError } from './problems.ts';
import { readSealed, sealedData, writeSealedAtomic } from './sealed-file.ts';

export interface StoreOptions {
  /** Filesystem to use (tests inject one that loses unsynced data). */
  fs?: StoreFs;
  lockEnv?: LockEnv;
  compaction?: Partial<CompactionPolicy>;
  now?: () => Date;
}

export interface OpenOptions extends StoreOptions {
  /** No lock, no epoch bump, nothing written (status, report). */
  readOnly?: boolean;
  /**
   * Accept a torn last journal line even though no lock shows a crashed writer (the operator knows one
   * was killed mid-write). breakLock sets it: it has just removed that writer's lock. (Only stores without a
   * durability marker need this: with one, the marker tells an interrupted write from a cut journal.)
   */
  acceptTornTail?: boolean;
  /** Accept a missing or unreadable durability marker and start a new one (see `adoptStore`). */
  adoptMarker?: boolean;
}

export interface CreateInit {
  campaignId: string;
  operator: string;
  /** The plan `run` sealed (the store keeps it as written; it is read back typed). */
  plan: PlanFile;
  /** The plan's JSON text as plan.json should hold it (canonical, for a seal over its bytes); default JSON.stringify(plan). */
  planJson?: string;
  planFingerprint: string;
  /** Recorded in the metadata (campaign.json); see CampaignMeta.planSeal. */
  planSeal?: string;
  /** Recorded in the metadata (campaign.json); see CampaignMeta.start. */
  start?: CampaignStart;
  machineVersion: string;
}

export interface JournalFilter {
  group?: string;
  host?: string;
  step?: string;
  /** true: only intents without an outcome; false: only finished ones. */
  open?: boolean;
}

/** `${campaignId}/${groupId}/${step}[/${vm}]`: the idempotency key of one step (STYLE.md §6). */
export function stepKey(campaignId: string, groupId: string, step: string, vm?: string): string {
  return [campaignId, groupId, step, ...(vm === undefined ? [] : [vm])].join('/');
}

function deepFreeze<T>(x: T): T {
  if (typeof x === 'object' && x !== null && !Object.isFrozen(x)) {
    Object.freeze(x);
    for (const v of Object.values(x)) deepFreeze(v);
  }
  return x;
}

function matches(e: JournalEntry, f: JournalFilter): boolean {
  return (
    (f.group === undefined || e.group === f.group) &&
    (f.host === undefined || e.host === f.host) &&
    (f.step === undefined || e.step === f.step) &&
    (f.open === undefined || (e.outcome === undefined) === f.open)
  );
}

function requireText(name: string, value: unknown): void {
  if (typeof value !== 'string' || value === '') throw new HvrollError('internal', `campaign store: ${name} must be a non-empty string`);
}

export class CampaignStore {
  readonly dir: string;
  readonly readOnly: boolean;
  private readonly db: Low<CampaignDoc>;
  private readonly adapter: LogAdapter;
  private readonly lock: LockInfo | null;
  private readonly fs: StoreFs;
  private readonly now: () => Date;
  private closed = false;

  private constructor(dir: string, db: Low<CampaignDoc>, adapter: LogAdapter, lock: LockInfo | null, fs: StoreFs, now: () => Date) {
    this.dir = dir;
    this.db = db;
    this.adapter = adapter;
    this.lock = lock;
    this.readOnly = lock === null;
    this.fs = fs;
    this.now = now;
  }

  /** Makes a new store in `dir` (absent or empty) and opens it for writing. Refuses if anything is there. */
  static async create(dir: string, init: CreateInit, opts: StoreOptions = {}): Promise<CampaignStore> {
    const fs = guardedFs(opts.fs ?? nodeFs, dir, true);
    const now = opts.now ?? (() => new Date());
    for (const k of ['campaignId', 'operator', 'planFingerprint', 'machineVersion'] as const) requireText(k, init[k]);
    if (init.plan === undefined) throw new HvrollError('internal', 'campaign store: plan is required');
    const existing = await fs.readdir(dir);
    if (existing !== null && existing.length > 0) {
      const ours = existing.some((n) => (Object.values(FILES) as string[]).includes(n));
      throw storeError(
        ours
          ? `a campaign store already exists at ${dir}; continue it with \`hvroll resume\` (a store is never created over another)`
          : `${dir} exists and is not empty; refusing to create a campaign store there (choose an empty or new directory)`,
        { dir },
      );
    }
    // Build the whole store in a sibling temp directory, then rename it into place: a crash leaves either
    // no store or a complete one, and a concurrent create loses the rename instead of mixing files.
    await fs.mkdir(dirname(dir));
    const tmp = tempName(dir);
    await fs.mkdir(tmp);
    try {
      const t = storeFiles(tmp);
      const meta: CampaignMeta = {
        campaignId: init.campaignId,
        createdAt: now().toISOString(),
        operator: init.operator,
        planFingerprint: init.planFingerprint,
        machineVersion: init.machineVersion,
        ...(init.planSeal === undefined ? {} : { planSeal: init.planSeal }),
        ...(init.start === undefined ? {} : { start: init.start }),
      };
      await writeSealedAtomic(fs, t.meta, 'hvroll-campaign', {}, JSON.stringify(meta));
      await writeSealedAtomic(fs, t.plan, 'hvroll-plan', {}, init.planJson ?? JSON.stringify(init.plan));
      await writeSealedAtomic(fs, t.snapshot, 'hvroll-snapshot', { seq: 0, epoch: 0 }, JSON.stringify(emptyState(0)));
      const header = await writeFreshJournal(fs, t.journal, { campaignId: init.campaignId, base: 0, marked: true });
      // The marker before the store appears: a crash never leaves a store that says it keeps one without it.
      await writeMarkerFile(fs, storeFiles(dir), init.campaignId, { epoch: 0, base: 0, seq: 0, length: header.length, last: header.crc });
      await fs.rename(tmp, dir);
    } catch (e) {
      await fs.removeTree(tmp).catch(() => undefined);
      if (isCode(e, 'ENOTEMPTY') || isCode(e, 'EEXIST')) throw storeError(`a campaign store appeared at ${dir} while creating one; refusing to overwrite it`, { dir });
      throw e;
    }
    await fs.syncDir(dirname(dir));
    const store = await CampaignStore.open(dir, opts);
    await store.recordAudit({ at: now().toISOString(), operator: init.operator, action: 'campaign-created', details: { planFingerprint: init.planFingerprint } });
    return store;
  }

  /** Opens an existing store; for writing (default) it takes the lock and bumps the epoch. Never creates one. */
  static async open(dir: string, opts: OpenOptions = {}): Promise<CampaignStore> {
    const fs = guardedFs(opts.fs ?? nodeFs, dir);
    const env = opts.lockEnv ?? defaultLockEnv;
    const now = opts.now ?? (() => new Date());
    const files = storeFiles(dir);
    const policy = { ...DEFAULT_COMPACTION, ...opts.compaction };
    const adapter = new LogAdapter(fs, files, policy);
    adapter.adoptMarker = opts.adoptMarker === true;
    // lowdb needs default data; read() either returns the stored document or throws, so it is never used.
    const db = new Low<CampaignDoc>(adapter, { meta: {} as CampaignMeta, plan: null as unknown as PlanFile, ...liveState(emptyState(0)) });

    if (opts.readOnly === true) {
      adapter.allowTornTail = opts.acceptTornTail === true || (await fs.readFile(files.lock)) !== null;
      await db.read();
      return new CampaignStore(dir, db, adapter, null, fs, now);
    }

    // Do not drop a lock file into a directory that holds no store.
    const entries = await fs.readdir(dir);
    const required = [files.meta, files.plan, files.snapshot, files.journal];
    const missing = required.filter((f) => entries === null || !entries.includes(basename(f)));
    if (entries === null || missing.length > 0) throw missingStore(dir, missing);
    const lock = newLock(env, now());
    await acquireLock(fs, files.lock, lock, env);
    adapter.allowTornTail = opts.acceptTornTail === true;
    try {
      await db.read();
      // Leftovers of writes interrupted by a crash (write-then-rename temp files): never read, safe to drop
      // once the store itself has verified.
      for (const name of entries.filter((n) => n.includes('.tmp-'))) await fs.unlink(join(dir, name));
      // A history segment the snapshot does not list, written by a compaction that crashed before its
      // snapshot: its entries are still in the snapshot and journal, and the next compaction writes them.
      const listed = new Set(db.data.segments.map((r) => r.file));
      const snapshotSeq = adapter.sequence.snapshot;
      for (const name of entries) {
        const seq = segmentSeq(name);
        if (seq !== null && seq > snapshotSeq && !listed.has(name)) await fs.unlink(join(dir, name));
      }
      const seen = new LockSeen();
      adapter.checkLock = () => checkLock(fs, files.lock, lock, env, seen);
      await adapter.checkLock();
      await adapter.openForAppend();
      lock.epoch = db.data.epoch + 1;
      await rewriteLock(fs, files.lock, lock);
      adapter.epoch = lock.epoch;
      const store = new CampaignStore(dir, db, adapter, lock, fs, now);
      await store.commit({ t: 'epoch', epoch: lock.epoch, pid: lock.pid, hostname: lock.hostname, at: now().toISOString() });
      return store;
    } catch (e) {
      await adapter.close(false).catch(() => undefined);
      await releaseLock(fs, files.lock, lock).catch(() => undefined);
      throw mapFsFault(e, `opening campaign store ${dir} for writing`, dir);
    }
  }

  meta(): CampaignMeta {
    return { ...this.db.data.meta };
  }

  /** The plan as written at create (frozen; never changes). */
  plan(): PlanFile {
    return deepFreeze(this.db.data.plan);
  }

  /** The plan's JSON text as plan.json holds it, read again now (bytes, not re-serialised): what a seal is checked against. */
  async planJsonBytes(): Promise<Uint8Array> {
    const path = storeFiles(this.dir).plan;
    const raw = await this.fs.readFile(path);
    if (raw === null) throw missingStore(this.dir, [path]);
    return sealedData(raw, path, 'hvroll-plan');
  }

  /** This writer's epoch (read-only: the store's current epoch). */
  get epoch(): number {
    return this.lock?.epoch ?? this.db.data.epoch;
  }

  groupSnapshot(group: string): PersistedGroup | undefined {
    const g = this.db.data.groups[group];
    return g === undefined ? undefined : structuredClone(g);
  }

  /** Names of the groups that have a saved snapshot. */
  groups(): string[] {
    return Object.keys(this.db.data.groups);
  }

  /**
   * `settled: true` once the group is finished for good (the engine never asks the journal about it again):
   * its finished entries then leave memory for the history files (`journal()` still reads them). It stays set.
   */
  saveGroupSnapshot(group: string, s: PersistedGroup): Promise<void> {
    requireText('group', group);
    requireText('machineVersion', s.machineVersion);
    const value: PersistedGroup = { machineVersion: s.machineVersion, snapshot: s.snapshot };
    if (s.settled === true || this.db.data.groups[group]?.settled === true) value.settled = true;
    return this.commit({ t: 'group', group, value });
  }

  /** Records that a side effect is about to happen; durable when the promise resolves. */
  async journalIntent(e: IntentEntry): Promise<JournalId> {
    for (const k of ['key', 'group', 'step', 'host', 'startedAt', 'operator'] as const) requireText(k, e[k]);
    const id = this.db.data.journal.lastId + 1;
    const entry: JournalEntry = { id, key: e.key, group: e.group, step: e.step, host: e.host, startedAt: e.startedAt, operator: e.operator };
    if (e.vm !== undefined) entry.vm = e.vm;
    if (e.argv !== undefined) entry.argv = [...e.argv];
    if (e.probe !== undefined) entry.probe = e.probe;
    if (e.effect !== undefined) entry.effect = e.effect;
    await this.commit({ t: 'intent', entry });
    return id;
  }

  /** Records what the side effect did. Output is kept to its last OUTPUT_TAIL_MAX characters. */
  journalOutcome(id: JournalId, o: OutcomeEntry): Promise<void> {
    const journal = this.db.data.journal;
    const entry = journal.get(id);
    if (entry === undefined) {
      // Only finished entries ever leave memory.
      if (Number.isSafeInteger(id) && id >= 1 && id <= journal.lastId) return Promise.reject(new HvrollError('internal', `campaign store: intent ${id} already has an outcome`));
      return Promise.reject(new HvrollError('internal', `campaign store: no journal intent ${id}`));
    }
    if (entry.outcome !== undefined) return Promise.reject(new HvrollError('internal', `campaign store: intent ${id} (${entry.key}) already has an outcome`));
    const outcome: OutcomeEntry = { exitCode: o.exitCode, outputTail: o.outputTail.slice(-OUTPUT_TAIL_MAX), endedAt: o.endedAt };
    if (o.error !== undefined) outcome.error = o.error;
    if (o.held !== undefined) outcome.held = o.held;
    return this.commit({ t: 'outcome', id, outcome });
  }

  /** Intents without an outcome: what resume must re-check on the host before going on. */
  openIntents(): JournalEntry[] {
    return this.liveJournal({ open: true });
  }

  /**
   * The live journal, from memory: every open intent and every entry of a group that has not settled — all
   * a reconcile can ask about. A settled group's finished entries are only in `journal()`.
   */
  liveJournal(filter: JournalFilter = {}): JournalEntry[] {
    return this.db.data.journal
      .entries(filter.group)
      .filter((e) => matches(e, filter))
      .map((e) => structuredClone(e));
  }

  /**
   * The whole journal, in id order: the history files (read and verified now) plus the live entries.
   * For audit, report and tests; it reads every history file, so it is not for the engine's hot path.
   */
  async journal(filter: JournalFilter = {}): Promise<JournalEntry[]> {
    const data = this.db.data;
    // Taken synchronously: a compaction running meanwhile moves entries into a segment not in this list.
    const segments = [...data.segments];
    const out = [...data.journal.unarchived, ...data.journal.entries()].filter((e) => matches(e, filter)).map((e) => structuredClone(e));
    for (const ref of segments) {
      for (const e of await readSegment(this.fs, this.dir, data.meta.campaignId, ref)) if (matches(e, filter)) out.push(e);
    }
    return out.sort((a, b) => a.id - b.id);
  }

  /** Per journal step: commands finished and those that exited 0, over the whole campaign (cheap: kept as a count). */
  tally(step: string): StepTally {
    const t = this.db.data.journal.tally[step];
    return { finished: t?.finished ?? 0, exitZero: t?.exitZero ?? 0 };
  }

  recordApproval(a: Approval): Promise<void> {
    requireText('group', a.group);
    requireText('operator', a.operator);
    return this.commit({ t: 'approval', value: { ...a } });
  }

  approvals(group?: string): Approval[] {
    return this.db.data.approvals.filter((a) => group === undefined || a.group === group).map((a) => ({ ...a }));
  }

  /** A host the campaign left out of the pool is back in it (verified and enabled by `hvroll release`). */
  recordRelease(r: HostRelease): Promise<void> {
    requireText('host', r.host);
    requireText('group', r.group);
    requireText('operator', r.operator);
    return this.commit({ t: 'release', value: { ...r } });
  }

  releases(): HostRelease[] {
    return this.db.data.releases.map((r) => ({ ...r }));
  }

  recordNotification(n: NotificationRecord): Promise<void> {
    return this.commit({ t: 'notification', value: { ...n } });
  }

  notifications(): NotificationRecord[] {
    return this.db.data.notifications.map((n) => ({ ...n }));
  }

  recordAudit(e: AuditEvent): Promise<void> {
    requireText('operator', e.operator);
    requireText('action', e.action);
    return this.commit({ t: 'audit', value: { ...e } });
  }

  audit(): AuditEvent[] {
    return this.db.data.audit.map((a) => structuredClone(a));
  }

  /** Things found on open that did not stop it (torn last line, late records of a superseded writer). */
  warnings(): string[] {
    return [...this.adapter.warnings];
  }

  stats(): Readonly<AdapterStats> {
    return this.adapter.stats;
  }

  /** The last journal record there was when the store was opened (before this writer added any). */
  get openedAtRecord(): number {
    return this.adapter.reachedOnRead;
  }

  /** Rewrites the snapshot and empties the journal. */
  compact(): Promise<void> {
    if (this.lock === null) return Promise.reject(storeError('the campaign store is open read-only; it cannot compact'));
    return this.adapter.compact();
  }

  /** Waits for pending writes, compacts (clean close), releases the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.lock === null) return this.adapter.close(false);
    try {
      await this.adapter.close(this.adapter.failure === null);
    } finally {
      // A superseded writer must not remove the new holder's lock: releaseLock checks the token.
      await releaseLock(this.fs, storeFiles(this.dir).lock, this.lock);
    }
  }

  private commit(op: Op): Promise<void> {
    if (this.lock === null) return Promise.reject(storeError(`the campaign store at ${this.dir} is open read-only; it cannot record anything`));
    if (this.closed) return Promise.reject(storeError(`the campaign store at ${this.dir} is closed`));
    const failure = this.adapter.failure;
    if (failure !== null) return Promise.reject(failure);
    let json: string;
    try {
      json = JSON.stringify(op);
    } catch (e) {
      return Promise.reject(new HvrollError('internal', `campaign store: ${op.t} record is not JSON-serialisable`, { cause: e }));
    }
    // Apply the JSON round trip, not the caller's object: memory then equals what replay will rebuild,
    // and a caller mutating its object later cannot change the store.
    const problem = applyOp(this.db.data, JSON.parse(json) as Op);
    if (problem !== undefined) return Promise.reject(new HvrollError('internal', `campaign store: ${problem}`));
    this.adapter.enqueue(json);
    return this.db.write();
  }
}

export interface BreakLockOptions extends StoreOptions {
  /**
   * Also break a lock held on another host, whose process cannot be checked from here (the operator vouches
   * it is gone). Never a lock whose holder is alive on this host: that one is refused, force or not.
   */
  force?: boolean;
  reason?: string;
}

/** Refuses to break a lock whose holder may still run: alive here (always), or on another host (unless forced). */
function refuseLiveHolder(held: LockState, lockPath: string, force: boolean): void {
  if (held.state === 'alive') {
    const pid = held.info.pid;
    const fix = `stop that process first — \`hvroll pause\` lets its groups finish their current step; \`kill ${pid}\` only if it hangs — then unlock. --force is for a holder on another host, which cannot be checked from here.`;
    throw storeError(`refusing to break the lock: ${describeLock(held, lockPath)} Process ${pid} is alive on this host, so the campaign is not orphaned, and --force does not override that: ${fix}`, { lock: held, fix });
  }
  if (held.state === 'remote' && !force) {
    throw storeError(`refusing to break a lock that may be in use: ${describeLock(held, lockPath)}`, { lock: held });
  }
}

/** What an unlock found and did. */
export interface TakeOver {
  /** The lock that was broken, or null when there was none (adopt only). */
  previous: LockState | null;
  /** Why the durability marker was replaced (adopt), or null when it was kept. */
  adopted: 'missing' | 'unreadable' | null;
}

/**
 * Removes a campaign's lock on an operator's explicit request and records it in the audit trail (as the
 * first act of a new writer epoch, which fences off the old holder if it ever wakes up).
 */
export async function breakLock(dir: string, operator: string, opts: BreakLockOptions = {}): Promise<{ previous: LockState }> {
  const r = await takeOver(dir, operator, opts, false);
  return { previous: r.previous! };
}

/**
 * `hvroll unlock --adopt`: accepts a store whose durability marker is missing (moved here without it) or
 * unreadable, as it is, and starts a new marker at its journal's end — audited, with the operator's name.
 * Breaks the lock too if there is one (same rules as breakLock). A marker that reads fine is never replaced:
 * a journal that ends before what it names stays refused.
 */
export async function adoptStore(dir: string, operator: string, opts: BreakLockOptions = {}): Promise<TakeOver> {
  return takeOver(dir, operator, opts, true);
}

async function takeOver(dir: string, operator: string, opts: BreakLockOptions, adopt: boolean): Promise<TakeOver> {
  const fs = guardedFs(opts.fs ?? nodeFs, dir);
  const env = opts.lockEnv ?? defaultLockEnv;
  const now = opts.now ?? (() => new Date());
  const files = storeFiles(dir);
  const lockPath = files.lock;
  requireText('operator', operator);
  const held = await readLock(fs, lockPath, env);
  if (held !== null) refuseLiveHolder(held, lockPath, opts.force === true);
  let adopted: TakeOver['adopted'] = null;
  if (adopt) {
    adopted = await readMarker(fs, files).then(
      (m) => (m === null ? 'missing' : null),
      () => 'unreadable' as const,
    );
    if (adopted === null && held === null) {
      throw new HvrollError('usage', `nothing to adopt: the durability marker ${files.marker} of ${dir} is readable (and the store is not locked). A store it refuses cannot be adopted: restore a newer copy of the campaign directory instead.`);
    }
  } else if (held === null) {
    throw storeError(`there is no lock to break at ${lockPath}`, { dir, noLock: true });
  }
  // The store must be readable first: never leave a damaged store unlocked with no record of why.
  const ro = await CampaignStore.open(dir, { ...opts, readOnly: true, acceptTornTail: true, adoptMarker: adopted !== null });
  await ro.close();
  if (held !== null) {
    const again = await readLock(fs, lockPath, env);
    const same =
      again !== null &&
      (again.state === 'unreadable' ? held.state === 'unreadable' && again.raw === held.raw : held.state !== 'unreadable' && again.info.token === held.info.token);
    if (!same) throw storeError(`the lock ${lockPath} changed while breaking it; look at it again (hvroll status)`, { before: held, after: again });
    await fs.unlink(lockPath);
    await fs.syncDir(dir);
  }
  // The broken lock's holder may have died mid-append: its torn last line is expected, never acknowledged.
  const store = await CampaignStore.open(dir, { ...opts, acceptTornTail: true, adoptMarker: adopted !== null });
  try {
    if (held !== null) {
      await store.recordAudit({
        at: now().toISOString(),
        operator,
        action: 'lock-broken',
        details: { previous: held.state === 'unreadable' ? { unreadable: held.raw } : { ...held.info, state: held.state }, force: opts.force === true, reason: opts.reason ?? null },
      });
    }
    if (adopted !== null) {
      await store.recordAudit({ at: now().toISOString(), operator, action: 'store-adopted', details: { marker: adopted, markerFile: files.marker, journalEndsAtRecord: store.openedAtRecord, reason: opts.reason ?? null } });
    }
  } finally {
    await store.close();
  }
  return { previous: held, adopted };
}

export interface CampaignSummary {
  id: string;
  dir: string;
  meta?: CampaignMeta;
  lock: LockState | null;
  /** Why the store could not be read (it is listed anyway, so it is not forgotten). */
  problem?: string;
}

/** Campaigns under a state root, from their small files only (campaign.json, lock). */
export async function listCampaigns(root: string, opts: StoreOptions = {}): Promise<CampaignSummary[]> {
  const fs = opts.fs ?? nodeFs;
  const env = opts.lockEnv ?? defaultLockEnv;
  const names = ((await fs.readdir(root)) ?? []).filter((n) => !n.startsWith('.') && !n.includes('.tmp-')).sort();
  const out: CampaignSummary[] = [];
  for (const id of names) {
    const dir = join(root, id);
    let entries: string[] | null;
    try {
      entries = await fs.readdir(dir);
    } catch {
      continue; // a plain file in the root: not a campaign
    }
    if (entries === null) continue;
    const files = storeFiles(dir);
    const summary: CampaignSummary = { id, dir, lock: null };
    try {
      summary.lock = await readLock(fs, files.lock, env);
      const meta = await readSealed(fs, files.meta, 'hvroll-campaign');
      if (meta === null) summary.problem = `${files.meta} is missing`;
      else summary.meta = meta.data as CampaignMeta;
    } catch (e) {
      summary.problem = e instanceof Error ? e.message : String(e);
    }
    out.push(summary);
  }
  return out;
}
