// The fault matrix's checker must be able to fail: each invariant, broken on purpose in a small world.
import test from 'ava';
import { CLEAR_MARKER_SCRIPT, SET_MARKER_SCRIPT } from '../../src/sim/libvirt-commands.ts';
import { InvariantChecker, type HostFacts, type JournalFacts, type PoolRules, type VmFacts } from './invariants.ts';

function rig(o: { outOfPoolLimit?: number; pool?: Partial<PoolRules>; capacityMiB?: number; extraVms?: VmFacts[] } = {}) {
  const hosts: HostFacts[] = ['a', 'b', 'c'].map((name) => ({ name, disabled: false, version: '1.0', packageConfigured: true, libvirtd: true, bootId: `${name}-0`, upgrades: 0, reboots: 0 }));
  const vms: VmFacts[] = [
    { name: 'vm1', on: ['a'], migratingTo: null },
    { name: 'vm2', on: ['b'], migratingTo: null },
    ...(o.extraVms ?? []),
  ];
  hosts[2]!.disabled = true; // disabled before the campaign
  const checker = new InvariantChecker({
    world: { hosts: () => hosts, vms: () => vms },
    targetVersion: '2.0',
    capacity: new Map(hosts.map((h) => [h.name, { memoryMiB: o.capacityMiB ?? 1024, vcpus: 4 }])),
    sizes: new Map(vms.map((v) => [v.name, { memoryMiB: 600, vcpus: 1 }])),
    outOfPoolLimit: o.outOfPoolLimit ?? 1,
    pool: {
      groups: hosts.map((h) => ({ name: `g-${h.name}`, class: 'standard', hosts: [h.name] })),
      groupsAtOnce: 3,
      classes: {},
      groupsPerDomain: null,
      domainOf: new Map(hosts.map((h) => [h.name, 'fleet'])),
      headroom: { memoryPercent: 0, vcpuPercent: 0 },
      ...o.pool,
    },
    marker: '/m',
    pkg: 'p',
  });
  const h = (n: string) => hosts.find((x) => x.name === n)!;
  return { hosts, vms, checker, h };
}

const entry = (id: number, step: string, host: string, exitCode: number | null = 0, argv?: string[]): JournalFacts => ({ id, step, host, ...(argv ? { argv } : {}), outcome: { exitCode } });

test('a healthy sequence passes: disable with a record, upgrade once, reboot once, enable, final set as before', (t) => {
  const { checker, h } = rig();
  const journal: JournalFacts[] = [];
  checker.command('a', ['touch', '/m']);
  h('a').disabled = true;
  journal.push(entry(1, 'disable', 'a', 0, ['touch', '/m']));
  checker.state(journal);
  checker.command('a', ['env', 'X=1', 'apt-get', 'install', 'p=2.0']);
  Object.assign(h('a'), { version: '2.0', upgrades: 1 });
  checker.command('a', ['systemctl', 'reboot']);
  Object.assign(h('a'), { bootId: 'a-1', reboots: 1 });
  checker.command('a', ['rm', '-f', '/m']);
  h('a').disabled = false;
  journal.push(entry(2, 'upgrade', 'a', 0, ['env', 'X=1', 'apt-get', 'install', 'p=2.0']), entry(3, 'reboot', 'a', 0, ['systemctl', 'reboot']), entry(4, 'enable', 'a', 0, ['rm', '-f', '/m']));
  checker.state(journal);
  checker.argvMatchesJournal(journal);
  checker.final({ done: false, reportedOutOfPool: [] });
  t.deepEqual(checker.violations, []);
});

test('I1: a VM on two hosts, a lost VM, a new VM', (t) => {
  const { checker, vms } = rig();
  vms[0]!.on = ['a', 'b'];
  vms.splice(1, 1, { name: 'stranger', on: ['b'], migratingTo: null });
  checker.state([]);
  t.is(checker.counts.I1, 3);
});

test('I1: destroy or undefine sent to the host where the VM runs, and a stopped copy left at the end of a finished campaign', (t) => {
  const { checker, vms } = rig();
  checker.command('a', ['virsh', 'destroy', 'vm1']);
  checker.command('a', ['virsh', 'undefine', 'vm1']);
  t.is(checker.counts.I1, 2);
  // A stopped copy on another host than the one the VM runs on: removing it is allowed.
  vms[1]!.stoppedCopies = ['a'];
  checker.command('a', ['virsh', 'destroy', 'vm2']);
  checker.state([]);
  t.is(checker.counts.I1, 2, 'a stopped copy during the campaign is not yet a violation');
  checker.final({ done: true, reportedOutOfPool: [] });
  t.true(checker.violations.some((v) => v.invariant === 'I1' && v.message.includes('vm2 still has a stopped copy on a')));
});

