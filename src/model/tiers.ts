// The order tiers of a campaign, written once: the planner sorts groups by them, its timeline and the live
// engine hold them as barriers (src/policy/), and the simulator's bound runs them one after another.
//
// Spare (empty) groups go first, so VMs evacuated later land on upgraded hosts; then the canary classes
// (`order: first`), the normal ones, and the most sensitive (`order: last`).

import type { OrderTier } from './inventory.ts';
import type { GroupTier } from './plan.ts';

export const TIER_ORDER = ['spare', 'first', 'normal', 'last'] as const satisfies readonly GroupTier[];

/** Position of each tier in the campaign order (spare 0 … last 3). */
export const TIER_POSITION: Readonly<Record<GroupTier, number>> = Object.fromEntries(TIER_ORDER.map((t, i) => [t, i])) as Record<GroupTier, number>;

/** The tiers a sensitivity class can be in (its `order`), in campaign order. */
export const CLASS_TIERS: readonly OrderTier[] = TIER_ORDER.filter((t): t is OrderTier => t !== 'spare');

/**
 * Tiers whose groups all finish before a group of a later tier starts: canaries before the rest, normal
 * groups before the most sensitive. Spare groups hold no VMs and may overlap anything.
 */
export const BARRIER_TIERS: readonly GroupTier[] = ['first', 'normal'];
