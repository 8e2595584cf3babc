// The few filesystem calls the store makes, behind an interface so a test can inject a filesystem that
// loses unsynced data on a simulated crash (or fails with EIO). Everything durable goes through
// append+datasync, writeAt+datasync (the durability marker, rewritten in place) or writeNew (fsync) +
// rename + syncDir.
//
// The calls made on every checkpoint besides the fdatasync — stat of the lock, fstat of the journal, and the
// append of a few hundred bytes to the page cache — are synchronous: each takes microseconds, where a trip
// through libuv's thread pool costs 25–50 µs and dominated a simulated campaign. fdatasync, whole-file
// writes and renames stay asynchronous. (On a hung network filesystem this blocks the event loop instead of
// only the store — the store waits for its writes before any step acts anyway.)

import { constants, fstatSync, statSync, writeSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { nodeDurableFs } from '../io/durable-write.ts';

/** A file opened for appending (O_APPEND: every write lands at the current end, even after truncation). */
export interface AppendFile {
  append(data: Uint8Array): Promise<void>;
  /** fdatasync: the appended bytes survive power loss once this resolves. */
  datasync(): Promise<void>;
  /** Current size of the open file (fstat), to notice bytes another process appended. */
  size(): Promise<number>;
  /** Cut the file to `length` bytes and fsync (only used to drop a torn tail). */
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

/** A small file rewritten in place at fixed offsets (pwrite): the durability marker (marker.ts). */
export interface InPlaceFile {
  /** pwrite(2) of `data` at `offset`; the file keeps its size when the range is inside it. */
  writeAt(data: Uint8Array, offset: number): Promise<void>;
  /** fdatasync: the written bytes survive power loss once this resolves. */
  datasync(): Promise<void>;
  close(): Promise<void>;
}

/** What identifies one version of a file: a replaced (renamed over) or rewritten file changes at least one field. */
export interface FileIdentity {
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

export interface StoreFs {
  /** Whole file, or null when it does not exist. */
  readFile(path: string): Promise<Uint8Array | null>;
  /** stat(2) of a path, or null when it does not exist (one cheap call: the lock check before every append). */
  identity(path: string): Promise<FileIdentity | null>;
  /**
   * Creates a new file with this content and fsyncs it; fails with code EEXIST if it exists (O_EXCL). A write
   * or sync that fails (ENOSPC, EIO) removes the file it created: no half-written file is left behind.
   */
  writeNew(path: string, data: Uint8Array): Promise<void>;
  openAppend(path: string): Promise<AppendFile>;
  /** Opens an existing file for in-place writes (no create, no truncate, no O_APPEND). */
  openInPlace(path: string): Promise<InPlaceFile>;
  /** rename(2): atomic replace of a file, or of an empty directory by a directory. */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file; a missing file is not an error. */
  unlink(path: string): Promise<void>;
  mkdir(path: string): Promise<void>;
  /** Names in a directory, or null when it does not exist. */
  readdir(path: string): Promise<string[] | null>;
  /** fsync of a directory, so a rename or a new file in it is durable. */
  syncDir(path: string): Promise<void>;
  /** Removes a directory tree (only our own half-built temp directories). */
  removeTree(path: string): Promise<void>;
}

function isCode(e: unknown, code: string): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === code;
}

export const nodeFs: StoreFs = {
  async readFile(path) {
    try {
      return await fsp.readFile(path);
    } catch (e) {
      if (isCode(e, 'ENOENT')) return null;
      throw e;
    }
  },
  async identity(path) {
    const st = statSync(path, { throwIfNoEntry: false });
    return st === undefined ? null : { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
  },
  writeNew: (path, data) => nodeDurableFs.writeNew(path, data, 0o600),
  async openAppend(path) {
    // No O_CREAT: the journal is created only by `create` or by a rotation; a missing one is an error.
    const fh = await fsp.open(path, constants.O_WRONLY | constants.O_APPEND);
    return {
      async append(data) {
        let off = 0;
        while (off < data.length) off += writeSync(fh.fd, data, off, data.length - off);
      },
      datasync: () => fh.datasync(),
      size: async () => fstatSync(fh.fd).size,
      async truncate(length) {
        await fh.truncate(length);
        await fh.sync();
      },
      close: () => fh.close(),
    };
  },
  async openInPlace(path) {
    const fh = await fsp.open(path, constants.O_WRONLY);
    return {
      // Synchronous like append: a few hundred bytes into the page cache.
      async writeAt(data, offset) {
        let off = 0;
        while (off < data.length) off += writeSync(fh.fd, data, off, data.length - off, offset + off);
      },
      datasync: () => fh.datasync(),
      close: () => fh.close(),
    };
  },
  rename: nodeDurableFs.rename,
  unlink: nodeDurableFs.unlink,
  async mkdir(path) {
    await fsp.mkdir(path, { recursive: true, mode: 0o700 });
  },
  async readdir(path) {
    try {
      return await fsp.readdir(path);
    } catch (e) {
      if (isCode(e, 'ENOENT')) return null;
      throw e;
    }
  },
  syncDir: nodeDurableFs.syncDir,
  removeTree: (path) => fsp.rm(path, { recursive: true, force: true }),
};

export { isCode };
