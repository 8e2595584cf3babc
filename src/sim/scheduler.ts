// Runs async work in virtual time. Time advances to the next timer only when the process is quiescent:
//   1. every callback queued so far has run (we yield with setImmediate, which runs after the microtask queue
//      has drained and after the I/O poll phase), and
//   2. no I/O request is in flight in libuv (process.getActiveResourcesInfo() lists pending requests such as
//      FSReqPromise for the store's appends and fsyncs, or a readdir of the control poll), and
//   3. nothing happened on the virtual clock (no timer set, fired or cancelled)
// for QUIET_TURNS turns in a row. Only then is all runnable work blocked on a virtual timer, and moving time
// forward cannot overtake work that would have happened "earlier". Timers due at one instant fire in the
// order they were set; with seeded durations the whole run is repeatable. If nothing is runnable and no timer
// is pending while the work has not finished, the simulation is stuck (a bug): it fails instead of hanging.

import { setImmediate as turn } from 'node:timers/promises';
import { HvrollError } from '../model/errors.ts';
import type { VirtualClock } from './virtual-clock.ts';

const QUIET_TURNS = 3;
/** libuv requests (not long-lived handles such as an open file or a TTY): work that will call back. */
const IN_FLIGHT = /Req|WriteWrap|ShutdownWrap/;

function ioInFlight(): boolean {
  for (const r of process.getActiveResourcesInfo()) if (IN_FLIGHT.test(r)) return true;
  return false;
}

async function quiesce(clock: VirtualClock): Promise<void> {
  let quiet = 0;
  let seen = clock.activity;
  while (quiet < QUIET_TURNS) {
    await turn();
    if (ioInFlight() || clock.activity !== seen) {
      quiet = 0;
      seen = clock.activity;
    } else quiet++;
  }
}

export interface VirtualRunStats {
  /** Instants at which timers fired. */
  steps: number;
}

export async function runInVirtualTime<T>(clock: VirtualClock, work: () => Promise<T>, stats?: VirtualRunStats): Promise<T> {
  let settled = false;
  const run = work().finally(() => {
    settled = true;
  });
  run.catch(() => undefined); // observed below; keep it from counting as unhandled meanwhile
  for (;;) {
    await quiesce(clock);
    if (settled) return run;
    if (!clock.advance()) {
      throw new HvrollError('internal', 'simulation stalled: the engine waits for something that never happens in virtual time (no timer pending, no I/O in flight)');
    }
    if (stats) stats.steps++;
  }
}
