// A filesystem in memory that models what survives a power loss: file contents reach the disk only through
// fsync/fdatasync, directory entries (create, rename, unlink) only through an fsync of their directory.
// `crash()` throws away everything not yet made durable — except that each file keeps a random prefix of its
// unsynced appends, as a disk that wrote back part of the page cache would (torn tails), and a file rewritten
// in place keeps, per 512-byte sector, either its old or its new bytes (torn in-place writes).
// `fault` injects errno failures (EIO, ENOSPC, …) into chosen calls, optionally after writing part of the data.
import type { AppendFile, InPlaceFile, StoreFs } from '../../src/store/fs.ts';

interface Inode {
  durable: Buffer;
  current: Buffer;
}

interface Dir {
  durable: Map<string, Inode>;
  current: Map<string, Inode>;
}

const split = (path: string): [string, string] => {
  const i = path.lastIndexOf('/');
  return [path.slice(0, i) || '/', path.slice(i + 1)];
};

function enoent(path: string): Error {
  return Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
}

export type FsCall = 'append' | 'datasync' | 'writeAt' | 'writeNew' | 'rename' | 'syncDir' | 'truncate' | 'readFile' | 'mkdir' | 'openAppend' | 'openInPlace';

/** An injected failure: the errno code, and for append/writeNew how many bytes land before it. */
export interface FsFault {
  code: string;
  partial?: number;
}

export function errnoError(code: string, call: string, path: string): Error {
  return Object.assign(new Error(`${code}: injected failure of ${call} ${path}`), { code, syscall: call, path });
}

const SECTOR = 512;

export class CrashableFs implements StoreFs {
  private readonly dirs = new Map<string, Dir>();
  /** Inode numbers: a file created anew (writeNew) gets a new one; rename keeps it. */
  private readonly inos = new WeakMap<Inode, number>();
  private nextIno = 1;
  crashes = 0;
  /** Asked before each call; a fault returned makes that call fail (after writing `partial` bytes). */
  fault: ((call: FsCall, path: string) => FsFault | undefined) | null = null;

  constructor(private readonly random: () => number) {}

  private check(call: FsCall, path: string): FsFault | undefined {
    return this.fault?.(call, path);
  }

  private dir(path: string, create = false): Dir | undefined {
    let d = this.dirs.get(path);
    if (!d && create) this.dirs.set(path, (d = { durable: new Map(), current: new Map() }));
    return d;
  }

  private inode(path: string): Inode | undefined {
    const [dir, name] = split(path);
    return this.dir(dir)?.current.get(name);
  }

  /** Power loss: unsynced directory entries vanish; each file keeps its durable bytes plus a random prefix of the rest. */
  crash(): void {
    this.crashes++;
    const inodes = new Set<Inode>();
    for (const d of this.dirs.values()) {
      for (const i of [...d.current.values(), ...d.durable.values()]) inodes.add(i);
      d.current = new Map(d.durable);
    }
    for (const i of inodes) {
      if (i.current.length === i.durable.length && !i.current.equals(i.durable)) {
        // Rewritten in place: each sector is either written back or not.
        const mixed = Buffer.from(i.durable);
        for (let at = 0; at < mixed.length; at += SECTOR) if (this.random() < 0.5) i.current.copy(mixed, at, at, Math.min(at + SECTOR, mixed.length));
        i.current = mixed;
        i.durable = Buffer.from(mixed);
        continue;
      }
      const extra = i.current.length > i.durable.length && i.current.subarray(0, i.durable.length).equals(i.durable) ? Math.floor(this.random() * (i.current.length - i.durable.length + 1)) : 0;
      i.current = Buffer.from(i.current.subarray(0, i.durable.length + extra));
      i.durable = Buffer.from(i.current);
    }
  }

  async readFile(path: string): Promise<Uint8Array | null> {
    const f = this.check('readFile', path);
    if (f) throw errnoError(f.code, 'read', path);
    const i = this.inode(path);
    return i ? Buffer.from(i.current) : null;
  }

  async identity(path: string) {
    const i = this.inode(path);
    if (!i) return null;
    let ino = this.inos.get(i);
    if (ino === undefined) this.inos.set(i, (ino = this.nextIno++));
    // Contents only change by append/truncate (size) or by a new file (inode): that identifies a version here.
    return { ino, size: i.current.length, mtimeMs: 0, ctimeMs: 0 };
  }

  async writeNew(path: string, data: Uint8Array): Promise<void> {
    await new Promise<void>((r) => setImmediate(r));
    const [dir, name] = split(path);
    const d = this.dir(dir);
    if (!d) throw enoent(path);
    if (d.current.has(name)) throw Object.assign(new Error(`EEXIST: ${path}`), { code: 'EEXIST' });
    const f = this.check('writeNew', path);
    if (f) {
      if (f.partial === undefined) throw errnoError(f.code, 'open', path);
      // Created, part written, then the failure: what the caller must clean up.
      const part = Buffer.from(data.subarray(0, f.partial));
      d.current.set(name, { durable: Buffer.alloc(0), current: part });
      throw errnoError(f.code, 'write', path);
    }
    const bytes = Buffer.from(data);
    d.current.set(name, { durable: bytes, current: Buffer.from(bytes) }); // written and fsynced; the entry is not
  }

