// An independent safety checker: it knows nothing of the planner or the engine, only the inventory and what
// happens in the simulated fleet. A VM in flight counts on BOTH its source and its target until the
// migration ends. After every change it checks the hosts touched:
//   capacity      memory ≤ capacity, vCPUs ≤ capacity × cpuOvercommit
//   anti-affinity no two VMs of one anti-affinity rule on one host
//   maintenance   hosts in maintenance at once ≤ the campaign's limit (groups at once × largest group)
// and counts each violation (a host going over, or a second member arriving), never silently.

import type { Inventory, Match } from '../model/inventory.ts';

export type ViolationKind = 'capacity' | 'anti-affinity' | 'maintenance';

export interface Violation {
  kind: ViolationKind;
  atMs: number;
  host: string;
  message: string;
}

interface HostLoad {
  memoryMiB: number;
  vcpus: number;
  memoryCap: number;
  vcpuCap: number;
  /** VMs present per anti-affinity rule index (resident or in flight). */
  rules: Map<number, number>;
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

export class InvariantChecker {
  readonly counts: Record<ViolationKind, number> = { capacity: 0, 'anti-affinity': 0, maintenance: 0 };
  readonly examples: Violation[] = [];
  peakMaintenance = 0;
  private inMaintenance = 0;
  private readonly hosts = new Map<string, HostLoad>();
  private readonly vmRules = new Map<string, number[]>();
  private readonly size = new Map<string, { memoryMiB: number; vcpus: number }>();

  constructor(
    inventory: Inventory,
    readonly maintenanceLimit: number,
    private readonly now: () => number,
  ) {
    const overcommit = inventory.rules.cpuOvercommit;
    for (const h of inventory.hosts) {
      this.hosts.set(h.name, { memoryMiB: 0, vcpus: 0, memoryCap: h.capacity.memoryMiB, vcpuCap: h.capacity.vcpus * overcommit, rules: new Map() });
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

  /** A migration starts: the VM now also occupies its target. */
  migrationStarted(vm: string, target: string): void {
    this.add(vm, target, true);
  }

  /** A migration ended: the VM leaves `from` (success: source; failure: target). */
  migrationEnded(vm: string, from: string): void {
    this.remove(vm, from);
  }

  maintenance(host: string, on: boolean): void {
    this.inMaintenance += on ? 1 : -1;
    this.peakMaintenance = Math.max(this.peakMaintenance, this.inMaintenance);
    if (on && this.inMaintenance > this.maintenanceLimit) {
      this.report('maintenance', host, `${this.inMaintenance} hosts in maintenance at once (limit ${this.maintenanceLimit})`);
    }
  }

  get total(): number {
    return this.counts.capacity + this.counts['anti-affinity'] + this.counts.maintenance;
  }

  private add(vm: string, host: string, check: boolean): void {
    const load = this.hosts.get(host);
    const size = this.size.get(vm);
    if (!load || !size) {
      this.report('capacity', host, `VM ${vm} placed on a host the inventory does not know`);
      return;
    }
    load.memoryMiB += size.memoryMiB;
    load.vcpus += size.vcpus;
    if (check && (load.memoryMiB > load.memoryCap || load.vcpus > load.vcpuCap)) {
      this.report('capacity', host, `${vm} arriving takes ${host} to ${load.memoryMiB}/${load.memoryCap} MiB, ${load.vcpus}/${load.vcpuCap} vCPU`);
    }
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
    for (const r of this.vmRules.get(vm) ?? []) load.rules.set(r, (load.rules.get(r) ?? 1) - 1);
  }

  private report(kind: ViolationKind, host: string, message: string): void {
    this.counts[kind]++;
    if (this.examples.length < KEEP_EXAMPLES) this.examples.push({ kind, atMs: this.now(), host, message });
  }
}
