// How long things take in the simulated fleet, and which of them fail. Migrations follow the planner's
// pre-copy model (migrationSeconds) with a dirty rate per VM class; upgrade, reboot and verify come from the
// runbook or flags. A spread draws each duration uniformly around its nominal value; injected failures pick
// a share of migration attempts, a share of hosts whose upgrade fails and a share whose verification fails.
// All draws are seeded (chance.ts).

import type { EstimateRules, Labels } from '../model/inventory.ts';
import { migrationSeconds } from '../planner/estimate.ts';
import { Chance } from './chance.ts';

/** A dirty rate for the VMs carrying `label=value` (first match wins). */
export interface DirtyRateRule {
  label: string;
  value: string;
  dirtyRateMiBps: number;
}

export interface TimingOptions {
  estimates: EstimateRules;
  /** Per-class dirty rates over `estimates.dirtyRateMiBps`. */
  dirtyRates?: DirtyRateRule[];
  /** 0: fixed durations; 0.3: each duration drawn in [0.7, 1.3] × nominal. */
  spread?: number;
  seed?: number;
  /** Share of migration attempts that fail (the VM stays on its source; the engine retries). */
  migrationFailRate?: number;
  /**
   * Share of migrations that are cut short in their last phase: the VM moves, a paused copy stays on the source
   * and `virsh migrate` fails (what a killed orchestrator or a restarted source libvirtd leaves).
   */
  migrationCutShortRate?: number;
  /** Share of hosts whose verification fails after the upgrade (the group fails, the budget counts it). */
  verifyFailRate?: number;
  /**
   * Share of hosts whose upgrade fails: the package's postinst exits 1, apt-get exits 100 and leaves the package
   * half-configured (dpkg status iF, its version already the new one), on every attempt.
   */
  upgradeFailRate?: number;
}

export class SimTiming {
  readonly chance: Chance;
  readonly estimates: EstimateRules;
  private readonly spreadShare: number;
  private readonly dirty: DirtyRateRule[];
  private readonly cache = new Map<string, number>();

  constructor(readonly options: TimingOptions) {
    this.chance = new Chance(options.seed ?? 1);
    this.estimates = options.estimates;
    this.spreadShare = options.spread ?? 0;
    this.dirty = options.dirtyRates ?? [];
  }

  dirtyRate(labels: Labels): number {
    for (const r of this.dirty) if (labels[r.label] === r.value) return r.dirtyRateMiBps;
    return this.estimates.dirtyRateMiBps;
  }

  /** Nominal seconds of one live migration (what the lower bound uses). */
  migrationSeconds(memoryMiB: number, labels: Labels): number {
    const rate = this.dirtyRate(labels);
    const key = `${memoryMiB}/${rate}`;
    let s = this.cache.get(key);
    if (s === undefined) this.cache.set(key, (s = migrationSeconds(memoryMiB, { ...this.estimates, dirtyRateMiBps: rate })));
    return s;
  }

  /** Nominal seconds a host spends upgrading, rebooting and verifying. */
  maintenanceSeconds(): number {
    return this.estimates.upgradeSeconds + this.estimates.rebootSeconds + this.estimates.verifySeconds;
  }

  private drawn(seconds: number, key: string): number {
    return Math.round(seconds * 1000 * this.chance.spread(key, this.spreadShare));
  }

  migrationMs(vm: string, attempt: number, memoryMiB: number, labels: Labels): number {
    return this.drawn(this.migrationSeconds(memoryMiB, labels), `migrate/${vm}/${attempt}`);
  }

  migrationFails(vm: string, attempt: number): boolean {
    const rate = this.options.migrationFailRate ?? 0;
    return rate > 0 && this.chance.unit(`migrate-fails/${vm}/${attempt}`) < rate;
  }

  migrationCutShort(vm: string, attempt: number): boolean {
    const rate = this.options.migrationCutShortRate ?? 0;
    return rate > 0 && this.chance.unit(`migrate-cut/${vm}/${attempt}`) < rate;
  }

  upgradeMs(host: string): number {
    return this.drawn(this.estimates.upgradeSeconds, `upgrade/${host}`);
  }

  rebootMs(host: string, boot: number): number {
    return this.drawn(this.estimates.rebootSeconds, `reboot/${host}/${boot}`);
  }

  verifyMs(host: string, attempt: number): number {
    return this.drawn(this.estimates.verifySeconds, `verify/${host}/${attempt}`);
  }

  /** Whether this host's upgrade fails half-way (see upgradeFailRate). */
  upgradeFails(host: string): boolean {
    const rate = this.options.upgradeFailRate ?? 0;
    return rate > 0 && this.chance.unit(`upgrade-fails/${host}`) < rate;
  }

  /** Whether this host comes back broken after its upgrade (libvirtd does not start). */
  verifyFails(host: string): boolean {
    const rate = this.options.verifyFailRate ?? 0;
    return rate > 0 && this.chance.unit(`verify-fails/${host}`) < rate;
  }
}