  async openAppend(path: string): Promise<AppendFile> {
    const f = this.check('openAppend', path);
    if (f) throw errnoError(f.code, 'open', path);
    const i = this.inode(path);
    if (!i) throw enoent(path);
    // Each write and sync takes an event-loop turn, like real I/O, so a crash can land between them.
    const io = () => new Promise<void>((r) => setImmediate(r));
    return {
      append: async (data) => {
        await io();
        const fault = this.check('append', path);
        if (fault) {
          i.current = Buffer.concat([i.current, Buffer.from(data.subarray(0, fault.partial ?? 0))]);
          throw errnoError(fault.code, 'write', path);
        }
        i.current = Buffer.concat([i.current, Buffer.from(data)]);
      },
      datasync: async () => {
        await io();
        const fault = this.check('datasync', path);
        if (fault) throw errnoError(fault.code, 'fdatasync', path);
        i.durable = Buffer.from(i.current);
      },
      size: async () => i.current.length,
      truncate: async (length) => {
        const fault = this.check('truncate', path);
        if (fault) throw errnoError(fault.code, 'ftruncate', path);
        i.current = Buffer.from(i.current.subarray(0, length));
        i.durable = Buffer.from(i.current);
      },
      close: async () => undefined,
    };
  }

  async openInPlace(path: string): Promise<InPlaceFile> {
    const f = this.check('openInPlace', path);
    if (f) throw errnoError(f.code, 'open', path);
    const i = this.inode(path);
    if (!i) throw enoent(path);
    const io = () => new Promise<void>((r) => setImmediate(r));
    return {
      writeAt: async (data, offset) => {
        await io();
        const fault = this.check('writeAt', path);
        const n = fault ? (fault.partial ?? 0) : data.length;
        const next = Buffer.alloc(Math.max(i.current.length, offset + n));
        i.current.copy(next);
        Buffer.from(data.subarray(0, n)).copy(next, offset);
        i.current = next;
        if (fault) throw errnoError(fault.code, 'pwrite', path);
      },
      datasync: async () => {
        await io();
        const fault = this.check('datasync', path);
        if (fault) throw errnoError(fault.code, 'fdatasync', path);
        i.durable = Buffer.from(i.current);
      },
      close: async () => undefined,
    };
  }

  async rename(from: string, to: string): Promise<void> {
    const fault = this.check('rename', to);
    if (fault) throw errnoError(fault.code, 'rename', to);
    const [fd, fn] = split(from);
    const [td, tn] = split(to);
    const src = this.dir(fd);
    const dirNode = this.dirs.get(from);
    if (dirNode) {
      // Directories: the store renames a finished temp directory into place (then fsyncs the parent).
      this.dirs.set(to, dirNode);
      this.dirs.delete(from);
      for (const [p, d] of [...this.dirs]) {
        if (p.startsWith(`${from}/`)) {
          this.dirs.set(`${to}${p.slice(from.length)}`, d);
          this.dirs.delete(p);
        }
      }
      return;
    }
    const i = src?.current.get(fn);
    if (!src || !i) throw enoent(from);
    src.current.delete(fn);
    this.dir(td, true)!.current.set(tn, i);
  }

  async unlink(path: string): Promise<void> {
    const [dir, name] = split(path);
    this.dir(dir)?.current.delete(name);
  }

  async mkdir(path: string): Promise<void> {
    const fault = this.check('mkdir', path);
    if (fault) throw errnoError(fault.code, 'mkdir', path);
    // Simplification: directories themselves are durable at once (the store never relies on a new empty one).
    let p = '';
    for (const part of path.split('/').filter(Boolean)) {
      p += `/${part}`;
      this.dir(p, true);
    }
  }

  async readdir(path: string): Promise<string[] | null> {
    const d = this.dir(path);
    if (!d) return null;
    const subdirs = [...this.dirs.keys()].filter((p) => split(p)[0] === path && p !== path).map((p) => split(p)[1]);
    return [...new Set([...d.current.keys(), ...subdirs])];
  }

  async syncDir(path: string): Promise<void> {
    const fault = this.check('syncDir', path);
    if (fault) throw errnoError(fault.code, 'fsync', path);
    const d = this.dir(path);
    if (d) d.durable = new Map(d.current);
  }

  async removeTree(path: string): Promise<void> {
    for (const p of [...this.dirs.keys()]) if (p === path || p.startsWith(`${path}/`)) this.dirs.delete(p);
  }
}
