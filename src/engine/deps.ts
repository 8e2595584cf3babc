// What the campaign engine needs from the world, in one place. Every effect goes through these.

import type { Logger } from 'pino';
import type { Executor, HostRef } from '../executor/executor.ts';
import type { Host } from '../model/inventory.ts';
import type { PlanFile } from '../model/plan.ts';
import type { Runbook } from '../runbook/model.ts';
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
}

export function hostRef(deps: EngineDeps, name: string): HostRef {
  const h = deps.hosts.get(name);
  if (!h) return { name, address: name };
  const ref: HostRef = { name: h.name, address: h.address };
  if (h.ssh?.port !== undefined) ref.port = h.ssh.port;
  if (h.ssh?.user !== undefined) ref.user = h.ssh.user;
  return ref;
}
