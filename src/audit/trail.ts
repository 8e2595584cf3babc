// The audit trail of a campaign: every operator action (run, resume, pause, abort, approve, break-lock…)
// and every remote command, as one time-ordered list of who, when, what, where and with what result.
// Pure: built from what the store already holds (its audit records and its journal).

import type { AuditEvent } from '../model/campaign.ts';
import type { JournalEntry } from '../model/journal.ts';

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
const PRINTABLE = /^[\x20-\x7e]*$/;

/** Bash's $'…' escape of one character: printable ASCII as-is, anything else by code. */
function ansiC(ch: string): string {
  if (ch === "'" || ch === '\\') return `\\${ch}`;
  if (ch === '\n') return '\\n';
  if (ch === '\t') return '\\t';
  if (ch === '\r') return '\\r';
  const code = ch.codePointAt(0)!;
  if (code >= 0x20 && code <= 0x7e) return ch;
  return code > 0xffff ? `\\U${code.toString(16).toUpperCase().padStart(8, '0')}` : `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * As the host's shell received it: one argument per word, so `--disable-reason 'hvroll campaign c1'` reads
 * right. A word with a character outside printable ASCII (a VM name a host reported: a zero-width space, a bidi
 * control, a Cyrillic letter) is written $'…' with that character escaped, so it shows and cannot reorder the line.
 */
function shellWord(arg: string): string {
  if (PLAIN_WORD.test(arg)) return arg;
  if (PRINTABLE.test(arg)) return `'${arg.replaceAll("'", `'\\''`)}'`;
  return `$'${[...arg].map(ansiC).join('')}'`;
}

export function commandEntry(e: JournalEntry): AuditEntry {
  const o = e.outcome;
  const result = !o ? 'no outcome (in flight when the runner stopped)' : o.error ? `error: ${o.error.message}` : `exit ${o.exitCode ?? '-'}`;
  // An entry without argv is hvroll's own record (migrate:confirmed, disable:pre-disabled): what it noted.
  const what = e.argv ? e.argv.map(shellWord).join(' ') : `(no command sent; recorded: ${o?.outputTail || e.step})`;
  return { at: e.startedAt, operator: e.operator, kind: 'command', action: e.step, group: e.group, host: e.host, vm: e.vm ?? null, what, result };
}

/** Actions and commands, oldest first (stable: equal times keep store order, actions first). */
export function auditTrail(audit: readonly AuditEvent[], journal: readonly JournalEntry[]): AuditEntry[] {
  return byTime([...audit.map(actionEntry), ...journal.map(commandEntry)]);
}

/** Oldest first; entries with equal times keep their order in `entries`. */
export function byTime<T extends { at: string }>(entries: readonly T[]): T[] {
  return entries.map((e, i) => ({ e, i })).sort((a, b) => (a.e.at < b.e.at ? -1 : a.e.at > b.e.at ? 1 : a.i - b.i)).map(({ e }) => e);
}
