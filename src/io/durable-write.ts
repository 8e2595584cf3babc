// The one way hvroll replaces a file: a new temp file next to it (O_EXCL), written and fsynced, renamed over
// the target, then the directory fsynced so the rename itself survives a power loss. A crash leaves the old
// file or the new one, never half of one, and a failed write leaves no temp file behind. The campaign store
// passes its own filesystem (tests inject one that loses unsynced data or fails with EIO) and temp names.

import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** The filesystem calls a durable write makes (the campaign store's StoreFs has them too). */
export interface DurableFs {
  /** Creates a new file with this content and fsyncs it; EEXIST if it exists. A failed write removes the file. */
  writeNew(path: string, data: Uint8Array, mode?: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Removes a file; a missing file is not an error. */
  unlink(path: string): Promise<void>;
  /** fsync of a directory, so a rename or a new file in it is durable. */
  syncDir(path: string): Promise<void>;
}

const isCode = (e: unknown, code: string) => typeof e === 'object' && e !== null && (e as { code?: unknown }).code === code;

export const nodeDurableFs: DurableFs = {
  async writeNew(path, data, mode = 0o600) {
    const fh = await fsp.open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } catch (e) {
      // Created here (O_EXCL), so it is ours to remove: a partial temp file must not outlive the write.
      await fh.close().catch(() => undefined);
      await fsp.unlink(path).catch(() => undefined);
      throw e;
    }
    await fh.close();
  },
  rename: (from, to) => fsp.rename(from, to),
  async unlink(path) {
    try {
      await fsp.unlink(path);
    } catch (e) {
      if (!isCode(e, 'ENOENT')) throw e;
    }
  },
  async syncDir(path) {
    const fh = await fsp.open(path, constants.O_RDONLY);
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
};

export interface DurableWriteOptions {
  fs?: DurableFs;
  /** Permissions of a new file (default 0600). */
  mode?: number;
  /** The temp file's path (default: a hidden name next to `path`, `.name.<pid>.<random>.tmp`). */
  temp?: string;
  /**
   * `required` (default): a directory that cannot be synced fails the write. `best-effort`: the data is
   * already synced; a platform that cannot fsync a directory is not an error (files an operator asked for).
   */
  dirSync?: 'required' | 'best-effort';
}

export function hiddenTempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Replaces (or creates) `path` with `data`, durably and atomically (see the top of this file). */
export async function writeFileDurable(path: string, data: string | Uint8Array, o: DurableWriteOptions = {}): Promise<void> {
  const fs = o.fs ?? nodeDurableFs;
  const tmp = o.temp ?? hiddenTempName(path);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  try {
    await fs.writeNew(tmp, bytes, o.mode);
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.unlink(tmp).catch(() => undefined);
    throw e;
  }
  await syncDirectory(dirname(path), o);
}

/** fsync of `dir`; with `best-effort`, a platform that cannot is not an error. */
export async function syncDirectory(dir: string, o: Pick<DurableWriteOptions, 'fs' | 'dirSync'> = {}): Promise<void> {
  try {
    await (o.fs ?? nodeDurableFs).syncDir(dir);
  } catch (e) {
    if (o.dirSync !== 'best-effort') throw e;
  }
}
