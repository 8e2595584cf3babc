// The step journal's vocabulary: what the engine writes before a command that may change a host (an intent)
// and after it (its outcome), read back by reconciles, status, audit, the report and the fault checkers.

import type { ErrorRecord } from './errors.ts';

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
  /** Last lines of output; the store keeps at most its OUTPUT_TAIL_MAX characters. */
  outputTail: string;
  endedAt: string;
  error?: ErrorRecord;
}

export type JournalId = number;

export interface JournalEntry extends IntentEntry {
  id: JournalId;
  outcome?: OutcomeEntry;
}

/** A planned VM confirmed on its target, once per group and VM, however it got there (migrated, found there, leftover removed). */
export const MIGRATE_CONFIRMED = 'migrate:confirmed';
