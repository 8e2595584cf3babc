// Tier barriers: every group of a barrier tier (canaries, then normal groups) has finished before a group of
// a later tier starts. "Finished" is final: done, failed, aborted, blocked, or given up by the planner — a
// failed canary does not hold the campaign back by the order (its hosts still count, see out-of-service.ts).

import { BARRIER_TIERS, TIER_ORDER, TIER_POSITION } from '../model/tiers.ts';
import type { GroupTier } from '../model/plan.ts';

export class TierBarrier {
  /** Groups not finished yet, per tier position. */
  private readonly open = TIER_ORDER.map(() => 0);

  /** A group of `tier` that has not finished (counted once per group). */
  add(tier: GroupTier): void {
    this.open[TIER_POSITION[tier]]!++;
  }

  /** A group of `tier` has finished (for good: it never starts again). */
  finish(tier: GroupTier): void {
    this.open[TIER_POSITION[tier]]!--;
  }

  /** The earliest barrier tier before `tier` that still has groups not finished, or null: the order allows it. */
  closedBy(tier: GroupTier): GroupTier | null {
    const pos = TIER_POSITION[tier];
    for (const barrier of BARRIER_TIERS) if (TIER_POSITION[barrier] < pos && this.open[TIER_POSITION[barrier]]! > 0) return barrier;
    return null;
  }
}
