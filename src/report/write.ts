// Writes a file whole or not at all (temp + rename), so a report being opened is never half written. A path
// that cannot be written is an operator mistake with a fix; the temp file never stays behind.

import { randomBytes } from 'node:crypto';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { HvrollError } from '../model/errors.ts';

const REASONS: Record<string, string> = {
  ENOENT: 'its directory does not exist',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ENOSPC: 'no space left on the device',
  EROFS: 'the file system is read-only',
};

export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, text, { encoding: 'utf8', flag: 'wx' });
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new HvrollError('usage', `cannot write ${path}: ${REASONS[code] ?? code ?? String(err)}`, {
      cause: err,
      details: { path, fix: 'choose an --out file in an existing directory you can write to' },
    });
  }
}
