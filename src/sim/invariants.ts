// An independent safety checker: it knows nothing of the planner or the engine, only the inventory, the plan's
// groups and limits (what `run` promises to keep), and what happens in the simulated fleet. A VM in flight
// counts on BOTH its source and its target until the migration ends. A host is out of the pool from the
// campaign's disable to its enable, whatever its group's state: a host a failed group left disabled counts until
// it is back. After every change it checks the hosts touched:
//   capacity      memory ≤ capacity, vCPUs ≤ capacity × cpuOvercommit
//   anti-affinity no two VMs of one anti-affinity rule on one host
//   headroom      per failure domain, the load of the hosts in the pool (their VMs and the VMs in flight to
//                 them) ≤ (1 − rules.headroom) × the capacity of the hosts in the pool, memory and vCPUs
//   maintenance   hosts out of the pool at once ≤ the campaign's limit (groups at once × largest group); groups
//                 with a host out of the pool ≤ concurrency.groups, per class ≤ its maxConcurrentGroups, per
//                 failure domain ≤ concurrency.groupsPerDomain
// and counts each violation (a host going over, a second member arriving, a domain's headroom shrinking below
// its share, one more host or group out), never silently. Breaches already in the starting placement are the
// planner's warnings, not ours: only a change that makes things worse is counted.

import type { Inventory, Match } from '../model/inventory.ts';
import type { PlanFile } from '../model/plan.ts';

export type ViolationKind = 'capacity' | 'anti-affinity' | 'headroom' | 'maintenance';

export interface Violation {
  kind: ViolationKind;
  atMs: number;
  host: string;
  message: string;
}

/** What the campaign may have out of the pool at once: the plan's groups and the limits `run` enforces. */
export interface PoolLimits {
  /** Hosts out of the pool at once (groups at once × largest group). */
  hosts: number;
  /** The groups that run; a group is out while any of its hosts is. */
  groups: readonly { name: string; class: string; hosts: readonly string[] }[];
  /** concurrency.groups */
  groupsAtOnce: number;
  /** maxConcurrentGroups per class that sets one. */
  classes: Readonly<Record<string, number>>;
  /** concurrency.groupsPerDomain (null: no limit). */
  groupsPerDomain: number | null;
  /** Label whose values are the failure domains (headroom and groupsPerDomain); null: the fleet is one. */
  failureDomain: string | null;
}

/** The limits a plan carries (settings are its contract with `run`): hosts = groups at once × largest group. */
export function poolLimits(plan: Pick<PlanFile, 'groups' | 'settings'>): PoolLimits {
  const groups = plan.groups.filter((g) => g.wave >= 0);
  const c = plan.settings.concurrency;
  return {
    hosts: Math.max(1, c.groups * Math.max(1, ...groups.map((g) => g.hosts.length))),
    groups: groups.map((g) => ({ name: g.name, class: g.class, hosts: g.hosts })),
    groupsAtOnce: c.groups,
    classes: c.classes ?? {},
    groupsPerDomain: c.groupsPerDomain ?? null,
    failureDomain: plan.settings.failureDomain,
  };
}

interface HostLoad {
  memoryMiB: number;
  vcpus: number;
  memoryCap: number;
  vcpuCap: number;
  /** VMs present per anti-affinity rule index (resident or in flight). */
  rules: Map<number, number>;
  domain: DomainLoad;
  /** Taken out of the pool by the campaign and not back yet. */
  out: boolean;
}

/** A failure domain: capacity and load of its hosts in the pool, and the share of capacity to keep free. */
interface DomainLoad {
  name: string;
  memoryCap: number;
  vcpuCap: number;
  memoryMiB: number;
  vcpus: number;
  /** Groups with a host out of the pool (groupsPerDomain). */
  groupsOut: number;
}

function matches(labels: Record<string, string>, match: Match): boolean {
  for (const [k, want] of Object.entries(match)) {
    const v = labels[k];
    if (v === undefined || (Array.isArray(want) ? !want.includes(v) : v !== want)) return false;
  }
  return true;
}

/**
 * Anti-affinity rules by the first label of their match (key → value → rule indices), so a VM is tested
 * only against the rules that can match it: testing every VM against every rule was quadratic in the fleet.
 */
class RuleIndex {
  private readonly always: number[] = [];
  private readonly byKey = new Map<string, Map<string, number[]>>();

  constructor(private readonly rules: readonly { match: Match }[]) {
    rules.forEach((r, i) => {
      const first = Object.entries(r.match)[0];
      if (first === undefined) return void this.always.push(i);
      const [k, want] = first;
      let values = this.byKey.get(k);
      if (!values) this.byKey.set(k, (values = new Map()));
      for (const v of new Set(Array.isArray(want) ? want : [want])) {
        const list = values.get(v);
        if (list) list.push(i);
        else values.set(v, [i]);
      }
    });
  }

