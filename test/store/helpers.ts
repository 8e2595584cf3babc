// Shared by the store tests: temp dirs, a sample campaign, file fingerprints, a byte-counting fs, children.

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { nodeFs, type StoreFs } from '../../src/store/index.ts';
import type { CreateInit } from '../../src/store/index.ts';
import { encodeHeader } from '../../src/store/journal-file.ts';
import type { PlanFile } from '../../src/model/plan.ts';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function tempRoot(t: ExecutionContext): string {
  const root = mkdtempSync(join(tmpdir(), 'hvroll-store-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

export function sampleInit(campaignId = 'c1'): CreateInit {
  return {
    campaignId,
    operator: 'alice',
    // Not a whole plan: the store keeps whatever `run` gives it (tests of the store only need its bytes).
    plan: { schemaVersion: 1, groups: [{ name: 'g1', hosts: ['h1', 'h2'] }, { name: 'g2', hosts: ['h3'] }] } as unknown as PlanFile,
    planFingerprint: 'sha256:abc',
    machineVersion: 'group-v1',
  };
}

/** name -> sha256 of every file in `dir` (to prove a refused open changed nothing). */
export function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) out[name] = createHash('sha256').update(readFileSync(join(dir, name))).digest('hex');
  return out;
}

/** The durability marker of the store in `dir` (in its state root). */
export function markerOf(dir: string): string {
  return join(dirname(dir), '.marks', `${basename(dir)}.mark`);
}

/** Copies a store's durability marker along with a copy of its directory (as an operator moving it would). */
export function copyMarker(dir: string, to: string): void {
  if (!existsSync(markerOf(dir))) return;
  mkdirSync(dirname(markerOf(to)), { recursive: true });
  cpSync(markerOf(dir), markerOf(to));
}

/**
 * Turns a store into one as hvroll wrote it before durability markers: a journal header without `marked`, and
 * no marker. Its records stay as they are.
 */
export function makeLegacy(dir: string): void {
  const path = join(dir, 'journal.ndjson');
  const text = readFileSync(path, 'utf8');
  const nl = text.indexOf('\n');
  const h = JSON.parse(text.slice(0, nl)) as { campaignId: string; base: number };
  writeFileSync(path, encodeHeader({ campaignId: h.campaignId, base: h.base, marked: false }) + text.slice(nl + 1));
  rmSync(markerOf(dir), { force: true });
}

/** A copy of a store's directory and its marker. */
export function copyStore(dir: string, to: string): string {
  cpSync(dir, to, { recursive: true });
  copyMarker(dir, to);
  return to;
}

/** What a kill -9 right now would leave on disk (every acknowledged write is synced): a copy without the live lock. */
export function crashCopy(dir: string, to: string, keepLock = false): string {
  copyStore(dir, to);
  if (!keepLock) rmSync(join(to, 'lock'), { force: true });
  return to;
}

/** nodeFs that counts the bytes it writes. */
export function countingFs(): { fs: StoreFs; written: () => number; reset: () => void } {
  let n = 0;
  const fs: StoreFs = {
    ...nodeFs,
    async writeNew(path, data) {
      n += data.length;
      await nodeFs.writeNew(path, data);
    },
    async openAppend(path) {
      const f = await nodeFs.openAppend(path);
      return {
        ...f,
        async append(data) {
          n += data.length;
          await f.append(data);
        },
      };
    },
  };
  return { fs, written: () => n, reset: () => (n = 0) };
}

export interface Child {
  proc: ChildProcess;
  lines: string[];
  /** Resolves when a line satisfying `pred` has been printed (rejects if the child exits first). */
  waitFor(pred: (line: string, all: string[]) => boolean): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

/** Starts test/store/fixtures/writer.ts in its own node process (node --import tsx). */
export function startWriter(args: string[]): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/store/fixtures/writer.ts'), ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let buf = '';
  let err = '';
  const waiters: { pred: (l: string, all: string[]) => boolean; resolve: () => void; reject: (e: Error) => void }[] = [];
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  proc.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.pred(line, lines)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    proc.on('exit', (code, signal) => {
      for (const w of waiters.splice(0)) w.reject(new Error(`writer exited (${code ?? signal}) before the expected output; stderr:\n${err}`));
      res({ code, signal });
    });
  });
  return {
    proc,
    lines,
    exited,
    stderr: () => err,
    waitFor: (pred) => new Promise<void>((resolve, reject) => waiters.push({ pred, resolve, reject })),
  };
}