test('I2: a third boot id, a second upgrade, a version that is neither start nor target', (t) => {
  const { checker, h } = rig();
  h('a').bootId = 'a-1';
  checker.state([]);
  h('a').bootId = 'a-2';
  h('b').upgrades = 2;
  h('b').version = '1.5';
  checker.state([]);
  t.true(checker.counts.I2 >= 3, JSON.stringify(checker.violations));
});

test('I3: a host out of the pool with no open disable record, or whose disable was closed by a successful enable', (t) => {
  const { checker, h } = rig();
  h('a').disabled = true;
  checker.state([]);
  t.is(checker.counts.I3, 1);
  checker.state([entry(1, 'disable', 'a'), entry(2, 'enable', 'a', 0)]);
  t.is(checker.counts.I3, 2);
  checker.state([entry(1, 'disable', 'a'), entry(2, 'enable', 'a', null)]);
  t.is(checker.counts.I3, 2, 'an enable that never reported success leaves the record open');
  checker.final({ done: false, reportedOutOfPool: [] });
  t.is(checker.counts.I3, 3, 'left out at the end without saying so');
  h('c').disabled = false;
  checker.final({ done: false, reportedOutOfPool: ['a'] });
  t.is(checker.counts.I3, 4, 'the host disabled before the campaign was re-enabled');
});

test('I4: a side effect sent when it is already in place', (t) => {
  const { checker, h } = rig();
  h('a').disabled = true;
  checker.command('a', ['touch', '/m']);
  checker.command('b', ['rm', '-f', '/m']);
  h('b').version = '2.0';
  checker.command('b', ['env', 'X=1', 'apt-get', 'install', 'p=2.0']);
  h('b').bootId = 'b-1';
  checker.command('b', ['systemctl', 'reboot']);
  checker.command('a', ['virsh', 'migrate', '--live', 'vm2', 'qemu+ssh://b/system']);
  t.is(checker.counts.I4, 5, JSON.stringify(checker.violations));
  // The shipped runbook's marker scripts are the same side effects.
  checker.command('a', ['sh', '-c', SET_MARKER_SCRIPT, 'sh', '/m', 'hvroll:c1:a']);
  checker.command('b', ['sh', '-c', CLEAR_MARKER_SCRIPT, 'sh', '/m', 'hvroll:c1:b']);
  t.is(checker.counts.I4, 7, JSON.stringify(checker.violations));
});

test('I5: more hosts out of the pool than the limit; a target over capacity counting a migration in flight', (t) => {
  const { checker, h, vms } = rig();
  h('a').disabled = true;
  h('b').disabled = true;
  checker.state([entry(1, 'disable', 'a'), entry(2, 'disable', 'b')]);
  t.is(checker.counts.I5, 1);
  vms[0]!.migratingTo = 'b';
  checker.state([entry(1, 'disable', 'a'), entry(2, 'disable', 'b')]);
  t.is(checker.counts.I5, 3, 'b holds 1200 MiB of 1024 while vm1 is in flight');
});

test('I6: a command no journal intent announced, or with other argv', (t) => {
  const { checker } = rig();
  checker.command('a', ['virsh', 'list']);
  checker.command('b', ['virsh', 'domstate', 'vm2']);
  checker.argvMatchesJournal([{ id: 1, step: 'x', host: 'a', argv: ['virsh', 'list'] }, { id: 2, step: 'x', host: 'b', argv: ['virsh', 'domstate', 'vm 2'] }]);
  t.is(checker.counts.I6, 1);
});

test('I5: a failed group whose host stays out of the pool keeps counting against concurrency.groups, per class and per domain', (t) => {
  const classOf = (n: string) => (n === 'c' ? 'db' : 'standard');
  const { checker, h } = rig({
    outOfPoolLimit: 10,
    pool: {
      groups: ['a', 'b', 'c'].map((n) => ({ name: `g-${n}`, class: classOf(n), hosts: [n] })),
      groupsAtOnce: 1,
      classes: { standard: 1 },
      groupsPerDomain: 1,
      domainOf: new Map([['a', 'az1'], ['b', 'az1'], ['c', 'az2']]),
    },
  });
  const journal = [entry(1, 'disable', 'a'), entry(2, 'disable', 'b')];
  h('a').disabled = true; // g-a failed after its upgrade: a stays out of the pool
  checker.state(journal);
  t.is(checker.counts.I5, 0);
  h('b').disabled = true; // and g-b was started meanwhile
  checker.state(journal);
  const messages = checker.violations.map((v) => v.message);
  t.is(checker.counts.I5, 3, JSON.stringify(messages));
  t.true(messages.includes('2 groups out of the pool at once (concurrency.groups 1): g-a, g-b'));
  t.true(messages.includes('2 groups of class standard out of the pool at once (maxConcurrentGroups 1): g-a, g-b'));
  t.true(messages.includes('2 groups of az1 out of the pool at once (groupsPerDomain 1): g-a, g-b'));
  t.is(checker.counts.I3, 0);
});

