// The pipelined campaign, run for real over SSH: what `run` starts and when, from the engine's own events.
// A group never starts before the groups it depends on are done; canaries finish before normal groups start,
// normal ones before critical ones; the limits hold at every instant; and groups do not wait for a wave.
import test from 'ava';
import { runCampaign } from '../../src/engine/campaign-runner.ts';
import type { EngineEvent } from '../../src/model/events.ts';
import type { SensitivityClass } from '../../src/model/inventory.ts';
import type { CommandHandler } from '../helpers/ssh-fleet.ts';
import { host, inventory, vm } from '../planner/fixtures.ts';
import { startRig } from './campaign-fixture.ts';

const sensitivity: SensitivityClass[] = [
  { class: 'critical', match: { tier: 'db' }, order: 'last', approval: false, maxConcurrentGroups: 1 },
  { class: 'canary', match: { canary: 'true' }, order: 'first', approval: false },
];

function fleet() {
  const hosts = Array.from({ length: 9 }, (_, i) => host(`hv-${i + 1}`, { rack: `r${(i % 3) + 1}` }, 16, 8192));
  const vms = [
    vm('canary-1', 'hv-1', 512, 1, { canary: 'true' }),
    ...['hv-2', 'hv-3', 'hv-4', 'hv-5', 'hv-6'].flatMap((h, i) => [vm(`web-${i}a`, h, 1024, 1), vm(`web-${i}b`, h, 1024, 1)]),
    vm('db-1', 'hv-7', 1024, 1, { tier: 'db' }),
    vm('db-2', 'hv-8', 1024, 1, { tier: 'db' }),
  ];
  // hv-9 is the spare.
  return inventory(hosts, vms, { sensitivity, concurrency: { groups: 3, migrations: 4, migrationsPerHost: 2 } });
}

test('run starts each group once its dependencies are done and the limits allow it, tiers in order, no wave barrier', async (t) => {
  const rig = await startRig({ from: fleet() });
  t.teardown(() => rig.close());
  const plan = rig.deps.plan;
  // hv-4 answers slowly: hv-5 and hv-6 (which wait for hv-2 and hv-3 only) must not wait for it.
  const fleetHandler = rig.fleet as unknown as { handler: CommandHandler };
  const original = fleetHandler.handler;
  fleetHandler.handler = async (h, argv, ctx) => {
    if (h === 'hv-4') await new Promise((r) => setTimeout(r, 60));
    return original(h, argv, ctx);
  };
  t.deepEqual(byNameOf(plan, 'hv-5').after, ['hv-2', 'hv-3']);
  t.false(byNameOf(plan, 'hv-6').after.includes('hv-4'));
  const byName = new Map(plan.groups.map((g) => [g.name, g]));
  const events: EngineEvent[] = [];
  const outcome = await runCampaign(rig.deps, { controlPollMs: 20, listener: (e) => events.push(e) });
  t.is(outcome.state, 'done');
  t.is(plan.summary.migrations, plan.summary.migrationsLowerBound);

  const done = new Set<string>();
  const running = new Set<string>();
  const startedAt = new Map<string, number>();
  let peak = 0;
  events.forEach((e, i) => {
    if (e.type === 'group.started') {
      const g = byName.get(e.group)!;
      for (const d of g.after) t.true(done.has(d), `${g.name} started before ${d}, which it waits for, was done`);
      for (const o of plan.groups) {
        if (o.wave < 0) continue;
        if (g.tier === 'normal' && o.tier === 'first') t.true(done.has(o.name), `${g.name} started before canary ${o.name} finished`);
        if (g.tier === 'last' && (o.tier === 'first' || o.tier === 'normal')) t.true(done.has(o.name), `${g.name} started before ${o.name} finished`);
      }
      running.add(e.group);
      startedAt.set(e.group, i);
      peak = Math.max(peak, running.size);
      t.true(running.size <= plan.settings.concurrency.groups, `${running.size} groups at once`);
      t.true([...running].filter((n) => byName.get(n)!.class === 'critical').length <= 1, 'critical: one at a time');
    }
    if (e.type === 'group.finished') {
      t.is(e.state, 'done');
      running.delete(e.group);
      done.add(e.group);
    }
  });
  t.is(done.size, plan.groups.filter((g) => g.wave >= 0).length);
  t.true(peak >= 2, 'groups ran at the same time');
  // No barrier: some group started while a group of an earlier start instant was still running.
  const overlapped = plan.groups.some((g) =>
    plan.groups.some((o) => o.wave >= 0 && o.wave < g.wave && startedAt.get(o.name)! < startedAt.get(g.name)! && !finishedBefore(events, o.name, startedAt.get(g.name)!)),
  );
  t.true(overlapped, 'a group started while one started earlier was still running');
  t.true(startedAt.get('hv-5')! < events.findIndex((e) => e.type === 'group.finished' && e.group === 'hv-4'), 'hv-5 did not wait for the slow hv-4');
});

function byNameOf(plan: { groups: { name: string; after: string[] }[] }, name: string) {
  return plan.groups.find((g) => g.name === name)!;
}

function finishedBefore(events: EngineEvent[], group: string, index: number): boolean {
  return events.slice(0, index).some((e) => e.type === 'group.finished' && e.group === group);
}
