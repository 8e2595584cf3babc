import test from 'ava';
import { runCampaign } from '../../src/engine/campaign-runner.ts';
import { startRig } from './campaign-fixture.ts';

test('a full campaign over real SSH: every host disabled, drained, upgraded, rebooted once, verified and re-enabled; VMs where the plan put them', async (t) => {
  const rig = await startRig();
  t.teardown(() => rig.close());
  const outcome = await runCampaign(rig.deps, { controlPollMs: 50 });
  t.is(outcome.state, 'done');
  t.deepEqual(outcome.failed, []);
  for (const [name, s] of rig.hosts.state) {
    t.is(s.version, '2.0', name);
    t.is(s.upgrades, 1, `${name} upgraded once`);
    t.is(s.reboots, 1, `${name} rebooted once`);
    t.false(s.marker, `${name} back in the pool`);
  }
  const finalHost = new Map<string, string>();
  for (const g of rig.deps.plan.groups) for (const m of g.moves) finalHost.set(m.vm, m.to);
  for (const [vmName, vm] of rig.fleet.model.vms) t.is(vm.host, finalHost.get(vmName) ?? 'never moved', vmName);
  t.is(rig.fleet.model.migrations.length, rig.deps.plan.summary.migrations);
  const journal = rig.deps.store.journal();
  t.true(journal.length > 0);
  t.deepEqual(rig.deps.store.openIntents(), []);
});

test('a VM name full of shell syntax is passed as one argument and never executed', async (t) => {
  const hostile = "x'; touch /tmp/pwned; '";
  const rig = await startRig({ hosts: 2, vmsPerHost: 1, vmName: () => hostile });
  t.teardown(() => rig.close());
  const outcome = await runCampaign(rig.deps, { controlPollMs: 50 });
  t.is(outcome.state, 'done');
  t.is(rig.fleet.model.vms.get(hostile)!.host, 'hv-2');
  const migrate = rig.fleet.allReceived().find((r) => r.argv?.[1] === 'migrate')!;
  t.is(migrate.argv![6], hostile);
});
