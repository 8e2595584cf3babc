// pause / abort / approve on campaigns that can no longer act on them are refused with a reason (instead of
// being queued for a resume that would end at once); a mistyped group gets a suggestion; approving twice
// records nothing new.

import test from 'ava';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProgram } from '../../src/cli/program.ts';
import { CAMPAIGN_KEY } from '../../src/engine/campaign-runner.ts';
import { GROUP_MACHINE_VERSION } from '../../src/machines/group-machine.ts';
import { HvrollError } from '../../src/model/errors.ts';
import { fingerprint } from '../../src/plan-file/fingerprint.ts';
import { toPlanFile } from '../../src/plan-file/plan-file.ts';
import { buildPlan } from '../../src/planner/plan.ts';
import { campaignDir } from '../../src/store/paths.ts';
import { CampaignStore } from '../../src/store/store.ts';
import { host, inventory, vm } from '../planner/fixtures.ts';

async function hvroll(args: string[]): Promise<{ err: string; error: HvrollError | null }> {
  let err = '';
  const io = { stdout: { write: () => true }, stderr: { write: (s: string) => (err += s) }, stdoutIsTTY: false, env: {} };
  try {
    await createProgram(io).parseAsync(args, { from: 'user' });
    return { err, error: null };
  } catch (e) {
    if (e instanceof HvrollError) return { err, error: e };
    throw e;
  }
}

/** A stored campaign (no runner) whose campaign and first group snapshots are in the given states. */
async function campaign(t: { teardown(fn: () => void): void }, campaignState: string | null, groupState: string | null): Promise<{ root: string; group: string; ended: string }> {
  const root = mkdtempSync(join(tmpdir(), 'hvroll-control-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const inv = inventory(
    [host('hv-1', { rack: 'r1' }, 8, 4096), host('hv-2', { rack: 'r2' }, 8, 4096), host('hv-3', { rack: 'r3' }, 8, 4096)],
    [vm('db-1', 'hv-1', 512, 1), vm('db-2', 'hv-2', 512, 1)],
    { sensitivity: [{ class: 'critical', match: {}, order: 'last' as const, approval: true }] },
  );
  const file = toPlanFile(buildPlan(inv), { fingerprint: fingerprint({ inventory: inv, options: {} }), inputs: { inventory: ['<test>'], ansible: null, runbook: null } });
  const approval = file.groups.filter((g) => g.approval);
  const store = await CampaignStore.create(campaignDir(root, 'c1'), { campaignId: 'c1', operator: 'alice', plan: file, planFingerprint: file.fingerprint, machineVersion: GROUP_MACHINE_VERSION });
  if (campaignState) await store.saveGroupSnapshot(CAMPAIGN_KEY, { machineVersion: 'campaign/test', snapshot: { value: campaignState } });
  if (groupState) await store.saveGroupSnapshot(approval[0]!.name, { machineVersion: GROUP_MACHINE_VERSION, snapshot: { value: groupState, context: { error: null } } });
  await store.close();
  return { root, group: approval[1]!.name, ended: approval[0]!.name };
}

for (const state of ['done', 'stopped', 'aborted']) {
  test(`a campaign that ended ${state}: pause, abort and approve are refused and nothing is queued`, async (t) => {
    const { root, group } = await campaign(t, state, null);
    for (const args of [['pause', 'c1'], ['abort', 'c1'], ['approve', 'c1', group]]) {
      const r = await hvroll([...args, '--state', root, '--operator', 'bob']);
      t.is(r.error?.kind, 'usage', args.join(' '));
      t.regex(r.error!.message, new RegExp(`campaign c1 has ended \\(${state}\\): there is nothing to ${args[0]}`));
    }
    t.false(existsSync(join(campaignDir(root, 'c1'), 'control')), 'no request file written');
    const store = await CampaignStore.open(campaignDir(root, 'c1'), { readOnly: true });
    t.deepEqual(store.approvals(), []);
    await store.close();
  });
}

test('approve: a group that already ended is refused; a mistyped one gets a suggestion; a second approval records nothing', async (t) => {
  const { root, group, ended } = await campaign(t, 'running', 'done');
  const late = await hvroll(['approve', 'c1', ended, '--state', root, '--operator', 'bob']);
  t.is(late.error?.kind, 'usage');
  t.regex(late.error!.message, new RegExp(`group ${ended} of campaign c1 has already ended \\(done\\)`));

  const typo = await hvroll(['approve', 'c1', `${group}x`, '--state', root, '--operator', 'bob']);
  t.is(typo.error?.kind, 'usage');
  t.true(typo.error!.message.includes(`did you mean ${group}?`), typo.error!.message);
  t.true(typo.error!.message.includes('groups that need approval:'));

  t.is((await hvroll(['approve', 'c1', group, '--state', root, '--operator', 'bob'])).error, null);
  const again = await hvroll(['approve', 'c1', group, '--state', root, '--operator', 'carol']);
  t.is(again.error, null);
  t.regex(again.err, new RegExp(`already approved by bob at .*; nothing recorded`));
  const store = await CampaignStore.open(campaignDir(root, 'c1'), { readOnly: true });
  t.deepEqual(store.approvals().map((a) => a.operator), ['bob']);
  await store.close();
});

test('a campaign not started yet still takes pause and approvals (they apply when it runs)', async (t) => {
  const { root, group } = await campaign(t, null, null);
  t.is((await hvroll(['pause', 'c1', '--state', root])).error, null);
  t.is((await hvroll(['approve', 'c1', group, '--state', root, '--operator', 'bob'])).error, null);
});
