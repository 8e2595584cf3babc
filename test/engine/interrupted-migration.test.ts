// A live migration cut short in its last phase (the orchestrator killed, the source libvirtd restarted) leaves
// the VM running on the target and a stopped copy defined on the source. The shipped libvirt runbook's
// `leftover` cases recognise that state and remove the source's copy — only the source's, only when the target
// runs the VM, only when no job is left on the source — instead of retrying a migration that can only answer
// "already active". Over real SSH against the in-process hypervisors.
import test, { type ExecutionContext } from 'ava';
import { runCampaign } from '../../src/engine/campaign-runner.ts';
import type { Remnant } from '../helpers/ssh-hypervisor.ts';
import { startRig, type CampaignRig } from './campaign-fixture.ts';

const commandsTo = (rig: CampaignRig, host: string, verb: string) => rig.fleet.host(host).received.filter((c) => c.argv?.[0] === 'virsh' && c.argv[1] === verb).map((c) => c.argv!.join(' '));

/** destroy and undefine commands that reached `host`. */
const removals = (rig: CampaignRig, host: string) => [...commandsTo(rig, host, 'destroy'), ...commandsTo(rig, host, 'undefine')];

/** Two hosts, one VM on hv-1; its migration to hv-2 is cut short, leaving `copy` on hv-1. */
async function oneCutShort(t: ExecutionContext, copy: Omit<Remnant, 'host'>, retries?: Record<string, number>): Promise<CampaignRig> {
  const rig = await startRig({ hosts: 2, vmsPerHost: 1, ...(retries ? { retries } : {}) });
  t.teardown(() => rig.close());
  rig.fleet.model.cutShortNextMigrations(copy);
  return rig;
}

async function journal(rig: CampaignRig, step: string) {
  return Promise.resolve(rig.deps.store.journal({ step }));
}

test('a paused copy left on the source is destroyed and undefined there, and the VM, already running on the target, is not migrated again', async (t) => {
  const rig = await startRig({ hosts: 2, vmsPerHost: 2 });
  t.teardown(() => rig.close());
  rig.fleet.model.cutShortNextMigrations({ state: 'paused', persistent: true });
  const outcome = await runCampaign(rig.deps, { controlPollMs: 50 });
  t.is(outcome.state, 'done', JSON.stringify(outcome));
  const model = rig.fleet.model;
  t.is(model.remnants.size, 0, 'no stopped copy left anywhere');
  t.deepEqual(model.harmed, [], 'no running copy destroyed or undefined');
  t.deepEqual(model.migrations.map((m) => m.vm).sort(), ['vm-0', 'vm-1'], 'each VM migrated once');
  t.true([...model.vms.values()].every((v) => v.host === 'hv-2' && v.state === 'running'));
  const cut = model.migrations[0]!.vm;
  t.deepEqual(commandsTo(rig, 'hv-1', 'destroy'), [`virsh destroy ${cut}`]);
  t.deepEqual(commandsTo(rig, 'hv-1', 'undefine'), [`virsh undefine ${cut}`]);
  t.deepEqual(removals(rig, 'hv-2'), [], 'nothing removed on the target');
  const removed = await journal(rig, 'migrate:leftover');
  t.deepEqual(
    removed.map((e) => [e.host, e.vm, e.argv?.join(' '), e.outcome?.exitCode]),
    [
      ['hv-1', cut, `virsh destroy ${cut}`, 0],
      ['hv-1', cut, `virsh undefine ${cut}`, 0],
    ],
    'journalled before and after, as its own step',
  );
  const looked = await journal(rig, 'migrate:leftover:check');
  t.true(looked.length > 0 && looked.every((e) => e.vm === cut), 'leftovers are looked for only where a migrate command was sent before');
  t.is((await journal(rig, 'migrate')).length, 2, 'two migrate commands: one per VM, none repeated');
});

test('a shut-off copy left on the source is only undefined (a stopped domain is never destroyed)', async (t) => {
  const rig = await oneCutShort(t, { state: 'shut off', persistent: true });
  const outcome = await runCampaign(rig.deps, { controlPollMs: 50 });
  t.is(outcome.state, 'done');
  t.is(rig.fleet.model.remnants.size, 0);
  t.deepEqual(commandsTo(rig, 'hv-1', 'destroy'), []);
  t.deepEqual(commandsTo(rig, 'hv-1', 'undefine'), ['virsh undefine vm-0']);
  t.is(rig.fleet.model.vms.get('vm-0')!.host, 'hv-2');
});

test('a transient paused copy: destroy removes it, the failing undefine is recorded, and the confirm decides', async (t) => {
  const rig = await oneCutShort(t, { state: 'paused', persistent: false });
  const outcome = await runCampaign(rig.deps, { controlPollMs: 50 });
  t.is(outcome.state, 'done');
  t.is(rig.fleet.model.remnants.size, 0);
  const removed = await journal(rig, 'migrate:leftover');
  t.deepEqual(removed.map((e) => [e.argv?.[1], e.outcome?.exitCode]), [
    ['destroy', 0],
    ['undefine', 1],
  ]);
});

test('a paused source copy that libvirt still holds a job on is left alone: the group fails, nothing is destroyed', async (t) => {
  const rig = await oneCutShort(t, { state: 'paused', persistent: true, job: true }, { migrate: 1 });
  const outcome = await runCampaign(rig.deps, { controlPollMs: 50 });
  t.is(outcome.state, 'stopped');
  t.deepEqual(outcome.failed, ['hv-1']);
  t.deepEqual(removals(rig, 'hv-1'), []);
  t.is(rig.fleet.model.remnants.get('vm-0')?.host, 'hv-1', 'the copy is still there for the operator (or libvirt) to settle');
  t.is(rig.fleet.model.vms.get('vm-0')!.state, 'running');
  t.is(rig.hosts.host('hv-1').upgrades, 0, 'the host is not upgraded under a VM copy');
});

test('when the target does not run the VM, the source copy is not touched, whatever its state', async (t) => {
  const rig = await oneCutShort(t, { state: 'paused', persistent: true }, { migrate: 1 });
  // The copy on the target dies right after the cut: the paused source copy is then the only one left.
  const handler = rig.fleet.model.migrate.bind(rig.fleet.model);
  rig.fleet.model.migrate = (vm, from, to) => {
    const r = handler(vm, from, to);
    const v = rig.fleet.model.vms.get(vm);
    if (v && v.host === to) v.state = 'shut off';
    return r;
  };
  const outcome = await runCampaign(rig.deps, { controlPollMs: 50 });
  t.is(outcome.state, 'stopped');
  t.deepEqual([...removals(rig, 'hv-1'), ...removals(rig, 'hv-2')], []);
  t.is(rig.fleet.model.remnants.get('vm-0')?.state, 'paused');
  t.is(rig.hosts.host('hv-1').upgrades, 0);
});
