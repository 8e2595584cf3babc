// The one builder of what the campaign engine needs from the world (EngineDeps): the plan and the inventory it
// was made from (hosts by name, VM sizes), the runbook and its variables, an executor, the store, a clock, a
// logger, the operator, the migration limiter the plan's limits make, and the fault matrix's checkpoint hook.
// `run`/`resume` (app/session.ts), `simulate` and the test rigs all assemble the engine here.

import type { Logger } from 'pino';
import { systemClock, type Clock } from '../engine/clock.ts';
import type { CheckpointKind, EngineDeps } from '../engine/deps.ts';
import { MigrationLimiter } from '../engine/limiter.ts';
import type { Executor, HostRef } from '../executor/executor.ts';
import type { Inventory } from '../model/inventory.ts';
import type { PlanFile } from '../model/plan.ts';
import type { Runbook } from '../runbook/model.ts';
import type { CampaignStore } from '../store/store.ts';

export interface EngineParts {
  campaignId: string;
  plan: PlanFile;
  /** The inventory the plan was made from: host addresses and capacities, VM sizes. */
  inventory: Pick<Inventory, 'hosts' | 'vms'>;
  runbook: Runbook;
  /** Runbook variables after `--set`. */
  vars: Readonly<Record<string, string>>;
  executor: Executor;
  store: CampaignStore;
  log: Logger;
  operator: string;
  /** Default: the wall clock. */
  clock?: Clock;
  /** Where `on: controller` commands run, when the runbook uses it. */
  controller?: HostRef | null;
  checkpoint?: (kind: CheckpointKind) => void;
}

export function engineDeps(p: EngineParts): EngineDeps {
  const { concurrency } = p.plan.settings;
  return {
    campaignId: p.campaignId,
    plan: p.plan,
    hosts: new Map(p.inventory.hosts.map((h) => [h.name, h])),
    vmSizes: new Map(p.inventory.vms.map((v) => [v.name, v])),
    runbook: p.runbook,
    vars: p.vars,
    controller: p.controller ?? null,
    executor: p.executor,
    store: p.store,
    clock: p.clock ?? systemClock,
    log: p.log.child({ campaign: p.campaignId }),
    operator: p.operator,
    limiter: new MigrationLimiter(concurrency.migrations, concurrency.migrationsPerHost),
    ...(p.checkpoint ? { checkpoint: p.checkpoint } : {}),
  };
}
