// The failure budget stops the campaign exactly when it is exceeded, not when it is reached; a host that
// cannot be reached counts as a failed group.
import test from 'ava';
import { runCampaign } from '../../src/engine/campaign-runner.ts';
import { startRig } from './campaign-fixture.ts';

const oneAtATime = { concurrency: { groups: 1, migrations: 2, migrationsPerHost: 1 } };

test('budget 1: the first failed group is tolerated, the second stops the campaign before the next group starts', async (t) => {
  // Two groups at once: hv-1 and hv-2 both move their VM to the spare hv-5 and start together, neither
  // waiting for the other; both fail, which exceeds the budget.
  const rig = await startRig({ hosts: 5, vmsPerHost: 1, patch: { concurrency: { groups: 2, migrations: 2, migrationsPerHost: 1 }, failureBudget: 1 } });
  t.teardown(() => rig.close());
  // VMs the plan does not know fail hv-1's and hv-2's groups before anything moves.
  rig.fleet.model.addVm({ name: 'stranger-1', host: 'hv-1', vcpus: 1, memoryMiB: 128 });
  rig.fleet.model.addVm({ name: 'stranger-2', host: 'hv-2', vcpus: 1, memoryMiB: 128 });
  const order = rig.deps.plan.waves.map((w) => w.groups.join(','));
  t.deepEqual(order.slice(0, 2), ['hv-5', 'hv-1,hv-2']);
  t.deepEqual(rig.deps.plan.groups.find((g) => g.name === 'hv-2')!.after, ['hv-5']);
  const outcome = await runCampaign(rig.deps, { controlPollMs: 20 });
  t.is(outcome.state, 'stopped');
  t.deepEqual([...outcome.failed].sort(), ['hv-1', 'hv-2'], 'they ran at the same time: either may fail first');
  for (const h of ['hv-3', 'hv-4']) {
    t.is(rig.hosts.host(h).upgrades, 0, `${h} never started`);
    t.is(rig.deps.store.groupSnapshot(h), undefined);
  }
});

test('budget 1 with one failed group that no other group waits for: the campaign runs to its end', async (t) => {
  const rig = await startRig({ hosts: 4, vmsPerHost: 1, patch: { ...oneAtATime, failureBudget: 1 } });
  t.teardown(() => rig.close());
  t.deepEqual(rig.deps.plan.groups.map((g) => g.name), ['hv-4', 'hv-1', 'hv-2', 'hv-3']);
  t.false(rig.deps.plan.groups.some((g) => g.after.includes('hv-3')), 'hv-3 is last: nobody depends on it');
  rig.fleet.model.addVm({ name: 'stranger-3', host: 'hv-3', vcpus: 1, memoryMiB: 128 });
  const outcome = await runCampaign(rig.deps, { controlPollMs: 20 });
  t.is(outcome.state, 'done');
  t.deepEqual(outcome.failed, ['hv-3']);
  t.deepEqual(outcome.blocked, []);
  t.is(rig.hosts.host('hv-1').upgrades, 1);
  t.is(rig.hosts.host('hv-2').upgrades, 1);
});

test('budget 1: a group whose dependency failed never starts (its VMs were to go to hosts that are not upgraded and emptied); the campaign stops and names it', async (t) => {
  const rig = await startRig({ hosts: 4, vmsPerHost: 1, patch: { ...oneAtATime, failureBudget: 1 } });
  t.teardown(() => rig.close());
  const hv2 = rig.deps.plan.groups.find((g) => g.name === 'hv-2')!;
  t.true(hv2.after.includes('hv-1'), 'the plan moves hv-2\'s VM to hv-1 once hv-1 is upgraded');
  rig.fleet.model.addVm({ name: 'stranger-1', host: 'hv-1', vcpus: 1, memoryMiB: 128 });
  const outcome = await runCampaign(rig.deps, { controlPollMs: 20 });
  t.is(outcome.state, 'stopped');
  t.deepEqual(outcome.failed, ['hv-1']);
  const blocked = outcome.blocked.find((b) => b.group === 'hv-2');
  t.truthy(blocked, JSON.stringify(outcome.blocked));
  t.regex(blocked!.why, /hv-1/);
  t.is(rig.hosts.host('hv-2').upgrades, 0, 'hv-2 never started');
  t.is(rig.deps.store.groupSnapshot('hv-2'), undefined);
  t.is(rig.fleet.model.vms.get(hv2.moves[0]!.vm)?.host, 'hv-2', 'its VM did not move onto the failed host');
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
