// Entry point of the pure planner: inventory + rules -> plan. No I/O (lint-enforced); same input, same plan.

import { DEFAULT_RULES, type EstimateRules, type Inventory } from '../model/inventory.ts';
import {
  PLAN_SCHEMA_VERSION,
  type Move,
  type Plan,
  type PlannedGroup,
  type PlannedWave,
  type PlanProblem,
  type PlacementStrategy,
} from '../model/plan.ts';
import { classify, type Classification } from './classes.ts';
import { failureDomainLabel, migrationDomainLabel } from './domains.ts';
import { maintenanceSeconds, migrationSeconds } from './estimate.ts';
import { FleetState } from './fleet-state.ts';
import { formGroups } from './groups.ts';
import { LabelIndex } from '../model/match.ts';
import { orderGroups, type OrderedGroup } from './order.ts';
import { createPlacer } from './placement.ts';
import { schedule, type ScheduleOutcome } from './schedule.ts';

export interface PlanOptions {
  strategy?: PlacementStrategy;
  /** Overrides of the inventory's `rules.estimates` (CLI flags, runbook durations). */
  estimates?: Partial<EstimateRules>;
}

export function buildPlan(inventory: Inventory, options: PlanOptions = {}): Plan {
  const strategy = options.strategy ?? 'upgrade-aware';
  const rules = inventory.rules;
  const est: EstimateRules = { ...DEFAULT_RULES.estimates, ...rules.estimates, ...options.estimates };
  const failureLabel = failureDomainLabel(inventory.hosts, rules);
  const migrationLabel = migrationDomainLabel(inventory.hosts, rules);

  const state = new FleetState(inventory, failureLabel, migrationLabel);
  const cls = classify(inventory.vms, rules.sensitivity, new LabelIndex(inventory.vms));
  const groups = orderGroups(formGroups(inventory, cls, state.hostVms), inventory, cls);
  for (const g of groups) for (const h of g.skippedHosts) state.outOfCampaign[h] = 1;
  const campaignOrder = groups.flatMap((g) => g.hosts);
  const lowerBound = groups.reduce((n, g) => n + g.hosts.reduce((k, h) => k + state.hostVms[h]!.filter((v) => inventory.vms[v]!.migratable).length, 0), 0);
  const warnings = initialWarnings(state, groups);

  const placer = createPlacer(strategy, state, campaignOrder);
  const moveSeconds = new Map<number, number>();
  const secondsOf = (mem: number) => {
    let s = moveSeconds.get(mem);
    if (s === undefined) moveSeconds.set(mem, (s = migrationSeconds(mem, est)));
    return s;
  };
  const outcome = schedule(groups, state, placer, cls, strategy, { migration: (vm) => secondsOf(inventory.vms[vm]!.memoryMiB), maintenance: maintenanceSeconds(est) });

  const problems: PlanProblem[] = [...outcome.problems];
  for (const g of groups) {
    if (g.policy !== 'block' || g.nonMigratable.length === 0) continue;
    for (const v of g.nonMigratable) {
      const vm = inventory.vms[v]!;
      problems.push({
        kind: 'non-migratable',
        group: g.name,
        vm: vm.name,
        constraint: 'non-migratable',
        message: `VM ${vm.name} on ${inventory.hosts[state.vmHost[v]!]!.name} cannot be live-migrated, so group ${g.name} is blocked`,
        fix: `choose a policy: rules.nonMigratable.groups["${g.name}"]: shutdown (stop it during the upgrade) or skip (leave its host out), or mark it migratable`,
      });
    }
  }

  const { plannedGroups, waves, total } = timeline(state, groups, outcome, secondsOf);
  const migrations = plannedGroups.reduce((n, g) => n + g.moves.length, 0);
  const movedMoreThanOnce: string[] = [];
  state.vmMoves.forEach((n, v) => {
    if (n > 1) movedMoreThanOnce.push(inventory.vms[v]!.name);
  });
  if (movedMoreThanOnce.length > 0) {
    warnings.push(`${movedMoreThanOnce.length} VM(s) move more than once: no upgraded host had room when their group was drained`);
  }
  if (groups.some((g) => g.approval)) warnings.push('the estimated duration does not include waits for approvals');

  return {
    schemaVersion: PLAN_SCHEMA_VERSION,
    settings: {
      strategy,
      cpuOvercommit: rules.cpuOvercommit,
      failureDomain: failureLabel,
      migrationDomain: migrationLabel,
      concurrency: {
        groups: rules.concurrency.groups,
        migrations: rules.concurrency.migrations,
        migrationsPerHost: rules.concurrency.migrationsPerHost,
        groupsPerDomain: rules.concurrency.groupsPerDomain ?? null,
        classes: classLimits(cls),
      },
      failureBudget: rules.failureBudget,
      maintenanceBudget: maintenanceBudget(inventory, state, outcome),
      twoPersonRule: rules.twoPersonRule,
      estimates: { ...est },
    },
    summary: {
      hosts: inventory.hosts.length,
      vms: inventory.vms.length,
      groups: groups.length,
      waves: waves.length,
      migrations,
      migrationsLowerBound: lowerBound,
      movedMoreThanOnce,
      estimatedSeconds: total,
      runnable: problems.length === 0,
    },
    warnings,
    problems,
    waves,
    groups: plannedGroups,
  };
}