  /** Indices of the rules matching `labels`, ascending (the same list a scan of every rule gives). */
  matching(labels: Record<string, string>): number[] {
    const candidates = [...this.always];
    for (const [k, values] of this.byKey) {
      const v = labels[k];
      if (v === undefined) continue;
      const list = values.get(v);
      if (list) candidates.push(...list);
    }
    return candidates.filter((i) => matches(labels, this.rules[i]!.match)).sort((a, b) => a - b);
  }
}

const KEEP_EXAMPLES = 20;
/** Slack for the headroom comparison: capacity × (1 − share) is fractional. */
const EPSILON = 1e-6;

/** A planned group's count of hosts out of the pool: the group is out while it is above 0. */
interface GroupOut {
  name: string;
  class: string;
  domains: DomainLoad[];
  hostsOut: number;
}

const groupNames = (groups: Iterable<GroupOut>) => {
  const list = [...groups].map((g) => g.name);
  return list.length <= 6 ? list.join(', ') : `${list.slice(0, 6).join(', ')}, …`;
};

export class InvariantChecker {
  readonly counts: Record<ViolationKind, number> = { capacity: 0, 'anti-affinity': 0, headroom: 0, maintenance: 0 };
  readonly examples: Violation[] = [];
  peakMaintenance = 0;
  private inMaintenance = 0;
  private readonly hosts = new Map<string, HostLoad>();
  private readonly vmRules = new Map<string, number[]>();
  private readonly size = new Map<string, { memoryMiB: number; vcpus: number }>();
  private readonly keep: { memory: number; vcpus: number };
  private readonly groupOfHost = new Map<string, GroupOut>();
  private readonly groupsOut = new Set<GroupOut>();
  private readonly classOut = new Map<string, number>();

  constructor(
    inventory: Inventory,
    readonly limits: PoolLimits,
    private readonly now: () => number,
  ) {
    const overcommit = inventory.rules.cpuOvercommit;
    this.keep = { memory: inventory.rules.headroom.memoryPercent / 100, vcpus: inventory.rules.headroom.vcpuPercent / 100 };
    const domains = new Map<string, DomainLoad>();
    for (const h of inventory.hosts) {
      const name = limits.failureDomain === null ? 'fleet' : `${limits.failureDomain}=${h.labels[limits.failureDomain] ?? '(none)'}`;
      let domain = domains.get(name);
      if (!domain) domains.set(name, (domain = { name, memoryCap: 0, vcpuCap: 0, memoryMiB: 0, vcpus: 0, groupsOut: 0 }));
      const load: HostLoad = { memoryMiB: 0, vcpus: 0, memoryCap: h.capacity.memoryMiB, vcpuCap: h.capacity.vcpus * overcommit, rules: new Map(), domain, out: false };
      domain.memoryCap += load.memoryCap;
      domain.vcpuCap += load.vcpuCap;
      this.hosts.set(h.name, load);
    }
    for (const g of limits.groups) {
      const group: GroupOut = { name: g.name, class: g.class, domains: [...new Set(g.hosts.map((h) => this.hosts.get(h)?.domain))].filter((d) => d !== undefined), hostsOut: 0 };
      for (const h of g.hosts) this.groupOfHost.set(h, group);
    }
    // Rules indexed by a label they match, so each VM is tested against few rules.
    const rules = new RuleIndex(inventory.rules.antiAffinity);
    for (const v of inventory.vms) {
      const mine = rules.matching(v.labels);
      if (mine.length > 0) this.vmRules.set(v.name, mine);
      this.size.set(v.name, { memoryMiB: v.memoryMiB, vcpus: v.vcpus });
    }
    // The starting placement is the inventory's; breaches already there are the planner's warnings, not ours.
    for (const v of inventory.vms) this.add(v.name, v.host, false);
  }

  get maintenanceLimit(): number {
    return this.limits.hosts;
  }

  /** A migration starts: the VM now also occupies its target. */
  migrationStarted(vm: string, target: string): void {
    this.add(vm, target, true);
  }

  /** A migration ended: the VM leaves `from` (success: source; failure: target). */
  migrationEnded(vm: string, from: string): void {
    this.remove(vm, from);
  }

  /** The campaign took `host` out of the pool (on) or put it back (off). */
  maintenance(host: string, on: boolean): void {
    this.inMaintenance += on ? 1 : -1;
    this.peakMaintenance = Math.max(this.peakMaintenance, this.inMaintenance);
    if (on && this.inMaintenance > this.limits.hosts) {
      this.report('maintenance', host, `${this.inMaintenance} hosts in maintenance at once (limit ${this.limits.hosts})`);
    }
    const load = this.hosts.get(host);
    if (!load || load.out === on) return;
    const before = this.slack(load.domain);
    load.out = on;
    this.shiftPool(load, on ? -1 : 1);
    this.checkHeadroom(load.domain, before, host, on ? `${host} leaving the pool` : `${host} coming back with ${load.memoryMiB} MiB, ${load.vcpus} vCPU`);
    this.countGroup(host, on);
  }

  get total(): number {
    return this.counts.capacity + this.counts['anti-affinity'] + this.counts.headroom + this.counts.maintenance;
  }

