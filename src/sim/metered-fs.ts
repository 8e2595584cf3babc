// The store's filesystem, metered: bytes written and time spent in appends, syncs and snapshot writes, so
// the report can say what a checkpoint costs. Not durable (`durable: false`) skips the fsyncs: for a
// throwaway store in a temp directory that no one will ever resume after a power loss, the sync is
// pure cost. Everything else (format, atomic renames, compaction) is the real store's.

import { constants } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { nodeFs, type StoreFs } from '../store/fs.ts';

export interface FsMeter {
  bytes: number;
  /** Journal records appended (one line each). */
  records: number;
  appends: number;
  /** Wall ms spent in append, datasync and whole-file writes. */
  ms: number;
  /** The part of `ms` spent in appends, their datasyncs and the durability marker's update (the per-checkpoint cost; the rest is compaction). */
  appendMs: number;
}

function countLines(data: Uint8Array): number {
  let n = 0;
  let i = -1;
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  while ((i = b.indexOf(10, i + 1)) !== -1) n++;
  return n;
}

export function meteredFs(durable: boolean): { fs: StoreFs; meter: FsMeter } {
  const meter: FsMeter = { bytes: 0, records: 0, appends: 0, ms: 0, appendMs: 0 };
  const timed = async <T>(work: () => Promise<T>, append = false): Promise<T> => {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      const dt = performance.now() - t0;
      meter.ms += dt;
      if (append) meter.appendMs += dt;
    }
  };
  const fs: StoreFs = {
    ...nodeFs,
    writeNew: (path, data) =>
      timed(async () => {
        meter.bytes += data.length;
        if (durable) return nodeFs.writeNew(path, data);
        const fh = await fsp.open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
        try {
          await fh.writeFile(data);
        } finally {
          await fh.close();
        }
      }),
    async openAppend(path) {
      const f = await nodeFs.openAppend(path);
      return {
        ...f,
        append: (data) =>
          timed(() => {
            meter.bytes += data.length;
            meter.records += countLines(data);
            meter.appends++;
            return f.append(data);
          }, true),
        datasync: () => (durable ? timed(() => f.datasync(), true) : Promise.resolve()),
      };
    },
    async openInPlace(path) {
      const f = await nodeFs.openInPlace(path);
      return {
        ...f,
        writeAt: (data, offset) => timed(() => f.writeAt(data, offset), true),
        datasync: () => (durable ? timed(() => f.datasync(), true) : Promise.resolve()),
      };
    },
    syncDir: (path) => (durable ? nodeFs.syncDir(path) : Promise.resolve()),
  };
  return { fs, meter };
}
