// VMs of a `shutdown` non-migratable policy stay on their host: they are shut down gracefully after the drain
// (before the upgrade and the reboot that would kill them) and started again once the host is verified and
// back in the pool. Only VMs this campaign shut down are started.
import test from 'ava';
import { runCampaign } from '../../src/engine/campaign-runner.ts';
import { shutDownVms, startVms } from '../../src/engine/steps/power-cycle.ts';
import type { Inventory } from '../../src/model/inventory.ts';
import { host, inventory, vm } from '../planner/fixtures.ts';
import { startRig, type RigOptions } from './campaign-fixture.ts';

/** hv-1 holds vm-0 and the non-migratable gpu-1 (and `extra`), hv-2 holds vm-1, hv-3 is a spare. */
function fleet(extra: Inventory['vms'] = []): Inventory {
  const hosts = ['hv-1', 'hv-2', 'hv-3'].map((h) => host(h, { rack: 'r1' }, 8, 4096));
  const vms = [vm('vm-0', 'hv-1', 512, 1), vm('gpu-1', 'hv-1', 512, 1, {}, false), vm('vm-1', 'hv-2', 512, 1), ...extra];
  return inventory(hosts, vms, { nonMigratable: { policy: 'shutdown' }, concurrency: { groups: 1, migrations: 2, migrationsPerHost: 2 } });
}

async function rigFor(inv: Inventory, o: RigOptions = {}) {
  const rig = await startRig({ from: inv, ...o });
  return rig;
}

const ids = async (rig: Awaited<ReturnType<typeof rigFor>>, step: string, match: (e: { host: string; vm?: string }) => boolean) =>
  (await rig.deps.store.journal({ step })).filter(match).map((e) => e.id);

test('a shutdown-policy VM is shut down after the drain, before the upgrade and reboot, and started after the rejoin', async (t) => {
  const rig = await rigFor(fleet());
  t.teardown(() => rig.close());
  t.deepEqual(rig.deps.plan.groups.find((g) => g.name === 'hv-1')!.nonMigratable, [{ vm: 'gpu-1', host: 'hv-1', policy: 'shutdown' }]);
  const outcome = await runCampaign(rig.deps, { controlPollMs: 50 });
  t.is(outcome.state, 'done');
  const model = rig.fleet.model;
  t.deepEqual(model.harmed, [], 'the reboot killed no guest');
  t.is(model.vms.get('gpu-1')!.host, 'hv-1');
  t.is(model.vms.get('gpu-1')!.state, 'running');
  t.deepEqual(model.powerChanges, ['hv-1 shutdown gpu-1', 'hv-1 start gpu-1']);
  const [shutdown] = await ids(rig, 'shutdown', (e) => e.vm === 'gpu-1');
  const [migrated] = await ids(rig, 'migrate', (e) => e.vm === 'vm-0');
  const [upgrade] = await ids(rig, 'upgrade', (e) => e.host === 'hv-1');
  const [enable] = await ids(rig, 'enable', (e) => e.host === 'hv-1');
  const [start] = await ids(rig, 'start', (e) => e.vm === 'gpu-1');
  t.true(migrated! < shutdown! && shutdown! < upgrade! && enable! < start!, `order: migrate ${migrated}, shutdown ${shutdown}, upgrade ${upgrade}, enable ${enable}, start ${start}`);
  t.true((await rig.deps.store.journal({ step: 'start:confirm' })).some((e) => e.vm === 'gpu-1' && e.outcome?.exitCode === 0), 'confirmed running');
});

test('a guest that takes its time to shut down is waited for (the confirm is read again), within the step timeout', async (t) => {
  const rig = await rigFor(fleet());
  t.teardown(() => rig.close());
  rig.fleet.model.slowShutdowns(3);
  const outcome = await runCampaign(rig.deps, { controlPollMs: 50 });
  t.is(outcome.state, 'done');
  t.deepEqual(rig.fleet.model.harmed, []);
  t.true((await rig.deps.store.journal({ step: 'shutdown:confirm' })).length >= 3);
  t.is(rig.fleet.model.vms.get('gpu-1')!.state, 'running');
});

