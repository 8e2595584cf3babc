import test from 'ava';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInVirtualTime } from '../../src/sim/scheduler.ts';
import { VirtualClock } from '../../src/sim/virtual-clock.ts';

test('timers fire in time order, ties in the order they were set; time moves only to the next timer', async (t) => {
  const clock = new VirtualClock(0);
  const seen: string[] = [];
  const out = await runInVirtualTime(clock, async () => {
    await Promise.all([
      clock.sleep(300).then(() => seen.push(`c@${clock.now()}`)),
      clock.sleep(100).then(() => seen.push(`a@${clock.now()}`)),
      clock.sleep(100).then(() => seen.push(`b@${clock.now()}`)),
    ]);
    return clock.now();
  });
  t.deepEqual(seen, ['a@100', 'b@100', 'c@300']);
  t.is(out, 300);
});

test('real I/O between sleeps is waited for before time moves (quiescence), so virtual timestamps do not depend on disk speed', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hvroll-vt-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const run = async () => {
    const clock = new VirtualClock(0);
    const stamps: number[] = [];
    await runInVirtualTime(clock, async () => {
      const worker = async (id: number) => {
        for (let i = 0; i < 5; i++) {
          // A write and a read back: real I/O the clock knows nothing about.
          await writeFile(join(dir, `w${id}`), String(i));
          await readFile(join(dir, `w${id}`));
          stamps.push(id * 1000 + clock.now());
          await clock.sleep(10 * (id + 1));
        }
      };
      // A timer set far ahead must not be reached while the workers still have I/O in flight.
      await Promise.all([worker(0), worker(1), clock.sleep(25).then(() => stamps.push(-clock.now()))]);
    });
    return stamps;
  };
  const first = await run();
  t.deepEqual(first.filter((s) => s < 1000 && s >= 0), [0, 10, 20, 30, 40]);
  // Within one instant, two workers' independent I/O may finish in either order; the instants do not vary.
  t.deepEqual([...(await run())].sort(), [...first].sort(), 'the same run twice gives the same timestamps');
});

test('an aborted sleep rejects and its timer no longer counts', async (t) => {
  const clock = new VirtualClock(0);
  const ac = new AbortController();
  await runInVirtualTime(clock, async () => {
    const p = clock.sleep(1_000_000, ac.signal);
    await clock.sleep(5);
    ac.abort(new Error('stop'));
    await t.throwsAsync(p, { message: 'stop' });
  });
  t.is(clock.now(), 5);
  t.is(clock.pending, 0);
});

test('work that waits for something that never comes fails as stalled instead of hanging', async (t) => {
  const clock = new VirtualClock(0);
  await t.throwsAsync(runInVirtualTime(clock, () => new Promise<void>(() => undefined)), { message: /simulation stalled/ });
});
