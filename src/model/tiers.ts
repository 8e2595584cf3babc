// The order tiers of a campaign, written once: the planner sorts groups by them, its timeline and the live
// engine hold them as barriers (src/policy/), the simulator's bound runs them one after another, and the
// inventory and plan file schemas accept exactly them.
//
// Spare (empty) groups go first, so VMs evacuated later land on upgraded hosts; then the canary classes
// (`order: first`), the normal ones, and the most sensitive (`order: last`).

import type { OrderTier } from './inventory.ts';
import type { GroupTier } from './plan.ts';

/** The tiers a sensitivity class can be in (its `order`), in campaign order. */
export const CLASS_TIERS = ['first', 'normal', 'last'] as const satisfies readonly OrderTier[];

/** Every tier a group can be in, in campaign order: spare (empty) groups first. */
export const TIER_ORDER = ['spare', ...CLASS_TIERS] as const satisfies readonly GroupTier[];

/** Position of each tier in the campaign order (spare 0 … last 3). */
export const TIER_POSITION: Readonly<Record<GroupTier, number>> = Object.fromEntries(TIER_ORDER.map((t, i) => [t, i])) as Record<GroupTier, number>;

/**
 * Tiers whose groups all finish before a group of a later tier starts: canaries before the rest, normal
 * groups before the most sensitive. Spare groups hold no VMs and may overlap anything.
 */
export const BARRIER_TIERS: readonly GroupTier[] = ['first', 'normal'];
