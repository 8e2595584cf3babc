// The plan: the artifact an operator reviews and `hvroll run` executes exactly (STYLE.md §2).
// Everything here is plain JSON; field order is part of the documented schema (README "Plan JSON").

import type { NonMigratablePolicy, OrderTier } from './inventory.ts';

export const PLAN_SCHEMA_VERSION = 2;

export type PlacementStrategy = 'upgrade-aware' | 'naive';

/** Position in the campaign: spare (empty) groups go first, then the class order tiers. */
export type GroupTier = 'spare' | OrderTier;

export interface Move {
  vm: string;
  from: string;
  to: string;
  memoryMiB: number;
  vcpus: number;
  /** Estimated duration of this live migration, seconds. */
  seconds: number;
  /** True when the VM already moved earlier in this campaign (it landed on a host upgraded later). */
  repeat: boolean;
}

export interface NonMigratableVm {
  vm: string;
  host: string;
  policy: NonMigratablePolicy;
}

export type GroupStatus =
  | 'ready' // runnable as planned
  | 'blocked' // holds non-migratable VMs under the `block` policy
  | 'infeasible' // some VM has no valid target
  | 'skipped'; // left out of the campaign by policy

export interface GroupEstimate {
  startSeconds: number;
  drainSeconds: number;
  /** Upgrade + reboot + verify of its hosts (in parallel). */
  maintenanceSeconds: number;
  endSeconds: number;
}

export interface PlannedGroup {
  name: string;
  /** Position in the campaign order, 0-based. */
  index: number;
  wave: number;
  class: string;
  tier: GroupTier;
  /** Why the group stands where it stands (for the reviewing operator). */
  reason: string;
  hosts: string[];
  /** Hosts of the group left out of the campaign (policy `skip` for their non-migratable VMs). */
  skippedHosts: string[];
  /** Failure domain of each host, same order as `hosts`. */
  domains: string[];
  approval: boolean;
  status: GroupStatus;
  /** Capacity its hosts take out of service while it runs (vCPUs × cpuOvercommit): `run` checks the headroom with it. */
  capacity: { memoryMiB: number; vcpus: number };
  /**
   * Groups that must be done before this one starts: those that upgraded the hosts its VMs go to, and those
   * that parked VMs on its hosts. `run` starts a group when these are done and the limits allow it.
   */
  after: string[];
  nonMigratable: NonMigratableVm[];
  moves: Move[];
  estimate: GroupEstimate;
}

/** A start instant of the estimated timeline: the groups the planner starts together (not a barrier). */
export interface PlannedWave {
  index: number;
  groups: string[];
  startSeconds: number;
  endSeconds: number;
  /** Why no other group started at that instant (concurrency, order, class limit, capacity for move-once, ...). */
  closedBy: string;
}

export type ProblemKind = 'no-target' | 'non-migratable' | 'headroom' | 'anti-affinity-existing';

export interface PlanProblem {
  kind: ProblemKind;
  group: string;
  vm?: string;
  /** The constraint that could not be met, e.g. `capacity`, `anti-affinity:db-spread`, `headroom:az=az1`. */
  constraint: string;
  message: string;
  fix: string;
}

export interface PlanSummary {
  hosts: number;
  vms: number;
  groups: number;
  waves: number;
  migrations: number;
  /** Every migratable VM on a host that is drained must move at least once. */
  migrationsLowerBound: number;
  movedMoreThanOnce: string[];
  estimatedSeconds: number;
  runnable: boolean;
}

export interface PlanSettingsRecord {
  strategy: PlacementStrategy;
  cpuOvercommit: number;
  failureDomain: string | null;
  migrationDomain: string | null;
  /** `classes`: maxConcurrentGroups per sensitivity class that has one (enforced by `run`). */
  concurrency: { groups: number; migrations: number; migrationsPerHost: number; groupsPerDomain: number | null; classes: Record<string, number> };
  failureBudget: number;
  /**
   * Per failure domain: host capacity that may be out of service at once and still keep the headroom, for the
   * domain's largest load over the campaign (VMs arriving from other domains included). `run` starts a group
   * only within it, so the headroom holds whatever the real durations.
   */
  maintenanceBudget: Record<string, { memoryMiB: number; vcpus: number }>;
  /** `hvroll approve` refuses an approval from the operator who started the campaign (absent in older plans: false). */
  twoPersonRule?: boolean;
  estimates: {
    migrationBandwidthMiBps: number;
    dirtyRateMiBps: number;
    migrationOverheadSeconds: number;
    upgradeSeconds: number;
    rebootSeconds: number;
    verifySeconds: number;
  };
}

export interface Plan {
  schemaVersion: typeof PLAN_SCHEMA_VERSION;
  settings: PlanSettingsRecord;
  summary: PlanSummary;
  warnings: string[];
  problems: PlanProblem[];
  waves: PlannedWave[];
  groups: PlannedGroup[];
}

/** A plan as written by `hvroll plan --out`: the plan plus what it was made from. */
export interface PlanFile extends Plan {
  /** sha256 over the canonical inventory, rules, settings and runbook; `run` refuses on mismatch. */
  fingerprint: string;
  generatedAt: string;
  inputs: { inventory: string[]; ansible: string | null; runbook: string | null };
}
