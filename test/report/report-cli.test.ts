// `hvroll report` as an operator runs it: a plan file in, an HTML file out; every mistake (a path that
// cannot be written, a file that is not a plan) is exit 2 with a fix, no stack trace, and no temp file left.

import test from 'ava';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STACK_FRAME, hvrollCli } from '../helpers/cli.ts';

const hvroll = (args: string[]) => hvrollCli(args);

test('report of a plan file; an unwritable --out and a file that is not a plan are exit 2 with a fix', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hvroll-report-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const plan = join(dir, 'plan.json');
  t.is((await hvroll(['plan', 'inventory/example.yaml', '--out', plan])).code, 0);

  const ok = await hvroll(['report', plan, '--out', join(dir, 'report.html'), '--state', join(dir, 'state')]);
  t.is(ok.code, 0, ok.stderr);
  t.regex(await readFile(join(dir, 'report.html'), 'utf8'), /^<!doctype html>/i);

  const noDir = await hvroll(['report', plan, '--out', join(dir, 'missing', 'report.html')]);
  t.is(noDir.code, 2);
  t.regex(noDir.stderr, /cannot write .*missing.report\.html: its directory does not exist/);
  t.regex(noDir.stderr, /fix: choose an --out file/);
  t.notRegex(noDir.stderr, STACK_FRAME);

  const out = join(dir, 'out');
  await mkdir(out);
  const isDir = await hvroll(['report', plan, '--out', out]);
  t.is(isDir.code, 2);
  t.regex(isDir.stderr, /it is a directory/);
  t.deepEqual((await readdir(dir)).filter((n) => n.includes('.tmp')), [], 'no temp file left next to the target');

  const yaml = await hvroll(['report', 'inventory/example.yaml', '--out', join(dir, 'r2.html')]);
  t.is(yaml.code, 2);
  t.regex(yaml.stderr, /inventory\/example\.yaml .*not JSON/);
  t.regex(yaml.stderr, /fix: pass a file written by `hvroll plan --out/);
  t.notRegex(yaml.stderr, STACK_FRAME);

  const missing = await hvroll(['report', join(dir, 'nope.json'), '--out', join(dir, 'r3.html')]);
  t.is(missing.code, 2);
  t.regex(missing.stderr, /nope\.json cannot read the plan file: no such file/);
});
