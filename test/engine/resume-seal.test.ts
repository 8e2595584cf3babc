// `resume` runs the plan `run` sealed. A plan changed inside the campaign store — edited and re-checksummed,
// so the store itself reads it fine — is refused with exit 4 naming the file, before any SSH command, and the
// refusal is in the campaign's audit trail. So is a refused resume for a changed runbook. The intact store
// then resumes and finishes.

import test from 'ava';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEntry } from '../../src/audit/trail.ts';
import type { PlanFile } from '../../src/model/plan.ts';
import { canonicalJson } from '../../src/plan-file/canonical-json.ts';
import { decodeSealed, encodeSealed } from '../../src/store/sealed-file.ts';
import { STACK_FRAME } from '../helpers/cli.ts';
import { cli, startCliRig, type CliRig } from './cli-rig.ts';

let rig: CliRig;
test.before(async () => {
  rig = await startCliRig(3, 1);
});
test.after.always(async () => {
  await rig?.stop();
});

/** A campaign killed mid-way (at a step boundary) and unlocked, ready to resume. */
async function interrupted(t: import('ava').ExecutionContext): Promise<{ state: string; dir: string }> {
  rig.reset();
  const state = mkdtempSync(join(rig.dir, 'seal-'));
  const run = await cli(['run', '--plan', rig.plan, '--set', 'version=2.0', '--state', state, '--campaign', 'c1', '--operator', 'alice', ...rig.sshFlags], { HVROLL_CRASH_AT: 'snapshot:6' });
  t.is(run.signal, 'SIGKILL', run.stderr);
  t.is((await cli(['unlock', 'c1', '--state', state])).code, 0);
  return { state, dir: join(state, 'c1') };
}

/** Rewrites a sealed store file with new data and a valid checksum: a deliberate edit, not disk damage. */
function rewriteSealed(file: string, kind: 'hvroll-plan' | 'hvroll-campaign', edit: (data: Record<string, unknown>) => string): void {
  const doc = decodeSealed(readFileSync(file), file, kind);
  writeFileSync(file, encodeSealed(kind, {}, edit(doc.data as Record<string, unknown>)));
}

async function resumeRefused(t: import('ava').ExecutionContext, state: string, message: RegExp): Promise<void> {
  const before = rig.fleet.allReceived().length;
  const r = await cli(['resume', 'c1', '--state', state, '--operator', 'carol', ...rig.sshFlags]);
  t.is(r.code, 4, r.stderr);
  t.regex(r.stderr, message);
  t.notRegex(r.stderr, STACK_FRAME);
  t.is(rig.fleet.allReceived().length, before, 'no SSH command sent');
  const audit = await cli(['audit', 'c1', '--state', state, '--json']);
  const refusals = (JSON.parse(audit.stdout) as { entries: AuditEntry[] }).entries.filter((e) => e.action === 'resume-refused');
  t.is(refusals.length, 1, 'the refusal is in the campaign audit trail');
  t.like(refusals[0], { operator: 'carol', result: 'refused' });
  t.regex(refusals[0]!.what, /^campaign c1: stale-plan: /);
}

async function resumesToTheEnd(t: import('ava').ExecutionContext, state: string): Promise<void> {
  const r = await cli(['resume', 'c1', '--state', state, '--operator', 'carol', ...rig.sshFlags]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /campaign c1 done/);
}

test.serial('plan.json edited inside the store (canonical JSON, valid checksum): resume refuses with exit 4 naming the file, audited; restored, it resumes', async (t) => {
  t.timeout(240_000);
  const { state, dir } = await interrupted(t);
  const file = join(dir, 'plan.json');
  const original = readFileSync(file);
  rewriteSealed(file, 'hvroll-plan', (plan) => {
    (plan as unknown as PlanFile).settings.concurrency.groups = 8;
    return canonicalJson(plan);
  });
  await resumeRefused(t, state, new RegExp(`stale or altered plan: ${file.replace(/[.]/g, '\\.')} changed since campaign c1 started: its seal is now sha256:[0-9a-f]{64}`));
  writeFileSync(file, original);
  await resumesToTheEnd(t, state);
});

