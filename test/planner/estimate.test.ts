import test from 'ava';
import { DEFAULT_RULES } from '../../src/model/inventory.ts';
import { drainSeconds, migrationSeconds } from '../../src/planner/estimate.ts';
import { buildPlan } from '../../src/planner/plan.ts';
import { host, inventory, vm } from './fixtures.ts';

const est = { ...DEFAULT_RULES.estimates, migrationOverheadSeconds: 0, migrationBandwidthMiBps: 1000 };

test('a migration with no dirtying costs one pass of memory over bandwidth, plus the fixed overhead', (t) => {
  t.is(migrationSeconds(8000, est), 8);
  t.is(migrationSeconds(8000, { ...est, migrationOverheadSeconds: 5 }), 13);
});

test('pre-copy: T = (M/B)(1-ρ^(n+1))/(1-ρ), n the rounds until the rest fits the pause', (t) => {
  // M=8000, B=1000, ρ=0.5: rounds until 8000·0.5^n <= 300 -> n = 5; T = 8·(1-0.5^6)/0.5
  t.is(migrationSeconds(8000, { ...est, dirtyRateMiBps: 500 }), 8 * (1 - 0.5 ** 6) / 0.5);
  // ρ >= 1 never converges on its own: capped at 30 rounds
  t.is(migrationSeconds(1000, { ...est, dirtyRateMiBps: 1000 }), 31);
});

test('drain time is bound by the busiest source host and by the global migration limit', (t) => {
  const c = { groups: 1, migrations: 4, migrationsPerHost: 2 };
  t.is(drainSeconds({ perHost: [100, 40], total: 140 }, 140, c), 50);
  t.is(drainSeconds({ perHost: [10, 10], total: 20 }, 400, c), 100);
  t.is(drainSeconds({ perHost: [0], total: 0 }, 400, c), 0);
});

test('the plan carries start/end per group and wave, and a total equal to the last end; a group starts only after the groups it waits for', (t) => {
  const hosts = [host('a'), host('b'), host('c')];
  const vms = [vm('v1', 'a', 10000), vm('v2', 'b', 10000)];
  const plan = buildPlan(inventory(hosts, vms, { estimates: est }), { estimates: { upgradeSeconds: 100, rebootSeconds: 50, verifySeconds: 10 } });
  t.is(plan.settings.estimates.upgradeSeconds, 100);
  let previousStart = 0;
  let lastEnd = 0;
  for (const w of plan.waves) {
    t.true(w.startSeconds >= previousStart, 'start instants in time order');
    t.true(w.endSeconds >= w.startSeconds + 160);
    for (const name of w.groups) t.is(plan.groups.find((g) => g.name === name)!.estimate.startSeconds, w.startSeconds);
    previousStart = w.startSeconds;
    lastEnd = Math.max(lastEnd, w.endSeconds);
  }
  t.is(plan.summary.estimatedSeconds, lastEnd);
  const byName = new Map(plan.groups.map((g) => [g.name, g]));
  for (const g of plan.groups) for (const d of g.after) t.true(byName.get(d)!.estimate.endSeconds <= g.estimate.startSeconds, `${g.name} after ${d}`);
  const a = byName.get('a')!;
  t.deepEqual(a.after, ['c'], 'a drains onto the spare c, so it waits for c');
  t.is(a.estimate.startSeconds, 160, 'as soon as c is upgraded');
  t.is(a.estimate.drainSeconds, 5); // 10 s of migration over 2 streams per host
  t.is(a.estimate.endSeconds, a.estimate.startSeconds + 5 + 160);
});