function initialWarnings(state: FleetState, groups: readonly OrderedGroup[]): string[] {
  const { inv } = state;
  const warnings: string[] = [];
  for (const c of state.existingConflicts()) {
    warnings.push(`anti-affinity rule ${state.ruleNames[c.rule]} is already broken: ${c.count} of its VMs share host ${inv.hosts[c.host]!.name}; the plan spreads them as it drains that host`);
  }
  for (let h = 0; h < state.hostCount; h++) {
    if (state.freeMem[h]! < 0 || state.freeVcpu[h]! < 0) warnings.push(`host ${inv.hosts[h]!.name} already holds more than its capacity; nothing new is placed on it`);
  }
  for (const g of groups) {
    if (g.skippedHosts.length > 0) {
      warnings.push(`group ${g.name}: host(s) ${g.skippedHosts.map((h) => inv.hosts[h]!.name).join(', ')} left out of the campaign (non-migratable VMs, policy skip): they are not upgraded`);
    }
    if (g.policy === 'shutdown' && g.nonMigratable.length > 0) {
      warnings.push(`group ${g.name}: VM(s) ${g.nonMigratable.map((v) => inv.vms[v]!.name).join(', ')} will be shut down during the upgrade (policy shutdown)`);
    }
  }
  return warnings;
}

/**
 * Per failure domain: cap − maxLoad / (1 − headroom), memory and vCPUs. maxLoad is the load at the start plus
 * every VM the plan brings in from another domain (exact when VMs stay in their failure domain).
 */
function maintenanceBudget(inv: Inventory, state: FleetState, outcome: ScheduleOutcome): Record<string, { memoryMiB: number; vcpus: number }> {
  const D = state.failure.names.length;
  const cap = new Float64Array(D);
  const capCpu = new Float64Array(D);
  const load = new Float64Array(D);
  const loadCpu = new Float64Array(D);
  const hostIndex = new Map(inv.hosts.map((h, i) => [h.name, i]));
  inv.hosts.forEach((h, i) => {
    const d = state.failure.ofHost[i]!;
    cap[d]! += h.capacity.memoryMiB;
    capCpu[d]! += h.capacity.vcpus * inv.rules.cpuOvercommit;
  });
  for (const v of inv.vms) {
    const d = state.failure.ofHost[hostIndex.get(v.host)!]!;
    load[d]! += v.memoryMiB;
    loadCpu[d]! += v.vcpus;
  }
  for (const moves of outcome.moves) {
    for (const m of moves) {
      const to = state.failure.ofHost[m.to]!;
      if (state.failure.ofHost[m.from] === to) continue;
      load[to]! += inv.vms[m.vm]!.memoryMiB;
      loadCpu[to]! += inv.vms[m.vm]!.vcpus;
    }
  }
  const keepMem = inv.rules.headroom.memoryPercent / 100;
  const keepCpu = inv.rules.headroom.vcpuPercent / 100;
  const out: Record<string, { memoryMiB: number; vcpus: number }> = {};
  state.failure.names.forEach((name, d) => {
    out[name] = { memoryMiB: Math.floor(cap[d]! - load[d]! / (1 - keepMem)), vcpus: Math.floor(capCpu[d]! - loadCpu[d]! / (1 - keepCpu)) };
  });
  return out;
}

