import test from 'ava';
import { loadInventory } from '../../src/inventory/load.ts';
import { loadRunbook } from '../../src/runbook/load.ts';
import { simulateOnce } from '../../src/app/simulate.ts';

const runbook = await loadRunbook('runbooks/libvirt.yaml');
const { inventory } = await loadInventory(['inventory/example.yaml']);

test('injected migration failures are seeded: the same seed gives the same run, another seed another', async (t) => {
  const run = (seed: number) => simulateOnce({ inventory, runbook, seed, migrationFailRate: 0.2, spread: 0.2 }, 'upgrade-aware');
  const a = await run(11);
  const b = await run(11);
  const c = await run(12);
  t.true(a.migrations.failedAttempts > 0, 'some migrations failed');
  t.is(a.migrations.failedAttempts, b.migrations.failedAttempts);
  t.is(a.makespanSeconds, b.makespanSeconds);
  t.is(a.orchestrator.checkpoints, b.orchestrator.checkpoints);
  t.deepEqual(a.failedGroups, b.failedGroups);
  t.not(`${a.makespanSeconds}/${a.migrations.failedAttempts}`, `${c.makespanSeconds}/${c.migrations.failedAttempts}`);
  t.is(a.violations.total, 0, 'a failed migration releases its target: nothing is overcommitted');
});

test('verification failures beyond the failure budget stop the campaign; failed hosts stay out of the pool', async (t) => {
  const r = await simulateOnce({ inventory, runbook, seed: 5, verifyFailRate: 0.9 }, 'upgrade-aware');
  t.is(r.outcome, 'stopped');
  t.true(r.failedGroups.length > 0);
  t.true(r.outOfPool > 0);
  t.is(r.placementMismatches, null);
  t.is(r.violations.total, 0);
  const again = await simulateOnce({ inventory, runbook, seed: 5, verifyFailRate: 0.9 }, 'upgrade-aware');
  t.deepEqual(again.failedGroups, r.failedGroups);
  t.is(again.makespanSeconds, r.makespanSeconds);
});
