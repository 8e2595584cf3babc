// The audit trail of a campaign: every operator action (run, resume, pause, abort, approve, break-lock…)
// and every remote command, as one time-ordered list of who, when, what, where and with what result.
// Pure: built from what the store already holds (its audit records and its journal).

import type { AuditEvent, JournalEntry } from '../store/doc.ts';

export interface AuditEntry {
  at: string;
  operator: string;
  kind: 'action' | 'command';
  /** The operator action (`approve`) or the journal step (`migrate`, `reboot:check`). */
  action: string;
  group: string | null;
  host: string | null;
  vm: string | null;
  /** The command line, or the action's details. */
  what: string;
  result: string;
}

function detailsText(details: unknown): string {
  if (details === undefined || details === null) return '';
  if (typeof details !== 'object') return String(details);
  return Object.entries(details as Record<string, unknown>)
    .filter(([k, v]) => k !== 'result' && v !== undefined && v !== null)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ');
}

/** A refused run/resume (state-audit.ts) reads as what was refused and why: `plan p.json: stale-plan: …`. */
function refusalText(details: unknown): string | null {
  const d = (details ?? {}) as { plan?: unknown; campaign?: unknown; kind?: unknown; message?: unknown };
  if (typeof d.kind !== 'string' || typeof d.message !== 'string') return null;
  const subject = typeof d.plan === 'string' ? `plan ${d.plan}: ` : typeof d.campaign === 'string' ? `campaign ${d.campaign}: ` : '';
  return `${subject}${d.kind}: ${d.message}`;
}

export function actionEntry(a: AuditEvent): AuditEntry {
  const d = (a.details ?? {}) as { group?: unknown; result?: unknown; host?: unknown };
  return {
    at: a.at,
    operator: a.operator,
    kind: 'action',
    action: a.action,
    group: typeof d.group === 'string' ? d.group : null,
    host: typeof d.host === 'string' ? d.host : null,
    vm: null,
    what: (a.action.endsWith('-refused') ? refusalText(a.details) : null) ?? detailsText(a.details),
    result: typeof d.result === 'string' ? d.result : 'recorded',
  };
}

const PLAIN_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** As the host's shell received it: one argument per word, so `--disable-reason 'hvroll campaign c1'` reads right. */
function shellWord(arg: string): string {
  return PLAIN_WORD.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

export function commandEntry(e: JournalEntry): AuditEntry {
  const o = e.outcome;
  const result = !o ? 'no outcome (in flight when the runner stopped)' : o.error ? `error: ${o.error.message}` : `exit ${o.exitCode ?? '-'}`;
  return { at: e.startedAt, operator: e.operator, kind: 'command', action: e.step, group: e.group, host: e.host, vm: e.vm ?? null, what: (e.argv ?? []).map(shellWord).join(' '), result };
}

/** Actions and commands, oldest first (stable: equal times keep store order, actions first). */
export function auditTrail(audit: readonly AuditEvent[], journal: readonly JournalEntry[]): AuditEntry[] {
  return byTime([...audit.map(actionEntry), ...journal.map(commandEntry)]);
}

/** Oldest first; entries with equal times keep their order in `entries`. */
export function byTime<T extends { at: string }>(entries: readonly T[]): T[] {
  return entries.map((e, i) => ({ e, i })).sort((a, b) => (a.e.at < b.e.at ? -1 : a.e.at > b.e.at ? 1 : a.i - b.i)).map(({ e }) => e);
}
