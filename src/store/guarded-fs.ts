// The store's filesystem calls go through this wrapper, so a full disk, a failed disk or a read-only remount
// (ENOSPC, EDQUOT, EIO, EROFS, …) surfaces as a store error that names the state directory, the file and the
// fix (exit 5) — never as "internal error", whichever write it hit. Other errors (EEXIST, ENOENT, ENOTEMPTY:
// outcomes the store acts on; EACCES: a wrong path the CLI reports) pass through unchanged.
//
// Not wrapped: the calls made on every checkpoint — the open journal's and marker's methods, and the lock's
// stat — where a promise per call doubled the store's CPU per checkpoint. The adapter maps their failures
// itself (adapter.ts: `doing`, `run`), with `mapFsFault`.

import type { StoreFs } from './fs.ts';
import { fsFailure, isFsFault, type FsFailureKind } from './problems.ts';

/** A store error for a filesystem fault (see above); any other error unchanged. */
export function mapFsFault(e: unknown, doing: string, dir: string, kind: FsFailureKind = 'write'): unknown {
  return isFsFault(e) ? fsFailure(e, doing, dir, kind) : e;
}

function guard<T>(call: () => Promise<T>, doing: () => string, dir: string, kind: FsFailureKind): Promise<T> {
  const mapped = (e: unknown) => (isFsFault(e) ? fsFailure(e, doing(), dir, kind) : e);
  try {
    return call().catch((e: unknown) => {
      throw mapped(e);
    });
  } catch (e) {
    return Promise.reject(mapped(e));
  }
}

/** `dir`: the campaign directory (its name is the campaign id the fix names); `creating`: building a new store. */
export function guardedFs(fs: StoreFs, dir: string, creating = false): StoreFs {
  const g = <T>(call: () => Promise<T>, doing: () => string, read = false) => guard(call, doing, dir, creating ? 'create' : read ? 'read' : 'write');
  return {
    readFile: (path) => g(() => fs.readFile(path), () => `reading ${path}`, true),
    identity: (path) => fs.identity(path), // per checkpoint: mapped by the adapter
    writeNew: (path, data) => g(() => fs.writeNew(path, data), () => `writing ${path} (${data.length} bytes)`),
    openAppend: (path) => g(() => fs.openAppend(path), () => `opening ${path}`),
    openInPlace: (path) => g(() => fs.openInPlace(path), () => `opening ${path}`),
    rename: (from, to) => g(() => fs.rename(from, to), () => `renaming ${from} to ${to}`),
    unlink: (path) => g(() => fs.unlink(path), () => `removing ${path}`),
    mkdir: (path) => g(() => fs.mkdir(path), () => `creating the directory ${path}`),
    readdir: (path) => g(() => fs.readdir(path), () => `listing ${path}`, true),
    syncDir: (path) => g(() => fs.syncDir(path), () => `syncing the directory ${path} to disk`),
    removeTree: (path) => g(() => fs.removeTree(path), () => `removing ${path}`),
  };
}
