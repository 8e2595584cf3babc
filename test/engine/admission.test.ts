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

test('a failed group keeps its group, class and domain slots for the hosts it left out of the pool, until they are released', (t) => {
  const groups = [
    { name: 'a', class: 'db' },
    { name: 'b', class: 'db' },
    { name: 'c', class: 'db' },
  ];
  const a = new Admission(plan(groups, { groups: 2, classes: { db: 1 } }));
  t.deepEqual(startAll(a), ['a']);
  a.set('a', 'failed');
  a.leftOut('a', ['a']);
  t.deepEqual(a.next(), [], 'a failed after its upgrade: its host is out of the pool and holds the db slot');
  t.deepEqual(a.heldOutOfPool(), [{ group: 'a', hosts: ['a'] }]);
  t.deepEqual(a.waitingForRelease(), ['b'], 'b waits only for that host');
  t.true(a.release('a'));
  t.deepEqual(startAll(a), ['b']);
  t.deepEqual(a.heldOutOfPool(), []);

  const d = new Admission(plan(groups.map((g) => ({ ...g, class: 'web' })), { groups: 2, groupsPerDomain: 1 }));
  t.deepEqual(startAll(d), ['a']);
  d.set('a', 'aborted');
  d.leftOut('a', ['a']);
  t.deepEqual(d.next(), [], 'groupsPerDomain: the aborted group still holds rack r1');
  d.release('a');
  t.deepEqual(startAll(d), ['b']);
});

test('a failed group counts against concurrency.groups and the headroom budget only for the hosts still out; those re-enabled free theirs at once', (t) => {
  const p = plan([{ name: 'x' }, { name: 'y' }, { name: 'z' }], { groups: 2 }, { 'rack=r1': { memoryMiB: 250, vcpus: 1000 } });
  // x has two hosts of 100 MiB each; the others one of 100 MiB.
  const x = p.groups[0]!;
  x.hosts = ['x1', 'x2'];
  x.domains = ['rack=r1', 'rack=r1'];
  x.capacity = { memoryMiB: 200, vcpus: 20 };
  const a = new Admission(p);
  t.deepEqual(startAll(a), ['x'], 'y (100 MiB) would pass the budget of r1 (250) beside x (200)');
  a.set('x', 'failed');
  a.leftOut('x', ['x2']);
  t.deepEqual(a.heldOutOfPool(), [{ group: 'x', hosts: ['x2'] }]);
  t.deepEqual(startAll(a), ['y'], 'x2 alone (100 MiB) + y fit the budget; concurrency: x holds 1 of 2 slots');
  t.deepEqual(a.next(), [], 'z: 2 groups out of service (x by its host left out, y running)');
  a.set('y', 'done');
  t.deepEqual(startAll(a), ['z']);
});

test('a group whose dependency failed is blocked at once, before any scan reaches it', (t) => {
  const a = new Admission(plan([{ name: 'a' }, { name: 'b', after: ['a'] }], { groups: 1 }));
  t.deepEqual(startAll(a), ['a']);
  a.set('a', 'failed');
  t.deepEqual(a.blocked().map((b) => b.group), ['b']);
  t.deepEqual(a.waitingForRelease(), []);
});
