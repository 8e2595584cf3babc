// Target selection. Two strategies share one interface so the report can set them side by side:
// - upgrade-aware: the emptiest already-upgraded host of the VM's migration domain, so the VM moves once in
//   the whole campaign; when none fits (and the caller allows it), the not-yet-upgraded host that is upgraded
//   last, so the VM waits as long as possible before its second move.
// - naive: the least-loaded host not yet upgraded (then any upgraded one) — what a hand-run campaign does.

import type { PlacementStrategy } from '../model/plan.ts';
import { FleetState, NOT_SCHEDULED } from './fleet-state.ts';
import { HostHeap } from './heap.ts';

export interface Placer {
  /** A target host for `vm`, or -1. `allowOld`: hosts not yet upgraded may be used. */
  choose(vm: number, allowOld: boolean): number;
  place(vm: number, to: number, wave: number): void;
  /** Free memory on the upgraded hosts of migration domain `m` (an upper bound of what move-once can place there). */
  upgradedFreeMiB(m: number): number;
  /** The hosts join the wave being built (their VMs leave; nothing may land on them). */
  drain(hosts: readonly number[], wave: number): void;
  /** The group is done: its hosts are upgraded and back in service. */
  rejoin(hosts: readonly number[]): void;
}

/** Pop from `heap` until a host that fits; memory is the heap key, so a top without the memory ends the search. */
function firstFit(state: FleetState, heap: HostHeap, vm: number): number {
  const mem = state.inv.vms[vm]!.memoryMiB;
  const skipped: number[] = [];
  let found = -1;
  for (let h = heap.peek(); h !== undefined; h = heap.peek()) {
    if (state.freeMem[h]! < mem) break;
    if (state.fits(vm, h)) {
      found = h;
      break;
    }
    skipped.push(heap.pop()!);
  }
  for (const h of skipped) heap.push(h);
  return found;
}

abstract class HeapPlacer implements Placer {
  protected readonly upgraded: HostHeap[];
  /** Per migration domain: Σ free memory of the hosts in `upgraded`. */
  private readonly upgradedFree: Float64Array;
  /** Per migration domain, the failure domain all its hosts share, or -1 (lets a full domain skip the scan). */
  private readonly soleFailureDomain: Int32Array;

  constructor(protected readonly state: FleetState) {
    const M = state.migration.names.length;
    this.upgraded = Array.from({ length: M }, () => new HostHeap(state.freeMem));
    this.upgradedFree = new Float64Array(M);
    this.soleFailureDomain = new Int32Array(M).fill(-2);
    for (let h = 0; h < state.hostCount; h++) {
      const m = state.migration.ofHost[h]!;
      const f = state.failure.ofHost[h]!;
      const seen = this.soleFailureDomain[m]!;
      this.soleFailureDomain[m] = seen === -2 || seen === f ? f : -1;
    }
  }

  abstract choose(vm: number, allowOld: boolean): number;

  protected domainOf(vm: number): number {
    return this.state.migration.ofHost[this.state.vmHost[vm]!]!;
  }

  protected fromUpgraded(vm: number, m: number): number {
    const sole = this.soleFailureDomain[m]!;
    if (sole >= 0 && !this.state.headroomAllows(vm, sole)) return -1;
    return firstFit(this.state, this.upgraded[m]!, vm);
  }

  protected heapsHolding(_host: number): HostHeap[] {
    return [this.upgraded[this.state.migration.ofHost[_host]!]!];
  }

  upgradedFreeMiB(m: number): number {
    return this.upgradedFree[m]!;
  }

  place(vm: number, to: number, _wave: number): void {
    const heaps = this.heapsHolding(to);
    const m = this.state.migration.ofHost[to]!;
    const counted = this.upgraded[m]!.has(to) ? this.state.inv.vms[vm]!.memoryMiB : 0;
    // Registered before the move so that, undone newest-first, it runs after the free memory is restored.
    this.state.onRollback(() => {
      heaps.forEach((heap) => heap.update(to));
      this.upgradedFree[m]! += counted;
    });
    this.state.move(vm, to);
    this.upgradedFree[m]! -= counted;
    heaps.forEach((heap) => heap.update(to));
  }

