// Which planned groups may start now, by the admission policy the planner's timeline used (src/policy/):
//   - every group in its `after` is done (its VMs go to hosts those groups upgraded; or they parked VMs on it);
//   - the tier barriers hold, and within a tier a group goes before an earlier one of the plan only when both
//     are of the same class;
//   - concurrency.groups, the class's maxConcurrentGroups and concurrency.groupsPerDomain have room;
//   - the headroom holds: the capacity out of service in each of its failure domains, plus its own, stays
//     within the plan's maintenanceBudget — except for a group alone in its domains (the planner checked every
//     group against the headroom; a budget computed for the domain's largest load may be smaller than one
//     group, and then groups of that domain run one at a time).
// Out of service means running, or left out of the pool: a failed or aborted group whose hosts are still out
// keeps holding its slots — for exactly those hosts — until they are back (`release`).
// A group whose `after` failed, was aborted or is blocked can never start: it is blocked, with the reason.
// Pure bookkeeping: the runner tells it what starts, ends, is left out and comes back.

import type { PlanFile, PlannedGroup } from '../model/plan.ts';
import { admissionWait, budgetHeadroom, OutOfService, TierBarrier, type AdmissionState, type Candidate, type Capacity, type Id, type ServiceHost } from '../policy/index.ts';

export type GroupPhase = 'waiting' | 'running' | 'done' | 'failed' | 'aborted' | 'blocked';

const FINAL = new Set<GroupPhase>(['done', 'failed', 'aborted', 'blocked']);
/** A group in one of these never runs again, and neither does a group waiting for it. */
const DEAD = new Set<GroupPhase>(['failed', 'aborted', 'blocked']);

export interface AdmissionOptions {
  /**
   * A host's capacity (memory MiB, vCPUs × overcommit) from the inventory, to count exactly the hosts a group
   * left out of the pool. Unknown hosts take an even share of their group's planned capacity.
   */
  hostCapacity?: (host: string) => Capacity | undefined;
}

export class Admission {
  /** The groups that run, in plan order. */
  readonly order: PlannedGroup[];
  private readonly phase = new Map<string, GroupPhase>();
  private readonly why = new Map<string, string>();
  private readonly byName = new Map<string, PlannedGroup>();
  /** Per group: the groups whose `after` names it. */
  private readonly dependents = new Map<string, PlannedGroup[]>();
  /** Per group: what each of its hosts takes out of service. */
  private readonly service = new Map<string, ServiceHost[]>();
  private readonly tiers = new TierBarrier();
  private readonly out = new OutOfService();
  private readonly state: AdmissionState;
  /** Plan position before which no group is waiting (the scan starts there). */
  private first = 0;

  constructor(
    private readonly plan: PlanFile,
    options: AdmissionOptions = {},
  ) {
    for (const g of plan.groups) this.byName.set(g.name, g);
    this.order = plan.groups.filter((g) => g.wave >= 0).sort((a, b) => a.index - b.index);
    for (const g of this.order) {
      this.phase.set(g.name, 'waiting');
      this.tiers.add(g.tier);
      this.service.set(g.name, serviceHosts(g, options.hostCapacity));
      for (const d of g.after) {
        const list = this.dependents.get(d);
        if (list) list.push(g);
        else this.dependents.set(d, [g]);
      }
    }
    const c = plan.settings.concurrency;
    this.state = {
      limits: { groups: c.groups, classMax: (k) => c.classes[k], groupsPerDomain: c.groupsPerDomain },
      out: this.out,
      tiers: this.tiers,
      isDone: (d) => this.phaseOf(String(d)) === 'done',
      domainName: String,
      dependencyWhy: (g, d) => `waits for group ${String(d)} to be done`,
      headroom: budgetHeadroom(plan.settings.maintenanceBudget, (g, d) => this.capacityIn(g.name, d)),
    };
  }

  phaseOf(name: string): GroupPhase {
    return this.phase.get(name) ?? 'waiting';
  }

  /** Groups running now (not counting ended groups that still hold hosts out of the pool). */
  get runningCount(): number {
    let n = 0;
    for (const p of this.phase.values()) if (p === 'running') n++;
    return n;
  }

  /** Record a change of phase (a start, an end, or what a restored snapshot says). An end frees its slots: see leftOut. */
  set(name: string, next: GroupPhase, why?: string): void {
    const g = this.group(name);
    const prev = this.phaseOf(name);
    if (prev === next) return;
    if (next === 'running') this.out.hold(name, g.class, this.service.get(name) ?? []);
    else this.out.free(name);
    if (!FINAL.has(prev) && FINAL.has(next)) this.tiers.finish(g.tier);
    if (FINAL.has(prev) && !FINAL.has(next)) this.tiers.add(g.tier);
    this.phase.set(name, next);
    if (next === 'waiting') this.first = 0;
    if (why !== undefined) this.why.set(name, why);
    if (DEAD.has(next)) this.blockDependents(name);
  }

  /**
   * A failed or aborted group left these of its hosts out of the pool: they keep counting against every limit
   * (its group slot, class slot, domain slots and capacity) until each is back (`release`).
   */
  leftOut(name: string, hosts: readonly string[]): void {
    const g = this.group(name);
    const out = new Set(hosts);
    this.out.hold(name, g.class, (this.service.get(name) ?? []).filter((s) => out.has(String(s.host))));
  }

