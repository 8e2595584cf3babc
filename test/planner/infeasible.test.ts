import test from 'ava';
import { buildPlan } from '../../src/planner/plan.ts';
import { host, inventory, vm } from './fixtures.ts';

test('a VM that fits nowhere: the plan is not runnable and says which group, which VM and which constraint', (t) => {
  const hosts = [host('a', {}, 32, 65536), host('b', {}, 32, 16384)];
  const plan = buildPlan(inventory(hosts, [vm('big', 'a', 32768, 4)]));
  t.false(plan.summary.runnable);
  const p = plan.problems.find((x) => x.vm === 'big')!;
  t.is(p.kind, 'no-target');
  t.is(p.group, 'a');
  t.is(p.constraint, 'capacity');
  t.regex(p.message, /needs 32768 MiB, most free 16384 MiB/);
  t.truthy(p.fix);
  t.is(plan.groups.find((g) => g.name === 'a')!.status, 'infeasible');
});

test('anti-affinity that cannot be kept is reported with the rule name', (t) => {
  const hosts = [host('a'), host('b'), host('c')];
  const vms = [vm('db1', 'a', 1024, 1, { app: 'db' }), vm('db2', 'b', 1024, 1, { app: 'db' }), vm('db3', 'c', 1024, 1, { app: 'db' })];
  const plan = buildPlan(inventory(hosts, vms, { antiAffinity: [{ name: 'db-spread', match: { app: 'db' } }] }));
  t.false(plan.summary.runnable);
  const p = plan.problems[0]!;
  t.is(p.constraint, 'anti-affinity:db-spread');
  t.regex(p.message, /anti-affinity rule db-spread/);
});

test('headroom: draining is refused when the failure domain would fall below it', (t) => {
  const hosts = [host('a', { az: 'z1' }, 32, 10000), host('b', { az: 'z1' }, 32, 10000)];
  const vms = [vm('v1', 'a', 5000, 1), vm('v2', 'b', 5000, 1)];
  const plan = buildPlan(inventory(hosts, vms, { headroom: { memoryPercent: 20, vcpuPercent: 0 } }));
  t.false(plan.summary.runnable);
  t.true(plan.problems.every((p) => p.constraint.startsWith('headroom:az=z1')), JSON.stringify(plan.problems));
});

test('a VM never leaves its migration domain (az), even when another az has room', (t) => {
  const hosts = [host('a', { az: 'z1' }), host('b', { az: 'z2' }), host('c', { az: 'z2' })];
  const plan = buildPlan(inventory(hosts, [vm('v', 'a')]));
  const p = plan.problems.find((x) => x.vm === 'v')!;
  t.is(p.constraint, 'migration-domain');
  t.regex(p.message, /only host in migration domain az=z1/);
});

test('non-migratable VMs block their group by default, with the fix spelled out', (t) => {
  const hosts = [host('a'), host('b')];
  const plan = buildPlan(inventory(hosts, [vm('gpu', 'a', 4096, 2, {}, false), vm('v', 'a')]));
  t.false(plan.summary.runnable);
  const g = plan.groups.find((x) => x.name === 'a')!;
  t.is(g.status, 'blocked');
  t.deepEqual(g.nonMigratable, [{ vm: 'gpu', host: 'a', policy: 'block' }]);
  t.deepEqual(g.moves.map((m) => m.vm), ['v']);
  const p = plan.problems.find((x) => x.kind === 'non-migratable')!;
  t.regex(p.fix, /nonMigratable\.groups\["a"\]: shutdown/);
});

test('policy shutdown: the VM stays on its host and the plan warns of the downtime', (t) => {
  const hosts = [host('a'), host('b')];
  const plan = buildPlan(inventory(hosts, [vm('gpu', 'a', 4096, 2, {}, false), vm('v', 'a')], { nonMigratable: { policy: 'shutdown', groups: {} } }));
  t.true(plan.summary.runnable);
  t.is(plan.groups.find((x) => x.name === 'a')!.status, 'ready');
  t.is(plan.summary.migrationsLowerBound, 1);
  t.true(plan.warnings.some((w) => /gpu.*shut down/.test(w)));
});

test('policy skip for one group: its host is left out, not upgraded, and never receives VMs', (t) => {
  const hosts = [host('a'), host('b'), host('c')];
  const vms = [vm('gpu', 'a', 4096, 2, {}, false), vm('v', 'b')];
  const plan = buildPlan(inventory(hosts, vms, { nonMigratable: { policy: 'block', groups: { a: 'skip' } } }));
  t.true(plan.summary.runnable);
  const a = plan.groups.find((x) => x.name === 'a')!;
  t.is(a.status, 'skipped');
  t.deepEqual(a.skippedHosts, ['a']);
  t.false(plan.groups.flatMap((g) => g.moves).some((m) => m.to === 'a'));
  t.true(plan.warnings.some((w) => /left out of the campaign/.test(w)));
});

test('an anti-affinity rule already broken is a warning, and draining spreads its VMs', (t) => {
  const hosts = [host('a'), host('b'), host('c'), host('d')];
  const vms = [vm('db1', 'a', 1024, 1, { app: 'db' }), vm('db2', 'a', 1024, 1, { app: 'db' })];
  const plan = buildPlan(inventory(hosts, vms, { antiAffinity: [{ name: 'db', match: { app: 'db' } }] }));
  t.true(plan.warnings.some((w) => /already broken/.test(w)));
  const targets = plan.groups.flatMap((g) => g.moves).filter((m) => m.from === 'a').map((m) => m.to);
  t.is(new Set(targets).size, 2);
});
