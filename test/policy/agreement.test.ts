// The plan's promise and the run's behaviour agree: the plan's own timeline, replayed through the engine's
// admission (src/engine/admission.ts) — each group lasting exactly its estimate — starts the same groups in
// the same order at the same instants as the planner did (src/planner/schedule.ts). Both ask the one policy
// (src/policy/); what they hold apart is the headroom: the planner checks it on the exact fleet state, the
// engine against the plan's maintenanceBudget. Those agree when VMs stay within their failure domain, as in
// these fleets (failure domain = migration domain). Where VMs cross failure domains, the budget counts VMs the
// plan brings in later and the run may start a group of that domain later than the timeline shows (safe).
import test from 'ava';
import { Admission } from '../../src/engine/admission.ts';
import { generateFleet } from '../../src/fleet/generate.ts';
import { loadInventory } from '../../src/inventory/load.ts';
import type { Inventory } from '../../src/model/inventory.ts';
import type { PlanFile } from '../../src/model/plan.ts';
import { buildPlan } from '../../src/planner/plan.ts';
import { randomFleet } from '../planner/fixtures.ts';

/** Start order and instants the engine's admission gives the plan's groups, each lasting its estimate. */
function replayThroughEngine(plan: PlanFile, inv: Inventory): { group: string; at: number }[] {
  const hosts = new Map(inv.hosts.map((h) => [h.name, h]));
  const a = new Admission(plan, {
    hostCapacity: (name) => {
      const c = hosts.get(name)!.capacity;
      return { memoryMiB: c.memoryMiB, vcpus: c.vcpus * plan.settings.cpuOvercommit };
    },
  });
  const byName = new Map(plan.groups.map((g) => [g.name, g]));
  const ends = new Map<string, number>();
  const starts: { group: string; at: number }[] = [];
  let now = 0;
  for (;;) {
    for (const name of a.next()) {
      a.set(name, 'running');
      const e = byName.get(name)!.estimate;
      ends.set(name, now + (e.endSeconds - e.startSeconds));
      starts.push({ group: name, at: now });
    }
    if (ends.size === 0) break;
    now = Math.min(...ends.values());
    for (const [name, end] of ends) {
      if (end > now + 1e-6) continue;
      ends.delete(name);
      a.set(name, 'done');
    }
  }
  return starts;
}

function agree(t: { deepEqual(a: unknown, b: unknown, m: string): void; true(c: boolean, m: string): void }, what: string, inv: Inventory): void {
  for (const strategy of ['upgrade-aware', 'naive'] as const) {
    const plan = buildPlan(inv, { strategy }) as PlanFile;
    t.true(plan.summary.runnable, `${what} ${strategy}: runnable`);
    const planned = plan.groups.filter((g) => g.wave >= 0).map((g) => ({ group: g.name, at: g.estimate.startSeconds }));
    const engine = replayThroughEngine(plan, inv).map((s) => ({ group: s.group, at: Math.round(s.at * 10) / 10 }));
    t.deepEqual(engine, planned, `${what} ${strategy}`);
  }
}

test('generated fleets (3 AZs; class limits, canaries, spares): the engine starts what the plan starts, in order, when the plan says', (t) => {
  for (const [hosts, seed] of [[200, 20], [600, 3], [1000, 20]] as const) agree(t, `generated ${hosts}/${seed}`, generateFleet({ hosts, vmsPerHost: 20, utilisation: 0.8, seed }));
  const tight = generateFleet({ hosts: 300, vmsPerHost: 12, utilisation: 0.7, seed: 8, azs: 3 });
  tight.rules.concurrency = { ...tight.rules.concurrency, groups: 3, groupsPerDomain: 1 };
  agree(t, 'generated 300 with groupsPerDomain 1', tight);
});

test('random fleets (headroom, anti-affinity, class limits, groupsPerDomain): the engine starts what the plan starts, in order, when the plan says', (t) => {
  for (let seed = 1; seed <= 12; seed++) {
    agree(t, `random A ${seed}`, randomFleet({ hosts: 40, utilisation: 0.6, spare: 2, seed, azs: 2, groupSize: 2, headroom: 10 }));
    agree(t, `random B ${seed}`, randomFleet({ hosts: 36, utilisation: 0.5, spare: 3, seed, azs: 3, racks: 6, groupSize: 3, groups: 4, antiAffinityClusters: 5, headroom: 15 }));
    const perDomain = randomFleet({ hosts: 30, utilisation: 0.7, spare: 2, seed, azs: 3, groups: 4, headroom: 20 });
    perDomain.rules.concurrency = { ...perDomain.rules.concurrency, groupsPerDomain: 1 };
    agree(t, `random per-domain ${seed}`, perDomain);
  }
});

test('the example inventory, upgrade-aware: the engine starts what the plan starts', async (t) => {
  const { inventory } = await loadInventory(['inventory/example.yaml']);
  const plan = buildPlan(inventory) as PlanFile;
  t.deepEqual(
    replayThroughEngine(plan, inventory).map((s) => s.group),
    plan.groups.filter((g) => g.wave >= 0).map((g) => g.name),
  );
});