  /** `host` is back in the pool (released by an operator): its group no longer holds it. False if nothing held it. */
  release(host: string): boolean {
    return this.out.back(host);
  }

  /** Ended groups that still hold hosts out of the pool, in plan order. */
  heldOutOfPool(): { group: string; hosts: string[] }[] {
    return this.order
      .filter((g) => DEAD.has(this.phaseOf(g.name)) && this.out.holds(g.name))
      .map((g) => ({ group: g.name, hosts: this.out.hostsOf(g.name).map(String) }));
  }

  /** Blocked groups with the reason, in plan order. */
  blocked(): { group: string; why: string }[] {
    return this.order.filter((g) => this.phaseOf(g.name) === 'blocked').map((g) => ({ group: g.name, why: this.why.get(g.name) ?? 'blocked' }));
  }

  /** Groups still waiting, in plan order. */
  waiting(): PlannedGroup[] {
    return this.order.filter((g) => this.phaseOf(g.name) === 'waiting');
  }

  /** The groups that may start now, in plan order (the caller starts them all). */
  next(): string[] {
    return this.scan(this.state);
  }

  /**
   * Groups that wait only because ended groups still hold hosts out of the pool: they would start now if those
   * hosts were back. Empty when something else holds them (a running group, the order, a dependency).
   */
  waitingForRelease(): string[] {
    const held = this.heldOutOfPool();
    if (held.length === 0) return [];
    const saved = held.map((h) => ({ ...h, klass: this.group(h.group).class, service: (this.service.get(h.group) ?? []).filter((s) => h.hosts.includes(String(s.host))) }));
    for (const h of saved) this.out.free(h.group);
    try {
      return this.scan(this.state);
    } finally {
      for (const h of saved) this.out.hold(h.group, h.klass, h.service);
    }
  }

  /** Plan order; a group that waits for a reason that holds its followers too (`stop`), or of another class than one waiting before it, ends the scan. */
  private scan(state: AdmissionState): string[] {
    const started: string[] = [];
    let frontier: string | null = null;
    while (this.first < this.order.length && this.phaseOf(this.order[this.first]!.name) !== 'waiting') this.first++;
    try {
      for (let i = this.first; i < this.order.length; i++) {
        const g = this.order[i]!;
        if (this.phaseOf(g.name) !== 'waiting') continue;
        const key = `${g.tier}/${g.class}`;
        if (frontier !== null && key !== frontier) break;
        const wait = admissionWait(this.candidate(g), state);
        if (wait === null) {
          // Counted as started for the rest of this scan; the runner's set(…, 'running') makes it so.
          this.out.hold(g.name, g.class, this.service.get(g.name) ?? []);
          started.push(g.name);
          continue;
        }
        if (wait.stop) break;
        frontier ??= key;
      }
    } finally {
      for (const name of started) this.out.free(name);
    }
    return started;
  }

  private candidate(g: PlannedGroup): Candidate {
    return { name: g.name, tier: g.tier, klass: g.class, className: g.class, domains: [...new Set(g.domains)], waitsFor: g.after };
  }

  /** What `group`'s hosts in `domain` take out of service. */
  private capacityIn(group: string, domain: Id): Capacity {
    const c = { memoryMiB: 0, vcpus: 0 };
    for (const s of this.service.get(group) ?? []) {
      if (s.domain !== domain) continue;
      c.memoryMiB += s.memoryMiB;
      c.vcpus += s.vcpus;
    }
    return c;
  }

  /** Groups waiting for `name` can never start: their VMs were to go to (or come from) hosts it did not finish. */
  private blockDependents(name: string): void {
    const p = this.phaseOf(name);
    for (const d of this.dependents.get(name) ?? []) {
      if (this.phaseOf(d.name) !== 'waiting') continue;
      this.set(d.name, 'blocked', `waits for group ${name}, which ${p === 'blocked' ? 'is blocked too' : p}: the hosts it was to move VMs to (or from) are not upgraded and back`);
    }
  }

  private group(name: string): PlannedGroup {
    const g = this.byName.get(name);
    if (!g) throw new Error(`group ${name} is not in the plan`);
    return g;
  }
}

/**
 * What each host of `g` takes out of service: its capacity from the inventory when known, scaled so that the
 * group's hosts add up to the planned capacity; otherwise an even share of it.
 */
function serviceHosts(g: PlannedGroup, hostCapacity: AdmissionOptions['hostCapacity']): ServiceHost[] {
  const n = g.hosts.length;
  const known = g.hosts.map((h) => hostCapacity?.(h));
  const total = known.reduce((s, c) => (c && s ? { memoryMiB: s.memoryMiB + c.memoryMiB, vcpus: s.vcpus + c.vcpus } : null), { memoryMiB: 0, vcpus: 0 } as Capacity | null);
  return g.hosts.map((host, i) => {
    const c = known[i];
    const memShare = total && c && total.memoryMiB > 0 ? c.memoryMiB / total.memoryMiB : 1 / n;
    const cpuShare = total && c && total.vcpus > 0 ? c.vcpus / total.vcpus : 1 / n;
    return { host, domain: g.domains[i] ?? '', memoryMiB: g.capacity.memoryMiB * memShare, vcpus: g.capacity.vcpus * cpuShare };
  });
}
