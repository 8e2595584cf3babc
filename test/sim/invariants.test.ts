// The simulator's own safety checker must be able to fail: its headroom and pool-limit checks, each broken on
// purpose in a small fleet (capacity and anti-affinity are proven through whole simulated campaigns).
import test from 'ava';
import { InvariantChecker, type PoolLimits } from '../../src/sim/invariants.ts';
import { host, inventory, vm } from '../planner/fixtures.ts';

// Two failure domains of three 10-GiB hosts; az1 holds 2 × 2 GiB on each host (12 of 30 GiB), az2 is empty.
// Headroom 10 %: az1 may use at most 90 % of the capacity it has in the pool.
function rig(limits: Partial<PoolLimits> = {}) {
  const hosts = ['a1', 'a2', 'a3', 'b1', 'b2', 'b3'].map((n) => host(n, { az: n.startsWith('a') ? 'az1' : 'az2' }, 8, 10240));
  const vms = ['a1', 'a2', 'a3'].flatMap((h) => [vm(`${h}-x`, h, 2048, 1), vm(`${h}-y`, h, 2048, 1)]);
  const inv = inventory(hosts, vms, { headroom: { memoryPercent: 10, vcpuPercent: 10, domain: 'az' } });
  const groups = hosts.map((h) => ({ name: `g-${h.name}`, class: h.name === 'a1' || h.name === 'b1' ? 'db' : 'standard', hosts: [h.name] }));
  return new InvariantChecker(inv, { hosts: 6, groups, groupsAtOnce: 6, classes: {}, groupsPerDomain: null, failureDomain: 'az', ...limits }, () => 0);
}

function move(c: InvariantChecker, vmName: string, from: string, to: string): void {
  c.migrationStarted(vmName, to);
  c.migrationEnded(vmName, from);
}

test('headroom: draining a host its domain cannot spare is counted once its VMs arrive, in flight already, with the domain named', (t) => {
  const c = rig();
  c.maintenance('a1', true); // az1 in the pool: 8 of 20 GiB
  move(c, 'a1-x', 'a1', 'a2');
  move(c, 'a1-y', 'a1', 'a3');
  c.maintenance('a2', true); // a3 alone: 6 of 10 GiB in the pool (at most 9)
  c.migrationStarted('a2-x', 'a3'); // 8 of 10
  t.is(c.counts.headroom, 0);
  c.migrationStarted('a2-y', 'a3'); // 10 of 10: over 90 % while the migration is still in flight
  t.is(c.counts.headroom, 1);
  t.regex(c.examples.find((e) => e.kind === 'headroom')!.message, /a2-y arriving on a3 leaves az=az1 over its headroom: 10240\/10240 MiB/);
  t.is(c.counts.capacity, 0, 'a3 itself is not over its capacity');
});

test('headroom: a host a failed group left out of the pool keeps counting; draining another host of its domain breaks it', (t) => {
  const c = rig();
  c.maintenance('a3', true);
  move(c, 'a3-x', 'a3', 'a1');
  move(c, 'a3-y', 'a3', 'a2'); // a3 empty, its group failed after the upgrade: a3 stays out
  c.maintenance('a2', true); // a1 alone in the pool: 6 of 10 GiB
  move(c, 'a2-x', 'a2', 'a1');
  t.is(c.counts.headroom, 0, '8 of 10 GiB');
  move(c, 'a2-y', 'a2', 'a1');
  t.is(c.counts.headroom, 1, '10 of 10 GiB: over 90 %');
  t.is(c.counts.capacity, 0);
});

test('headroom: breaches already in the starting placement are not counted, only a change that makes them worse', (t) => {
  const hosts = [host('h1', { az: 'z' }, 8, 1000), host('h2', { az: 'z' }, 8, 1000)];
  const inv = inventory(hosts, [vm('v1', 'h1', 950, 1), vm('v2', 'h2', 950, 1), vm('v3', 'h2', 10, 1)], { headroom: { memoryPercent: 10, vcpuPercent: 0, domain: 'az' } });
  const c = new InvariantChecker(inv, { hosts: 2, groups: [], groupsAtOnce: 2, classes: {}, groupsPerDomain: null, failureDomain: 'az' }, () => 0);
  t.is(c.counts.headroom, 0, '1910 of 2000 MiB (over 90 %) before the campaign: the planner warns, the checker does not count');
  c.migrationStarted('v3', 'h1');
  t.is(c.counts.headroom, 1, 'a VM in flight counts on both ends: z holds 1920 MiB now');
  c.migrationEnded('v3', 'h2');
  t.is(c.counts.headroom, 1);
});

test('maintenance: a failed group whose host stays out of the pool keeps counting against concurrency.groups', (t) => {
  const c = rig({ groupsAtOnce: 2 });
  c.maintenance('b1', true);
  c.maintenance('b2', true);
  t.is(c.counts.maintenance, 0);
  // g-b1 failed after its upgrade: b1 stays disabled. Its slot must not be given to another group.
  c.maintenance('b3', true);
  t.is(c.counts.maintenance, 1);
  t.regex(c.examples[0]!.message, /3 groups out of the pool at once \(concurrency\.groups 2\): g-b1, g-b2, g-b3/);
  c.maintenance('b2', false);
  c.maintenance('b2', true);
  t.is(c.counts.maintenance, 2, 'counted again when it happens again');
});

test('maintenance: hosts out of the pool over the host limit, a class over its maxConcurrentGroups, a domain over groupsPerDomain', (t) => {
  const hostsOnly = rig({ hosts: 1 });
  hostsOnly.maintenance('b1', true);
  hostsOnly.maintenance('b2', true);
  t.is(hostsOnly.counts.maintenance, 1);
  t.regex(hostsOnly.examples[0]!.message, /2 hosts in maintenance at once \(limit 1\)/);

  const perClass = rig({ classes: { db: 1 } });
  perClass.maintenance('a1', true);
  perClass.maintenance('b2', true);
  t.is(perClass.counts.maintenance, 0, 'one db group and one standard group');
  perClass.maintenance('b1', true);
  t.is(perClass.counts.maintenance, 1);
  t.regex(perClass.examples[0]!.message, /2 groups of class db out of the pool at once \(maxConcurrentGroups 1\): g-a1, g-b1/);

  const perDomain = rig({ groupsPerDomain: 1 });
  perDomain.maintenance('a1', true);
  perDomain.maintenance('b1', true);
  t.is(perDomain.counts.maintenance, 0);
  perDomain.maintenance('b2', true);
  t.is(perDomain.counts.maintenance, 1);
  t.regex(perDomain.examples[0]!.message, /2 groups of az=az2 out of the pool at once \(groupsPerDomain 1\): g-b1, g-b2/);
  t.is(perDomain.counts.headroom, 0, 'az2 is empty: its headroom holds');
});
