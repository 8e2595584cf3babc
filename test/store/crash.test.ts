import test from 'ava';
import { join } from 'node:path';
import { CampaignStore, breakLock } from '../../src/store/index.ts';
import { sampleInit, startWriter, tempRoot } from './helpers.ts';

// The child saves a group snapshot, journals an intent and its outcome, and prints "ack n" only after all
// three awaited writes. It compacts every ~40 records, so some kills land in a compaction.
test('kill -9 in the middle of a stream of appends: reopen succeeds and every acknowledged write is there', async (t) => {
  t.timeout(120_000);
  const dir = join(tempRoot(t), 'c1');
  await (await CampaignStore.create(dir, sampleInit())).close();
  let next = 1;
  // Only acknowledged writes are owed; a write killed between its intent and its outcome never was.
  const acknowledged: number[] = [];
  const killAfter = [37, 113, 58, 201, 9];
  for (const [round, acks] of killAfter.entries()) {
    const child = startWriter(['stream', dir, String(next)]);
    const first = next;
    await child.waitFor((_l, all) => all.length >= acks);
    child.proc.kill('SIGKILL');
    await child.exited;
    const acked = child.lines.filter((l) => l.startsWith('ack ')).map((l) => Number(l.slice(4)));
    t.true(acked.length >= acks);
    acknowledged.push(...acked);
    const last = acked.at(-1) ?? first - 1;

    await t.throwsAsync(CampaignStore.open(dir), { message: /stale lock/ }, `round ${round}: the killed writer's lock is stale`);
    await breakLock(dir, 'test');
    const store = await CampaignStore.open(dir);
    const keys = new Set((await store.journal()).map((e) => e.key));
    const done = new Set((await store.journal({ open: false })).map((e) => e.key));
    for (const n of acknowledged) {
      const key = `c1/g${n % 7}/step/${n}`;
      if (!keys.has(key) || !done.has(key)) {
        t.fail(`round ${round}: acknowledged write ${n} is missing`);
        return;
      }
    }
    for (let g = 0; g < 7; g++) {
      const newestAcked = Math.max(0, ...acknowledged.filter((n) => n % 7 === g));
      const saved = (store.groupSnapshot(`g${g}`)?.snapshot as { n: number } | undefined)?.n ?? 0;
      t.true(saved >= newestAcked, `round ${round}: group g${g} snapshot ${saved} >= acknowledged ${newestAcked}`);
    }
    // Writes past the last ack may or may not have landed; the next round continues after whatever did.
    next = Math.max(last, ...(await store.journal()).map((e) => Number(e.key.split('/')[3]))) + 1;
    t.log(`round ${round}: killed after ack ${last}; store holds ${(await store.journal()).length} steps; ${store.warnings().length} warning(s)`);
    await store.close();
  }
});
