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
  const journal = await rig.deps.store.journal();
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
  t.is(migrate.argv![7], hostile);
  t.is(migrate.argv!.length, 9, 'the name is one argument: nothing split it');
});

test('the example inventory (12 hosts, 79 VMs, canary, critical class with approvals) runs to the end over SSH', async (t) => {
  t.timeout(180_000);
  const { loadInventory } = await import('../../src/inventory/load.ts');
  const { writeControlRequest } = await import('../../src/engine/control.ts');
  const { inventory } = await loadInventory(['inventory/example.yaml']);
  const rig = await startRig({ from: inventory });
  t.teardown(() => rig.close());
  const approvals: string[] = [];
  const outcome = await runCampaign(rig.deps, {
    controlPollMs: 20,
    listener: (e) => {
      if (e.type !== 'group.awaiting-approval') return;
      approvals.push(e.group);
      void writeControlRequest(rig.dir, { action: 'approve', operator: 'dba-on-call', group: e.group, at: new Date().toISOString() });
    },
  });
  t.is(outcome.state, 'done');
  t.deepEqual(outcome.failed, []);
  t.true(approvals.length > 0, 'the critical class asked for approval');
  t.is(rig.fleet.model.migrations.length, rig.deps.plan.summary.migrations);
  t.is(rig.fleet.model.vms.size, inventory.vms.length);
  for (const s of rig.hosts.state.values()) {
    t.is(s.upgrades, 1);
    t.is(s.reboots, 1);
    t.false(s.marker);
  }
  // The order of the campaign is the plan's: canary groups finish before any critical group starts.
  const started = (await rig.deps.store.journal()).map((e) => e.group);
  const firstCritical = started.findIndex((g) => rig.deps.plan.groups.find((x) => x.name === g)?.tier === 'last');
  const lastCanary = started.map((g, i) => (rig.deps.plan.groups.find((x) => x.name === g)?.tier === 'first' ? i : -1)).reduce((a, b) => Math.max(a, b), -1);
  t.true(lastCanary < firstCritical);
});
