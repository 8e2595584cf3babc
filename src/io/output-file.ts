// A file an operator asked for (`--out`: a report, a refreshed VM list), written whole or not at all, durably
// (io/durable-write.ts): one being opened is never half written. A path that cannot be written is an operator
// mistake with a fix; the temp file never stays behind.

import { HvrollError } from '../model/errors.ts';
import { writeFileDurable } from './durable-write.ts';

const REASONS: Record<string, string> = {
  ENOENT: 'its directory does not exist',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ENOSPC: 'no space left on the device',
  EROFS: 'the file system is read-only',
};

export async function writeOutputFile(path: string, text: string): Promise<void> {
  try {
    await writeFileDurable(path, text, { mode: 0o644, dirSync: 'best-effort' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new HvrollError('usage', `cannot write ${path}: ${REASONS[code] ?? code ?? String(err)}`, {
      cause: err,
      details: { path, fix: 'choose an --out file in an existing directory you can write to' },
    });
  }
}
