// The admission policy, exhaustively: random plans (tiers, classes with limits, hosts in one or more failure
// domains, `after`, capacities, budgets) driven through random phases — starts, ends done / failed / aborted /
// paused, hosts left out of the pool, releases — and checked at every step against an independent model of
// what is out of service. Never more than a limit, hosts left out of the pool counted until released; no
// deadlock while nothing is out of service.
import test from 'ava';
import { Admission } from '../../src/engine/admission.ts';
import { mulberry32 } from '../../src/fleet/random.ts';
import type { GroupTier, PlanFile, PlannedGroup } from '../../src/model/plan.ts';

const TIERS: GroupTier[] = ['spare', 'first', 'normal', 'last'];
const CLASSES: Record<GroupTier, string[]> = { spare: ['spare'], first: ['canary'], normal: ['web', 'batch'], last: ['db'] };
/** Written here on purpose, not imported: the test's own idea of the barriers. */
const BARRIERS: GroupTier[] = ['first', 'normal'];

interface World {
  plan: PlanFile;
  hostCap: Map<string, { memoryMiB: number; vcpus: number }>;
  hostDomain: Map<string, string>;
}

function randomWorld(seed: number): World {
  const r = mulberry32(seed);
  const n = (k: number) => Math.floor(r() * k);
  const domains = Array.from({ length: 1 + n(3) }, (_, i) => `az=${i}`);
  const count = 4 + n(11);
  const shapes = Array.from({ length: count }, () => {
    const tier = TIERS[n(4)]!;
    const classes = CLASSES[tier];
    return { tier, klass: classes[n(classes.length)]! };
  });
  // Plan order keeps tiers, and classes within a tier, together (as the planner does).
  shapes.sort((a, b) => TIERS.indexOf(a.tier) - TIERS.indexOf(b.tier) || a.klass.localeCompare(b.klass));
  const hostCap = new Map<string, { memoryMiB: number; vcpus: number }>();
  const hostDomain = new Map<string, string>();
  const groups: PlannedGroup[] = shapes.map((s, index) => {
    const name = `g${index}`;
    const hosts = Array.from({ length: 1 + n(3) }, (_, i) => `${name}-h${i}`);
    // Mostly one failure domain per group, sometimes spread over several.
    const home = domains[n(domains.length)]!;
    const hostDomains = hosts.map(() => (r() < 0.25 ? domains[n(domains.length)]! : home));
    let memoryMiB = 0;
    let vcpus = 0;
    hosts.forEach((h, i) => {
      const c = { memoryMiB: 100 * (1 + n(4)), vcpus: 8 * (1 + n(4)) };
      hostCap.set(h, c);
      hostDomain.set(h, hostDomains[i]!);
      memoryMiB += c.memoryMiB;
      vcpus += c.vcpus;
    });
    const after = Array.from({ length: index }, (_, i) => `g${i}`).filter(() => r() < 0.12).slice(0, 2);
    return {
      name, index, wave: index, class: s.klass, tier: s.tier, reason: '', hosts, skippedHosts: [], domains: hostDomains, approval: false, status: 'ready',
      capacity: { memoryMiB, vcpus }, after, nonMigratable: [], moves: [], estimate: { startSeconds: 0, drainSeconds: 0, maintenanceSeconds: 0, endSeconds: 0 },
    };
  });
  const classes: Record<string, number> = { db: 1 };
  if (r() < 0.5) classes.web = 1 + n(2);
  const budget: PlanFile['settings']['maintenanceBudget'] = {};
  for (const d of domains) if (r() < 0.8) budget[d] = { memoryMiB: 150 + n(1000), vcpus: r() < 0.5 ? 1e6 : 20 + n(60) };
  const plan = {
    settings: {
      concurrency: { groups: 1 + n(4), migrations: 4, migrationsPerHost: 2, groupsPerDomain: r() < 0.4 ? 1 + n(2) : null, classes },
      failureBudget: 0,
      maintenanceBudget: budget,
      cpuOvercommit: 1,
    },
    groups,
  } as unknown as PlanFile;
  return { plan, hostCap, hostDomain };
}

