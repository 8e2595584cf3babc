// The campaign's estimated time to finish, re-estimated at every wave start from how fast the waves so far
// went against the plan's timeline. Emits `eta.changed` only when the estimate moves significantly, so a
// chat channel hears about a real slip, not every wobble.

import type { PlanFile } from '../model/plan.ts';
import type { Clock } from './clock.ts';
import type { EngineEvent, EngineListener } from '../model/events.ts';

export interface EtaOptions {
  /** Announce when the remaining time moved by more than this fraction of the last announced one… */
  fraction?: number;
  /** …and by more than this many seconds. */
  minSeconds?: number;
}

/** Wraps a listener: passes every event on, and adds `eta.changed` after a `wave.started` that moved the ETA. */
export function withEta(plan: PlanFile, clock: Clock, listener: EngineListener, o: EtaOptions = {}): EngineListener {
  const fraction = o.fraction ?? 0.2;
  const minSeconds = o.minSeconds ?? 300;
  const total = plan.summary.estimatedSeconds;
  let base: { at: number; offset: number } | null = null;
  // The finish time last announced (epoch ms). Compared as a finish time, not as "time left": time left
  // shrinks on its own as the campaign advances, and must not read as a change when the pace holds.
  let announcedFinish = 0;
  return (e: EngineEvent) => {
    listener(e);
    if (e.type !== 'wave.started') return;
    const offset = plan.waves[e.wave]?.startSeconds ?? 0;
    const now = clock.now();
    if (base === null) {
      // First wave of this run (a resume may start mid-campaign): the plan's own estimate is the baseline.
      base = { at: now, offset };
      announcedFinish = now + Math.max(0, total - offset) * 1000;
      return;
    }
    const planned = offset - base.offset;
    if (planned <= 0) return;
    const pace = (now - base.at) / 1000 / planned;
    const remaining = Math.round(Math.max(0, total - offset) * pace);
    const previous = Math.max(0, Math.round((announcedFinish - now) / 1000));
    const moved = Math.abs(remaining - previous);
    if (moved > minSeconds && moved > fraction * Math.max(previous, 1)) {
      announcedFinish = now + remaining * 1000;
      listener({ type: 'eta.changed', remainingSeconds: remaining, previousSeconds: previous, finishAt: new Date(announcedFinish).toISOString() });
    }
  };
}
