// Virtual time for the simulator: a Clock whose sleeps are entries in a timer heap, and time that moves only
// when the scheduler (scheduler.ts) says so. Timers due at the same instant fire in the order they were set,
// so a run is repeatable.

import type { Clock } from '../engine/clock.ts';

interface Timer {
  at: number;
  seq: number;
  fire: () => void;
  cancelled: boolean;
}

export class VirtualClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly heap: Timer[] = [];
  /** Bumped whenever a timer is set or fires: the scheduler treats it as sign of life. */
  activity = 0;

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        timer.cancelled = true;
        this.activity++;
        reject(signal!.reason);
      };
      const timer = this.schedule(Math.max(0, ms), () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Calls `fire` when virtual time reaches now + ms (for the fleet's own events: a host coming back up). */
  at(ms: number, fire: () => void): void {
    this.schedule(Math.max(0, ms), fire);
  }

  /** Timers not yet fired nor cancelled. */
  get pending(): number {
    let n = 0;
    for (const t of this.heap) if (!t.cancelled) n++;
    return n;
  }

  /** Moves time to the earliest pending timer and fires every timer due then. False when none is pending. */
  advance(): boolean {
    this.dropCancelled();
    const first = this.heap[0];
    if (first === undefined) return false;
    this.t = Math.max(this.t, first.at);
    while (this.heap.length > 0 && this.heap[0]!.at <= this.t) {
      const timer = this.pop()!;
      if (!timer.cancelled) {
        this.activity++;
        timer.fire();
      }
    }
    return true;
  }

  private schedule(ms: number, fire: () => void): Timer {
    const timer: Timer = { at: this.t + ms, seq: this.seq++, fire, cancelled: false };
    this.activity++;
    this.push(timer);
    return timer;
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
  }

  private less(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(x: Timer): void {
    const h = this.heap;
    h.push(x);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Timer | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