/** What the test itself knows is out of service: host → the group holding it. */
class Model {
  readonly out = new Map<string, string>();
  constructor(private readonly w: World) {}
  holders(): Set<string> {
    return new Set(this.out.values());
  }
  check(t: { true(c: boolean, m: string): void }, where: string): void {
    const { concurrency, maintenanceBudget } = this.w.plan.settings;
    const byName = new Map(this.w.plan.groups.map((g) => [g.name, g]));
    const holders = this.holders();
    t.true(holders.size <= concurrency.groups, `${where}: ${holders.size} groups out of service > concurrency.groups ${concurrency.groups}`);
    const perClass = new Map<string, number>();
    for (const h of holders) perClass.set(byName.get(h)!.class, (perClass.get(byName.get(h)!.class) ?? 0) + 1);
    for (const [c, k] of perClass) if (concurrency.classes[c] !== undefined) t.true(k <= concurrency.classes[c]!, `${where}: class ${c} has ${k} > ${concurrency.classes[c]}`);
    const perDomain = new Map<string, Set<string>>();
    const mem = new Map<string, number>();
    const cpu = new Map<string, number>();
    for (const [host, g] of this.out) {
      const d = this.w.hostDomain.get(host)!;
      perDomain.set(d, (perDomain.get(d) ?? new Set()).add(g));
      mem.set(d, (mem.get(d) ?? 0) + this.w.hostCap.get(host)!.memoryMiB);
      cpu.set(d, (cpu.get(d) ?? 0) + this.w.hostCap.get(host)!.vcpus);
    }
    for (const [d, gs] of perDomain) {
      if (concurrency.groupsPerDomain !== null) t.true(gs.size <= concurrency.groupsPerDomain, `${where}: ${gs.size} groups in ${d} > groupsPerDomain`);
      const b = maintenanceBudget[d];
      // A group alone in a domain may pass its budget; two or more never do together.
      if (b && gs.size >= 2) t.true(mem.get(d)! <= b.memoryMiB + 1e-6 && cpu.get(d)! <= b.vcpus + 1e-6, `${where}: ${d} has ${mem.get(d)} MiB / ${cpu.get(d)} vCPUs out, budget ${b.memoryMiB} / ${b.vcpus}`);
    }
  }
}

const FINAL = new Set(['done', 'failed', 'aborted', 'blocked']);

test('random plans and phases: never more groups, class groups, domain groups or capacity out than allowed, hosts left out of the pool included; no deadlock', (t) => {
  let starts = 0;
  let heldStarts = 0;
  let pausedForRelease = 0;
  for (let seed = 1; seed <= 400; seed++) {
    const w = randomWorld(seed);
    const r = mulberry32(seed * 7919);
    const a = new Admission(w.plan, { hostCapacity: (h) => w.hostCap.get(h) });
    const model = new Model(w);
    const running = new Set<string>();
    const order = w.plan.groups;
    for (let step = 0; step < 500; step++) {
      for (const name of a.next()) {
        const g = order.find((x) => x.name === name)!;
        const where = `seed ${seed} step ${step}: start ${name}`;
        for (const d of g.after) t.is(a.phaseOf(d), 'done', `${where}: waits for ${d}`);
        for (const e of order) {
          if (BARRIERS.includes(e.tier) && TIERS.indexOf(e.tier) < TIERS.indexOf(g.tier)) t.true(FINAL.has(a.phaseOf(e.name)), `${where}: ${e.tier} group ${e.name} is ${a.phaseOf(e.name)}`);
          if (e.index < g.index && a.phaseOf(e.name) === 'waiting') t.true(e.tier === g.tier && e.class === g.class, `${where}: passes ${e.name} of another class`);
        }
        if ([...model.out.values()].some((h) => !running.has(h))) heldStarts++;
        a.set(name, 'running');
        running.add(name);
        for (const h of g.hosts) model.out.set(h, name);
        model.check(t, where);
        starts++;
      }
      // No deadlock: with nothing out of service, a waiting group can start.
      if (model.out.size === 0 && a.waiting().length > 0) t.true(a.next().length > 0, `seed ${seed} step ${step}: nothing out of service, ${a.waiting().length} waiting, none may start`);
      const held = [...model.out.keys()].filter((h) => !running.has(model.out.get(h)!));
      if (held.length > 0 && r() < 0.3) {
        const host = held[Math.floor(r() * held.length)]!;
        t.true(a.release(host));
        model.out.delete(host);
        continue;
      }
      if (running.size === 0) {
        // Only hosts left out of the pool hold things up: releasing all of them lets the named groups start.
        const waitingForRelease = a.waitingForRelease();
        if (held.length === 0) {
          t.deepEqual(waitingForRelease, []);
          break;
        }
        if (waitingForRelease.length > 0) pausedForRelease++;
        for (const h of held) {
          a.release(h);
          model.out.delete(h);
        }
        t.deepEqual(a.next(), waitingForRelease, `seed ${seed}: released everything`);
        continue;
      }
      const name = [...running][Math.floor(r() * running.size)]!;
      const g = order.find((x) => x.name === name)!;
      const roll = r();
      const end = roll < 0.55 ? 'done' : roll < 0.8 ? 'failed' : roll < 0.92 ? 'aborted' : 'waiting';
      running.delete(name);
      for (const h of g.hosts) model.out.delete(h);
      a.set(name, end);
      if (end === 'failed' || end === 'aborted') {
        const leftOut = g.hosts.filter(() => r() < 0.6);
        a.leftOut(name, leftOut);
        for (const h of leftOut) model.out.set(h, name);
      }
      model.check(t, `seed ${seed} step ${step}: ${name} ${end}`);
    }
    t.deepEqual(a.waiting(), [], `seed ${seed}: every group ran or can never run`);
  }
  t.true(starts > 2000, `${starts} starts`);
  t.true(heldStarts > 50, `${heldStarts} starts while hosts were left out of the pool`);
  t.true(pausedForRelease > 20, `${pausedForRelease} times only released hosts let groups start`);
});
