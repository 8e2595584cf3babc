// The one abortable sleep: it ends when its time is up, and rejects with the signal's reason when the signal
// aborts before or during the wait.
import test from 'ava';
import { sleep } from '../../src/io/sleep.ts';

test('resolves when its time is up', async (t) => {
  await t.notThrowsAsync(sleep(1));
});

test('a signal aborted before the sleep rejects it at once, with the signal\'s reason', async (t) => {
  const c = new AbortController();
  const reason = new Error('paused');
  c.abort(reason);
  t.is(await t.throwsAsync(sleep(60_000, c.signal)), reason);
});

test('a signal aborted during the sleep rejects it, with the signal\'s reason', async (t) => {
  const c = new AbortController();
  const reason = new Error('aborted');
  const slept = sleep(60_000, c.signal);
  c.abort(reason);
  t.is(await t.throwsAsync(slept), reason);
});
