import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { generateFleet } from '../../src/fleet/generate.ts';
import { loadInventory } from '../../src/inventory/load.ts';
import { loadRunbook } from '../../src/runbook/load.ts';
import { simulate, simulateOnce } from '../../src/app/simulate.ts';

const runbook = await loadRunbook('runbooks/libvirt.yaml');

test('the example fleet, both strategies: finishes, 0 violations at any instant, every VM where the plan put it, makespan ≥ T_LB', async (t) => {
  const { inventory } = await loadInventory(['inventory/example.yaml']);
  const report = await simulate({ inventory, runbook, seed: 7 }, 'both');
  t.is(report.runs.length, 2);
  for (const r of report.runs) {
    t.is(r.outcome, 'done', r.strategy);
    t.is(r.violations.total, 0, r.strategy);
    t.is(r.placementMismatches, 0, r.strategy);
    t.true(r.makespanSeconds >= r.lowerBound.seconds, `${r.strategy}: ${r.makespanSeconds} ≥ ${r.lowerBound.seconds}`);
    // The rules-aware bound: canary, normal and critical tiers in sequence; db-critical one group at a time.
    t.true(r.lowerBound.rulesSeconds >= r.lowerBound.seconds);
    t.true(r.makespanSeconds >= r.lowerBound.rulesSeconds, `${r.strategy}: ${r.makespanSeconds} ≥ rules-aware ${r.lowerBound.rulesSeconds}`);
    const last = r.lowerBound.tiers.find((x) => x.tier === 'last');
    t.is(last?.groups, 3);
    t.deepEqual([last?.chain?.class, last?.chain?.limit], ['db-critical', 1]);
    t.true(last!.seconds >= last!.chain!.seconds);
    t.is(r.migrations.done, r.migrations.planned);
    t.true(r.maintenance.peak <= r.maintenance.limit);
  }
  const [ours, naive] = report.runs;
  t.true(ours!.migrations.done < naive!.migrations.done, 'upgrade-aware moves fewer VMs than naive');
  t.truthy(report.comparison);
});

test('a generated fleet with random spread: makespan ≥ T_LB, no VM moved more than twice, 0 violations', async (t) => {
  const inventory = generateFleet({ hosts: 200, vmsPerHost: 20, utilisation: 0.8, seed: 20 });
  {
    const spread = 0.3;
    const r = await simulateOnce({ inventory, runbook, seed: 3, spread }, 'upgrade-aware');
    t.is(r.outcome, 'done');
    t.is(r.violations.total, 0);
    t.is(r.placementMismatches, 0);
    t.true(r.makespanSeconds >= r.lowerBound.seconds, `spread ${spread}: ${r.makespanSeconds} ≥ ${r.lowerBound.seconds}`);
    t.is(r.migrations.movedMoreThanTwice, 0);
  }
});

test('the simulator has no branch in the engine: src/engine never imports src/sim, and the simulator drives runCampaign', (t) => {
  for (const f of readdirSync('src/engine', { recursive: true, encoding: 'utf8' }).filter((n) => n.endsWith('.ts'))) {
    const text = readFileSync(`src/engine/${f}`, 'utf8');
    t.false(/from '(\.\.\/)+sim\//.test(text), `src/engine/${f} imports the simulator`);
    const code = text.split('\n').filter((l) => !/^\s*(\/\/|\*|\/\*)/.test(l)).join('\n');
    t.false(/simulat|virtual/i.test(code), `src/engine/${f} has simulator-specific code`);
  }
  const sim = readFileSync('src/app/simulate.ts', 'utf8');
  t.regex(sim, /import \{ runCampaign[^}]*\} from '\.\.\/engine\/campaign-runner\.ts'/);
  t.regex(sim, /CampaignStore\.create/);
});

test('a shutdown-policy VM in the simulator: shut down after its drain, started after its rejoin, the campaign finishes clean', async (t) => {
  const { inventory } = await loadInventory(['inventory/example.yaml']);
  const stuck = inventory.vms.find((v) => v.labels.tier === 'web')!;
  const inv = { ...inventory, vms: inventory.vms.map((v) => (v === stuck ? { ...v, migratable: false } : v)), rules: { ...inventory.rules, nonMigratable: { policy: 'shutdown' as const, groups: {} } } };
  const r = await simulateOnce({ inventory: inv, runbook, seed: 7 }, 'upgrade-aware');
  t.is(r.outcome, 'done');
  t.is(r.violations.total, 0);
  t.is(r.placementMismatches, 0);
});
