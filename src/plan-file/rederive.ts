// `run` executes exactly the plan that was reviewed. The fingerprint proves the inputs are unchanged; this
// proves the plan file is what those inputs give: the planner is pure and deterministic, so planning again
// from the inputs, with the strategy and effective estimates the plan records, must give the same body.
// A raised limit, a cleared `after`, a retargeted move or a removed approval is refused, naming where.

import { HvrollError } from '../model/errors.ts';
import type { Inventory } from '../model/inventory.ts';
import type { Plan, PlanFile } from '../model/plan.ts';
import { buildPlan } from '../planner/plan.ts';
import { firstDifference, type Difference } from './plan-diff.ts';

/**
 * Where the plan file differs from the plan its inputs give, or null. `fingerprint` is checked against the
 * inputs before (it says which input changed); `inputs` are where the inputs were read from; `generatedAt`
 * is no input's doing. Everything else is compared.
 */
export function rederivedDifference(file: PlanFile, inventory: Inventory): Difference | null {
  const { fingerprint: _fingerprint, generatedAt: _generatedAt, inputs: _inputs, ...body } = file;
  const derived: Plan = buildPlan(inventory, { strategy: file.settings.strategy, estimates: file.settings.estimates });
  return firstDifference(body, derived);
}

/** Refuses (stale-plan, exit 4) a plan file that is not the plan its inputs give. */
export function checkRederived(file: PlanFile, inventory: Inventory, planPath: string): void {
  const d = rederivedDifference(file, inventory);
  if (d === null) return;
  throw new HvrollError(
    'stale-plan',
    `stale or altered plan: ${planPath} is not the plan its inputs give: ${d.path}: the plan file says ${shown(d.left)}, its inputs give ${shown(d.right)}. It was changed after \`hvroll plan\` wrote it (or written by another hvroll version). Nothing was run.`,
    {
      details: {
        file: planPath,
        path: d.path,
        planFile: d.left ?? null,
        inputs: d.right ?? null,
        fix: 'plan again from the same inputs (hvroll plan … --out <file>) and review the new plan; to change a limit, a target or an approval, change the inventory rules and plan again',
      },
    },
  );
}

const SHOWN_MAX = 80;

/** A value as JSON, cut to one readable line; `(absent)` for a missing member or element. */
function shown(v: unknown): string {
  if (v === undefined) return '(absent)';
  const text = JSON.stringify(v);
  return text.length > SHOWN_MAX ? `${text.slice(0, SHOWN_MAX - 1)}…` : text;
}
