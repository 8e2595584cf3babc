// The validated, normalised inventory: what every later stage (planner, engine, simulator) reads.
// Loaders (YAML, JSON, Ansible) produce it; nothing downstream sees raw input.

export interface Capacity {
  vcpus: number;
  memoryMiB: number;
}

export interface SshTarget {
  user?: string;
  port?: number;
}

export type Labels = Record<string, string>;

export interface Host {
  name: string;
  address: string;
  ssh?: SshTarget;
  labels: Labels;
  capacity: Capacity;
}

export interface Vm {
  name: string;
  host: string;
  vcpus: number;
  memoryMiB: number;
  labels: Labels;
  /** false: cannot be live-migrated (local devices, pinned hardware); the group's policy decides. */
  migratable: boolean;
}

/** Every key must match; a list value matches any of its entries. `{}` matches everything. */
export type Match = Record<string, string | string[]>;

export type OrderTier = 'first' | 'normal' | 'last';

export interface SensitivityClass {
  class: string;
  match: Match;
  order: OrderTier;
  maxConcurrentGroups?: number;
  approval: boolean;
}

export interface ExplicitGroup {
  name: string;
  hosts: string[];
}

export type Grouping =
  | { kind: 'by-label'; by: string; maxHostsPerGroup?: number }
  | { kind: 'explicit'; groups: ExplicitGroup[] }
  | { kind: 'per-host' };

export interface AntiAffinityRule {
  name: string;
  match: Match;
}

export interface Headroom {
  memoryPercent: number;
  vcpuPercent: number;
  /** Label that names a failure domain; default `az` when every host has it, else the grouping label. */
  domain?: string;
}

export interface Concurrency {
  groups: number;
  migrations: number;
  migrationsPerHost: number;
  /** At most this many groups of one failure domain in maintenance at once (unset: no limit beyond headroom). */
  groupsPerDomain?: number;
}

/**
 * What a group does with VMs that cannot be live-migrated:
 * block (default: the group does not run until an operator chooses), shutdown (stop the VM for the upgrade,
 * start it after — downtime accepted), skip (leave the hosts holding such VMs out of the campaign).
 */
export type NonMigratablePolicy = 'block' | 'shutdown' | 'skip';

export interface NonMigratableRules {
  policy: NonMigratablePolicy;
  /** Per-group override, by group name. */
  groups: Record<string, NonMigratablePolicy>;
}

export interface EstimateRules {
  /** Live-migration bandwidth per migration stream, MiB/s. */
  migrationBandwidthMiBps: number;
  /** Page dirty rate of a running guest, MiB/s (pre-copy model); 0 means a single copy pass. */
  dirtyRateMiBps: number;
  /** Fixed cost of each migration (setup, switchover), seconds. */
  migrationOverheadSeconds: number;
  upgradeSeconds: number;
  rebootSeconds: number;
  verifySeconds: number;
}

/** Chat formats hvroll can post: Slack-compatible (also Mattermost, Rocket.Chat), Teams, plain JSON. */
export type NotifyFormat = 'slack' | 'teams' | 'webhook';

export type NotifySeverity = 'info' | 'warning' | 'error';

/** One place campaign events are posted to. `url` is a secret: `https://…`, or `env:NAME` read at run time. */
export interface NotificationTarget {
  name: string;
  type: NotifyFormat;
  url: string;
  /** Event kinds sent (`group.done`, `group.*`, `*`). */
  events: string[];
  /** Events below this severity are not sent. */
  minSeverity: NotifySeverity;
}

export interface Rules {
  grouping: Grouping;
  /** Listed most sensitive first within each order tier; see planner/classes.ts for the ranking. */
  sensitivity: SensitivityClass[];
  antiAffinity: AntiAffinityRule[];
  headroom: Headroom;
  concurrency: Concurrency;
  failureBudget: number;
  cpuOvercommit: number;
  /** Label whose value a VM may never leave by migration (e.g. `az`); unset: `az` when every host has it. */
  migrationDomain?: string;
  nonMigratable: NonMigratableRules;
  estimates: EstimateRules;
  /** An approval must come from another operator than the one who started the campaign. */
  twoPersonRule: boolean;
  /** Chat targets for campaign events (not part of the plan fingerprint: changing them never stales a plan). */
  notifications?: NotificationTarget[];
}

export interface Inventory {
  hosts: Host[];
  vms: Vm[];
  rules: Rules;
  /** Files it was read from, in load order (for messages and the plan fingerprint). */
  sources: string[];
}

export const DEFAULT_RULES: Rules = {
  grouping: { kind: 'per-host' },
  sensitivity: [],
  antiAffinity: [],
  headroom: { memoryPercent: 0, vcpuPercent: 0 },
  concurrency: { groups: 1, migrations: 4, migrationsPerHost: 2 },
  failureBudget: 0,
  cpuOvercommit: 1,
  nonMigratable: { policy: 'block', groups: {} },
  estimates: {
    migrationBandwidthMiBps: 1000,
    dirtyRateMiBps: 0,
    migrationOverheadSeconds: 5,
    upgradeSeconds: 600,
    rebootSeconds: 300,
    verifySeconds: 60,
  },
  twoPersonRule: false,
};
