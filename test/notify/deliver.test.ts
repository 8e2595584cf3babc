// One POST's outcome, described without the URL: connection refused names its code and is retried; a port
// fetch will never connect to is not retried and says so.

import test from 'ava';
import { createServer } from 'node:net';
import { postOnce } from '../../src/notify/deliver.ts';

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

test('connection refused: retryable, reason names ECONNREFUSED and not the URL', async (t) => {
  const port = await closedPort();
  const a = await postOnce(`http://127.0.0.1:${port}/hooks/SECRET-TOKEN`, '{}', 2000, new AbortController().signal);
  t.false(a.ok);
  t.true(a.retry);
  t.is(a.reason, 'connection error ECONNREFUSED');
});

test('a port on fetch\'s blocklist: not retried, and the reason says to use another port', async (t) => {
  const a = await postOnce('http://127.0.0.1:6000/hooks/SECRET-TOKEN', '{}', 2000, new AbortController().signal);
  t.false(a.ok);
  t.false(a.retry);
  t.regex(a.reason, /port blocked by fetch/);
  t.false(a.reason.includes('SECRET'));
});
