// The state root's audit file: one fsynced NDJSON line per refused attempt, appended by concurrent processes
// without mixing lines, read back in order; an append cut short by a crash is reported, not taken for an event.

import test from 'ava';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendStateAudit, readStateAudit, refusalEvent } from '../../src/audit/state-audit.ts';
import { HvrollError, InputError } from '../../src/model/errors.ts';

test('a refusal event carries who, when, what was refused, the error kind and message (an input error with its issues)', (t) => {
  t.deepEqual(refusalEvent('2026-01-01T00:00:00.000Z', 'alice', 'run-refused', { plan: '/p.json' }, new HvrollError('stale-plan', 'stale or altered plan: x')), {
    at: '2026-01-01T00:00:00.000Z',
    operator: 'alice',
    action: 'run-refused',
    details: { plan: '/p.json', kind: 'stale-plan', message: 'stale or altered plan: x', result: 'refused' },
  });
  const input = refusalEvent('t', 'bob', 'resume-refused', { campaign: 'c1' }, new InputError([{ file: 'inv.yaml', path: 'hosts[0]', message: 'bad', fix: 'fix it' }]));
  t.like(input.details, { campaign: 'c1', kind: 'invalid-input' });
  t.regex((input.details as { message: string }).message, /1 problem in the input: inv\.yaml hosts\[0\]: bad fix: fix it/);
  t.like(refusalEvent('t', 'c', 'run-refused', { plan: 'p' }, new Error('boom')).details, { kind: 'internal', message: 'boom' });
});

test('appends create the state root and the file, and read back in order; concurrent appends never mix lines', async (t) => {
  const root = join(mkdtempSync(join(tmpdir(), 'hvroll-state-audit-')), 'not-yet');
  t.deepEqual((await readStateAudit(root)).events, [], 'no file: no events');
  const events = Array.from({ length: 40 }, (_, i) => refusalEvent(`2026-01-01T00:00:${String(i).padStart(2, '0')}.000Z`, `op${i}`, 'run-refused', { plan: `/p${i}.json` }, new HvrollError('usage', 'x'.repeat(2000))));
  await Promise.all(events.map((e) => appendStateAudit(root, e)));
  const read = await readStateAudit(root);
  t.deepEqual(read.problems, []);
  t.is(read.events.length, 40);
  // Concurrent appends land in any order; each exactly once, whole.
  t.deepEqual(read.events.map((e) => e.operator).sort(), events.map((e) => e.operator).sort());
  t.is(readFileSync(read.file, 'utf8').split('\n').length, 41);
});

test('a line cut short by a crash and a line that is not an event are reported, the rest is read', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'hvroll-state-audit-'));
  await appendStateAudit(root, refusalEvent('2026-01-01T00:00:00.000Z', 'alice', 'run-refused', { plan: '/p.json' }, new HvrollError('usage', 'x')));
  appendFileSync(join(root, 'audit.ndjson'), 'garbage\n{"at":"2026-01-01T00:00:01.000Z","oper');
  const read = await readStateAudit(root);
  t.is(read.events.length, 1);
  t.is(read.problems.length, 2);
  t.regex(read.problems[0]!, /the last line is cut short/);
  t.regex(read.problems[1]!, /line 2: not an audit event/);
});
