// The runtime rules by which `run` starts groups: dependencies, order tiers, class order, limits, headroom.
import test from 'ava';
import { Admission } from '../../src/engine/admission.ts';
import type { GroupTier, PlanFile, PlannedGroup } from '../../src/model/plan.ts';

interface G {
  name: string;
  tier?: GroupTier;
  class?: string;
  after?: string[];
  domains?: string[];
  memoryMiB?: number;
}

function plan(groups: G[], concurrency: Partial<PlanFile['settings']['concurrency']> = {}, budget: PlanFile['settings']['maintenanceBudget'] = {}): PlanFile {
  const planned: PlannedGroup[] = groups.map((g, index) => ({
    name: g.name,
    index,
    wave: index,
    class: g.class ?? 'standard',
    tier: g.tier ?? 'normal',
    reason: '',
    hosts: [g.name],
    skippedHosts: [],
    domains: g.domains ?? ['rack=r1'],
    approval: false,
    status: 'ready',
    capacity: { memoryMiB: g.memoryMiB ?? 100, vcpus: 10 },
    after: g.after ?? [],
    nonMigratable: [],
    moves: [],
    estimate: { startSeconds: 0, drainSeconds: 0, maintenanceSeconds: 0, endSeconds: 0 },
  }));
  return {
    settings: {
      concurrency: { groups: 8, migrations: 8, migrationsPerHost: 2, groupsPerDomain: null, classes: {}, ...concurrency },
      failureBudget: 0,
      maintenanceBudget: budget,
    },
    groups: planned,
  } as unknown as PlanFile;
}

/** Start what may start, like the runner does. */
function startAll(a: Admission): string[] {
  const names = a.next();
  for (const n of names) a.set(n, 'running');
  return names;
}

test('a group starts only once every group in its after is done; others do not wait for it', (t) => {
  const a = new Admission(plan([{ name: 'spare', tier: 'spare' }, { name: 'a', after: ['spare'] }, { name: 'b', after: ['spare'] }, { name: 'c', after: ['a'] }]));
  t.deepEqual(startAll(a), ['spare']);
  t.deepEqual(a.next(), [], 'a and b wait for the spare');
  a.set('spare', 'done');
  t.deepEqual(startAll(a), ['a', 'b']);
  a.set('b', 'done');
  t.deepEqual(a.next(), [], 'c waits for a, not for b');
  a.set('a', 'done');
  t.deepEqual(startAll(a), ['c']);
});

test('a later group of the same class may pass one that waits; one of another class may not', (t) => {
  const a = new Admission(plan([
    { name: 'x', tier: 'spare', class: 'spare' },
    { name: 'w1', class: 'web', after: ['x'] },
    { name: 'w2', class: 'web' },
    { name: 'd1', class: 'db' },
  ]));
  t.deepEqual(startAll(a), ['x', 'w2'], 'w2 passes w1 (same class); d1 (next class) does not pass w1');
  a.set('x', 'done');
  t.deepEqual(startAll(a), ['w1', 'd1']);
});

test('tiers are barriers: normal groups wait for every canary group, critical ones for every normal group, to finish', (t) => {
  const a = new Admission(plan([
    { name: 'canary', tier: 'first', class: 'canary' },
    { name: 'n1' },
    { name: 'n2' },
    { name: 'crit', tier: 'last', class: 'critical' },
  ]));
  t.deepEqual(startAll(a), ['canary']);
  a.set('canary', 'done');
  t.deepEqual(startAll(a), ['n1', 'n2']);
  a.set('n1', 'done');
  t.deepEqual(a.next(), [], 'n2 still runs');
  a.set('n2', 'failed');
  t.deepEqual(startAll(a), ['crit'], 'a failed group has finished (the failure budget decides whether to go on)');
});

test('concurrency.groups, the class maxConcurrentGroups and groupsPerDomain are held', (t) => {
  const groups = Array.from({ length: 6 }, (_, i) => ({ name: `g${i}`, domains: [`rack=r${i % 2}`] }));
  const a = new Admission(plan(groups, { groups: 3 }));
  t.deepEqual(startAll(a), ['g0', 'g1', 'g2']);
  t.is(a.runningCount, 3);
  a.set('g1', 'done');
  t.deepEqual(startAll(a), ['g3']);

  const c = new Admission(plan(groups.map((g) => ({ ...g, class: 'db' })), { classes: { db: 2 } }));
  t.deepEqual(startAll(c), ['g0', 'g1']);
  c.set('g0', 'done');
  t.deepEqual(startAll(c), ['g2']);

  const d = new Admission(plan(groups, { groupsPerDomain: 1 }));
  t.deepEqual(startAll(d), ['g0', 'g1'], 'one per rack');
  d.set('g0', 'done');
  t.deepEqual(startAll(d), ['g2']);
});

test('headroom: the capacity out of service per failure domain stays within the plan budget; a group alone always may start', (t) => {
  const groups = [
    { name: 'a', memoryMiB: 300 },
    { name: 'b', memoryMiB: 300 },
    { name: 'c', memoryMiB: 300, domains: ['rack=r2'] },
  ];
  const a = new Admission(plan(groups, {}, { 'rack=r1': { memoryMiB: 500, vcpus: 1000 }, 'rack=r2': { memoryMiB: 100, vcpus: 1000 } }));
  t.deepEqual(startAll(a), ['a', 'c'], 'a and b together (600 MiB) exceed the budget of r1 (500); c is alone in r2');
  a.set('a', 'done');
  t.deepEqual(startAll(a), ['b']);
});

test('a group whose dependency failed or was aborted is blocked for good, and so is one waiting for it', (t) => {
  const a = new Admission(plan([{ name: 'a' }, { name: 'b', after: ['a'] }, { name: 'c', after: ['b'] }, { name: 'd' }]));
  t.deepEqual(startAll(a), ['a', 'd']);
  a.set('a', 'failed');
  a.set('d', 'done');
  t.deepEqual(a.next(), []);
  t.deepEqual(a.blocked().map((b) => b.group), ['b', 'c']);
  t.regex(a.blocked()[0]!.why, /waits for group a, which failed/);
  t.regex(a.blocked()[1]!.why, /waits for group b, which is blocked/);
  t.deepEqual(a.waiting(), []);
});

test('a restored group that paused goes back to waiting and starts again', (t) => {
  const a = new Admission(plan([{ name: 'a' }, { name: 'b', after: ['a'] }]));
  t.deepEqual(startAll(a), ['a']);
  a.set('a', 'waiting');
  t.deepEqual(startAll(a), ['a']);
  a.set('a', 'done');
  t.deepEqual(startAll(a), ['b']);
});