  private add(vm: string, host: string, check: boolean): void {
    const load = this.hosts.get(host);
    const size = this.size.get(vm);
    if (!load || !size) {
      this.report('capacity', host, `VM ${vm} placed on a host the inventory does not know`);
      return;
    }
    const before = this.slack(load.domain);
    load.memoryMiB += size.memoryMiB;
    load.vcpus += size.vcpus;
    if (!load.out) {
      load.domain.memoryMiB += size.memoryMiB;
      load.domain.vcpus += size.vcpus;
    }
    if (check && (load.memoryMiB > load.memoryCap || load.vcpus > load.vcpuCap)) {
      this.report('capacity', host, `${vm} arriving takes ${host} to ${load.memoryMiB}/${load.memoryCap} MiB, ${load.vcpus}/${load.vcpuCap} vCPU`);
    }
    if (check) this.checkHeadroom(load.domain, before, host, `${vm} arriving on ${host}`);
    for (const r of this.vmRules.get(vm) ?? []) {
      const n = (load.rules.get(r) ?? 0) + 1;
      load.rules.set(r, n);
      if (check && n > 1) this.report('anti-affinity', host, `${vm} arriving puts ${n} VMs of anti-affinity rule #${r} on ${host}`);
    }
  }

  private remove(vm: string, host: string): void {
    const load = this.hosts.get(host);
    const size = this.size.get(vm);
    if (!load || !size) return;
    load.memoryMiB -= size.memoryMiB;
    load.vcpus -= size.vcpus;
    if (!load.out) {
      load.domain.memoryMiB -= size.memoryMiB;
      load.domain.vcpus -= size.vcpus;
    }
    for (const r of this.vmRules.get(vm) ?? []) load.rules.set(r, (load.rules.get(r) ?? 1) - 1);
  }

  /** A host leaves (-1) or rejoins (+1) the pool: its capacity and its load leave or rejoin its domain's. */
  private shiftPool(load: HostLoad, sign: 1 | -1): void {
    const d = load.domain;
    d.memoryCap += sign * load.memoryCap;
    d.vcpuCap += sign * load.vcpuCap;
    d.memoryMiB += sign * load.memoryMiB;
    d.vcpus += sign * load.vcpus;
  }

  /** What a domain may still take before its headroom is gone (memory MiB, vCPUs); negative: over. */
  private slack(d: DomainLoad): [number, number] {
    return [(1 - this.keep.memory) * d.memoryCap - d.memoryMiB, (1 - this.keep.vcpus) * d.vcpuCap - d.vcpus];
  }

  /** Counted when the change left the domain over its headroom and worse than it was. */
  private checkHeadroom(d: DomainLoad, before: [number, number], host: string, change: string): void {
    const after = this.slack(d);
    if (!after.some((x, i) => x < -EPSILON && x < before[i]! - EPSILON)) return;
    const used = (share: number) => Math.round((1 - share) * 1000) / 10;
    this.report(
      'headroom',
      host,
      `${change} leaves ${d.name} over its headroom: ${d.memoryMiB}/${Math.floor(d.memoryCap)} MiB, ${d.vcpus}/${Math.floor(d.vcpuCap)} vCPU on its hosts in the pool (at most ${used(this.keep.memory)} % of memory, ${used(this.keep.vcpus)} % of vCPUs)`,
    );
  }

  /** A host of a planned group left or rejoined the pool: the group is out while any of its hosts is. */
  private countGroup(host: string, on: boolean): void {
    const g = this.groupOfHost.get(host);
    if (!g) return;
    g.hostsOut += on ? 1 : -1;
    if (g.hostsOut !== (on ? 1 : 0)) return;
    const delta = on ? 1 : -1;
    if (on) this.groupsOut.add(g);
    else this.groupsOut.delete(g);
    const inClass = (this.classOut.get(g.class) ?? 0) + delta;
    this.classOut.set(g.class, inClass);
    for (const d of g.domains) d.groupsOut += delta;
    if (!on) return;
    const { groupsAtOnce, classes, groupsPerDomain } = this.limits;
    if (this.groupsOut.size > groupsAtOnce) {
      this.report('maintenance', host, `${this.groupsOut.size} groups out of the pool at once (concurrency.groups ${groupsAtOnce}): ${groupNames(this.groupsOut)}`);
    }
    const classMax = classes[g.class];
    if (classMax !== undefined && inClass > classMax) {
      this.report('maintenance', host, `${inClass} groups of class ${g.class} out of the pool at once (maxConcurrentGroups ${classMax}): ${groupNames([...this.groupsOut].filter((x) => x.class === g.class))}`);
    }
    for (const d of g.domains) {
      if (groupsPerDomain !== null && d.groupsOut > groupsPerDomain) {
        this.report('maintenance', host, `${d.groupsOut} groups of ${d.name} out of the pool at once (groupsPerDomain ${groupsPerDomain}): ${groupNames([...this.groupsOut].filter((x) => x.domains.includes(d)))}`);
      }
    }
  }

  private report(kind: ViolationKind, host: string, message: string): void {
    this.counts[kind]++;
    if (this.examples.length < KEEP_EXAMPLES) this.examples.push({ kind, atMs: this.now(), host, message });
  }
}
