// A group that fails after its upgrade leaves its hosts out of the pool, and they keep counting against the
// limits: the next groups do not start in their place. On a small 3-AZ fleet with 2 groups at once, one host
// each, 5 % of verifications failing and durations spread ±30 %, the independent checker never sees more hosts
// in maintenance than the limit (it saw 3 of 2 before, in every one of these seeds).
import test from 'ava';
import { generateFleet } from '../../src/fleet/generate.ts';
import { loadRunbook } from '../../src/runbook/load.ts';
import { simulateOnce } from '../../src/app/simulate.ts';

const runbook = await loadRunbook('runbooks/libvirt.yaml');

function smallFleet(failureBudget: number) {
  const inventory = generateFleet({ hosts: 30, vmsPerHost: 10, utilisation: 0.6, seed: 1, azs: 3 });
  inventory.rules.concurrency = { ...inventory.rules.concurrency, groups: 2 };
  inventory.rules.grouping = { kind: 'by-label', by: 'rack', maxHostsPerGroup: 1 };
  inventory.rules.failureBudget = failureBudget;
  return inventory;
}

for (const failureBudget of [1, 3]) {
  test(`3 AZs, 2 groups at once, verify fails 5 %, spread 0.3, failure budget ${failureBudget}: never more hosts in maintenance than the limit`, async (t) => {
    const inventory = smallFleet(failureBudget);
    let failed = 0;
    let paused = 0;
    for (const seed of [1, 2, 4, 5, 6, 8]) {
      const r = await simulateOnce({ inventory, runbook, seed, verifyFailRate: 0.05, spread: 0.3 }, 'upgrade-aware');
      t.is(r.maintenance.limit, 2);
      t.deepEqual(r.violations.examples.map((v) => v.message), [], `seed ${seed}`);
      t.true(r.maintenance.peak <= r.maintenance.limit, `seed ${seed}: peak ${r.maintenance.peak}`);
      failed += r.failedGroups.length;
      if (r.outcome === 'paused') paused++;
    }
    t.true(failed >= 6, `${failed} groups failed verification over the seeds: the case is exercised`);
    if (failureBudget === 3) t.true(paused > 0, 'with room in the failure budget, some campaigns pause: only released hosts would let the rest start');
  });
}
