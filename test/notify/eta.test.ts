// "ETA changed significantly": re-estimated at each wave start from the pace so far; announced only when the
// remaining time moves by more than 20 % and more than 5 minutes — a real slip, not every wobble.

import test from 'ava';
import type { Clock } from '../../src/engine/clock.ts';
import { withEta } from '../../src/engine/eta.ts';
import type { EngineEvent } from '../../src/model/events.ts';
import type { PlanFile } from '../../src/model/plan.ts';

// Four waves planned 1 h apart, 4 h in all.
const plan = { summary: { estimatedSeconds: 4 * 3600 }, waves: [0, 1, 2, 3].map((i) => ({ index: i, groups: [`g${i}`], startSeconds: i * 3600, endSeconds: (i + 1) * 3600 })) } as unknown as PlanFile;

function rig(): { clock: Clock & { t: number }; events: EngineEvent[]; wave: (i: number, atSeconds: number) => void } {
  const clock = { t: 0, now: () => clock.t, sleep: () => Promise.resolve() };
  const events: EngineEvent[] = [];
  const listener = withEta(plan, clock, (e) => events.push(e));
  return {
    clock,
    events,
    wave: (i, atSeconds) => {
      clock.t = atSeconds * 1000;
      listener({ type: 'wave.started', wave: i, groups: [`g${i}`] });
    },
  };
}

const etas = (events: EngineEvent[]) => events.filter((e): e is Extract<EngineEvent, { type: 'eta.changed' }> => e.type === 'eta.changed');

test('exactly on plan: time left shrinks by itself, which is no ETA change', (t) => {
  const r = rig();
  for (let i = 0; i < 4; i++) r.wave(i, i * 3600);
  t.deepEqual(etas(r.events), []);
});

test('on plan, or a few minutes late: every event is passed on and no ETA change is announced', (t) => {
  const r = rig();
  r.wave(0, 0);
  r.wave(1, 3600 + 240); // 4 min late over an hour: 3 h left become 3 h 12 min (< 20 %)
  r.wave(2, 7200 + 300);
  t.is(etas(r.events).length, 0);
  t.is(r.events.filter((e) => e.type === 'wave.started').length, 3);
});

test('the first wave taking twice as long announces the new ETA once, with the previous one and the finish time', (t) => {
  const r = rig();
  r.wave(0, 0);
  r.wave(1, 7200);
  const [e, ...more] = etas(r.events);
  t.deepEqual(more, []);
  t.is(e!.previousSeconds, 2 * 3600, 'by the last estimate, 2 h were left at this point');
  t.is(e!.remainingSeconds, 6 * 3600);
  t.is(e!.finishAt, new Date((7200 + 6 * 3600) * 1000).toISOString());
  // The same pace at the next wave is no news: announced relative to the last announcement.
  r.wave(2, 14_400);
  t.is(etas(r.events).length, 1);
});

test('a resumed run starts from the wave it resumes at: its first wave is the baseline, not a slip', (t) => {
  const r = rig();
  r.wave(2, 50_000); // resumed much later than planned
  t.is(etas(r.events).length, 0);
  r.wave(3, 50_000 + 3600);
  t.is(etas(r.events).length, 0);
});
