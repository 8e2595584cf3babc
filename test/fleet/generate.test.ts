import test from 'ava';
import { generateFleet, type FleetOptions } from '../../src/fleet/generate.ts';
import { mulberry32 } from '../../src/fleet/random.ts';

const base: FleetOptions = { hosts: 300, vmsPerHost: 20, utilisation: 0.8, seed: 42 };

test('the same options give the same fleet; another seed gives another', (t) => {
  const a = generateFleet(base);
  t.deepEqual(generateFleet(base), a);
  t.notDeepEqual(generateFleet({ ...base, seed: 43 }).vms, a.vms);
});

test('mulberry32 is deterministic and stays in [0, 1)', (t) => {
  const a = mulberry32(7);
  const b = mulberry32(7);
  for (let i = 0; i < 1000; i++) {
    const x = a();
    t.is(x, b());
    t.true(x >= 0 && x < 1);
  }
});

for (const utilisation of [0.3, 0.6, 0.8, 0.9]) {
  test(`memory utilisation ${utilisation} is met within ±2 %`, (t) => {
    const inv = generateFleet({ ...base, utilisation, seed: 5 });
    const used = inv.vms.reduce((s, v) => s + v.memoryMiB, 0);
    const capacity = inv.hosts.reduce((s, h) => s + h.capacity.memoryMiB, 0);
    t.true(Math.abs(used / capacity - utilisation) <= 0.02, `got ${(used / capacity).toFixed(4)}`);
  });
}

test('hosts × vmsPerHost VMs, spares empty, names unique', (t) => {
  const inv = generateFleet({ ...base, spareHosts: 3 });
  t.is(inv.vms.length, 300 * 20);
  const perHost = new Map<string, number>();
  for (const v of inv.vms) perHost.set(v.host, (perHost.get(v.host) ?? 0) + 1);
  t.is(inv.hosts.filter((h) => !perHost.has(h.name)).length, 3);
  t.is(new Set(inv.hosts.map((h) => h.name)).size, inv.hosts.length);
  t.is(new Set(inv.vms.map((v) => v.name)).size, inv.vms.length);
});

test('no VM is larger than its host, and no host is overcommitted', (t) => {
  const inv = generateFleet(base);
  const hosts = new Map(inv.hosts.map((h) => [h.name, h]));
  const load = new Map<string, { mem: number; cpu: number }>();
  for (const v of inv.vms) {
    const h = hosts.get(v.host)!;
    t.true(v.memoryMiB <= h.capacity.memoryMiB && v.vcpus <= h.capacity.vcpus);
    const l = load.get(v.host) ?? { mem: 0, cpu: 0 };
    l.mem += v.memoryMiB;
    l.cpu += v.vcpus;
    load.set(v.host, l);
  }
  for (const [name, l] of load) {
    const h = hosts.get(name)!;
    t.true(l.mem <= h.capacity.memoryMiB && l.cpu <= h.capacity.vcpus * inv.rules.cpuOvercommit, name);
  }
});

test('anti-affinity rules are respected by the generated placement', (t) => {
  const inv = generateFleet(base);
  t.true(inv.rules.antiAffinity.length > 10);
  for (const rule of inv.rules.antiAffinity) {
    const members = inv.vms.filter((v) => v.labels.cluster === rule.match.cluster);
    t.true(members.length >= 2, rule.name);
    t.is(new Set(members.map((v) => v.host)).size, members.length, rule.name);
  }
});

test('tiers, canaries, racks within AZs and the sensitivity classes are present', (t) => {
  const inv = generateFleet(base);
  const tiers = new Set(inv.vms.map((v) => v.labels.tier));
  t.deepEqual([...tiers].sort(), ['batch', 'db', 'web']);
  t.true(inv.vms.some((v) => v.labels.canary === 'true'));
  t.is(new Set(inv.hosts.map((h) => h.labels.az)).size, 3);
  for (const h of inv.hosts) t.true(h.labels.rack!.startsWith(`${h.labels.az}-`));
  t.deepEqual(inv.rules.sensitivity.map((c) => [c.class, c.order]), [['db-critical', 'last'], ['canary', 'first'], ['standard', 'normal']]);
  t.is(inv.rules.headroom.memoryPercent, 10);
});

test('bad options are refused', (t) => {
  t.throws(() => generateFleet({ ...base, utilisation: 1.5 }), { instanceOf: RangeError });
  t.throws(() => generateFleet({ ...base, vmSizes: [{ vcpus: 128, memoryMiB: 1024 }] }), { instanceOf: RangeError });
});