test.serial('plan.json re-serialised with other whitespace inside the store is the same plan: resume goes on', async (t) => {
  t.timeout(240_000);
  const { state, dir } = await interrupted(t);
  rewriteSealed(join(dir, 'plan.json'), 'hvroll-plan', (plan) => JSON.stringify(plan, null, 1));
  await resumesToTheEnd(t, state);
});

test.serial('plan.json and the seal in campaign.json both rewritten: the run record still holds the seal, so resume refuses', async (t) => {
  t.timeout(240_000);
  const { state, dir } = await interrupted(t);
  rewriteSealed(join(dir, 'plan.json'), 'hvroll-plan', (plan) => {
    (plan as unknown as PlanFile).settings.failureBudget = 99;
    return canonicalJson(plan);
  });
  rewriteSealed(join(dir, 'campaign.json'), 'hvroll-campaign', (meta) => JSON.stringify({ ...meta, planSeal: `sha256:${'0'.repeat(64)}` }));
  await resumeRefused(t, state, /the plan seal in .*campaign\.json \(sha256:0{64}\) is not the one in the run record of campaign c1/);
});

test.serial('a runbook changed since the campaign started: resume refuses, and the refusal is in the campaign audit trail', async (t) => {
  t.timeout(240_000);
  const { state } = await interrupted(t);
  const runbook = join(rig.dir, 'changed-runbook.yaml');
  cpSync('runbooks/libvirt.yaml', runbook);
  writeFileSync(runbook, `${readFileSync(runbook, 'utf8')}\n# changed\n`);
  const before = rig.fleet.allReceived().length;
  const r = await cli(['resume', 'c1', '--state', state, '--operator', 'carol', '--runbook', runbook, ...rig.sshFlags]);
  t.is(r.code, 4, r.stderr);
  t.regex(r.stderr, /the runbook .* changed since campaign c1 started/);
  t.is(rig.fleet.allReceived().length, before, 'no SSH command sent');
  const audit = await cli(['audit', 'c1', '--state', state]);
  t.regex(audit.stdout, /carol\s+ACTION\s+resume-refused\s+campaign c1: stale-plan: the runbook .* changed since campaign c1 started.* -> refused/);
});

test.serial('an unset env: webhook variable on resume: refused before any SSH command, in the campaign audit trail, and no resume recorded', async (t) => {
  t.timeout(240_000);
  const { state } = await interrupted(t);
  const notify = join(rig.dir, 'notify-unset.yaml');
  writeFileSync(notify, 'notifications:\n  - { name: ops, type: slack, url: env:HVROLL_TEST_UNSET_RESUME_HOOK }\n');
  const before = rig.fleet.allReceived().length;
  const r = await cli(['resume', 'c1', '--state', state, '--operator', 'carol', '--notify', notify, ...rig.sshFlags]);
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, /HVROLL_TEST_UNSET_RESUME_HOOK is not set/);
  t.is(rig.fleet.allReceived().length, before, 'no SSH command sent');
  const audit = JSON.parse((await cli(['audit', 'c1', '--state', state, '--json'])).stdout) as { entries: AuditEntry[] };
  const carol = audit.entries.filter((e) => e.operator === 'carol').map((e) => e.action);
  t.deepEqual(carol, ['resume-refused']);
});

test.serial('a run that dies right after creating its store, before its run record (a full disk refuses that write, kill -9): resume finds how it started in campaign.json and finishes', async (t) => {
  rig.reset();
  const state = mkdtempSync(join(rig.dir, 'created-'));
  const before = rig.fleet.allReceived().length;
  const run = await cli(['run', '--plan', rig.plan, '--set', 'version=2.0', '--state', state, '--campaign', 'c1', '--operator', 'alice', ...rig.sshFlags], { HVROLL_CRASH_AT: 'created:1' });
  t.is(run.signal, 'SIGKILL', run.stderr);
  t.is(rig.fleet.allReceived().length, before, 'no host was contacted');
  t.is((await cli(['unlock', 'c1', '--state', state])).code, 0);
  await resumesToTheEnd(t, state);
});
