// Duration estimates: live migration by the pre-copy model, host maintenance from the runbook or defaults,
// and a group's drain time (the pipelined timeline is built in schedule.ts; approval waits are not included).

import type { Concurrency, EstimateRules } from '../model/inventory.ts';

const MAX_PRECOPY_ROUNDS = 30;
/** Pre-copy stops when what is left can be sent within this pause (QEMU's default downtime limit). */
const STOP_AND_COPY_SECONDS = 0.3;

/**
 * Pre-copy: round 0 sends all memory M; each next round resends what was dirtied meanwhile, a factor
 * ρ = dirty rate / bandwidth of the previous round. T = (M/B)·(1−ρⁿ⁺¹)/(1−ρ), n the rounds until the
 * remainder fits the stop-and-copy pause (or a round cap, as QEMU forces convergence then).
 */
export function migrationSeconds(memoryMiB: number, est: EstimateRules): number {
  const B = est.migrationBandwidthMiBps;
  const rho = est.dirtyRateMiBps / B;
  const firstPass = memoryMiB / B;
  let rounds = 0;
  if (rho > 0) {
    const threshold = STOP_AND_COPY_SECONDS * B;
    rounds = rho >= 1 ? MAX_PRECOPY_ROUNDS : Math.min(MAX_PRECOPY_ROUNDS, Math.max(0, Math.ceil(Math.log(threshold / memoryMiB) / Math.log(rho))));
  }
  const copy = rho === 0 ? firstPass : rho === 1 ? firstPass * (rounds + 1) : (firstPass * (1 - rho ** (rounds + 1))) / (1 - rho);
  return est.migrationOverheadSeconds + copy;
}

export function maintenanceSeconds(est: EstimateRules): number {
  return est.upgradeSeconds + est.rebootSeconds + est.verifySeconds;
}

export interface DrainLoad {
  /** Seconds of migration per source host of the group. */
  perHost: number[];
  total: number;
}

/**
 * Drain time of a group: bounded by its busiest host (migrationsPerHost streams; `perHost` may list targets
 * too) and by its share of the global migration limit (`concurrentTotal`: migration seconds of every group
 * draining at the same time).
 */
export function drainSeconds(group: DrainLoad, concurrentTotal: number, c: Concurrency): number {
  const hostBound = group.perHost.reduce((m, s) => Math.max(m, s / c.migrationsPerHost), 0);
  const globalBound = concurrentTotal / c.migrations;
  return group.total === 0 ? 0 : Math.max(hostBound, globalBound);
}
