import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/log/logger.ts';

const sink = () => {
  const lines: string[] = [];
  return { lines, stream: { write: (s: string) => void lines.push(s) } };
};

test('--log-file gets every line as well as the console stream, redacted in both', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hvroll-log-'));
  const file = join(dir, 'run.log');
  const out = sink();
  const log = createLogger({ destination: out.stream, file, level: 'debug' });
  log.debug({ token: 'canary-token-1' }, 'one');
  log.child({ group: 'g1' }).warn({ err: { details: { passphrase: 'canary-pass' } } }, 'two');
  const fromFile = readFileSync(file, 'utf8').trim().split('\n');
  t.is(out.lines.length, 2);
  t.deepEqual(fromFile.map((l) => (JSON.parse(l) as { msg: string }).msg), ['one', 'two']);
  t.deepEqual(out.lines.map((l) => (JSON.parse(l) as { msg: string }).msg), ['one', 'two']);
  for (const l of [...out.lines, ...fromFile]) t.false(/canary/.test(l), l);
});

test('under a live view (console off) lines go to the file only; with neither, nothing is written', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hvroll-log-'));
  const file = join(dir, 'run.log');
  const out = sink();
  createLogger({ destination: out.stream, file, console: false }).info('only in the file');
  t.is(out.lines.length, 0);
  t.regex(readFileSync(file, 'utf8'), /only in the file/);
  const quiet = createLogger({ destination: out.stream, console: false });
  quiet.error('nowhere');
  t.is(out.lines.length, 0);
});

test('a --log-file whose directory does not exist is refused, not created', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hvroll-log-'));
  t.throws(() => createLogger({ file: join(dir, 'missing', 'run.log') }), { code: 'ENOENT' });
});
