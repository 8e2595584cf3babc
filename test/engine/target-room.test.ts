// Right before a group drains, its targets' real load is read again: a VM placed on a target since the plan
// was made (a tenant, the platform's scheduler) can leave no room for what the plan sends there.
import test from 'ava';
import { runCampaign } from '../../src/engine/campaign-runner.ts';
import { checkTargetRoom, describeShortage, overflow, whileDraining, type TargetLoad } from '../../src/engine/target-room.ts';
import { HvrollError } from '../../src/model/errors.ts';
import { CLEAR_MARKER_SCRIPT } from '../../src/sim/libvirt-commands.ts';
import type { PlannedGroup } from '../../src/model/plan.ts';
import type { CommandHandler } from '../helpers/ssh-fleet.ts';
import { host, inventory, vm } from '../planner/fixtures.ts';
import { startRig, type CampaignRig } from './campaign-fixture.ts';

// startRig({ hosts: 3, vmsPerHost: 2 }): hv-3 is a spare (4096 MiB, 8 vCPUs, overcommit 1); the groups hv-1 and
// hv-2 run side by side, each sending two 512 MiB / 1 vCPU VMs to hv-3.
const GiB = 1024;

function group(rig: CampaignRig, name: string): PlannedGroup {
  return rig.deps.plan.groups.find((g) => g.name === name)!;
}

/** The enable step's command: removes this campaign's maintenance marker (runbooks/libvirt.yaml). */
const isEnable = (words: string[]) => words[0] === 'sh' && words[2] === CLEAR_MARKER_SCRIPT;

/** Calls `fn` on the first command `host` receives that `matches`. */
function onFirst(rig: CampaignRig, host: string, matches: (words: string[]) => boolean, fn: () => void): void {
  const fleet = rig.fleet as unknown as { handler: CommandHandler };
  const inner = fleet.handler;
  let fired = false;
  fleet.handler = async (h, words, ctx) => {
    if (!fired && h === host && matches(words)) {
      fired = true;
      fn();
    }
    return inner(h, words, ctx);
  };
}

function memoryOn(rig: CampaignRig, host: string): number {
  return rig.fleet.model.vmsOn(host).reduce((n, v) => n + v.memoryMiB, 0);
}

test('a VM placed on the target mid-campaign leaves no room: the groups stop before anything migrates, hosts re-enabled, with the numbers and the fix', async (t) => {
  const rig = await startRig({ hosts: 3, vmsPerHost: 2 });
  t.teardown(() => rig.close());
  t.deepEqual(group(rig, 'hv-1').moves.map((m) => m.to), ['hv-3', 'hv-3']);
  // The spare's group has just put it back in the pool when a tenant's VM lands there.
  onFirst(rig, 'hv-3', isEnable, () => rig.fleet.model.addVm({ name: 'tenant-1', host: 'hv-3', vcpus: 2, memoryMiB: 3.5 * GiB }));
  const outcome = await runCampaign(rig.deps, { controlPollMs: 50 });
  t.deepEqual([...outcome.failed].sort(), ['hv-1', 'hv-2']);
  t.deepEqual(rig.fleet.model.migrations, [], 'nothing migrated');
  t.true(memoryOn(rig, 'hv-3') <= 4 * GiB);
  for (const h of ['hv-1', 'hv-2']) {
    t.false(rig.hosts.host(h).marker, `${h} re-enabled`);
    t.is(rig.hosts.host(h).upgrades, 0);
    const snap = rig.deps.store.groupSnapshot(h)!.snapshot as { context: { attempts: Record<string, number>; error: { message: string; retryable: boolean; details: { targets: { host: string; capacity: unknown; used: unknown }[] } } } };
    const { error } = snap.context;
    t.false(error.retryable);
    t.is(snap.context.attempts.draining ?? 0, 0, 'not retried: the fleet will not shrink by itself');
    t.regex(error.message, new RegExp(`group ${h}: no room left on target\\(s\\) hv-3`));
    t.regex(error.message, /hv-3: capacity 4096 MiB \/ 8 vCPUs \(8 × cpuOvercommit 1\); used now 3584 MiB \/ 2 vCPUs by 1 VM\(s\), 1 of them unknown to the plan \(tenant-1\); incoming \d+ MiB/);
    t.regex(error.message, /Nothing was migrated from this group\. Re-plan the groups not yet started: .*hvroll discover.*hvroll plan/);
    t.deepEqual(error.details.targets.map((x) => [x.host, x.capacity, x.used]), [['hv-3', { memoryMiB: 4096, vcpus: 8 }, { memoryMiB: 3584, vcpus: 2 }]]);
  }
  t.true((await rig.deps.store.journal({ step: 'discover:inspect' })).every((e) => e.vm === 'tenant-1'), 'only the VM the plan does not know was inspected');
});

