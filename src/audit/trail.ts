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
    what: detailsText(a.details),
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
  const all = [...audit.map(actionEntry), ...journal.map(commandEntry)];
  return all.map((e, i) => ({ e, i })).sort((a, b) => (a.e.at < b.e.at ? -1 : a.e.at > b.e.at ? 1 : a.i - b.i)).map(({ e }) => e);
}
