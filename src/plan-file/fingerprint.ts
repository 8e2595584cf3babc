// The plan's fingerprint: what `hvroll run` compares to refuse a plan whose inputs have changed (STYLE.md §2).
// It covers the normalised inventory (hosts, VMs, rules) — not file names, so moving a file changes nothing —
// the planning options, and the runbook text when there is one.

import type { EstimateRules, Inventory } from '../model/inventory.ts';
import type { PlacementStrategy } from '../model/plan.ts';
import { canonicalSha256 } from './canonical-hash.ts';

export interface FingerprintInput {
  inventory: Inventory;
  options: { strategy?: PlacementStrategy; estimates?: Partial<EstimateRules> };
  runbook?: string | null;
}

/** Bump when what goes into the hash changes, so old plans read as stale rather than silently equal. */
const FINGERPRINT_VERSION = 1;

export function fingerprint(input: FingerprintInput): string {
  // Chat targets are not a planning input: adding a channel must not make a reviewed plan stale.
  const { notifications: _notifications, ...rules } = input.inventory.rules;
  const { hosts, vms } = input.inventory;
  return canonicalSha256({
    version: FINGERPRINT_VERSION,
    inventory: { hosts, vms, rules },
    options: { strategy: input.options.strategy ?? 'upgrade-aware', estimates: input.options.estimates ?? {} },
    runbook: input.runbook ?? null,
  });
}

/**
 * The fingerprint from what a plan records of its own options (strategy, effective estimates), so `run` can
 * recompute it from the inventory and runbook alone and refuse a plan whose inputs changed.
 */
export function planFingerprint(inventory: Inventory, settings: { strategy: PlacementStrategy; estimates: EstimateRules }, runbookText: string | null): string {
  return fingerprint({ inventory, options: { strategy: settings.strategy, estimates: settings.estimates }, runbook: runbookText });
}
