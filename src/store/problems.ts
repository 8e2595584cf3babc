// Store errors an operator can act on: which file, what is wrong, what to do. All are HvrollError('store').

import { basename } from 'node:path';
import { HvrollError, type StoreDetails } from '../model/errors.ts';

const KEEP = 'Nothing was changed on disk.';

export interface FileProblem {
  file: string;
  problem: string;
  /** Byte offset and 1-based line of the damage, when known. */
  offset?: number;
  line?: number;
}

/** A file we cannot trust. We never rewrite it: the operator decides what to do with the evidence. */
export function corruptFile(p: FileProblem, fix?: string): HvrollError {
  const where = p.line === undefined ? '' : ` at line ${p.line}${p.offset === undefined ? '' : ` (byte ${p.offset})`}`;
  const todo =
    fix ??
    `Restore ${p.file} from a backup of the campaign directory, or move the directory aside and start a new campaign (every step re-checks its host before acting, so nothing runs twice blindly).`;
  return new HvrollError('store', `campaign store file ${p.file} is damaged${where}: ${p.problem}. ${KEEP} ${todo}`, {
    details: { ...p, fix: todo },
  });
}

export function missingStore(dir: string, missing: string[]): HvrollError {
  const all = missing.length >= 4;
  const message = all
    ? `no campaign store at ${dir}. A store is made only by \`hvroll run\` (create); it is never recreated on its own, so a lost store cannot pass for a new campaign. Check --state / the campaign id, or restore the directory from a backup.`
    : `campaign store at ${dir} is incomplete: missing ${missing.join(', ')}. ${KEEP} Restore the missing file(s) from a backup; without them the campaign's history cannot be trusted.`;
  return new HvrollError('store', message, { details: { dir, missing } });
}

export function storeError(message: string, details?: StoreDetails, cause?: unknown): HvrollError<'store'> {
  return new HvrollError('store', message, { details, cause });
}

/** Describes a JSON.parse failure without echoing a huge input. */
export function parseProblem(e: unknown): string {
  return `invalid JSON (${e instanceof Error ? e.message.slice(0, 200) : String(e)})`;
}

export function nulProblem(bytes: Uint8Array): string | undefined {
  const at = bytes.indexOf(0);
  if (at < 0) return undefined;
  let n = 0;
  for (let i = at; i < bytes.length && bytes[i] === 0; i++) n++;
  return `contains NUL bytes (${n} zero byte${n === 1 ? '' : 's'} from byte ${at}: typically a crash on a filesystem that lost unsynced data, or disk damage)`;
}

/** Only on the failure path: tells "not JSON at all" apart from "JSON whose checksum does not match". */
export function jsonProblem(text: string): string | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (e) {
    return parseProblem(e);
  }
}

/**
 * Errno codes that say the disk or filesystem under the store failed us, not that hvroll has a bug. (EACCES,
 * ENOTDIR and the like are a wrong --state path: the CLI reports those as such, src/cli/report-error.ts.)
 */
const FS_FAULTS: Record<string, { what: (dir: string) => string; fix: (dir: string) => string }> = {
  ENOSPC: {
    what: (dir) => `the state directory ${dir} is full (no space left on device)`,
    fix: (dir) => `free space on the filesystem holding ${dir} (df -h ${dir})`,
  },
  EDQUOT: {
    what: (dir) => `the disk quota for the state directory ${dir} is exhausted`,
    fix: (dir) => `free space or raise the quota of the user running hvroll on the filesystem holding ${dir}`,
  },
  EFBIG: {
    what: (dir) => `a file in the state directory ${dir} reached the file size limit`,
    fix: () => 'raise the file size limit (ulimit -f) of the user running hvroll',
  },
  EIO: {
    what: (dir) => `an I/O error on the disk holding the state directory ${dir}`,
    fix: (dir) => `check the disk (dmesg, smartctl) and the filesystem holding ${dir}, and repair it or move the state root to a healthy disk (with its .marks directory)`,
  },
  EROFS: {
    what: (dir) => `the state directory ${dir} is on a read-only filesystem (a filesystem is remounted read-only after disk errors)`,
    fix: (dir) => `check dmesg for disk errors and remount the filesystem holding ${dir} read-write`,
  },
  EMFILE: {
    what: () => 'hvroll has too many open files',
    fix: () => 'raise the open file limit (ulimit -n)',
  },
  ENFILE: {
    what: () => 'the system has too many open files',
    fix: () => "close other programs' files or raise fs.file-max",
  },
};

export function errnoCode(e: unknown): string | undefined {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** True for an errno failure of the disk or filesystem (ENOSPC, EIO, EROFS, …), as opposed to a logic outcome (EEXIST, ENOENT). */
export function isFsFault(e: unknown): boolean {
  const code = errnoCode(e);
  return code !== undefined && code in FS_FAULTS;
}

/** What the failed call was part of: a store write, building a new store, a read, or an operator's request file. */
export type FsFailureKind = 'write' | 'create' | 'read' | 'request';

const AFTER: Record<FsFailureKind, (id: string) => { state: string; then: string }> = {
  write: (id) => ({
    state: 'The write was not acknowledged, so nothing that depended on it ran, and every acknowledged record is intact: the store stays resumable once the cause is fixed.',
    then: `then continue with \`hvroll resume ${id}\``,
  }),
  create: () => ({ state: 'Nothing was created: the campaign has not started, and no host was touched.', then: 'then start the campaign again (hvroll run …)' }),
  read: () => ({ state: 'Nothing was changed on disk.', then: 'then try again' }),
  request: () => ({ state: 'The request was not delivered: the campaign goes on as before.', then: 'then send the request again' }),
};

/**
 * A filesystem failure while the store reads or writes (`doing`: "appending to /s/c1/journal.ndjson"), as a
 * store error an operator can act on. `dir` is the campaign directory; its name is the campaign id.
 */
export function fsFailure(e: unknown, doing: string, dir: string, kind: FsFailureKind = 'write'): HvrollError {
  const code = errnoCode(e) ?? 'unknown';
  const known = FS_FAULTS[code];
  const what = known ? known.what(dir) : `the filesystem holding the state directory ${dir} failed (${code}: ${e instanceof Error ? e.message : String(e)})`;
  const remedy = known ? known.fix(dir) : `fix the filesystem holding ${dir}`;
  const after = AFTER[kind](basename(dir));
  const fix = `${remedy}, ${after.then}`;
  return new HvrollError('store', `${what}, while ${doing}. ${after.state}`, { details: { code, dir, doing, fix }, cause: e });
}
