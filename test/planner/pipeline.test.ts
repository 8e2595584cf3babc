// The pipelined schedule on a realistic generated fleet: groups start as soon as their dependencies are done
// and a slot is free (no wave barrier), every dependency is one a move needs, nothing moves twice, and the
// same inventory gives the same plan.
import test from 'ava';
import { generateFleet } from '../../src/fleet/generate.ts';
import type { PlannedGroup } from '../../src/model/plan.ts';
import { buildPlan } from '../../src/planner/plan.ts';
import { replay } from './replay.ts';

// Four spares per AZ: enough upgraded room for the first groups of each, so every VM can move once.
const fleet = () => generateFleet({ hosts: 300, vmsPerHost: 20, utilisation: 0.8, seed: 20, spareHosts: 12 });

test('generated fleet: the timeline breaks no rule, every VM moves once, and peaks stay within the limits', (t) => {
  const inv = fleet();
  const plan = buildPlan(inv);
  t.true(plan.summary.runnable);
  t.is(plan.summary.migrations, plan.summary.migrationsLowerBound);
  t.deepEqual(plan.summary.movedMoreThanOnce, []);
  const r = replay(inv, plan);
  t.deepEqual(r.violations, []);
  t.true(r.peakGroups <= inv.rules.concurrency.groups);
  const largest = Math.max(...plan.groups.map((g) => g.hosts.length));
  t.true(r.peakHosts <= inv.rules.concurrency.groups * largest);
});

test('pipelined: groups start while groups started earlier still run, at many different instants', (t) => {
  const plan = buildPlan(fleet());
  const running = plan.groups.filter((g) => g.wave >= 0);
  // A group that starts strictly inside another's run, at another instant: no wave barrier held it back.
  const overlapping = running.filter((g) => running.some((o) => o.estimate.startSeconds < g.estimate.startSeconds && o.estimate.endSeconds > g.estimate.startSeconds));
  t.true(overlapping.length > running.length / 2, `${overlapping.length} of ${running.length}`);
  // Normal groups start as soon as their targets are upgraded: the first ones right after the spares they use.
  const normal = running.filter((g) => g.tier === 'normal');
  const firstNormal = Math.min(...normal.map((g) => g.estimate.startSeconds));
  const spareEnds = running.filter((g) => g.tier === 'spare').map((g) => g.estimate.endSeconds);
  t.is(firstNormal, Math.min(...spareEnds));
});

test('every dependency is needed: a group waits only for groups that upgraded a host its VMs go to, or that parked VMs on its hosts', (t) => {
  const plan = buildPlan(fleet());
  const byName = new Map(plan.groups.map((g) => [g.name, g]));
  const hostsOf = (g: PlannedGroup) => new Set(g.hosts);
  for (const g of plan.groups) {
    for (const d of g.after) {
      const dep = byName.get(d)!;
      const upgradesATarget = g.moves.some((m) => hostsOf(dep).has(m.to));
      const parkedHere = dep.moves.some((m) => hostsOf(g).has(m.to));
      t.true(upgradesATarget || parkedHere, `${g.name} waits for ${d} for no reason`);
    }
    t.is(new Set(g.after).size, g.after.length, `${g.name}: duplicate dependencies`);
  }
});

test('the plan order is the estimated start order, and waves are its start instants', (t) => {
  const plan = buildPlan(fleet());
  const running = plan.groups.filter((g) => g.wave >= 0);
  for (let i = 1; i < running.length; i++) t.true(running[i]!.estimate.startSeconds >= running[i - 1]!.estimate.startSeconds, running[i]!.name);
  for (const w of plan.waves) {
    for (const n of w.groups) {
      const g = plan.groups.find((x) => x.name === n)!;
      t.is(g.wave, w.index);
      t.is(g.estimate.startSeconds, w.startSeconds);
    }
  }
  t.is(plan.summary.estimatedSeconds, Math.max(...running.map((g) => g.estimate.endSeconds)));
});

test('the same inventory gives the same pipelined plan, dependencies included', (t) => {
  t.is(JSON.stringify(buildPlan(fleet())), JSON.stringify(buildPlan(fleet())));
});

test('maintenance budget: per failure domain, the capacity that may be out at once keeping the headroom', (t) => {
  const inv = fleet();
  const plan = buildPlan(inv);
  const az = 'az=az1';
  const hosts = inv.hosts.filter((h) => h.labels.az === 'az1');
  const names = new Set(hosts.map((h) => h.name));
  const cap = hosts.reduce((n, h) => n + h.capacity.memoryMiB, 0);
  const load = inv.vms.filter((v) => names.has(v.host)).reduce((n, v) => n + v.memoryMiB, 0);
  // VMs never leave their AZ here, so the load of az1 is the same all campaign long.
  t.is(plan.settings.maintenanceBudget[az]!.memoryMiB, Math.floor(cap - load / (1 - inv.rules.headroom.memoryPercent / 100)));
  // The estimated timeline never takes more of az1 out at once than that budget.
  const inAz = plan.groups.filter((g) => g.wave >= 0 && g.domains.includes(az));
  for (const g of inAz) {
    const out = inAz.filter((o) => o.estimate.startSeconds <= g.estimate.startSeconds && o.estimate.endSeconds > g.estimate.startSeconds).reduce((n, o) => n + o.capacity.memoryMiB, 0);
    t.true(out <= plan.settings.maintenanceBudget[az]!.memoryMiB, g.name);
  }
});
