// The one durable atomic write: the new content replaces the old whole, through a synced temp file renamed
// over the target and a synced directory; a failure leaves the old file and no temp file.
import test from 'ava';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeDurableFs, writeFileDurable, type DurableFs } from '../../src/io/durable-write.ts';
import { writeOutputFile } from '../../src/io/output-file.ts';
import { HvrollError } from '../../src/model/errors.ts';

const fresh = () => mkdtempSync(join(tmpdir(), 'hvroll-io-'));

test('replaces the file whole, with the mode asked for, and leaves nothing else in the directory', async (t) => {
  const dir = fresh();
  const path = join(dir, 'plan.json');
  writeFileSync(path, 'old');
  await writeFileDurable(path, 'new content', { mode: 0o640 });
  t.is(readFileSync(path, 'utf8'), 'new content');
  t.is(statSync(path).mode & 0o777, 0o640);
  t.deepEqual(readdirSync(dir), ['plan.json']);
});

test('writes a temp file, syncs it, renames it over the target, then syncs the directory — in that order', async (t) => {
  const dir = fresh();
  const calls: string[] = [];
  const fs: DurableFs = {
    writeNew: async (p, d, m) => (calls.push(`writeNew ${p === join(dir, 'f') ? 'target' : 'temp'}`), nodeDurableFs.writeNew(p, d, m)),
    rename: async (a, b) => (calls.push('rename'), nodeDurableFs.rename(a, b)),
    unlink: async (p) => (calls.push('unlink'), nodeDurableFs.unlink(p)),
    syncDir: async (p) => (calls.push(`syncDir ${p === dir ? 'dir' : p}`), nodeDurableFs.syncDir(p)),
  };
  await writeFileDurable(join(dir, 'f'), 'x', { fs });
  t.deepEqual(calls, ['writeNew temp', 'rename', 'syncDir dir']);
});

test('a failed rename keeps the old file and removes the temp file', async (t) => {
  const dir = fresh();
  const path = join(dir, 'target');
  mkdirSync(path); // a directory: rename(2) of a file over it fails
  writeFileSync(join(path, 'keep'), 'old');
  await t.throwsAsync(writeFileDurable(path, 'new'));
  t.deepEqual(readdirSync(dir), ['target']);
  t.is(readFileSync(join(path, 'keep'), 'utf8'), 'old');
});

test('a directory that cannot be synced fails a required write, not a best-effort one', async (t) => {
  const dir = fresh();
  const fs: DurableFs = { ...nodeDurableFs, syncDir: () => Promise.reject(Object.assign(new Error('EINVAL'), { code: 'EINVAL' })) };
  await t.throwsAsync(writeFileDurable(join(dir, 'a'), 'x', { fs }), { message: 'EINVAL' });
  await t.notThrowsAsync(writeFileDurable(join(dir, 'b'), 'x', { fs, dirSync: 'best-effort' }));
  t.is(readFileSync(join(dir, 'b'), 'utf8'), 'x');
});

test('an --out file in a directory that does not exist is a usage error with a fix, and leaves no temp file', async (t) => {
  const dir = fresh();
  const err = await t.throwsAsync(writeOutputFile(join(dir, 'missing', 'report.html'), '<html>'));
  t.true(err instanceof HvrollError);
  t.is((err as HvrollError).kind, 'usage');
  t.regex(err!.message, /cannot write .*report\.html: its directory does not exist/);
  t.deepEqual(readdirSync(dir), []);
});