test('two groups draining to one target at once count what the other still sends: the target never goes over capacity', async (t) => {
  const rig = await startRig({ hosts: 3, vmsPerHost: 2 });
  t.teardown(() => rig.close());
  // Room for one group's two VMs (2560 + 1024 ≤ 4096), not for both groups' four (2560 + 2048).
  onFirst(rig, 'hv-3', isEnable, () => rig.fleet.model.addVm({ name: 'tenant-1', host: 'hv-3', vcpus: 1, memoryMiB: 2.5 * GiB }));
  const outcome = await runCampaign(rig.deps, { controlPollMs: 50 });
  t.true(outcome.failed.length >= 1, 'at least one group stopped');
  t.true(memoryOn(rig, 'hv-3') <= 4 * GiB, `hv-3 holds ${memoryOn(rig, 'hv-3')} MiB`);
  t.deepEqual(rig.fleet.model.harmed, []);
});

test('the check counts the moves of every other group draining now, and names them', async (t) => {
  const rig = await startRig({ hosts: 3, vmsPerHost: 2 });
  t.teardown(() => rig.close());
  const g = group(rig, 'hv-1');
  const signal = new AbortController().signal;
  await t.notThrowsAsync(checkTargetRoom(rig.deps, g, signal), 'alone it fits');
  const other: PlannedGroup = { ...group(rig, 'hv-2'), name: 'other', moves: [{ vm: 'big', from: 'hv-2', to: 'hv-3', memoryMiB: 3.5 * GiB, vcpus: 1, seconds: 1, repeat: false }] };
  const e = await t.throwsAsync(whileDraining(rig.deps, other, () => checkTargetRoom(rig.deps, g, signal)), { instanceOf: HvrollError });
  t.regex(e!.message, /used now 0 MiB \/ 0 vCPUs by 0 VM\(s\); incoming 4608 MiB \/ 3 vCPUs \(2 from group hv-1, 1 from group other\): 512 MiB of memory too many/);
  await t.notThrowsAsync(checkTargetRoom(rig.deps, g, signal), 'once the other group is done draining it no longer counts');
});

test('VMs of this group already on the target count as used, not incoming; with nothing left to send, a full target is not this group\'s to judge', async (t) => {
  const rig = await startRig({ hosts: 3, vmsPerHost: 2 });
  t.teardown(() => rig.close());
  const model = rig.fleet.model;
  model.vms.get('vm-0')!.host = 'hv-3';
  const signal = new AbortController().signal;
  model.addVm({ name: 'tenant-1', host: 'hv-3', vcpus: 1, memoryMiB: 3.25 * GiB });
  const e = await t.throwsAsync(checkTargetRoom(rig.deps, group(rig, 'hv-1'), signal), { instanceOf: HvrollError });
  t.regex(e!.message, /used now 3840 MiB \/ 2 vCPUs by 2 VM\(s\), 1 of them unknown to the plan \(tenant-1\); incoming 512 MiB \/ 1 vCPUs \(1 from group hv-1\)/);
  t.regex(e!.message, /1 VM\(s\) of this group had moved in an earlier attempt and stay where they are; no other was migrated/);
  model.vms.get('vm-1')!.host = 'hv-3';
  await t.notThrowsAsync(checkTargetRoom(rig.deps, group(rig, 'hv-1'), signal));
});

