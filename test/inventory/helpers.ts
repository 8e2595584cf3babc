// Shared fixtures for the inventory tests: real files in temp dirs, and lookups of issues by path.

import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { InputError } from '../../src/model/errors.ts';
import type { InputIssue } from '../../src/model/errors.ts';
import { loadInventory } from '../../src/inventory/load.ts';
import type { LoadedInventory } from '../../src/inventory/load.ts';

/** Writes `files` (relative name → text) into a fresh temp dir, removed after the test. */
export async function tempDir(t: ExecutionContext, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hvroll-inv-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

export async function loadOk(t: ExecutionContext, paths: string[], options?: { ansible?: string }): Promise<LoadedInventory> {
  try {
    return await loadInventory(paths, options);
  } catch (e) {
    if (e instanceof InputError) t.fail(`unexpected issues:\n${JSON.stringify(e.issues, null, 2)}`);
    throw e;
  }
}

/** Loads and expects an InputError; returns its issues. */
export async function loadFails(t: ExecutionContext, paths: string[], options?: { ansible?: string }): Promise<InputIssue[]> {
  const e = await t.throwsAsync(loadInventory(paths, options), { instanceOf: InputError });
  return (e as InputError).issues;
}

/** The one issue at `path` (fails the test, listing all issues, when there is none). */
export function at(t: ExecutionContext, issues: InputIssue[], path: string, file?: string): InputIssue {
  const found = issues.find((i) => i.path === path && (file === undefined || i.file.endsWith(file)));
  if (!found) {
    t.fail(`no issue at ${path}; got:\n${issues.map((i) => `${i.file}:${i.line ?? '?'} ${i.path}: ${i.message}`).join('\n')}`);
    throw new Error('missing issue');
  }
  return found;
}

/** Two hosts, two VMs: a valid base that tests break one thing in. */
export const HOSTS = `hosts:
  - name: hv-01
    address: 10.0.0.1
    labels: { rack: r1, az: az1 }
    capacity: { vcpus: 32, memoryMiB: 65536 }
  - name: hv-02
    address: hv-02.example.com
    labels: { rack: r2, az: az1 }
    capacity: { vcpus: 32, memoryMiB: 65536 }
`;

export const VMS = `vms:
  - { name: web-1, host: hv-01, vcpus: 2, memoryMiB: 4096, labels: { app: web, tier: 1 } }
  - { name: db-1, host: hv-02, vcpus: 4, memoryMiB: 8192, labels: { app: db, tier: 3 } }
`;

export const BASE = HOSTS + VMS;
