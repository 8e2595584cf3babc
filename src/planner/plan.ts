// Entry point of the pure planner: inventory + rules -> plan. No I/O (lint-enforced).
import type { EstimateRules, Inventory } from '../model/inventory.ts';
import type { Plan, PlacementStrategy } from '../model/plan.ts';

export interface PlanOptions {
  strategy?: PlacementStrategy;
  /** Overrides of the inventory's `rules.estimates` (CLI flags, runbook durations). */
  estimates?: Partial<EstimateRules>;
}

export function buildPlan(_inventory: Inventory, _options: PlanOptions = {}): Plan {
  throw new Error('buildPlan: being written');
}