test('a VM that was already off before the campaign is left off: never shut down, never started', async (t) => {
  const rig = await rigFor(fleet([vm('gpu-2', 'hv-1', 512, 1, {}, false)]));
  t.teardown(() => rig.close());
  rig.fleet.model.vms.get('gpu-2')!.state = 'shut off';
  const outcome = await runCampaign(rig.deps, { controlPollMs: 50 });
  t.is(outcome.state, 'done');
  t.is(rig.fleet.model.vms.get('gpu-2')!.state, 'shut off');
  t.false(rig.fleet.model.powerChanges.some((c) => c.endsWith(' gpu-2')));
  t.is(rig.fleet.model.vms.get('gpu-1')!.state, 'running');
});

test('a guest that ignores the shutdown fails the group at the step timeout; the rollback re-enables the host and starts again the VM it had shut down', async (t) => {
  const rig = await rigFor(fleet([vm('gpu-2', 'hv-1', 512, 1, {}, false)]), { timeouts: { shutdown: 1 } });
  t.teardown(() => rig.close());
  rig.fleet.model.ignoresShutdown.add('gpu-2');
  const outcome = await runCampaign(rig.deps, { controlPollMs: 50 });
  t.true(outcome.failed.includes('hv-1'));
  t.false(rig.hosts.host('hv-1').marker, 'hv-1 back in the pool');
  t.is(rig.hosts.host('hv-1').upgrades, 0);
  t.is(rig.hosts.host('hv-1').reboots, 0);
  t.is(rig.fleet.model.vms.get('gpu-1')!.state, 'running', 'started again by the rollback');
  t.is(rig.fleet.model.vms.get('gpu-2')!.state, 'running');
  t.deepEqual(rig.fleet.model.harmed, []);
  const error = (rig.deps.store.groupSnapshot('hv-1')!.snapshot as { context: { error: { message: string; retryable: boolean } } }).context.error;
  t.regex(error.message, /shutdown of VM gpu-2 on hv-1 did not take within 1 s: shut off on hv-1/);
  t.false(error.retryable);
});

test('a runbook without shutdown and start steps stops a group holding such VMs before anything moves', async (t) => {
  const rig = await rigFor(fleet());
  t.teardown(() => rig.close());
  delete rig.deps.runbook.steps.shutdown;
  const outcome = await runCampaign(rig.deps, { controlPollMs: 50 });
  t.true(outcome.failed.includes('hv-1'));
  t.false(rig.fleet.model.migrations.some((m) => m.from === 'hv-1'));
  t.deepEqual(rig.fleet.model.harmed, []);
  const error = (rig.deps.store.groupSnapshot('hv-1')!.snapshot as { context: { error: { message: string } } }).context.error;
  t.regex(error.message, /group hv-1 holds VM\(s\) to shut down for the upgrade \(non-migratable policy shutdown: gpu-1\), but .*libvirt\.yaml has no steps\.shutdown: nothing would stop them before the reboot/);
});

test('shutdown and start are reconciles: run twice, each command is sent once', async (t) => {
  const rig = await rigFor(fleet());
  t.teardown(() => rig.close());
  const g = rig.deps.plan.groups.find((x) => x.name === 'hv-1')!;
  const signal = new AbortController().signal;
  await startVms(rig.deps, g, signal);
  t.deepEqual(rig.fleet.model.powerChanges, [], 'nothing to start before this campaign shut anything down');
  await shutDownVms(rig.deps, g, signal);
  await shutDownVms(rig.deps, g, signal);
  await startVms(rig.deps, g, signal);
  await startVms(rig.deps, g, signal);
  t.deepEqual(rig.fleet.model.powerChanges, ['hv-1 shutdown gpu-1', 'hv-1 start gpu-1']);
  const sent = rig.fleet.host('hv-1').received.filter((c) => c.argv?.[0] === 'virsh' && (c.argv[1] === 'shutdown' || c.argv[1] === 'start'));
  t.deepEqual(sent.map((c) => c.argv!.join(' ')), ['virsh shutdown gpu-1', 'virsh start gpu-1']);
});
