// Which planned groups may start now. The plan says, per group, which groups must be done first (`after`);
// the limits say how many may run at once. A group starts when:
//   - every group in its `after` is done (its VMs go to hosts those groups upgraded; or they parked VMs on it);
//   - the order allows it: tiers are barriers (every `first` group finished before a `normal` one starts,
//     every `normal` one before a `last` one), and within a tier a group goes before an earlier one of the
//     plan only when both are of the same class;
//   - concurrency.groups, the class's maxConcurrentGroups and concurrency.groupsPerDomain have room;
//   - the headroom holds: the capacity of the groups running in each of its failure domains, plus its own,
//     stays within the plan's maintenanceBudget — except for a group alone in its domains (the planner
//     checked every group against the headroom; a budget computed for the domain's largest load may be
//     smaller than one group, and then groups of that domain run one at a time).
// A group whose `after` failed, was aborted or is blocked can never start: it is blocked, with the reason.
// Pure bookkeeping: the runner tells it what starts and ends.

import type { PlanFile, PlannedGroup } from '../model/plan.ts';

export type GroupPhase = 'waiting' | 'running' | 'done' | 'failed' | 'aborted' | 'blocked';

const TIER_POS: Record<string, number> = { spare: 0, first: 1, normal: 2, last: 3 };
/** Tiers whose groups all finish before a group of a later tier starts. */
const BARRIERS = [
  { tier: 'first', pos: 1 },
  { tier: 'normal', pos: 2 },
];
const FINAL = new Set<GroupPhase>(['done', 'failed', 'aborted', 'blocked']);

export class Admission {
  /** The groups that run, in plan order. */
  readonly order: PlannedGroup[];
  private readonly phase = new Map<string, GroupPhase>();
  private readonly why = new Map<string, string>();
  /** Groups per tier position not yet final. */
  private readonly open = [0, 0, 0, 0];
  private readonly classRunning = new Map<string, number>();
  private readonly domainRunning = new Map<string, number>();
  /** Capacity out of service per failure domain (memory MiB, vCPUs), of the running groups. */
  private readonly outMem = new Map<string, number>();
  private readonly outCpu = new Map<string, number>();
  private running = 0;
  /** Plan position before which no group is waiting (the scan starts there). */
  private first = 0;

  constructor(private readonly plan: PlanFile) {
    this.order = plan.groups.filter((g) => g.wave >= 0).sort((a, b) => a.index - b.index);
    for (const g of this.order) {
      this.phase.set(g.name, 'waiting');
      this.open[TIER_POS[g.tier]!]!++;
    }
  }

  phaseOf(name: string): GroupPhase {
    return this.phase.get(name) ?? 'waiting';
  }

  get runningCount(): number {
    return this.running;
  }

  /** Record a change of phase (a start, an end, or what a restored snapshot says). */
  set(name: string, next: GroupPhase, why?: string): void {
    const g = this.group(name);
    const prev = this.phaseOf(name);
    if (prev === next) return;
    if (prev === 'running') this.count(g, -1);
    if (next === 'running') this.count(g, 1);
    if (!FINAL.has(prev) && FINAL.has(next)) this.open[TIER_POS[g.tier]!]!--;
    if (FINAL.has(prev) && !FINAL.has(next)) this.open[TIER_POS[g.tier]!]!++;
    this.phase.set(name, next);
    if (next === 'waiting') this.first = 0;
    if (why !== undefined) this.why.set(name, why);
  }

  /** Blocked groups with the reason, in plan order. */
  blocked(): { group: string; why: string }[] {
    return this.order.filter((g) => this.phaseOf(g.name) === 'blocked').map((g) => ({ group: g.name, why: this.why.get(g.name) ?? 'blocked' }));
  }

  /** Groups still waiting, in plan order. */
  waiting(): PlannedGroup[] {
    return this.order.filter((g) => this.phaseOf(g.name) === 'waiting');
  }