  drain(hosts: readonly number[], wave: number): void {
    this.state.drain(hosts, wave);
  }

  rejoin(hosts: readonly number[]): void {
    this.state.rejoin(hosts);
    for (const h of hosts) {
      const m = this.state.migration.ofHost[h]!;
      this.upgraded[m]!.push(h);
      this.upgradedFree[m]! += Math.max(0, this.state.freeMem[h]!);
    }
  }
}

class UpgradeAwarePlacer extends HeapPlacer {
  /** Per migration domain: hosts in reverse campaign order (upgraded last first). */
  private readonly lastFirst: number[][];
  private readonly cursor: Int32Array;
  private readonly smallestVm: number;

  constructor(state: FleetState, campaignOrder: readonly number[]) {
    super(state);
    const M = state.migration.names.length;
    this.lastFirst = Array.from({ length: M }, () => []);
    for (let i = campaignOrder.length - 1; i >= 0; i--) {
      const h = campaignOrder[i]!;
      this.lastFirst[state.migration.ofHost[h]!]!.push(h);
    }
    this.cursor = new Int32Array(M);
    this.smallestVm = state.inv.vms.reduce((m, v) => Math.min(m, v.memoryMiB), Infinity);
  }

  choose(vm: number, allowOld: boolean): number {
    const m = this.domainOf(vm);
    const target = this.fromUpgraded(vm, m);
    if (target !== -1 || !allowOld) return target;
    return this.fromLastUpgraded(vm, m);
  }

  private fromLastUpgraded(vm: number, m: number): number {
    const list = this.lastFirst[m]!;
    const s = this.state;
    // Skip for good the hosts that can never serve again as an old host: already drained (in flight or
    // upgraded), or too full for any VM (a host not yet upgraded only gains VMs).
    let c = this.cursor[m]!;
    while (c < list.length) {
      const h = list[c]!;
      if (s.hostWave[h] !== NOT_SCHEDULED || s.freeMem[h]! < this.smallestVm) c++;
      else break;
    }
    this.cursor[m] = c;
    for (let i = c; i < list.length; i++) {
      const h = list[i]!;
      if (s.hostWave[h] === NOT_SCHEDULED && !s.outOfCampaign[h] && s.fits(vm, h)) return h;
    }
    return -1;
  }
}

class NaivePlacer extends HeapPlacer {
  private readonly old: HostHeap[];

  constructor(state: FleetState) {
    super(state);
    this.old = this.upgraded.map(() => new HostHeap(state.freeMem));
    for (let h = 0; h < state.hostCount; h++) {
      if (!state.outOfCampaign[h]) this.old[state.migration.ofHost[h]!]!.push(h);
    }
  }

  choose(vm: number, _allowOld: boolean): number {
    const m = this.domainOf(vm);
    const target = firstFit(this.state, this.old[m]!, vm);
    return target !== -1 ? target : this.fromUpgraded(vm, m);
  }

  protected override heapsHolding(host: number): HostHeap[] {
    const m = this.state.migration.ofHost[host]!;
    return [this.old[m]!, this.upgraded[m]!];
  }

  override drain(hosts: readonly number[], wave: number): void {
    const old = this.old;
    const ofHost = this.state.migration.ofHost;
    // Registered first so that, undone newest-first, the hosts return once their VMs are back.
    this.state.onRollback(() => hosts.forEach((h) => old[ofHost[h]!]!.push(h)));
    super.drain(hosts, wave);
    for (const h of hosts) old[ofHost[h]!]!.remove(h);
  }
}

export function createPlacer(strategy: PlacementStrategy, state: FleetState, campaignOrder: readonly number[]): Placer {
  return strategy === 'naive' ? new NaivePlacer(state) : new UpgradeAwarePlacer(state, campaignOrder);
}
