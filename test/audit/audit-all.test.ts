// `hvroll audit --all`: the state root's refused attempts (audit.ndjson) and every campaign's audit trail in
// one time-ordered list. A refused run (no campaign yet) and a refused resume whose store could not take it
// (a stale lock) are in the state file; a campaign store that cannot be read is named, and the exit code says
// the audit is incomplete.

import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEntry } from '../../src/audit/trail.ts';
import type { PlanFile } from '../../src/model/plan.ts';
import { cli, startCliRig, type CliRig } from '../engine/cli-rig.ts';

let rig: CliRig;
test.before(async () => {
  rig = await startCliRig(3, 1);
});
test.after.always(async () => {
  await rig?.stop();
});

type Entry = AuditEntry & { campaign: string | null };

test.serial('refused run, killed run, refused resume (stale lock), unlock and resume: audit --all lists them all, in time order, each with its campaign', async (t) => {
  t.timeout(300_000);
  const state = mkdtempSync(join(rig.dir, 'all-'));
  const plan = JSON.parse(readFileSync(rig.plan, 'utf8')) as PlanFile;
  plan.settings.concurrency.groups = 3;
  const edited = join(rig.dir, 'edited.json');
  writeFileSync(edited, JSON.stringify(plan));
  t.is((await cli(['run', '--plan', edited, '--set', 'version=2.0', '--state', state, '--campaign', 'c0', '--operator', 'mallory', ...rig.sshFlags])).code, 4);
  const killed = await cli(['run', '--plan', rig.plan, '--set', 'version=2.0', '--state', state, '--campaign', 'c1', '--operator', 'alice', ...rig.sshFlags], { HVROLL_CRASH_AT: 'snapshot:6' });
  t.is(killed.signal, 'SIGKILL', killed.stderr);
  const locked = await cli(['resume', 'c1', '--state', state, '--operator', 'bob', ...rig.sshFlags]);
  t.is(locked.code, 5, locked.stderr);
  t.regex(locked.stderr, /stale lock/);
  t.is((await cli(['unlock', 'c1', '--state', state, '--operator', 'carol'])).code, 0);
  const resumed = await cli(['resume', 'c1', '--state', state, '--operator', 'carol', ...rig.sshFlags]);
  t.is(resumed.code, 0, resumed.stderr);

  const r = await cli(['audit', '--all', '--state', state, '--json']);
  t.is(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { campaigns: string[]; entries: Entry[]; problems: string[] };
  t.deepEqual(doc.campaigns, ['c1']);
  t.deepEqual(doc.problems, []);
  const actions = doc.entries.filter((e) => e.kind === 'action' && e.action !== 'campaign-created').map((e) => `${e.campaign ?? '-'}:${e.action}:${e.operator}`);
  t.deepEqual(actions, ['-:run-refused:mallory', 'c1:run:alice', 'c1:resume-refused:bob', 'c1:lock-broken:carol', 'c1:resume:carol']);
  const refusedResume = doc.entries.find((e) => e.action === 'resume-refused')!;
  t.regex(refusedResume.what, /^campaign c1: store: cannot open the campaign for writing: stale lock/);
  t.true(doc.entries.some((e) => e.kind === 'command' && e.campaign === 'c1' && e.operator === 'alice'), "the campaign's commands are there");
  const times = doc.entries.map((e) => e.at);
  t.deepEqual(times, [...times].sort(), 'oldest first');

  const text = await cli(['audit', '--all', '--state', state]);
  t.is(text.code, 0, text.stderr);
  t.regex(text.stdout, /-\s+mallory\s+ACTION\s+run-refused\s+plan .*edited\.json: stale-plan: stale or altered plan/);
  t.regex(text.stdout, /c1\s+bob\s+ACTION\s+resume-refused\s+campaign c1: store: .* -> refused/);
  t.regex(text.stdout, /c1\s+carol\s+ACTION\s+resume\b/);
});

test.serial('a campaign store that cannot be read is named, the rest is shown, and the exit code is 5', async (t) => {
  const state = mkdtempSync(join(rig.dir, 'all-damaged-'));
  mkdirSync(join(state, 'broken'));
  writeFileSync(join(state, 'broken', 'campaign.json'), 'not a store');
  writeFileSync(join(state, 'audit.ndjson'), `${JSON.stringify({ at: '2026-01-01T00:00:00.000Z', operator: 'eve', action: 'run-refused', details: { plan: '/p.json', kind: 'stale-plan', message: 'x', result: 'refused' } })}\n{"at": cut sho`);
  const r = await cli(['audit', '--all', '--state', state, '--json']);
  t.is(r.code, 5, r.stderr);
  const doc = JSON.parse(r.stdout) as { entries: Entry[]; problems: string[] };
  t.is(doc.entries.length, 1);
  t.like(doc.entries[0], { operator: 'eve', action: 'run-refused' });
  t.is(doc.problems.length, 2);
  t.regex(doc.problems.join('\n'), /audit\.ndjson: the last line is cut short/);
  t.regex(doc.problems.join('\n'), /campaign broken: its audit trail cannot be read: .*campaign\.json/);
  t.regex(r.stderr, /the audit is incomplete: 2 part\(s\) could not be read/);
});

test.serial('audit needs a campaign or --all, not both', async (t) => {
  const none = await cli(['audit', '--state', rig.dir]);
  t.is(none.code, 2);
  t.regex(none.stderr, /which campaign\? give its id \(see hvroll list\), or --all/);
  const both = await cli(['audit', 'c1', '--all', '--state', rig.dir]);
  t.is(both.code, 2);
  t.regex(both.stderr, /give a campaign id or --all, not both/);
});
