// One writer per campaign. The lock file is created with O_EXCL and names its holder; it never expires by
// time. A holder that is gone (same host, pid not alive — or alive but another process: the pid was reused
// after a reboot or a wrap-around, told by the boot id and the process start time) is reported as stale,
// and only an explicit breakLock removes it. The epoch in the lock is the writer's generation: a writer that
// finds the lock no longer naming it (token) has been superseded and must stop writing.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import type { FileIdentity, StoreFs } from './fs.ts';
import { isCode } from './fs.ts';
import { storeError } from './problems.ts';
import { writeBytesAtomic } from './sealed-file.ts';

export interface LockInfo {
  pid: number;
  hostname: string;
  startedAt: string;
  /** Writer epoch; null for the instant between taking the lock and reading the store. */
  epoch: number | null;
  /** Random per-open identity: distinguishes two opens by the same pid. */
  token: string;
  /** `<boot id>/<start time>` of the holder process (Linux), so a reused pid is not taken for the holder. */
  process?: string;
}

export type LockState =
  | { state: 'alive'; info: LockInfo } // holder runs on this host
  | { state: 'stale'; info: LockInfo; reused?: true } // holder was on this host and is gone (its pid too, or now another process's)
  | { state: 'remote'; info: LockInfo } // holder is on another host: cannot tell
  | { state: 'unreadable'; raw: string }; // empty or garbled (crash while taking the lock)

/** Injectable so tests can pretend; default asks the kernel. */
export interface LockEnv {
  hostname: string;
  pid: number;
  isAlive(pid: number): boolean;
  /** Identity of a live process (`<boot id>/<start time>`), null when it cannot be told; absent: not checked. */
  processOf?(pid: number): string | null;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return isCode(e, 'EPERM');
  }
}

/** `<boot id>/<start time in clock ticks since boot>` from /proc; null where there is no /proc (not Linux). */
export function processIdentity(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after "(comm)", which may itself hold spaces and parentheses; starttime is field 22.
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim();
    return start === undefined || boot === '' ? null : `${boot}/${start}`;
  } catch {
    return null;
  }
}

export const defaultLockEnv: LockEnv = { hostname: hostname(), pid: process.pid, isAlive: pidAlive, processOf: processIdentity };

function parseLock(raw: Uint8Array): LockInfo | null {
  try {
    const o = JSON.parse(Buffer.from(raw).toString('utf8')) as Partial<LockInfo>;
    if (typeof o.pid === 'number' && typeof o.hostname === 'string' && typeof o.startedAt === 'string' && typeof o.token === 'string') {
      const info: LockInfo = { pid: o.pid, hostname: o.hostname, startedAt: o.startedAt, epoch: typeof o.epoch === 'number' ? o.epoch : null, token: o.token };
      if (typeof o.process === 'string') info.process = o.process;
      return info;
    }
  } catch {
    // fall through: unreadable
  }
  return null;
}

export async function readLock(fs: StoreFs, path: string, env: LockEnv = defaultLockEnv): Promise<LockState | null> {
  const raw = await fs.readFile(path);
  if (raw === null) return null;
  const info = parseLock(raw);
  if (info === null) return { state: 'unreadable', raw: Buffer.from(raw).toString('utf8').slice(0, 200) };
  if (info.hostname !== env.hostname) return { state: 'remote', info };
  if (!env.isAlive(info.pid)) return { state: 'stale', info };
  // The pid lives, but is it still the holder? (After a reboot, or a pid wrap-around, it may be anything.)
  const now = info.process === undefined || env.processOf === undefined ? null : env.processOf(info.pid);
  if (now !== null && now !== info.process) return { state: 'stale', info, reused: true };
  return { state: 'alive', info };
}

