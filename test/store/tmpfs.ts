// A small real filesystem that can be filled: a tmpfs mounted for one test (root only; tests that need it are
// skipped with the reason where mounting is not permitted). tmpfs counts file data in 4 KiB pages, so
// `leave(n)` makes the next writes fail with a real ENOSPC after n pages.
import { execFileSync } from 'node:child_process';
import { closeSync, fstatSync, ftruncateSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';

export const PAGE = 4096;

/** Why a tmpfs cannot be mounted here, or null when it can (probed once, with a mount and an unmount). */
export const cannotMount: string | null = (() => {
  const dir = mkdtempSync(join(tmpdir(), 'hvroll-tmpfs-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'pipe' });
    execFileSync('umount', [dir], { stdio: 'pipe' });
    return null;
  } catch (e) {
    const err = e as { stderr?: Buffer; message?: string };
    return (err.stderr?.toString().trim() || err.message || String(e)).split('\n')[0]!;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
})();

export interface Tmpfs {
  dir: string;
  /** Bytes free (what statfs says). */
  free(): number;
  /** Fills the filesystem, then frees exactly `pages` pages: the writes after those fail with ENOSPC. */
  leave(pages: number): void;
  /** Removes the filler: space is back. */
  release(): void;
}

/** Mounts a tmpfs of `size` bytes for this test; unmounted in teardown. */
export function mountTmpfs(t: ExecutionContext, size: number): Tmpfs {
  const dir = mkdtempSync(join(tmpdir(), 'hvroll-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  t.teardown(() => {
    execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    rmSync(dir, { recursive: true, force: true });
  });
  const filler = join(dir, 'filler');
  const free = () => {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  };
  return {
    dir,
    free,
    leave(pages) {
      const fd = openSync(filler, 'a');
      try {
        const chunk = Buffer.alloc(PAGE);
        for (;;) {
          try {
            writeSync(fd, chunk);
          } catch {
            break; // ENOSPC: full
          }
        }
        const size = fstatSync(fd).size;
        ftruncateSync(fd, Math.max(0, Math.ceil(size / PAGE) * PAGE - pages * PAGE));
      } finally {
        closeSync(fd);
      }
    },
    release() {
      rmSync(filler, { force: true });
    },
  };
}
