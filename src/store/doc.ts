// The campaign document (what lowdb holds in memory) and the operations that change it. Every mutation
// is an op; the journal stores ops, and replay applies them in order with `applyOp` — the same function
// the live store uses, so memory and disk cannot drift apart.

import type { ErrorRecord } from '../model/errors.ts';

export const STORE_FORMAT = 1;

export interface CampaignMeta {
  campaignId: string;
  /** ISO timestamp. */
  createdAt: string;
  operator: string;
  planFingerprint: string;
  /** Version of the machine definitions the campaign was started with. */
  machineVersion: string;
}

/** What the engine saves per group: xstate's persisted snapshot, opaque to the store. */
export interface PersistedGroup {
  machineVersion: string;
  snapshot: unknown;
}

/** Written before a side effect. `key` is `${campaignId}/${groupId}/${step}[/${vm}]`. */
export interface IntentEntry {
  key: string;
  group: string;
  step: string;
  host: string;
  vm?: string;
  argv?: string[];
  startedAt: string;
  operator: string;
}

/** Written after the side effect. */
export interface OutcomeEntry {
  /** null when the command never produced one (timeout, connection lost). */
  exitCode: number | null;
  /** Last lines of output; the store keeps at most OUTPUT_TAIL_MAX characters. */
  outputTail: string;
  endedAt: string;
  error?: ErrorRecord;
}

export const OUTPUT_TAIL_MAX = 8192;

export type JournalId = number;

export interface JournalEntry extends IntentEntry {
  id: JournalId;
  outcome?: OutcomeEntry;
}

export interface Approval {
  group: string;
  operator: string;
  at: string;
  comment?: string;
}

export interface NotificationRecord {
  channel: string;
  event: string;
  at: string;
  status: 'sent' | 'failed';
  attempts?: number;
  detail?: string;
}

export interface AuditEvent {
  at: string;
  operator: string;
  action: string;
  details?: unknown;
}

/** The mutable part of the document (what snapshot.json holds). */
export interface CampaignState {
  /** Highest writer epoch seen; a writer with a lower one is fenced off. */
  epoch: number;
  groups: Record<string, PersistedGroup>;
  journal: JournalEntry[];
  approvals: Approval[];
  notifications: NotificationRecord[];
  audit: AuditEvent[];
}

/** The whole document: the write-once parts plus the state. */
export interface CampaignDoc extends CampaignState {
  meta: CampaignMeta;
  plan: unknown;
}

export type Op =
  | { t: 'epoch'; epoch: number; pid: number; hostname: string; at: string }
  | { t: 'group'; group: string; value: PersistedGroup }
  | { t: 'intent'; entry: JournalEntry }
  | { t: 'outcome'; id: JournalId; outcome: OutcomeEntry }
  | { t: 'approval'; value: Approval }
  | { t: 'notification'; value: NotificationRecord }
  | { t: 'audit'; value: AuditEvent };

export function emptyState(epoch: number): CampaignState {
  return { epoch, groups: {}, journal: [], approvals: [], notifications: [], audit: [] };
}

/** Applies one op; returns a problem description when the op does not fit the state (corruption). */
export function applyOp(state: CampaignState, op: Op): string | undefined {
  switch (op.t) {
    case 'epoch':
      if (op.epoch <= state.epoch) return `epoch ${op.epoch} does not increase (store is at ${state.epoch})`;
      state.epoch = op.epoch;
      return undefined;
    case 'group':
      state.groups[op.group] = op.value;
      return undefined;
    case 'intent':
      if (op.entry.id !== state.journal.length + 1) return `intent id ${op.entry.id} out of order (expected ${state.journal.length + 1})`;
      state.journal.push(op.entry);
      return undefined;
    case 'outcome': {
      const entry = state.journal[op.id - 1];
      if (entry === undefined) return `outcome for unknown intent ${op.id}`;
      if (entry.outcome !== undefined) return `second outcome for intent ${op.id}`;
      entry.outcome = op.outcome;
      return undefined;
    }
    case 'approval':
      state.approvals.push(op.value);
      return undefined;
    case 'notification':
      state.notifications.push(op.value);
      return undefined;
    case 'audit':
      state.audit.push(op.value);
      return undefined;
    default:
      return `unknown operation ${JSON.stringify((op as { t?: unknown }).t)}`;
  }
}
