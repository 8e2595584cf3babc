// `hvroll plan`: load the inventory (and the runbook it is bound to), build the plan (pure), and write it with
// the fingerprint of its inputs when asked (savePlan). Nothing is run on any host.

import { loadInventory } from '../inventory/load.ts';
import type { InputIssue } from '../model/errors.ts';
import type { PlacementStrategy, PlanFile } from '../model/plan.ts';
import { planFingerprint } from '../plan-file/fingerprint.ts';
import { toPlanFile, writePlanFile } from '../plan-file/plan-file.ts';
import { buildPlan, type PlanOptions } from '../planner/plan.ts';
import { loadRunbook } from '../runbook/load.ts';
import type { Runbook } from '../runbook/model.ts';

export interface PlanRequest {
  inventory: string[];
  ansible?: string;
  /** The runbook `hvroll run` will use: its durations feed the estimates, and the plan is bound to it. */
  runbook?: string;
  strategy: PlacementStrategy;
  /** Command-line overrides of the estimates (over the runbook's durations, over rules.estimates). */
  estimates: { migrationBandwidthMiBps?: number; upgradeSeconds?: number; rebootSeconds?: number };
}

/** The plan; `warn` hears what the inventory's loader warns about as soon as it is loaded. */
export async function makePlan(r: PlanRequest, warn: (issue: InputIssue) => void): Promise<PlanFile> {
  const { inventory, warnings } = await loadInventory(r.inventory, r.ansible === undefined ? {} : { ansible: r.ansible });
  for (const w of warnings) warn(w);
  const runbook = r.runbook === undefined ? null : await loadRunbook(r.runbook);
  const options: PlanOptions = { strategy: r.strategy, estimates: estimates(r, runbook) };
  const plan = buildPlan(inventory, options);
  const file = toPlanFile(plan, {
    // From what the plan records of its settings, so `hvroll run` can recompute it from the inputs alone.
    fingerprint: planFingerprint(inventory, plan.settings, runbook?.text ?? null),
    inputs: { inventory: inventory.sources, ansible: r.ansible ?? null, runbook: r.runbook ?? null },
  });
  return file;
}

/** The plan file `hvroll run` executes, written atomically — even one that cannot run: a reviewer can see why. */
export function savePlan(path: string, file: PlanFile): Promise<void> {
  return writePlanFile(path, file);
}

/** The runbook's durations, then the command line's, over the inventory's rules.estimates. */
function estimates(r: PlanRequest, runbook: Runbook | null): NonNullable<PlanOptions['estimates']> {
  return { ...runbook?.durations, ...r.estimates };
}
