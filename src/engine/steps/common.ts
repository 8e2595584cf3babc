// What every step of the group machine shares: the runbook step behind each machine state, the plan's groups
// by name, a step's deadline, its backoff on a retry, and running work on every host (or VM) of a group with
// one error that names every one that failed.

import type { ActiveStep } from '../../machines/group-machine.ts';
import { HvrollError } from '../../model/errors.ts';
import type { PlannedGroup } from '../../model/plan.ts';
import type { Step, StepName } from '../../runbook/model.ts';
import type { EngineDeps } from '../deps.ts';

/** The runbook step behind each active state of the group machine. */
export const STEP_OF: Record<ActiveStep, StepName> = {
  disabling: 'disable',
  draining: 'migrate',
  upgrading: 'upgrade',
  rebooting: 'reboot',
  verifying: 'verify',
  rejoining: 'enable',
};

/** Groups by name, per plan: looked up on every step, and a linear find is O(groups) at 20k hosts. */
const groupIndex = new WeakMap<EngineDeps['plan'], Map<string, PlannedGroup>>();

export function groupOf(deps: EngineDeps, name: string): PlannedGroup {
  let index = groupIndex.get(deps.plan);
  if (!index) groupIndex.set(deps.plan, (index = new Map(deps.plan.groups.map((x) => [x.name, x]))));
  const g = index.get(name);
  if (!g) throw new HvrollError('internal', `group ${name} is not in the plan`);
  return g;
}

export function stepDeadline(deps: EngineDeps, step: Step | undefined, hosts = 1): number {
  return deps.clock.now() + (step?.timeoutSeconds ?? 120) * 1000 * Math.max(1, hosts);
}

/**
 * Settle every item's work (hosts, or the VMs of a drain); if any failed, throw one error that names them all
 * (the step is retried whole). `hostOf` maps an item to its host, so `details.hosts` always names hosts.
 */
export async function forEachHost(items: readonly string[], work: (item: string) => Promise<unknown>, hostOf?: (item: string) => string): Promise<void> {
  const results = await Promise.allSettled(items.map(work));
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ item: items[i]!, error: r.reason as unknown }] : []));
  if (failed.length === 0) return;
  if (failed.length === 1) throw failed[0]!.error;
  const retryable = failed.every((f) => f.error instanceof HvrollError && f.error.retryable);
  const hosts = [...new Set(failed.map((f) => hostOf?.(f.item) ?? f.item))];
  throw new HvrollError('remote', failed.map((f) => `${f.item}: ${f.error instanceof Error ? f.error.message : String(f.error)}`).join('; '), {
    retryable,
    details: { hosts, ...(hostOf ? { vms: failed.map((f) => f.item) } : {}) },
  });
}

/** A retry first waits retryDelaySeconds × its attempt number. */
export async function backoff(deps: EngineDeps, step: Step | undefined, attempt: number, signal: AbortSignal): Promise<void> {
  if (attempt > 0 && step) await deps.clock.sleep(step.retryDelaySeconds * 1000 * attempt, signal);
}
