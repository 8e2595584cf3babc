// Fault matrix 3 (npm run test:faults): a sweep of `hvroll simulate` over seeds, injected failures and spreads on
// three small fleets of different shapes. The simulator's own safety checker (src/sim/invariants.ts: capacity,
// anti-affinity, each failure domain's headroom, hosts and groups out of the pool against the limits — a host a
// failed group left out counting until it is back) must see 0 violations in every run, whatever fails: migration
// attempts, upgrades (the package left half-configured), verifications.
import test from 'ava';
import { generateFleet, type FleetOptions } from '../../src/fleet/generate.ts';
import { mulberry32, pick } from '../../src/fleet/random.ts';
import type { Inventory } from '../../src/model/inventory.ts';
import type { PlacementStrategy } from '../../src/model/plan.ts';
import { loadRunbook } from '../../src/runbook/load.ts';
import { simulateOnce } from '../../src/app/simulate.ts';

const runbook = await loadRunbook('runbooks/libvirt.yaml');
const SEEDS = 50;

interface Shape {
  name: string;
  fleet: FleetOptions;
  groups: number;
  /** Hosts per group (the generator makes racks of up to 4). */
  maxHostsPerGroup?: number;
}

// Small enough that 150 campaigns take a few minutes on 2 cores; a failure budget of 3 keeps a campaign going
// after its first failures, which is when hosts left out of the pool must still count.
const SHAPES: Shape[] = [
  // Three AZs, one host per group, two groups at once: a failed group's host and two running ones are three.
  { name: 'three AZs', fleet: { hosts: 12, vmsPerHost: 8, utilisation: 0.6, seed: 1, azs: 3 }, groups: 2 },
  // One AZ, one host per group, four spares and room to spare: many groups depend on the spares alone, so they
  // run side by side in one domain, bound by concurrency alone.
  { name: 'one AZ', fleet: { hosts: 10, vmsPerHost: 6, utilisation: 0.3, seed: 1, azs: 1, spareHosts: 4 }, groups: 2, maxHostsPerGroup: 1 },
  // Tight capacity: each AZ's headroom can spare one host at a time (maintenance budget ≈ 1.7 hosts), so the
  // headroom, not concurrency.groups, is what limits the campaign.
  { name: 'tight capacity', fleet: { hosts: 18, vmsPerHost: 8, utilisation: 0.64, seed: 1, azs: 3, spareHosts: 6 }, groups: 4 },
];

function fleetOf(shape: Shape): Inventory {
  const inventory = generateFleet(shape.fleet);
  inventory.rules.concurrency.groups = shape.groups;
  inventory.rules.failureBudget = 3;
  if (shape.maxHostsPerGroup !== undefined && inventory.rules.grouping.kind === 'by-label') inventory.rules.grouping.maxHostsPerGroup = shape.maxHostsPerGroup;
  return inventory;
}

/** The failure rates, spread and placement of one run: drawn from the seed, so every run can be replayed. */
function drawRun(seed: number, shape: number) {
  const random = mulberry32(seed * 7919 + shape);
  return {
    migrationFailRate: [0, 0.02, 0.05, 0.1][pick(random, 4)]!,
    verifyFailRate: [0, 0.05, 0.1][pick(random, 3)]!,
    upgradeFailRate: [0, 0.05][pick(random, 2)]!,
    spread: [0, 0.15, 0.3][pick(random, 3)]!,
    strategy: (['upgrade-aware', 'naive'] as PlacementStrategy[])[pick(random, 2)]!,
  };
}

test(`sweep: ${SEEDS} seeds × ${SHAPES.length} fleets with failing migrations, upgrades and verifications: the simulator's checker sees 0 violations`, async (t) => {
  t.timeout(600_000);
  const started = Date.now();
  let runs = 0;
  let failedGroups = 0;
  let leftOut = 0;
  const broken: string[] = [];
  const byKind: Record<string, number> = {};
  for (const [i, shape] of SHAPES.entries()) {
    const inventory = fleetOf(shape);
    for (let seed = 1; seed <= SEEDS; seed++) {
      const { strategy, ...rates } = drawRun(seed, i);
      const r = await simulateOnce({ inventory, runbook, seed, ...rates }, strategy);
      runs++;
      failedGroups += r.failedGroups.length;
      leftOut += r.outOfPool;
      if (r.violations.total === 0) continue;
      for (const k of ['capacity', 'anti-affinity', 'headroom', 'maintenance'] as const) byKind[k] = (byKind[k] ?? 0) + r.violations[k];
      const first = r.violations.examples[0]!;
      broken.push(
        `${shape.name} seed ${seed} (${strategy}, migration ${rates.migrationFailRate}, upgrade ${rates.upgradeFailRate}, verify ${rates.verifyFailRate}, spread ${rates.spread}; failed ${r.failedGroups.join(', ') || 'none'}): ${r.violations.total} violation(s), e.g. ${first.kind} at +${Math.round(first.atMs / 1000)} s on ${first.host}: ${first.message}`,
      );
    }
  }
  for (const line of broken) t.log(line);
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  t.log(`${runs} simulated campaigns in ${seconds} s: ${failedGroups} failed groups, ${leftOut} hosts left out of the pool; ${broken.length} runs with violations ${JSON.stringify(byKind)}`);
  t.deepEqual(broken, []);
});
