import test from 'ava';
import { buildPlan } from '../../src/planner/plan.ts';
import type { SensitivityClass } from '../../src/model/inventory.ts';
import { host, inventory, randomFleet, vm } from './fixtures.ts';

const sensitivity: SensitivityClass[] = [
  { class: 'critical', match: { tier: 'db' }, order: 'last', approval: true, maxConcurrentGroups: 1 },
  { class: 'canary', match: { canary: 'true' }, order: 'first', approval: false },
  { class: 'web', match: { tier: 'web' }, order: 'normal', approval: false },
];

function fleet() {
  const hosts = ['hv-10', 'hv-2', 'hv-1', 'hv-3', 'hv-4', 'hv-5', 'hv-6'].map((n) => host(n));
  const vms = [
    vm('db-1', 'hv-1', 4096, 2, { tier: 'db' }),
    vm('web-1', 'hv-2', 4096, 2, { tier: 'web' }),
    vm('canary-1', 'hv-3', 4096, 2, { tier: 'web', canary: 'true' }),
    vm('batch-1', 'hv-4', 4096, 2, { tier: 'batch' }),
    vm('db-2', 'hv-5', 4096, 2, { tier: 'db' }),
    vm('batch-2', 'hv-5', 4096, 2, { tier: 'batch' }),
    vm('batch-3', 'hv-10', 4096, 2, { tier: 'batch' }),
  ];
  return inventory(hosts, vms, { sensitivity, concurrency: { groups: 4 } });
}

test('spares first, then canaries, normal classes from least to most sensitive, critical last; ties by natural name', (t) => {
  const plan = buildPlan(fleet());
  t.deepEqual(
    plan.groups.map((g) => [g.name, g.class, g.tier]),
    [
      ['hv-6', 'spare', 'spare'],
      ['hv-3', 'canary', 'first'],
      ['hv-4', 'default', 'normal'],
      ['hv-10', 'default', 'normal'],
      ['hv-2', 'web', 'normal'],
      ['hv-1', 'critical', 'last'],
      ['hv-5', 'critical', 'last'],
    ],
  );
  t.deepEqual(plan.groups.map((g) => g.index), [0, 1, 2, 3, 4, 5, 6]);
});

test('a VM takes the first listed class that matches it', (t) => {
  const plan = buildPlan(fleet());
  t.is(plan.groups.find((g) => g.name === 'hv-3')!.class, 'canary');
  const reordered = fleet();
  reordered.rules.sensitivity = [sensitivity[0]!, sensitivity[2]!, sensitivity[1]!];
  t.is(buildPlan(reordered).groups.find((g) => g.name === 'hv-3')!.class, 'web');
});

test("a group's class is its most sensitive VM's class, and the reason names that VM", (t) => {
  const plan = buildPlan(fleet());
  const g = plan.groups.find((x) => x.name === 'hv-5')!;
  t.is(g.class, 'critical');
  t.true(g.approval);
  t.regex(g.reason, /db-2/);
  t.regex(g.reason, /approval/);
  t.regex(plan.groups[0]!.reason, /no VMs/);
});

test('tiers are barriers on the timeline: no normal group starts before every canary group ended, no critical one before every normal one ended; maxConcurrentGroups and concurrency.groups hold at every instant', (t) => {
  const plan = buildPlan(fleet());
  const running = plan.groups.filter((g) => g.wave >= 0);
  const endOf = (tier: string) => Math.max(0, ...running.filter((g) => g.tier === tier).map((g) => g.estimate.endSeconds));
  for (const g of running) {
    if (g.tier === 'normal' || g.tier === 'last') t.true(g.estimate.startSeconds >= endOf('first'), g.name);
    if (g.tier === 'last') t.true(g.estimate.startSeconds >= endOf('normal'), g.name);
    const overlapping = running.filter((o) => o.estimate.startSeconds <= g.estimate.startSeconds && o.estimate.endSeconds > g.estimate.startSeconds);
    t.true(overlapping.length <= 4, `${g.name}: ${overlapping.length} groups at once`);
    t.true(overlapping.filter((o) => o.class === 'critical').length <= 1, g.name);
  }
  t.true(plan.waves.some((w) => /class critical allows 1/.test(w.closedBy)));
  t.deepEqual(plan.settings.concurrency.classes, { critical: 1 });
});

test('the same inventory always gives the same plan', (t) => {
  const a = randomFleet({ hosts: 40, utilisation: 0.8, spare: 1, seed: 9, groupSize: 3, racks: 4, headroom: 10, antiAffinityClusters: 5 });
  const b = randomFleet({ hosts: 40, utilisation: 0.8, spare: 1, seed: 9, groupSize: 3, racks: 4, headroom: 10, antiAffinityClusters: 5 });
  t.is(JSON.stringify(buildPlan(a)), JSON.stringify(buildPlan(b)));
  t.is(JSON.stringify(buildPlan(a)), JSON.stringify(buildPlan(a)));
});

test('grouping by label cuts large values into chunks, keeps sensitive hosts together and empty hosts apart', (t) => {
  const hosts = Array.from({ length: 7 }, (_, i) => host(`hv-${i + 1}`, { rack: 'r1' }));
  const vms = [vm('db-a', 'hv-2', 4096, 2, { tier: 'db' }), vm('db-b', 'hv-5', 4096, 2, { tier: 'db' }), vm('w1', 'hv-1'), vm('w2', 'hv-3'), vm('w3', 'hv-4')];
  const plan = buildPlan(inventory(hosts, vms, { sensitivity, grouping: { kind: 'by-label', by: 'rack', maxHostsPerGroup: 2 } }));
  const byName = Object.fromEntries(plan.groups.map((g) => [g.name, g.hosts]));
  t.deepEqual(byName['r1/1'], ['hv-2', 'hv-5']);
  t.deepEqual(byName['r1/4'], ['hv-6', 'hv-7']);
  t.is(plan.groups[0]!.name, 'r1/4');
  t.is(plan.groups.at(-1)!.name, 'r1/1');
});

test('explicit groups are kept; hosts in no group get a group of their own', (t) => {
  const hosts = ['a', 'b', 'c', 'd'].map((n) => host(n));
  const vms = [vm('v1', 'a'), vm('v2', 'b'), vm('v3', 'c')];
  const plan = buildPlan(inventory(hosts, vms, { grouping: { kind: 'explicit', groups: [{ name: 'pair', hosts: ['b', 'a'] }] } }));
  t.deepEqual(plan.groups.find((g) => g.name === 'pair')!.hosts, ['a', 'b']);
  t.truthy(plan.groups.find((g) => g.name === 'c'));
  t.truthy(plan.groups.find((g) => g.name === 'd'));
});
