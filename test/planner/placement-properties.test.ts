// Property-style checks on seeded random fleets: whatever the fleet, the plan breaks no rule.
import test from 'ava';
import { buildPlan } from '../../src/planner/plan.ts';
import { randomFleet, type RandomFleetOptions } from './fixtures.ts';
import { replay } from './replay.ts';

const shapes: Omit<RandomFleetOptions, 'seed'>[] = [];
for (const utilisation of [0.3, 0.6, 0.8, 0.9]) {
  for (const spare of [0, 1, 3]) {
    shapes.push({ hosts: 24, utilisation, spare });
    shapes.push({ hosts: 30, utilisation, spare, groupSize: 3, racks: 4, headroom: 10, antiAffinityClusters: 6, groups: 4 });
    shapes.push({ hosts: 36, utilisation, spare, azs: 2, headroom: 5, antiAffinityClusters: 10, groups: 5 });
  }
}

test('plans on random fleets never break capacity, anti-affinity, headroom, migration domains or wave limits', (t) => {
  let plans = 0;
  for (const [i, shape] of shapes.entries()) {
    for (const seed of [1, 2, 3]) {
      const inv = randomFleet({ ...shape, seed: seed * 100 + i });
      for (const strategy of ['upgrade-aware', 'naive'] as const) {
        const plan = buildPlan(inv, { strategy });
        const { violations } = replay(inv, plan);
        t.deepEqual(violations, [], `${strategy} ${JSON.stringify(shape)} seed ${seed}`);
        plans++;
      }
    }
  }
  t.true(plans >= 200);
});

test('every VM of a drained host moves, and a runnable plan leaves every VM on an upgraded host', (t) => {
  for (const seed of [11, 12, 13, 14]) {
    const inv = randomFleet({ hosts: 20, utilisation: 0.7, spare: 1, seed });
    const plan = buildPlan(inv);
    t.true(plan.summary.runnable);
    const { finalHost } = replay(inv, plan);
    const drained = new Set(plan.groups.filter((g) => g.wave >= 0).flatMap((g) => g.hosts));
    for (const [vm, h] of finalHost) t.true(drained.has(h), `${vm} ends on ${h}, which is never upgraded`);
    for (const v of inv.vms) t.true((plan.groups.flatMap((g) => g.moves).some((m) => m.vm === v.name)), `${v.name} never moves`);
  }
});

test('with a spare host in each migration domain and one host per group, every VM moves exactly once', (t) => {
  let fleets = 0;
  for (const utilisation of [0.3, 0.5, 0.7, 0.8, 0.9]) {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const inv = randomFleet({ hosts: 30, utilisation, spare: 1, seed, antiAffinityClusters: 5 });
      const plan = buildPlan(inv);
      if (!plan.summary.runnable) continue;
      fleets++;
      t.is(plan.summary.migrations, plan.summary.migrationsLowerBound, `u=${utilisation} seed=${seed}`);
      t.deepEqual(plan.summary.movedMoreThanOnce, []);
      const { moveCount } = replay(inv, plan);
      t.true([...moveCount.values()].every((n) => n === 1));
    }
  }
  t.true(fleets >= 25, `only ${fleets} runnable fleets`);
});

test('upgrade-aware placement never moves more VMs than the naive strategy, and clearly fewer at u=0.8', (t) => {
  let ours = 0;
  let naive = 0;
  for (const [i, shape] of shapes.entries()) {
    for (const seed of [5, 6]) {
      const inv = randomFleet({ ...shape, seed: seed * 1000 + i });
      const a = buildPlan(inv);
      const b = buildPlan(inv, { strategy: 'naive' });
      if (!a.summary.runnable || !b.summary.runnable) continue;
      t.true(a.summary.migrations <= b.summary.migrations, `${JSON.stringify(shape)}: ${a.summary.migrations} > naive ${b.summary.migrations}`);
      if (shape.utilisation === 0.8) {
        ours += a.summary.migrations;
        naive += b.summary.migrations;
      }
    }
  }
  t.true(ours <= 0.85 * naive, `ours ${ours} vs naive ${naive}`);
});

test('a VM moves at most twice with the upgrade-aware strategy', (t) => {
  for (const [i, shape] of shapes.entries()) {
    const inv = randomFleet({ ...shape, seed: 77 + i });
    const { moveCount } = replay(inv, buildPlan(inv));
    t.true([...moveCount.values()].every((n) => n <= 2), JSON.stringify(shape));
  }
});
