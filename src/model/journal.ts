// The step journal's vocabulary: what the engine writes before a command that may change a host (an intent)
// and after it (its outcome), read back by reconciles, status, audit, the report and the fault checkers.
//
// Every entry says what it is, typed: the step it belongs to, which part of the step (`probe`: a requirement,
// a check, a confirm, a leftover's check or removal, a boot id read, … — absent for the step's own command),
// and whether it changes the host (`effect`); a probe's outcome says whether its expectation held (`held`).
// Its `step` text (`migrate:leftover:check`) is derived from that and kept as it always was: it is the journal
// key, what status and audit show, and what entries written before the typed fields existed have alone —
// journalStepOf() reads those by their text, and only those.

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
  /** Which part of its step this entry is (absent: the step's own command). Absent in old stores, with `effect`. */
  probe?: Probe;
  /** Whether the command changes the host. */
  effect?: boolean;
}

/** Written after the side effect. */
export interface OutcomeEntry {
  /** null when the command never produced one (timeout, connection lost). */
  exitCode: number | null;
  /** Last lines of output; the store keeps at most its OUTPUT_TAIL_MAX characters. */
  outputTail: string;
  endedAt: string;
  error?: ErrorRecord;
  /** A probe's verdict: its expectation held (the runbook's `expect`, a boot id read, a VM's size parsed). */
  held?: boolean;
}

export type JournalId = number;

export interface JournalEntry extends IntentEntry {
  id: JournalId;
  outcome?: OutcomeEntry;
}

/**
 * The part of a step an entry is. Probes only read the host; `leftover` and `abort` change it; `pre-disabled`
 * and `confirmed` are hvroll's own records (no command is sent).
 */
export type Probe =
  | 'require' // must hold before the step's work; unmet: the step fails for good
  | 'check' // is the work already done? unmet: not yet
  | 'confirm' // did the work take? unmet: it did not
  | 'await' // read again until it holds (a guest shutting down, a host rebooting); unmet: not yet
  | 'leftover-check' // is a remnant of an interrupted run there? unmet: no
  | 'leftover' // removes that remnant
  | 'boot-id' // the host's boot id before its reboot; unreadable: the step fails
  | 'abort' // aborts a job that stopped making progress (a migration)
  | 'inspect' // a VM's size (discover.inspect); unreadable: the step fails
  | 'pre-disabled-check' // was the host out of the pool before the campaign (the enable step's check)?
  | 'pre-disabled' // record: it was; it stays so
  | 'confirmed'; // record: a planned VM runs on its target

export interface JournalStep {
  /** The runbook step it belongs to (`migrate`, `reboot`, …), or `discover`. */
  step: string;
  probe?: Probe;
  /** Whether it changes the host. */
  effect: boolean;
}

const SUFFIX: Record<Probe, string> = {
  require: ':require',
  check: ':check',
  confirm: ':confirm',
  await: ':confirm',
  'leftover-check': ':leftover:check',
  leftover: ':leftover',
  'boot-id': ':boot-id',
  abort: ':abort',
  inspect: ':inspect',
  'pre-disabled-check': ':pre-disabled:check',
  'pre-disabled': ':pre-disabled',
  confirmed: ':confirmed',
};

const CHANGES_HOST = new Set<Probe>(['leftover', 'abort']);

/** The journal step of `probe` (or the step's own command) of `step`. Discovery only reads. */
export function journalStep(step: string, probe?: Probe): JournalStep {
  const effect = probe === undefined ? step !== 'discover' : CHANGES_HOST.has(probe);
  return probe === undefined ? { step, effect } : { step, probe, effect };
}

/** Its text in the journal: `migrate`, `migrate:check`, `migrate:leftover:check`, `reboot:boot-id`. */
export function journalStepName(s: Pick<JournalStep, 'step' | 'probe'>): string {
  return s.probe === undefined ? s.step : `${s.step}${SUFFIX[s.probe]}`;
}

/** Longest first, so `:leftover:check` is not read as `:check`. `:confirm` reads as a confirm (old entries cannot tell an await). */
const LEGACY: [string, Probe][] = (Object.entries(SUFFIX) as [Probe, string][])
  .filter(([probe]) => probe !== 'await')
  .map(([probe, suffix]): [string, Probe] => [suffix, probe])
  .sort((a, b) => b[0].length - a[0].length);

/** What a journal entry is: its typed fields, or (an entry written before they existed) what its text says. */
export function journalStepOf(e: Pick<IntentEntry, 'step' | 'probe' | 'effect'>): JournalStep {
  if (e.effect !== undefined) {
    const step = e.probe === undefined ? e.step : e.step.slice(0, e.step.length - SUFFIX[e.probe].length);
    return e.probe === undefined ? { step, effect: e.effect } : { step, probe: e.probe, effect: e.effect };
  }
  for (const [suffix, probe] of LEGACY) {
    if (e.step.endsWith(suffix) && e.step.length > suffix.length) return journalStep(e.step.slice(0, -suffix.length), probe);
  }
  return journalStep(e.step);
}

/** Whether the entry has the typed fields (written by this hvroll), or only its text (an older store). */
export function isTyped(e: Pick<IntentEntry, 'step' | 'effect'>): boolean {
  return e.effect !== undefined;
}

/** A planned VM confirmed on its target, once per group and VM, however it got there (migrated, found there, leftover removed). */
export const MIGRATE_CONFIRMED_STEP = journalStep('migrate', 'confirmed');
export const MIGRATE_CONFIRMED = journalStepName(MIGRATE_CONFIRMED_STEP);

/** The host was out of the pool before the campaign disabled it: the campaign leaves it so. */
export const PRE_DISABLED_STEP = journalStep('disable', 'pre-disabled');
export const PRE_DISABLED = journalStepName(PRE_DISABLED_STEP);