  /**
   * The groups that may start now, in plan order (the caller starts them all). Marks the groups that can
   * never start as blocked on the way.
   */
  next(): string[] {
    const c = this.plan.settings.concurrency;
    const out: string[] = [];
    let frontier: string | null = null;
    let running = this.running;
    const classRunning = new Map(this.classRunning);
    const domainRunning = new Map(this.domainRunning);
    const outMem = new Map(this.outMem);
    const outCpu = new Map(this.outCpu);
    while (this.first < this.order.length && this.phaseOf(this.order[this.first]!.name) !== 'waiting') this.first++;
    for (let i = this.first; i < this.order.length; i++) {
      const g = this.order[i]!;
      if (this.phaseOf(g.name) !== 'waiting') continue;
      if (running >= c.groups) break;
      const key = `${g.tier}/${g.class}`;
      if (frontier !== null && key !== frontier) break;
      const dead = g.after.find((d) => {
        const p = this.phaseOf(d);
        return p === 'failed' || p === 'aborted' || p === 'blocked';
      });
      if (dead !== undefined) {
        this.set(g.name, 'blocked', `waits for group ${dead}, which ${this.phaseOf(dead) === 'blocked' ? 'is blocked too' : `${this.phaseOf(dead)}`}: the hosts it was to move VMs to (or from) are not upgraded and back`);
        continue;
      }
      const wait = this.mustWait(g, classRunning, domainRunning, outMem, outCpu);
      if (wait === null) {
        out.push(g.name);
        running++;
        classRunning.set(g.class, (classRunning.get(g.class) ?? 0) + 1);
        for (const d of new Set(g.domains)) {
          domainRunning.set(d, (domainRunning.get(d) ?? 0) + 1);
          outMem.set(d, (outMem.get(d) ?? 0) + g.capacity.memoryMiB);
          outCpu.set(d, (outCpu.get(d) ?? 0) + g.capacity.vcpus);
        }
        continue;
      }
      frontier ??= key;
      if (wait === 'order' || wait === 'class') break;
    }
    return out;
  }

  private mustWait(
    g: PlannedGroup,
    classRunning: Map<string, number>,
    domainRunning: Map<string, number>,
    outMem: Map<string, number>,
    outCpu: Map<string, number>,
  ): 'deps' | 'order' | 'class' | 'domain' | null {
    for (const b of BARRIERS) if (b.pos < TIER_POS[g.tier]! && this.open[b.pos]! > 0) return 'order';
    if (g.after.some((d) => this.phaseOf(d) !== 'done')) return 'deps';
    const classMax = this.plan.settings.concurrency.classes[g.class];
    if (classMax !== undefined && (classRunning.get(g.class) ?? 0) >= classMax) return 'class';
    const perDomain = this.plan.settings.concurrency.groupsPerDomain;
    const domains = [...new Set(g.domains)];
    if (perDomain !== null && domains.some((d) => (domainRunning.get(d) ?? 0) >= perDomain)) return 'domain';
    const budget = this.plan.settings.maintenanceBudget;
    for (const d of domains) {
      const b = budget[d];
      if (!b || (domainRunning.get(d) ?? 0) === 0) continue;
      if ((outMem.get(d) ?? 0) + g.capacity.memoryMiB > b.memoryMiB || (outCpu.get(d) ?? 0) + g.capacity.vcpus > b.vcpus) return 'domain';
    }
    return null;
  }

  private count(g: PlannedGroup, delta: 1 | -1): void {
    this.running += delta;
    this.classRunning.set(g.class, (this.classRunning.get(g.class) ?? 0) + delta);
    for (const d of new Set(g.domains)) {
      this.domainRunning.set(d, (this.domainRunning.get(d) ?? 0) + delta);
      this.outMem.set(d, (this.outMem.get(d) ?? 0) + delta * g.capacity.memoryMiB);
      this.outCpu.set(d, (this.outCpu.get(d) ?? 0) + delta * g.capacity.vcpus);
    }
  }

  private readonly byName = new Map<string, PlannedGroup>();

  private group(name: string): PlannedGroup {
    if (this.byName.size === 0) for (const g of this.plan.groups) this.byName.set(g.name, g);
    const g = this.byName.get(name);
    if (!g) throw new Error(`group ${name} is not in the plan`);
    return g;
  }
}
