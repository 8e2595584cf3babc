// The campaign document (what lowdb holds in memory) and the operations that change it. Every mutation
// is an op; the journal stores ops, and replay applies them in order with `applyOp` — the same function
// the live store uses, so memory and disk cannot drift apart. Finished entries of settled groups leave the
// document for history segments at compaction (live-journal.ts, history-file.ts).

import type { Approval, AuditEvent, CampaignMeta, HostRelease, NotificationRecord } from '../model/campaign.ts';
import type { JournalEntry, JournalId, OutcomeEntry } from '../model/journal.ts';
import type { PlanFile } from '../model/plan.ts';
import { LiveJournal, type StepTally } from './live-journal.ts';

// The records are the model's vocabulary; the store's public surface names them too.
export type { Approval, AuditEvent, CampaignMeta, CampaignStart, HostRelease, NotificationRecord } from '../model/campaign.ts';
export type { IntentEntry, JournalEntry, JournalId, OutcomeEntry } from '../model/journal.ts';

/** 2: journal entries of settled groups live in history segments, not in the snapshot. */
export const STORE_FORMAT = 2;

/** What the engine saves per group: xstate's persisted snapshot, opaque to the store. */
export interface PersistedGroup {
  machineVersion: string;
  snapshot: unknown;
  /**
   * The group is finished for good and the engine will never ask the journal about it again: its finished
   * entries may leave memory (they stay readable through `history()`). Never unset once set.
   */
  settled?: true;
}

/** Characters of a command's output the journal keeps (its last ones). */
export const OUTPUT_TAIL_MAX = 8192;

/** A history file: finished journal entries archived by one compaction (history-file.ts). */
export interface SegmentRef {
  file: string;
  /** Snapshot sequence number of the compaction that wrote it. */
  seq: number;
  entries: number;
  bytes: number;
}

/** The mutable part of the document (in memory; snapshot.json holds it as PersistedState). */
export interface CampaignState {
  /** Highest writer epoch seen; a writer with a lower one is fenced off. */
  epoch: number;
  groups: Record<string, PersistedGroup>;
  journal: LiveJournal;
  approvals: Approval[];
  notifications: NotificationRecord[];
  audit: AuditEvent[];
  /** History segments, oldest first. */
  segments: SegmentRef[];
  releases: HostRelease[];
}

/** snapshot.json's `data`. */
export interface PersistedState {
  epoch: number;
  groups: Record<string, PersistedGroup>;
  /** Ids given to intents so far. */
  lastId: number;
  /** Live journal entries (open intents, entries of unsettled groups), in id order. */
  journal: JournalEntry[];
  /** Finished entries of settled groups not yet in a segment (empty after a compaction). */
  unarchived: JournalEntry[];
  tally: Record<string, StepTally>;
  approvals: Approval[];
  notifications: NotificationRecord[];
  audit: AuditEvent[];
  segments: SegmentRef[];
  /** Absent in snapshots written before `hvroll release` existed. */
  releases?: HostRelease[];
}

/** The whole document: the write-once parts plus the state. */
export interface CampaignDoc extends CampaignState {
  meta: CampaignMeta;
  plan: PlanFile;
}

export type Op =
  | { t: 'epoch'; epoch: number; pid: number; hostname: string; at: string }
  | { t: 'group'; group: string; value: PersistedGroup }
  | { t: 'intent'; entry: JournalEntry }
  | { t: 'outcome'; id: JournalId; outcome: OutcomeEntry }
  | { t: 'approval'; value: Approval }
  | { t: 'notification'; value: NotificationRecord }
  | { t: 'audit'; value: AuditEvent }
  | { t: 'release'; value: HostRelease };

export function emptyState(epoch: number): PersistedState {
  return { epoch, groups: {}, lastId: 0, journal: [], unarchived: [], tally: {}, approvals: [], notifications: [], audit: [], segments: [], releases: [] };
}

function settledNames(groups: Record<string, PersistedGroup>): string[] {
  return Object.keys(groups).filter((g) => groups[g]!.settled === true);
}

/** The in-memory state for a verified snapshot's data (takes ownership of it). */
export function liveState(p: PersistedState): CampaignState {
  return {
    epoch: p.epoch,
    groups: p.groups,
    journal: new LiveJournal(p.lastId, p.journal, p.unarchived, p.tally, settledNames(p.groups)),
    approvals: p.approvals,
    notifications: p.notifications,
    audit: p.audit,
    segments: p.segments,
    releases: p.releases ?? [],
  };
}

/** What a snapshot of `s` holds, with the given unarchived entries and segments (compaction passes its own). */
export function persistedState(s: CampaignState, unarchived: JournalEntry[], segments: SegmentRef[]): PersistedState {
  const j = s.journal;
  return {
    epoch: s.epoch,
    groups: s.groups,
    lastId: j.lastId,
    journal: j.entries() as JournalEntry[],
    unarchived,
    tally: j.tally,
    approvals: s.approvals,
    notifications: s.notifications,
    audit: s.audit,
    segments,
    releases: s.releases,
  };
}

/** Applies one op; returns a problem description when the op does not fit the state (corruption). */
export function applyOp(state: CampaignState, op: Op): string | undefined {
  switch (op.t) {
    case 'epoch':
      if (op.epoch <= state.epoch) return `epoch ${op.epoch} does not increase (store is at ${state.epoch})`;
      state.epoch = op.epoch;
      return undefined;
    case 'group':
      if (state.groups[op.group]?.settled === true && op.value.settled !== true) return `group ${op.group} was settled and cannot become unsettled`;
      state.groups[op.group] = op.value;
      if (op.value.settled === true) state.journal.settle(op.group);
      return undefined;
    case 'intent':
      return state.journal.add(op.entry);
    case 'outcome':
      return state.journal.finish(op.id, op.outcome);
    case 'approval':
      state.approvals.push(op.value);
      return undefined;
    case 'notification':
      state.notifications.push(op.value);
      return undefined;
    case 'audit':
      state.audit.push(op.value);
      return undefined;
    case 'release':
      state.releases.push(op.value);
      return undefined;
    default:
      return `unknown operation ${JSON.stringify((op as { t?: unknown }).t)}`;
  }
}
