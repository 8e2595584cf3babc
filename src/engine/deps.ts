// What the campaign engine needs from the world, in one place. Every effect goes through these.

import type { Logger } from 'pino';
import type { Executor, HostRef } from '../executor/executor.ts';
import type { Host } from '../model/inventory.ts';
import type { PlanFile } from '../model/plan.ts';
import type { Runbook } from '../runbook/model.ts';
import { resolveVars } from '../runbook/template.ts';
import type { CampaignStore } from '../store/store.ts';
import type { Clock } from './clock.ts';
import type { MigrationLimiter } from './limiter.ts';

export interface EngineDeps {
  campaignId: string;
  plan: PlanFile;
  /** Hosts by name (address, SSH user/port). */
  hosts: ReadonlyMap<string, Host>;
  /**
   * The inventory's VMs by name (the one the plan was made from): the targets' room check counts a VM it finds
   * at this size. Without it, VMs the plan moves keep the plan's size and others are inspected.
   */
  vmSizes?: ReadonlyMap<string, { memoryMiB: number; vcpus: number }>;
  runbook: Runbook;
  /** Runbook variables after `--set` (e.g. the target version). */
  vars: Readonly<Record<string, string>>;
  /** Where `on: controller` commands run (OpenStack API client), when the runbook uses it. */
  controller: HostRef | null;
  executor: Executor;
  store: CampaignStore;
  clock: Clock;
  log: Logger;
  operator: string;
  limiter: MigrationLimiter;
  /** Told of every checkpoint as it becomes durable (the fault matrix's kill points: app/crash-point.ts). */
  checkpoint?: (kind: CheckpointKind) => void;
}

/**
 * The moments a run can be cut at: `snapshot` (a step boundary), `intent` (a remote command is journalled,
 * not sent), `before-effect`/`after-effect` (around a command that changes a host), `outcome` (its outcome is
 * journalled), `created` (a new campaign's store exists).
 */
export type CheckpointKind = 'snapshot' | 'intent' | 'outcome' | 'before-effect' | 'after-effect' | 'created';

export function hostRef(deps: EngineDeps, name: string): HostRef {
  const h = deps.hosts.get(name);
  if (!h) return { name, address: name };
  const ref: HostRef = { name: h.name, address: h.address };
  if (h.ssh?.port !== undefined) ref.port = h.ssh.port;
  if (h.ssh?.user !== undefined) ref.user = h.ssh.user;
  return ref;
}

/** The run's variables with derived defaults resolved (`daemonVersion` from `version`), once per run. */
const resolvedVars = new WeakMap<EngineDeps['vars'], Record<string, string>>();

function runVars(deps: EngineDeps): Record<string, string> {
  let v = resolvedVars.get(deps.vars);
  if (!v) resolvedVars.set(deps.vars, (v = resolveVars(deps.runbook.vars, deps.vars)));
  return v;
}

/** Placeholder values of one command for `host` in `group`: the run's variables, then the built-ins, then `extra` ({vm}, …). */
export function stepValues(deps: EngineDeps, group: string, host: HostRef, extra: Record<string, string> = {}): Record<string, string> {
  return { ...runVars(deps), campaign: deps.campaignId, group, operator: deps.operator, host: host.name, 'host.address': host.address, ...extra };
}
