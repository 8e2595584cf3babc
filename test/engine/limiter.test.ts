import test from 'ava';
import { MigrationLimiter } from '../../src/engine/limiter.ts';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

test('limits hold globally, per source and per target, and a migration blocked on a busy host does not hold a global slot', async (t) => {
  const limiter = new MigrationLimiter(3, 1);
  const started: string[] = [];
  const gates = new Map<string, ReturnType<typeof deferred>>();
  const job = (name: string, from: string, to: string) =>
    limiter.run(from, to, async () => {
      started.push(name);
      const g = deferred();
      gates.set(name, g);
      await g.promise;
    });
  const all = [job('a1', 'A', 'X'), job('a2', 'A', 'Y'), job('a3', 'A', 'Z'), job('b1', 'B', 'Y'), job('c1', 'C', 'X')];
  await Promise.resolve();
  // a2, a3 wait for source A; b1 runs although it arrived after them; c1 waits for target X.
  t.deepEqual(started, ['a1', 'b1']);
  t.is(limiter.running, 2);
  gates.get('a1')!.resolve();
  await new Promise((r) => setImmediate(r));
  // a2 still waits (its target Y is held by b1): the freed A goes to a3, the freed X to c1.
  t.deepEqual(started, ['a1', 'b1', 'a3', 'c1']);
  t.is(limiter.running, 3);
  for (const name of ['b1', 'a3', 'c1']) gates.get(name)!.resolve();
  await new Promise((r) => setImmediate(r));
  t.deepEqual(started, ['a1', 'b1', 'a3', 'c1', 'a2']);
  gates.get('a2')!.resolve();
  await Promise.all(all);
  t.is(limiter.running, 0);
});

test('a failing migration releases its slots', async (t) => {
  const limiter = new MigrationLimiter(1, 1);
  await t.throwsAsync(limiter.run('A', 'B', () => Promise.reject(new Error('boom'))), { message: 'boom' });
  t.is(await limiter.run('A', 'B', () => Promise.resolve(7)), 7);
});
