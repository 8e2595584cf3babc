// The fault matrix's checker must be able to fail: each invariant, broken on purpose in a small world.
import test from 'ava';
import { InvariantChecker, type HostFacts, type JournalFacts, type VmFacts } from './invariants.ts';

function rig() {
  const hosts: HostFacts[] = ['a', 'b', 'c'].map((name) => ({ name, disabled: false, version: '1.0', bootId: `${name}-0`, upgrades: 0, reboots: 0 }));
  const vms: VmFacts[] = [
    { name: 'vm1', on: ['a'], migratingTo: null },
    { name: 'vm2', on: ['b'], migratingTo: null },
  ];
  hosts[2]!.disabled = true; // disabled before the campaign
  const checker = new InvariantChecker({
    world: { hosts: () => hosts, vms: () => vms },
    targetVersion: '2.0',
    capacity: new Map(hosts.map((h) => [h.name, { memoryMiB: 1024, vcpus: 4 }])),
    sizes: new Map(vms.map((v) => [v.name, { memoryMiB: 600, vcpus: 1 }])),
    outOfPoolLimit: 1,
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