test('I5: a failure domain over its headroom, counting only its hosts in the pool and migrations in flight on their target', (t) => {
  // 2048 MiB hosts, 600 MiB VMs; c was disabled before the campaign: the plan counted it in the pool, so does I5.
  // Headroom 60 %: 1800 of 6144 MiB is within 40 %; with a out of the pool, 1800 of 4096 is not.
  const vm3: VmFacts = { name: 'vm3', on: ['c'], migratingTo: null };
  const { checker, h, vms } = rig({ outOfPoolLimit: 10, capacityMiB: 2048, extraVms: [vm3], pool: { headroom: { memoryPercent: 60, vcpuPercent: 0 } } });
  checker.state([]);
  h('a').disabled = true;
  checker.state([entry(1, 'disable', 'a')]);
  t.is(checker.counts.I5, 0, 'vm1 still on a, out of the pool: 1200 of 4096 MiB in the pool');
  vms[0]!.migratingTo = 'b';
  checker.state([entry(1, 'disable', 'a')]);
  t.is(checker.counts.I5, 1, JSON.stringify(checker.violations));
  t.is(checker.violations[0]!.message, 'fleet is over its headroom (keep 60 % of memory, 0 % of vCPUs free in the pool): 162 MiB, 0 vCPU too many on its hosts in the pool');
});

test('I5: headroom already broken before the campaign is counted only when the campaign makes it worse', (t) => {
  // Headroom 75 %: 1800 of 6144 MiB is over from the start (at most 1536).
  const vm3: VmFacts = { name: 'vm3', on: ['c'], migratingTo: null };
  const { checker, h, vms } = rig({ outOfPoolLimit: 10, capacityMiB: 2048, extraVms: [vm3], pool: { headroom: { memoryPercent: 75, vcpuPercent: 0 } } });
  checker.state([]);
  t.is(checker.counts.I5, 0);
  vms[1]!.migratingTo = 'a'; // counted on both ends: worse than before
  checker.state([]);
  t.is(checker.counts.I5, 1);
  vms[1]!.migratingTo = null;
  h('b').disabled = true; // b and vm2 leave the pool: 1200 of 4096 MiB, still over 25 %, but less than at the start
  checker.state([entry(1, 'disable', 'b')]);
  t.is(checker.counts.I5, 1, 'better than at the start: not counted');
});

test('I7: an enable sent to a broken host, a broken host back in the pool, a broken host out of the pool but not named', (t) => {
  const { checker, h } = rig({ outOfPoolLimit: 10 });
  const journal = [entry(1, 'disable', 'a'), entry(2, 'disable', 'b')];
  h('a').disabled = true;
  h('b').disabled = true;
  checker.state(journal);
  Object.assign(h('a'), { version: '2.0', packageConfigured: false }); // postinst failed: half-configured
  Object.assign(h('b'), { version: '2.0', upgrades: 1, libvirtd: false }); // verification fails
  checker.command('a', ['rm', '-f', '/m']);
  t.is(checker.counts.I7, 1);
  t.regex(checker.violations[0]!.message, /a: `rm -f \/m` sent to a broken host \(package half-configured\)/);
  checker.command('b', ['sh', '-c', 'test "$(cat -- "$1")" != "$2" || rm -f -- "$1"', 'sh', '/m', 'hvroll:c1:g-b']);
  t.is(checker.counts.I7, 2, 'an enable written as a script is an enable too');
  t.regex(checker.violations[1]!.message, /^b: `sh -c .*` sent to a broken host \(libvirtd down\)/);
  h('a').disabled = false;
  checker.state([...journal, entry(3, 'enable', 'a')]);
  checker.state([...journal, entry(3, 'enable', 'a')]);
  t.is(checker.counts.I7, 3, 'back in the pool broken: counted once');
  checker.final({ done: false, reportedOutOfPool: ['b'] });
  t.is(checker.counts.I7, 4, 'a is in the pool at the end');
  checker.final({ done: false, reportedOutOfPool: [] });
  t.true(checker.violations.some((v) => v.invariant === 'I7' && v.message === 'b is broken (libvirtd down) and out of the pool at the end, but the campaign did not name it'));
});

test('I4 and I2: installing again over a half-configured package is the retry, not a redo; a failed install is not an upgrade', (t) => {
  const { checker, h } = rig();
  Object.assign(h('a'), { version: '2.0', packageConfigured: false, upgrades: 1 });
  checker.command('a', ['env', 'X=1', 'apt-get', 'install', 'p=2.0']);
  h('a').upgrades = 2; // a model that counts every install
  checker.state([]);
  t.is(checker.counts.I4, 0);
  t.is(checker.counts.I2, 0);
  Object.assign(h('a'), { packageConfigured: true, upgrades: 1 });
  checker.command('a', ['env', 'X=1', 'apt-get', 'install', 'p=2.0']);
  t.is(checker.counts.I4, 1, 'configured at the target version: a redo');
});