test('a target whose load cannot be read stops the group: a VM the plan does not know and a runbook without inspect, or a target that does not answer', async (t) => {
  const rig = await startRig({ hosts: 3, vmsPerHost: 2 });
  t.teardown(() => rig.close());
  rig.fleet.model.addVm({ name: 'tenant 1', host: 'hv-3', vcpus: 1, memoryMiB: 256 });
  const signal = new AbortController().signal;
  const noInspect = { ...rig.deps, runbook: { ...rig.deps.runbook, discover: { ...rig.deps.runbook.discover, inspect: undefined } } } as typeof rig.deps;
  delete (noInspect.runbook.discover as { inspect?: unknown }).inspect;
  const e = await t.throwsAsync(checkTargetRoom(noInspect, group(rig, 'hv-1'), signal), { instanceOf: HvrollError });
  t.regex(e!.message, /cannot read the load of its target\(s\) hv-3.*cannot tell the size of VM "tenant 1" on hv-3: the plan does not know it and .* has no discover\.inspect command/);
  t.false(e!.retryable);
  await rig.fleet.host('hv-3').stop();
  const down = await t.throwsAsync(checkTargetRoom(rig.deps, group(rig, 'hv-1'), signal), { instanceOf: HvrollError });
  t.regex(down!.message, /cannot read the load of its target\(s\) hv-3/);
  t.true(down!.retryable, 'a host that does not answer may answer on the next attempt');
});

test('overflow is the planner\'s test (load ≤ capacity, memory and vCPUs × overcommit) and the shortage is said with every number', (t) => {
  const load: TargetLoad = {
    host: 'hv-9',
    capacity: { memoryMiB: 8192, vcpus: 16 },
    vcpus: 8,
    cpuOvercommit: 2,
    used: { memoryMiB: 6144, vcpus: 12 },
    vms: 3,
    unplanned: ['x '],
    incoming: [{ group: 'g1', vms: 1, size: { memoryMiB: 2048, vcpus: 4 } }],
  };
  t.is(overflow(load), null, 'exactly full fits');
  load.incoming.push({ group: 'g2', vms: 1, size: { memoryMiB: 0, vcpus: 1 } });
  t.deepEqual(overflow(load), { memoryMiB: 8192, vcpus: 17 });
  t.is(describeShortage(load), 'hv-9: capacity 8192 MiB / 16 vCPUs (8 × cpuOvercommit 2); used now 6144 MiB / 12 vCPUs by 3 VM(s), 1 of them unknown to the plan ("x "); incoming 2048 MiB / 5 vCPUs (1 from group g1, 1 from group g2): 1 vCPUs too many');
});

test('a VM the inventory knows but the plan does not move (non-migratable, on the target) is counted at its inventory size, without inspect', async (t) => {
  const hosts = ['hv-1', 'hv-2', 'hv-3'].map((h) => host(h, { rack: 'r1' }, 8, 4096));
  const vms = [vm('vm-0', 'hv-1', 512, 1), vm('vm-1', 'hv-2', 512, 1), vm('gpu-1', 'hv-3', 1024, 2, {}, false)];
  const rig = await startRig({ from: inventory(hosts, vms, { nonMigratable: { policy: 'shutdown' } }) });
  t.teardown(() => rig.close());
  const g = rig.deps.plan.groups.find((x) => x.moves.some((m) => m.to === 'hv-3'))!;
  t.truthy(g, 'some group sends a VM to hv-3');
  const noInspect = { ...rig.deps, runbook: { ...rig.deps.runbook, discover: { ...rig.deps.runbook.discover } } } as typeof rig.deps;
  delete (noInspect.runbook.discover as { inspect?: unknown }).inspect;
  rig.fleet.model.addVm({ name: 'tenant-1', host: 'hv-3', vcpus: 1, memoryMiB: 2816 });
  const e = await t.throwsAsync(checkTargetRoom(noInspect, g, new AbortController().signal), { instanceOf: HvrollError });
  t.regex(e!.message, /cannot tell the size of VM tenant-1/, 'only the VM nobody knows needs inspect');
  rig.fleet.model.vms.delete('tenant-1');
  await t.notThrowsAsync(checkTargetRoom(noInspect, g, new AbortController().signal));
  rig.fleet.model.addVm({ name: 'tenant-2', host: 'hv-3', vcpus: 1, memoryMiB: 2816 });
  const full = await t.throwsAsync(checkTargetRoom(rig.deps, g, new AbortController().signal), { instanceOf: HvrollError });
  t.regex(full!.message, /used now 3840 MiB \/ 3 vCPUs by 2 VM\(s\), 1 of them unknown to the plan \(tenant-2\)/, 'gpu-1 at its inventory size (1024 MiB / 2 vCPUs)');
});
