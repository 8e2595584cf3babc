// Every filesystem call of the store goes through this wrapper, so a full disk, a failed disk or a read-only
// remount (ENOSPC, EDQUOT, EIO, EROFS, …) surfaces as a store error that names the state directory, the file
// and the fix (exit 5) — never as "internal error", whichever write it hit. Other errors (EEXIST, ENOENT,
// ENOTEMPTY: outcomes the store acts on; EACCES: a wrong path the CLI reports) pass through unchanged.

import type { AppendFile, InPlaceFile, StoreFs } from './fs.ts';
import { fsFailure, isFsFault } from './problems.ts';

function guard<T>(call: () => Promise<T>, doing: () => string, dir: string, creating: boolean): Promise<T> {
  const mapped = (e: unknown) => (isFsFault(e) ? fsFailure(e, doing(), dir, creating) : e);
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
  const g = <T>(call: () => Promise<T>, doing: () => string) => guard(call, doing, dir, creating);
  const appendFile = (f: AppendFile, path: string): AppendFile => ({
    append: (data) => g(() => f.append(data), () => `appending ${data.length} bytes to ${path}`),
    datasync: () => g(() => f.datasync(), () => `syncing ${path} to disk`),
    size: () => g(() => f.size(), () => `reading the size of ${path}`),
    truncate: (length) => g(() => f.truncate(length), () => `cutting ${path} back to ${length} bytes`),
    close: () => g(() => f.close(), () => `closing ${path}`),
  });
  const inPlaceFile = (f: InPlaceFile, path: string): InPlaceFile => ({
    writeAt: (data, offset) => g(() => f.writeAt(data, offset), () => `updating ${path}`),
    datasync: () => g(() => f.datasync(), () => `syncing ${path} to disk`),
    close: () => g(() => f.close(), () => `closing ${path}`),
  });
  return {
    readFile: (path) => g(() => fs.readFile(path), () => `reading ${path}`),
    identity: (path) => g(() => fs.identity(path), () => `looking at ${path}`),
    writeNew: (path, data) => g(() => fs.writeNew(path, data), () => `writing ${path} (${data.length} bytes)`),
    openAppend: (path) => g(() => fs.openAppend(path), () => `opening ${path}`).then((f) => appendFile(f, path)),
    openInPlace: (path) => g(() => fs.openInPlace(path), () => `opening ${path}`).then((f) => inPlaceFile(f, path)),
    rename: (from, to) => g(() => fs.rename(from, to), () => `renaming ${from} to ${to}`),
    unlink: (path) => g(() => fs.unlink(path), () => `removing ${path}`),
    mkdir: (path) => g(() => fs.mkdir(path), () => `creating the directory ${path}`),
    readdir: (path) => g(() => fs.readdir(path), () => `listing ${path}`),
    syncDir: (path) => g(() => fs.syncDir(path), () => `syncing the directory ${path} to disk`),
    removeTree: (path) => g(() => fs.removeTree(path), () => `removing ${path}`),
  };
}
