// The planner's mutable picture of the fleet while it walks the campaign: where each VM is, what is free on
// each host, what each failure domain holds in service, and which anti-affinity rules sit on which host.
// Every change goes through here and can be rolled back (a group that does not fit a wave is undone).

import type { Inventory } from '../model/inventory.ts';
import { domainMap, type DomainMap } from './domains.ts';
import { LabelIndex, matchingIndices } from '../model/match.ts';

export const NOT_SCHEDULED = -1;

export class FleetState {
  readonly hostCount: number;
  readonly freeMem: Float64Array;
  readonly freeVcpu: Float64Array;
  /** Start instant (wave) at which the host is drained; NOT_SCHEDULED until its group starts. */
  readonly hostWave: Int32Array;
  /** 1 once the host's group is done: upgraded and back in service. */
  readonly upgraded: Uint8Array;
  /** Hosts that are never drained nor used as targets (skipped by policy). */
  readonly outOfCampaign: Uint8Array;
  readonly hostVms: number[][];
  readonly vmHost: Int32Array;
  readonly vmMoves: Uint8Array;
  /** Anti-affinity rule indices per VM (empty for most). */
  readonly vmRules: (number[] | undefined)[];
  readonly ruleNames: string[];
  /** key rule * hostCount + host -> VMs of that rule on that host. */
  private readonly ruleOccupancy = new Map<number, number>();

  readonly failure: DomainMap;
  readonly migration: DomainMap;
  /** Per failure domain: capacity and load of the hosts in service (not in the current wave). */
  readonly capMem: Float64Array;
  readonly capVcpu: Float64Array;
  readonly loadMem: Float64Array;
  readonly loadVcpu: Float64Array;
  private readonly keepMem: number;
  private readonly keepVcpu: number;

  private undo: (() => void)[] = [];

  constructor(
    readonly inv: Inventory,
    failureLabel: string | null,
    migrationLabel: string | null,
  ) {
    const { hosts, vms, rules } = inv;
    const H = hosts.length;
    this.hostCount = H;
    this.freeMem = new Float64Array(H);
    this.freeVcpu = new Float64Array(H);
    this.hostWave = new Int32Array(H).fill(NOT_SCHEDULED);
    this.outOfCampaign = new Uint8Array(H);
    this.upgraded = new Uint8Array(H);
    this.hostVms = hosts.map(() => []);
    this.vmHost = new Int32Array(vms.length);
    this.vmMoves = new Uint8Array(vms.length);
    this.failure = domainMap(hosts, failureLabel);
    this.migration = domainMap(hosts, migrationLabel);
    const D = this.failure.names.length;
    this.capMem = new Float64Array(D);
    this.capVcpu = new Float64Array(D);
    this.loadMem = new Float64Array(D);
    this.loadVcpu = new Float64Array(D);
    this.keepMem = rules.headroom.memoryPercent / 100;
    this.keepVcpu = rules.headroom.vcpuPercent / 100;

    const hostIndex = new Map<string, number>();
    hosts.forEach((h, i) => {
      hostIndex.set(h.name, i);
      this.freeMem[i] = h.capacity.memoryMiB;
      this.freeVcpu[i] = h.capacity.vcpus * rules.cpuOvercommit;
      const d = this.failure.ofHost[i]!;
      this.capMem[d]! += h.capacity.memoryMiB;
      this.capVcpu[d]! += h.capacity.vcpus * rules.cpuOvercommit;
    });
    vms.forEach((v, i) => {
      const h = hostIndex.get(v.host)!;
      this.vmHost[i] = h;
      this.hostVms[h]!.push(i);
      this.freeMem[h]! -= v.memoryMiB;
      this.freeVcpu[h]! -= v.vcpus;
      const d = this.failure.ofHost[h]!;
      this.loadMem[d]! += v.memoryMiB;
      this.loadVcpu[d]! += v.vcpus;
    });

    this.vmRules = new Array<number[] | undefined>(vms.length);
    this.ruleNames = rules.antiAffinity.map((r) => r.name);
    const index = new LabelIndex(vms);
    rules.antiAffinity.forEach((rule, r) => {
      for (const v of matchingIndices(vms, rule.match, index)) {
        (this.vmRules[v] ??= []).push(r);
        this.bumpRule(r, this.vmHost[v]!, 1);
      }
    });
  }

  /** Existing anti-affinity conflicts: [rule, host, count] where a rule has more than one VM on a host. */
  existingConflicts(): { rule: number; host: number; count: number }[] {
    const out: { rule: number; host: number; count: number }[] = [];
    for (const [key, count] of this.ruleOccupancy) {
      if (count > 1) out.push({ rule: Math.floor(key / this.hostCount), host: key % this.hostCount, count });
    }
    return out.sort((a, b) => a.rule - b.rule || a.host - b.host);
  }

  private bumpRule(rule: number, host: number, delta: number): void {
    const key = rule * this.hostCount + host;
    const n = (this.ruleOccupancy.get(key) ?? 0) + delta;
    if (n === 0) this.ruleOccupancy.delete(key);
    else this.ruleOccupancy.set(key, n);
  }

  /** Anti-affinity rule of `vm` already present on `host`, or -1. */
  ruleConflict(vm: number, host: number): number {
    const rules = this.vmRules[vm];
    if (!rules) return -1;
    for (const r of rules) if ((this.ruleOccupancy.get(r * this.hostCount + host) ?? 0) > 0) return r;
    return -1;
  }

