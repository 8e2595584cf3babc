// Operator requests to a running campaign (pause, resume, abort, approve, release) arrive as small files in
// the campaign's directory: the running process holds the store lock, so other commands cannot write the store.
// A request file is written atomically and durably (io/durable-write.ts), picked up within a poll interval, applied,
// audited, then deleted. A request whose sender waits for the outcome (release) is answered with a result
// file under control/results/, named by the request's id.

import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileDurable } from '../io/durable-write.ts';
import type { ErrorKind } from '../model/errors.ts';

export type ControlAction = 'pause' | 'resume' | 'abort' | 'approve' | 'release';
const ACTIONS: readonly ControlAction[] = ['pause', 'resume', 'abort', 'approve', 'release'];

export interface ControlRequest {
  action: ControlAction;
  operator: string;
  at: string;
  group?: string;
  /** release: the host. */
  host?: string;
  comment?: string;
  /** Set by writeControlRequest: names the request's file and its result. */
  id?: string;
}

/** What the runner answers to a request its sender waits for. */
export interface ControlResult {
  /** release: released | verify-failed | enable-failed, or error (refused or failed: `kind` says which). */
  result: string;
  message: string;
  kind?: ErrorKind;
}

const DIR = 'control';
const RESULTS = 'results';

async function writeAtomic(dir: string, name: string, text: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFileDurable(join(dir, name), text, { dirSync: 'best-effort' });
}

/** Queues a request; returns its id. */
export async function writeControlRequest(campaignDir: string, req: ControlRequest): Promise<string> {
  const id = randomUUID();
  await writeAtomic(join(campaignDir, DIR), `${Date.now().toString().padStart(15, '0')}-${id}.json`, JSON.stringify({ ...req, id }));
  return id;
}

/** Takes back a request nobody has picked up yet (its runner is gone); false when it was taken. */
export async function withdrawControlRequest(campaignDir: string, id: string): Promise<boolean> {
  const dir = join(campaignDir, DIR);
  const name = ((await readdir(dir).catch(() => [] as string[])).find((n) => n.endsWith(`-${id}.json`) && !n.startsWith('.')));
  if (name === undefined) return false;
  try {
    await unlink(join(dir, name));
    return true;
  } catch {
    return false; // taken meanwhile
  }
}

export async function writeControlResult(campaignDir: string, id: string, result: ControlResult): Promise<void> {
  await writeAtomic(join(campaignDir, DIR, RESULTS), `${id}.json`, JSON.stringify(result));
}

/** The answer to request `id`, once there is one (it is removed as it is read). */
export async function takeControlResult(campaignDir: string, id: string): Promise<ControlResult | null> {
  const path = join(campaignDir, DIR, RESULTS, `${id}.json`);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return null;
  }
  await rm(path, { force: true });
  return JSON.parse(text) as ControlResult;
}

/** Pending requests, oldest first; each is removed once read (apply it before the next poll). */
export async function takeControlRequests(campaignDir: string): Promise<ControlRequest[]> {
  const dir = join(campaignDir, DIR);
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort();
  } catch {
    return [];
  }
  const out: ControlRequest[] = [];
  for (const name of names) {
    const path = join(dir, name);
    try {
      const req = JSON.parse(await readFile(path, 'utf8')) as ControlRequest;
      if (ACTIONS.includes(req.action) && typeof req.operator === 'string') out.push(req);
    } catch {
      // A request we cannot read is dropped: the operator sees no effect and can send it again.
    }
    await unlink(path).catch(() => undefined);
  }
  return out;
}
