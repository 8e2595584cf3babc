// The one place errors become messages and exit codes: a path problem is the operator's (exit 2, the path and
// what is wrong, no mention of inventories when it was --state), a bug is exit 1 with no stack unless asked.

import test from 'ava';
import { reportError } from '../../src/cli/report-error.ts';
import { HvrollError } from '../../src/model/errors.ts';

function io(env: Record<string, string> = {}) {
  let err = '';
  return { io: { stdout: { write: () => true }, stderr: { write: (s: string) => (err += s) }, stdoutIsTTY: false, env }, err: () => err };
}

const STACK_FRAME = /^\s+at .+[:(]/m;

test('a path that cannot be used: exit 2, the path, the reason and a fix, no stack', (t) => {
  const o = io();
  const e = Object.assign(new Error("ENOTDIR: not a directory, scandir '/etc/passwd'"), { code: 'ENOTDIR', path: '/etc/passwd', syscall: 'scandir' });
  t.is(reportError(e, o.io), 2);
  t.regex(o.err(), /^error: cannot use \/etc\/passwd: a part of the path is not a directory\n {2}fix: check the path and its permissions/);
  t.false(o.err().includes('inventory files'));
  t.notRegex(o.err(), STACK_FRAME);
});

test('an HvrollError prints its fix; a bug is exit 1 and shows the stack only with HVROLL_DEBUG=1', (t) => {
  const a = io();
  t.is(reportError(new HvrollError('store', 'campaign c1 is locked', { details: { fix: 'hvroll unlock c1' } }), a.io), 5);
  t.is(a.err(), 'error: campaign c1 is locked\n  fix: hvroll unlock c1\n');

  const b = io();
  t.is(reportError(new TypeError('x is undefined'), b.io), 1);
  t.regex(b.err(), /internal error: x is undefined\nthis is a bug in hvroll; run again with HVROLL_DEBUG=1/);
  t.notRegex(b.err(), STACK_FRAME);

  const c = io({ HVROLL_DEBUG: '1' });
  t.is(reportError(new TypeError('x is undefined'), c.io), 1);
  t.regex(c.err(), STACK_FRAME);
});
