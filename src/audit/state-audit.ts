// Refused `run` and `resume` attempts that no campaign store can hold — no campaign exists yet, its store is
// damaged, or another runner holds it — go to the state root's own audit file, `<state>/audit.ndjson`:
// append-only, one JSON line per event (an AuditEvent), fsynced before the command exits. `hvroll audit
// --all` reads it with every campaign's trail.

import { mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDirectory } from '../io/durable-write.ts';
import { formatIssue, HvrollError, InputError, type ErrorKind } from '../model/errors.ts';
import type { AuditEvent } from '../model/campaign.ts';

export const STATE_AUDIT_FILE = 'audit.ndjson';

export type RefusalAction = 'run-refused' | 'resume-refused';

export interface RefusalDetails {
  /** The plan `run` was given (absolute), or the campaign `resume` was asked for. */
  plan?: string;
  campaign?: string;
  kind: ErrorKind;
  message: string;
  result: 'refused';
}

export function stateAuditPath(root: string): string {
  return join(root, STATE_AUDIT_FILE);
}

/** What an operator must know of a refusal: the error's kind and its message, with an input error's issues. */
export function refusalEvent(at: string, operator: string, action: RefusalAction, subject: { plan: string } | { campaign: string }, error: unknown): AuditEvent {
  const kind: ErrorKind = error instanceof HvrollError ? error.kind : 'internal';
  let message = error instanceof Error ? error.message : String(error);
  if (error instanceof InputError) message += `: ${error.issues.slice(0, 5).map((i) => formatIssue(i).replace(/\n\s*/g, ' ')).join('; ')}`;
  const details: RefusalDetails = { ...subject, kind, message, result: 'refused' };
  return { at, operator, action, details };
}

/** Appends one event and fsyncs it (and the directory, so a new file's entry is durable too). */
export async function appendStateAudit(root: string, event: AuditEvent): Promise<void> {
  await mkdir(root, { recursive: true });
  const handle = await open(stateAuditPath(root), 'a', 0o644);
  try {
    // One write(2) of a whole line on an O_APPEND file: concurrent hvroll processes never interleave lines.
    await handle.write(`${JSON.stringify(event)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  // Not every platform can fsync a directory; the line itself is synced.
  await syncDirectory(root, { dirSync: 'best-effort' });
}

export interface StateAudit {
  file: string;
  events: AuditEvent[];
  /** Lines that could not be read, e.g. `audit.ndjson line 7: not JSON`. */
  problems: string[];
}

/** The state root's audit events, oldest first as appended; no file means none yet. */
export async function readStateAudit(root: string): Promise<StateAudit> {
  const file = stateAuditPath(root);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { file, events: [], problems: [] };
    throw e;
  }
  const events: AuditEvent[] = [];
  const problems: string[] = [];
  const lines = text.split('\n');
  // The text after the last newline is an append cut short by a crash (or nothing).
  const torn = lines.pop() ?? '';
  if (torn !== '') problems.push(`${file}: the last line is cut short (${torn.length} characters, no newline): an append interrupted by a crash; ignored`);
  lines.forEach((line, i) => {
    if (line === '') return;
    const event = parseEvent(line);
    if (event === null) problems.push(`${file} line ${i + 1}: not an audit event (${JSON.stringify(line.slice(0, 60))})`);
    else events.push(event);
  });
  return { file, events, problems };
}

function parseEvent(line: string): AuditEvent | null {
  try {
    const e = JSON.parse(line) as Partial<AuditEvent> | null;
    if (e === null || typeof e !== 'object' || typeof e.at !== 'string' || typeof e.operator !== 'string' || typeof e.action !== 'string') return null;
    return e as AuditEvent;
  } catch {
    return null;
  }
}
