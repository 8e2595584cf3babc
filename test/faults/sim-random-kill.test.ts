// Fault matrix 1 (simulator half): a seeded random-kill loop. The example campaign runs in virtual time with
// the real engine and store; it is killed -9 (see sim-crash.ts) at random command boundaries, before or after
// the command (and, in half the campaigns, right before or after a store append), and resumed each time,
// until it ends. 5 % of migration attempts fail, and 5 % are cut short in their last phase (the VM moves, a
// paused copy stays on the source), so kills also land between such a cut and the removal of that copy. I1–I5
// and I7 are checked after every journalled event and at the end; I6's argv check at the end.
// At least 200 kills over the seeds. Then a tight three-AZ fleet whose upgrades go wrong (hosts failing their
// verification, postinsts leaving the package half-configured) under the same kills: I1–I7 and the simulator's
// own checker (headroom, limits counting the hosts failed groups left out of the pool) after every event.
import test from 'ava';
import { generateFleet } from '../../src/fleet/generate.ts';
import { loadInventory } from '../../src/inventory/load.ts';
import { loadRunbook } from '../../src/runbook/load.ts';
import { crashingCampaign, type CrashRunReport } from './sim-crash.ts';

const runbook = await loadRunbook('runbooks/libvirt.yaml');
const { inventory } = await loadInventory(['inventory/example.yaml']);

function summary(r: CrashRunReport): string {
  return `${r.kills} kills (${r.killsBefore} before a command, ${r.killsAfter} after, ${r.killsInWrites} at a store append; ${r.openIntentsAtResume} intents left open), ${r.commands} commands, ${r.leftoverCommands} removing stopped copies, ${r.checker.checks} checks, outcome ${r.outcome.state}`;
}

test('seeded random kill -9 loop over the simulated example campaign: every resume succeeds, I1–I7 hold after every journalled event', async (t) => {
  t.timeout(600_000);
  const seeds = [101, 202, 303, 404, 505, 606];
  let kills = 0;
  let checks = 0;
  let leftovers = 0;
  for (const seed of seeds) {
    // The last three campaigns are also killed right before and after store appends.
    const r = await crashingCampaign({ inventory, runbook, seed, killEvery: 25, maxKills: 40, migrationFailRate: 0.05, migrationCutShortRate: 0.05, preDisabled: [inventory.hosts[3]!.name], killInWrites: seed >= 404 });
    kills += r.kills;
    leftovers += r.leftoverCommands;
    checks += r.checker.checks;
    t.log(`seed ${seed}: ${summary(r)}`);
    t.deepEqual(r.checker.violations, [], `seed ${seed}: invariant violations`);
    t.is(r.checker.total, 0);
    t.is(r.capacityViolations, 0, `seed ${seed}: capacity/anti-affinity/maintenance (simulator's own checker)`);
    t.true(['done', 'stopped'].includes(r.outcome.state), `seed ${seed}: ended ${r.outcome.state}`);
    t.is(r.incarnations, r.kills + 1, 'every kill was followed by a resume that got going');
  }
  t.log(`${kills} kills over ${seeds.length} campaigns, ${checks} invariant checks, ${leftovers} commands removing stopped copies, 0 violations`);
  t.true(kills >= 200, `only ${kills} kills`);
  t.true(leftovers > 0, 'some migrations were cut short and their copies removed');
});

// The sweep's tight fleet (sim-sweep.test.ts), with fewer, larger VMs: each AZ's headroom spares one host at a
// time; four groups at once; a failure budget of 3 keeps the campaign going after its first failures.
const tight = generateFleet({ hosts: 18, vmsPerHost: 4, utilisation: 0.64, seed: 1, azs: 3, spareHosts: 6 });
tight.rules.concurrency.groups = 4;
tight.rules.failureBudget = 3;

for (const fault of ['verification', 'upgrade'] as const) {
  const what = fault === 'verification' ? 'hosts failing their verification' : 'upgrades failing half-way (postinst exits 1, the package half-configured)';
  test(`${what} on a tight three-AZ fleet, killed at random: I1–I7 and the simulator's checker hold, broken hosts out of the pool and named`, async (t) => {
    t.timeout(600_000);
    let kills = 0;
    let failed = 0;
    let leftOut = 0;
    for (const seed of fault === 'verification' ? [1, 4] : [1, 8]) {
      const rates = fault === 'verification' ? { verifyFailRate: 0.15 } : { upgradeFailRate: 0.15 };
      const r = await crashingCampaign({ inventory: tight, runbook, seed, killEvery: 8, maxKills: 25, migrationFailRate: 0.05, ...rates, killInWrites: seed % 2 === 1 });
      kills += r.kills;
      failed += r.outcome.failed.length;
      leftOut += r.outcome.outOfPool.length;
      t.log(`seed ${seed}: ${summary(r)}; failed ${r.outcome.failed.join(', ') || 'none'}, out of the pool ${r.outcome.outOfPool.map((o) => o.host).join(', ') || 'none'}`);
      t.deepEqual(r.checker.violations, [], `seed ${seed}: invariant violations`);
      t.deepEqual(r.capacityExamples, [], `seed ${seed}: the simulator's own checker (capacity, anti-affinity, headroom, limits)`);
      t.is(r.incarnations, r.kills + 1);
    }
    t.log(`${kills} kills, ${failed} failed groups, ${leftOut} hosts left out of the pool`);
    t.true(failed > 0, 'some groups failed');
  });
}

test('a week between each kill and its resume: nothing expired — drained hosts are still known as drained and re-enabled at the end', async (t) => {
  t.timeout(300_000);
  const r = await crashingCampaign({ inventory, runbook, seed: 77, killEvery: 25, maxKills: 12, downtimeMs: 7 * 86_400_000, preDisabled: [inventory.hosts[5]!.name] });
  t.log(summary(r));
  t.is(r.kills, 12);
  t.deepEqual(r.checker.violations, []);
  t.is(r.outcome.state, 'done');
});

test('the same loop catches a reconcile that does not check first: an upgrade step without its check re-installs after a kill', async (t) => {
  const broken = structuredClone(runbook);
  broken.steps.upgrade!.check = [];
  let found = 0;
  for (const seed of [7, 8, 9]) {
    const r = await crashingCampaign({ inventory, runbook: broken, seed, killEvery: 10, maxKills: 30 });
    found += r.checker.counts.I4 + r.checker.counts.I2;
    if (found > 0) break;
  }
  t.true(found > 0, 'the checker saw the repeated side effect');
});

test('the same loop catches a leftover removal aimed at the wrong host: destroying the copy on the target loses the VM (I1)', async (t) => {
  const broken = structuredClone(runbook);
  for (const l of broken.steps.migrate!.leftover) for (const c of l.run) c.on = 'target';
  const r = await crashingCampaign({ inventory, runbook: broken, seed: 11, killEvery: 25, maxKills: 5, migrationCutShortRate: 0.2 });
  t.true(r.checker.counts.I1 > 0, `I1 violations: ${r.checker.counts.I1}`);
  t.true(r.checker.violations.some((v) => v.invariant === 'I1' && /sent to the host where .* runs|is lost/.test(v.message)), JSON.stringify(r.checker.violations.slice(0, 3)));
});