  /** Would placing `vm` into failure domain `d` break its headroom? */
  headroomAllows(vm: number, d: number): boolean {
    const v = this.inv.vms[vm]!;
    return (
      this.loadMem[d]! + v.memoryMiB <= (1 - this.keepMem) * this.capMem[d]! + 1e-6 &&
      this.loadVcpu[d]! + v.vcpus <= (1 - this.keepVcpu) * this.capVcpu[d]! + 1e-6
    );
  }

  /** Is failure domain `d` within its headroom as it stands? */
  domainWithinHeadroom(d: number): boolean {
    return (
      this.loadMem[d]! <= (1 - this.keepMem) * this.capMem[d]! + 1e-6 && this.loadVcpu[d]! <= (1 - this.keepVcpu) * this.capVcpu[d]! + 1e-6
    );
  }

  /** Why `host` cannot take `vm` right now, or null when it can. */
  rejection(vm: number, host: number): 'drained' | 'memory' | 'vcpu' | 'anti-affinity' | 'headroom' | null {
    if (this.outOfCampaign[host] || this.inFlight(host)) return 'drained';
    const v = this.inv.vms[vm]!;
    if (this.freeMem[host]! < v.memoryMiB) return 'memory';
    if (this.freeVcpu[host]! < v.vcpus) return 'vcpu';
    if (this.ruleConflict(vm, host) !== -1) return 'anti-affinity';
    if (!this.headroomAllows(vm, this.failure.ofHost[host]!)) return 'headroom';
    return null;
  }

  /** Set by the scheduler: the start instant being built (hosts drained then or earlier and not done are in flight). */
  currentWave = 0;

  /** Drained and not yet back: it may not receive VMs. */
  inFlight(host: number): boolean {
    return this.hostWave[host] !== NOT_SCHEDULED && !this.upgraded[host];
  }

  fits(vm: number, host: number): boolean {
    return this.rejection(vm, host) === null;
  }

  /** Take hosts out of service for wave `wave` (their VMs are about to leave). */
  drain(hosts: readonly number[], wave: number): void {
    for (const h of hosts) {
      this.hostWave[h] = wave;
      this.shiftService(h, -1);
    }
    this.undo.push(() => {
      for (const h of hosts) {
        this.shiftService(h, 1);
        this.hostWave[h] = NOT_SCHEDULED;
      }
    });
  }

  /** Put drained hosts back in service once their group is done (upgraded, holding what stayed on them). */
  rejoin(hosts: readonly number[]): void {
    for (const h of hosts) {
      this.shiftService(h, 1);
      this.upgraded[h] = 1;
    }
  }

  private shiftService(h: number, sign: 1 | -1): void {
    const d = this.failure.ofHost[h]!;
    const host = this.inv.hosts[h]!;
    this.capMem[d]! += sign * host.capacity.memoryMiB;
    this.capVcpu[d]! += sign * host.capacity.vcpus * this.inv.rules.cpuOvercommit;
    for (const v of this.hostVms[h]!) {
      const vm = this.inv.vms[v]!;
      this.loadMem[d]! += sign * vm.memoryMiB;
      this.loadVcpu[d]! += sign * vm.vcpus;
    }
  }

  /** Move `vm` from its (draining) host to `to`. The source is out of service, so only `to` gains load. */
  move(vm: number, to: number): void {
    const v = this.inv.vms[vm]!;
    const from = this.vmHost[vm]!;
    const fromList = this.hostVms[from]!;
    const at = fromList.indexOf(vm);
    fromList.splice(at, 1);
    this.hostVms[to]!.push(vm);
    this.vmHost[vm] = to;
    this.freeMem[from]! += v.memoryMiB;
    this.freeVcpu[from]! += v.vcpus;
    this.freeMem[to]! -= v.memoryMiB;
    this.freeVcpu[to]! -= v.vcpus;
    const d = this.failure.ofHost[to]!;
    this.loadMem[d]! += v.memoryMiB;
    this.loadVcpu[d]! += v.vcpus;
    const rules = this.vmRules[vm];
    if (rules) {
      for (const r of rules) {
        this.bumpRule(r, from, -1);
        this.bumpRule(r, to, 1);
      }
    }
    this.vmMoves[vm]! += 1;
    this.undo.push(() => {
      this.vmMoves[vm]! -= 1;
      if (rules) {
        for (const r of rules) {
          this.bumpRule(r, to, -1);
          this.bumpRule(r, from, 1);
        }
      }
      this.loadMem[d]! -= v.memoryMiB;
      this.loadVcpu[d]! -= v.vcpus;
      this.freeMem[to]! += v.memoryMiB;
      this.freeVcpu[to]! += v.vcpus;
      this.freeMem[from]! -= v.memoryMiB;
      this.freeVcpu[from]! -= v.vcpus;
      this.vmHost[vm] = from;
      this.hostVms[to]!.pop();
      fromList.splice(at, 0, vm);
    });
  }

  /** Start recording a change that may be undone. */
  begin(): void {
    this.undo = [];
  }

  /** Undo everything since begin(), newest first. */
  rollback(): void {
    for (let i = this.undo.length - 1; i >= 0; i--) this.undo[i]!();
    this.undo = [];
  }

  commit(): void {
    this.undo = [];
  }

  /** Register an extra undo step (strategies keep their own indexes in step with the state). */
  onRollback(fn: () => void): void {
    this.undo.push(fn);
  }
}