export function describeLock(l: LockState, lockPath: string): string {
  if (l.state === 'unreadable') {
    return `lock file ${lockPath} is unreadable (${JSON.stringify(l.raw)}), probably left by a crash while taking it. If no hvroll runs this campaign, break it with \`hvroll unlock\`.`;
  }
  const who = `pid ${l.info.pid} on ${l.info.hostname} since ${l.info.startedAt}${l.info.epoch === null ? '' : ` (epoch ${l.info.epoch})`}`;
  switch (l.state) {
    case 'alive':
      return `the campaign is in use by ${who}. Wait for it to finish, or stop it (hvroll pause/abort).`;
    case 'stale':
      return `stale lock ${lockPath}: held by ${who}, and that process is no longer running${l.reused ? ` (pid ${l.info.pid} now belongs to another process)` : ''}. Check the campaign's last steps, then break the lock with \`hvroll unlock\` (recorded in the audit trail); it is never broken silently.`;
    case 'remote':
      return `the campaign is locked by ${who}, another host; its process cannot be checked from here. If you are sure it no longer runs, break the lock with \`hvroll unlock --force\`.`;
  }
}

export function newLock(env: LockEnv, now: Date): LockInfo {
  const lock: LockInfo = { pid: env.pid, hostname: env.hostname, startedAt: now.toISOString(), epoch: null, token: randomBytes(12).toString('hex') };
  const me = env.processOf?.(env.pid) ?? null;
  if (me !== null) lock.process = me;
  return lock;
}

/** Takes the lock or throws a store error describing the holder. */
export async function acquireLock(fs: StoreFs, path: string, lock: LockInfo, env: LockEnv): Promise<void> {
  try {
    await fs.writeNew(path, Buffer.from(`${JSON.stringify(lock)}\n`));
  } catch (e) {
    if (!isCode(e, 'EEXIST')) throw e;
    const held = await readLock(fs, path, env);
    if (held === null) throw storeError(`the campaign lock ${path} appeared and vanished while taking it; try again`);
    throw storeError(`cannot open the campaign for writing: ${describeLock(held, path)}`, { lock: held, lockFile: path });
  }
  await fs.syncDir(dirname(path));
}

function sameFile(a: FileIdentity | null, b: FileIdentity | null): boolean {
  return a !== null && b !== null && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}

/**
 * Remembers which version of the lock file last named us, so the check before every append is one stat(2)
 * instead of open+read+close: whoever takes the lock over creates a new file (O_EXCL or rename), which
 * changes its inode or its times, and then the content is read and the token compared again.
 */
export class LockSeen {
  identity: FileIdentity | null = null;
}

/** Is the lock still ours? (Called before every append: a superseded writer must not write late.) */
export async function checkLock(fs: StoreFs, path: string, mine: LockInfo, env: LockEnv, seen?: LockSeen): Promise<void> {
  if (seen !== undefined && sameFile(seen.identity, await fs.identity(path))) return;
  const before = seen === undefined ? null : await fs.identity(path);
  const raw = await fs.readFile(path);
  const info = raw === null ? null : parseLock(raw);
  if (info !== null && info.token === mine.token) {
    // Only trust the identity if the file did not change while it was read.
    if (seen !== undefined) {
      const after = await fs.identity(path);
      seen.identity = sameFile(before, after) ? after : null;
    }
    return;
  }
  const now = raw === null ? null : await readLock(fs, path, env);
  const by = now === null ? 'the lock file is gone (it was broken)' : describeLock(now, path);
  throw storeError(
    `this writer (epoch ${mine.epoch ?? '?'}, pid ${mine.pid}) has lost the campaign lock and must stop: ${by} No further write was made.`,
    { mine, current: now },
  );
}

/** Rewrites our own lock (to record the epoch) atomically. */
export async function rewriteLock(fs: StoreFs, path: string, lock: LockInfo): Promise<void> {
  await writeBytesAtomic(fs, path, Buffer.from(`${JSON.stringify(lock)}\n`));
}

/** Removes the lock if it is still ours. */
export async function releaseLock(fs: StoreFs, path: string, mine: LockInfo): Promise<void> {
  const raw = await fs.readFile(path);
  if (raw === null) return;
  const info = parseLock(raw);
  if (info === null || info.token !== mine.token) return;
  await fs.unlink(path);
  await fs.syncDir(dirname(path));
}
