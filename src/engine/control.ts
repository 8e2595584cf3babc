// Operator requests to a running campaign (pause, resume, abort, approve) arrive as small files in the
// campaign's directory: the running process holds the store lock, so other commands cannot write the store.
// A request file is written atomically (temp + fsync + rename), picked up within a poll interval, applied,
// audited, then deleted.

import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export type ControlAction = 'pause' | 'resume' | 'abort' | 'approve';

export interface ControlRequest {
  action: ControlAction;
  operator: string;
  at: string;
  group?: string;
  comment?: string;
}

const DIR = 'control';

export async function writeControlRequest(campaignDir: string, req: ControlRequest): Promise<void> {
  const dir = join(campaignDir, DIR);
  await mkdir(dir, { recursive: true });
  const name = `${Date.now().toString().padStart(15, '0')}-${randomUUID()}.json`;
  const tmp = join(dir, `.${name}.tmp`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(JSON.stringify(req));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, name));
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
      if (['pause', 'resume', 'abort', 'approve'].includes(req.action) && typeof req.operator === 'string') out.push(req);
    } catch {
      // A request we cannot read is dropped: the operator sees no effect and can send it again.
    }
    await unlink(path).catch(() => undefined);
  }
  return out;
}
