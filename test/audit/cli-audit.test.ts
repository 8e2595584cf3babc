// The audit trail as an operator gets it: `hvroll run` (alice) killed mid-campaign, `hvroll unlock` (bob),
// `hvroll resume` (carol), then `hvroll audit` and `hvroll report` through the CLI: every action with who did
// it, every remote command with the operator of the process that sent it, its host and its result.

import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEntry } from '../../src/audit/trail.ts';
import { cli, startCliRig, type CliRig } from '../engine/cli-rig.ts';

let rig: CliRig;
test.before(async () => {
  rig = await startCliRig(3, 1);
});
test.after.always(async () => {
  await rig?.stop();
});

test.serial('run, break-lock and resume by three operators: hvroll audit and the report say who did what, where, with what result', async (t) => {
  t.timeout(300_000);
  const state = mkdtempSync(join(rig.dir, 'audit-'));
  const killed = await cli(['run', '--plan', rig.plan, '--set', 'version=2.0', '--state', state, '--campaign', 'c1', '--operator', 'alice', ...rig.sshFlags], { HVROLL_CRASH_AT: 'snapshot:6' });
  t.is(killed.signal, 'SIGKILL', killed.stderr);
  t.is((await cli(['unlock', 'c1', '--state', state, '--operator', 'bob'])).code, 0);
  const resumed = await cli(['resume', 'c1', '--state', state, '--operator', 'carol', ...rig.sshFlags]);
  t.is(resumed.code, 0, resumed.stderr);

  const r = await cli(['audit', 'c1', '--state', state, '--json']);
  t.is(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { startedBy: string; entries: AuditEntry[] };
  t.is(doc.startedBy, 'alice');
  const actions = doc.entries.filter((e) => e.kind === 'action').map((e) => `${e.action}:${e.operator}`);
  t.deepEqual(actions.filter((a) => !a.startsWith('campaign-created')), ['run:alice', 'lock-broken:bob', 'resume:carol']);
  const commands = doc.entries.filter((e) => e.kind === 'command');
  const operators = new Set(commands.map((c) => c.operator));
  t.deepEqual([...operators].sort(), ['alice', 'carol'], 'each command carries the operator of the run that sent it');
  t.true(commands.every((c) => c.host !== null && c.what.length > 0 && /^exit \d+$|^error: |^no outcome/.test(c.result)));
  const firstCarol = commands.findIndex((c) => c.operator === 'carol');
  t.true(firstCarol > 0 && commands.slice(firstCarol).every((c) => c.operator === 'carol'), 'after the resume, only carol');
  t.true(commands.some((c) => c.action === 'migrate' && c.vm !== null && c.result === 'exit 0'));
  const times = doc.entries.map((e) => e.at);
  t.deepEqual(times, [...times].sort(), 'oldest first');

  const text = await cli(['audit', 'c1', '--state', state]);
  t.regex(text.stdout, /bob\s+ACTION\s+lock-broken/);
  t.regex(text.stdout, /carol\s+ACTION\s+resume/);

  const html = join(state, 'report.html');
  const rep = await cli(['report', 'c1', '--state', state, '--out', html]);
  t.is(rep.code, 0, rep.stderr);
  const page = readFileSync(html, 'utf8');
  for (const who of ['alice', 'bob', 'carol']) t.true(page.includes(who), `${who} in the report`);
  t.true(page.includes('lock-broken'));
});
