// The failure budget stops the campaign exactly when it is exceeded, not when it is reached; a host that
// cannot be reached counts as a failed group.
import test from 'ava';
import { runCampaign } from '../../src/engine/campaign-runner.ts';
import { startRig } from './campaign-fixture.ts';

const oneAtATime = { concurrency: { groups: 1, migrations: 2, migrationsPerHost: 1 } };

test('budget 1: the first failed group is tolerated, the second stops the campaign before the next group starts', async (t) => {
  const rig = await startRig({ hosts: 4, vmsPerHost: 1, patch: { ...oneAtATime, failureBudget: 1 } });
  t.teardown(() => rig.close());
  // VMs the plan does not know fail hv-1's and hv-2's groups before anything moves.
  rig.fleet.model.addVm({ name: 'stranger-1', host: 'hv-1', vcpus: 1, memoryMiB: 128 });
  rig.fleet.model.addVm({ name: 'stranger-2', host: 'hv-2', vcpus: 1, memoryMiB: 128 });
  const order = rig.deps.plan.waves.map((w) => w.groups.join(','));
  t.deepEqual(order, ['hv-4', 'hv-1', 'hv-2', 'hv-3']);
  const outcome = await runCampaign(rig.deps, { controlPollMs: 20 });
  t.is(outcome.state, 'stopped');
  t.deepEqual(outcome.failed, ['hv-1', 'hv-2']);
  t.is(rig.hosts.host('hv-3').upgrades, 0, 'hv-3 never started');
  t.is(rig.deps.store.groupSnapshot('hv-3'), undefined);
});

test('budget 1 with one failed group: the campaign runs to its end', async (t) => {
  const rig = await startRig({ hosts: 4, vmsPerHost: 1, patch: { ...oneAtATime, failureBudget: 1 } });
  t.teardown(() => rig.close());
  rig.fleet.model.addVm({ name: 'stranger-1', host: 'hv-1', vcpus: 1, memoryMiB: 128 });
  const outcome = await runCampaign(rig.deps, { controlPollMs: 20 });
  t.is(outcome.state, 'done');
  t.deepEqual(outcome.failed, ['hv-1']);
  t.is(rig.hosts.host('hv-3').upgrades, 1);
});

test('an unreachable host fails its group (after the runbook retries) and counts against the budget', async (t) => {
  const rig = await startRig({ hosts: 3, vmsPerHost: 1, patch: oneAtATime, retries: { disable: 1 } });
  t.teardown(() => rig.close());
  await rig.fleet.host('hv-1').stop();
  const outcome = await runCampaign(rig.deps, { controlPollMs: 20 });
  t.is(outcome.state, 'stopped', 'budget 0');
  t.deepEqual(outcome.failed, ['hv-1']);
  t.is(rig.hosts.host('hv-2').upgrades, 0, 'nothing after the failed group');
});