function classLimits(cls: Classification): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of cls.classes) if (Number.isFinite(c.maxConcurrentGroups)) out[c.name] = c.maxConcurrentGroups;
  return out;
}

function timeline(state: FleetState, groups: readonly OrderedGroup[], outcome: ScheduleOutcome, secondsOf: (mem: number) => number) {
  const inv = state.inv;
  const { hosts, vms } = inv;
  const waves: PlannedWave[] = outcome.waves.map((w, index) => ({
    index,
    groups: w.groups.map((gi) => groups[gi]!.name),
    startSeconds: round(w.startSeconds),
    endSeconds: round(w.groups.reduce((m, gi) => Math.max(m, outcome.endSeconds[gi]!), w.startSeconds)),
    closedBy: w.closedBy,
  }));
  const total = waves.reduce((m, w) => Math.max(m, w.endSeconds), 0);

  const plannedGroups: PlannedGroup[] = outcome.order.map((gi, index) => {
    const g = groups[gi]!;
    // Non-migratable VMs never move, so their host now is their host in the inventory.
    const nonMigratable = g.nonMigratable.map((v) => ({ vm: vms[v]!.name, host: hosts[state.vmHost[v]!]!.name, policy: g.policy }));
    const moves: Move[] = [...outcome.moves[gi]!]
      .sort((a, b) => a.from - b.from || vms[b.vm]!.memoryMiB - vms[a.vm]!.memoryMiB || a.vm - b.vm)
      .map((m) => {
        const vm = vms[m.vm]!;
        return { vm: vm.name, from: hosts[m.from]!.name, to: hosts[m.to]!.name, memoryMiB: vm.memoryMiB, vcpus: vm.vcpus, seconds: round(secondsOf(vm.memoryMiB)), repeat: m.repeat };
      });
    const wave = outcome.groupWave[gi]!;
    const runs = wave >= 0;
    return {
      name: g.name,
      index,
      wave,
      class: g.className,
      tier: g.tier,
      reason: outcome.broughtForward[gi] ? `${g.reason}; brought forward within its class: its VMs fit on upgraded hosts and move once` : g.reason,
      hosts: g.hosts.map((h) => hosts[h]!.name),
      skippedHosts: g.skippedHosts.map((h) => hosts[h]!.name),
      domains: g.hosts.map((h) => state.failure.names[state.failure.ofHost[h]!]!),
      approval: g.approval,
      capacity: {
        memoryMiB: g.hosts.reduce((n, h) => n + hosts[h]!.capacity.memoryMiB, 0),
        vcpus: g.hosts.reduce((n, h) => n + hosts[h]!.capacity.vcpus * inv.rules.cpuOvercommit, 0),
      },
      status: g.hosts.length === 0 ? 'skipped' : outcome.infeasible[gi] ? 'infeasible' : g.policy === 'block' && g.nonMigratable.length > 0 ? 'blocked' : 'ready',
      after: outcome.after[gi]!.map((d) => groups[d]!.name),
      nonMigratable,
      moves,
      estimate: runs
        ? {
            startSeconds: round(outcome.startSeconds[gi]!),
            drainSeconds: round(outcome.drainSeconds[gi]!),
            maintenanceSeconds: round(outcome.endSeconds[gi]! - outcome.startSeconds[gi]! - outcome.drainSeconds[gi]!),
            endSeconds: round(outcome.endSeconds[gi]!),
          }
        : { startSeconds: 0, drainSeconds: 0, maintenanceSeconds: 0, endSeconds: 0 },
    };
  });
  return { plannedGroups, waves, total };
}

function round(s: number): number {
  return Math.round(s * 10) / 10;
}
