import test from 'ava';
import { describeAdded } from '../../src/cli/commands/discover.ts';
import { discoverFleet } from '../../src/engine/discover-fleet.ts';
import { HvrollError } from '../../src/model/errors.ts';
import { startRig } from './campaign-fixture.ts';

test('discover reads every host over SSH and reports added, removed, moved and resized VMs, keeping known labels', async (t) => {
  const rig = await startRig({ hosts: 3, vmsPerHost: 2 });
  t.teardown(() => rig.close());
  const model = rig.fleet.model;
  model.addVm({ name: 'newcomer', host: 'hv-2', vcpus: 4, memoryMiB: 2048 });
  model.vms.delete('vm-1');
  model.vms.get('vm-2')!.host = 'hv-3';
  model.vms.get('vm-3')!.memoryMiB = 1024;
  const { vms, diff } = await discoverFleet({ executor: rig.deps.executor, inventory: rig.inventory, runbook: rig.deps.runbook, vars: {}, controller: null });
  t.deepEqual(diff.added, [{ vm: 'newcomer', host: 'hv-2' }]);
  t.deepEqual(diff.removed, [{ vm: 'vm-1', host: 'hv-1' }]);
  t.deepEqual(diff.moved, [{ vm: 'vm-2', from: 'hv-2', to: 'hv-3' }]);
  t.deepEqual(diff.resized, [{ vm: 'vm-3', from: '1 vCPU/512 MiB', to: '1 vCPU/1024 MiB' }]);
  t.deepEqual(diff.unreachable, []);
  const newcomer = vms.find((v) => v.name === 'newcomer')!;
  t.deepEqual([newcomer.vcpus, newcomer.memoryMiB], [4, 2048], 'size from virsh dominfo');
  t.deepEqual(vms.find((v) => v.name === 'vm-0')!.labels, rig.inventory.vms.find((v) => v.name === 'vm-0')!.labels);
  t.is(vms.length, rig.inventory.vms.length);
});

test('an unreachable host keeps its VMs as the inventory has them and is reported', async (t) => {
  const rig = await startRig({ hosts: 3, vmsPerHost: 1 });
  t.teardown(() => rig.close());
  await rig.fleet.host('hv-1').stop();
  const { vms, diff } = await discoverFleet({ executor: rig.deps.executor, inventory: rig.inventory, runbook: rig.deps.runbook, vars: {}, controller: null, timeoutMs: 2000 });
  t.deepEqual(diff.unreachable.map((u) => u.host), ['hv-1']);
  t.deepEqual(diff.removed, []);
  t.truthy(vms.find((v) => v.name === 'vm-0' && v.host === 'hv-1'));
});

test('a VM seen on two hosts stops discovery with a clear error', async (t) => {
  const rig = await startRig({ hosts: 3, vmsPerHost: 1 });
  t.teardown(() => rig.close());
  // hv-2 lists vm-0 as well (a split-brain left by a botched migration).
  const orig = rig.hosts.handler;
  (rig.fleet as unknown as { handler: typeof orig }).handler = async (host, argv, ctx) => {
    const out = await orig(host, argv, ctx);
    return host === 'hv-2' && argv.join(' ') === 'virsh list --all --name' ? { ...out, stdout: `${out.stdout}vm-0\n` } : out;
  };
  const e = await t.throwsAsync(discoverFleet({ executor: rig.deps.executor, inventory: rig.inventory, runbook: rig.deps.runbook, vars: {}, controller: null }));
  t.true(e instanceof HvrollError);
  t.regex(e!.message, /vm-0 runs on both/);
});

test('discover takes names exactly: a look-alike of an inventory VM is a VM of its own, said escaped, with what it looks like and why no inventory can hold it', async (t) => {
  const rig = await startRig({ hosts: 3, vmsPerHost: 2 });
  t.teardown(() => rig.close());
  rig.fleet.model.addVm({ name: 'vm-2 ', host: 'hv-2', vcpus: 1, memoryMiB: 512 });
  rig.fleet.model.addVm({ name: 'v\u043c-3', host: 'hv-2', vcpus: 1, memoryMiB: 512 });
  const { vms, diff } = await discoverFleet({ executor: rig.deps.executor, inventory: rig.inventory, runbook: rig.deps.runbook, vars: {}, controller: null });
  t.deepEqual(diff.removed, []);
  t.deepEqual(diff.moved, []);
  const added = [...diff.added].sort((a, b) => a.vm.localeCompare(b.vm));
  t.deepEqual(added.map((a) => [a.vm, a.looksLike]), [['v\u043c-3', 'vm-3'], ['vm-2 ', 'vm-2']].sort((a, b) => a[0]!.localeCompare(b[0]!)));
  t.true(added.every((a) => a.invalidName !== undefined));
  t.truthy(vms.find((v) => v.name === 'vm-2'));
  t.truthy(vms.find((v) => v.name === 'vm-2 '));
  t.is(describeAdded(diff.added.find((a) => a.vm === 'vm-2 ')!), '"vm-2 " on hv-2 (not in the inventory: give it labels before planning; looks like vm-2, but is another VM; its name contains a space: rename the VM on its host, an inventory cannot hold that name)');
  t.regex(describeAdded(diff.added.find((a) => a.vm !== 'vm-2 ')!), /^"v\\u043C-3" on hv-2 \(.*looks like vm-3, but is another VM; its name contains the non-ASCII character 'м' \(U\+043C\)/);
});

test('a VM whose size cannot be read is said escaped, with the command that failed', async (t) => {
  const rig = await startRig({ hosts: 3, vmsPerHost: 1 });
  t.teardown(() => rig.close());
  rig.fleet.model.addVm({ name: 'x\u200b', host: 'hv-1', vcpus: 1, memoryMiB: 64 });
  const orig = rig.hosts.handler;
  (rig.fleet as unknown as { handler: typeof orig }).handler = async (host, argv, ctx) => {
    const out = await orig(host, argv, ctx);
    return host === 'hv-2' && argv.join(' ') === 'virsh list --all --name' ? { ...out, stdout: `${out.stdout}x\u200b\n` } : out;
  };
  // hv-2 lists it too, but does not know it when asked for its size.
  const { diff } = await discoverFleet({ executor: rig.deps.executor, inventory: rig.inventory, runbook: rig.deps.runbook, vars: {}, controller: null });
  t.deepEqual(diff.unreachable.map((u) => u.host), ['hv-2']);
  t.regex(diff.unreachable[0]!.error, /^VM "x\\u200B" on hv-2: cannot tell its size \(`virsh dominfo "x\\u200B"` exited 1 without "Max memory" and "CPU\(s\)"\) and the inventory does not know it$/);
});
