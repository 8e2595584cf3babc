// The release op: a host an operator put back in the pool is durable like every other record — replayed
// from the journal after a crash, kept in the snapshot by a compaction — and a snapshot written before the op
// existed opens with none.
import test from 'ava';
import { join } from 'node:path';
import { CampaignStore, nodeFs } from '../../src/store/index.ts';
import { readSealed, writeSealedAtomic } from '../../src/store/sealed-file.ts';
import { crashCopy, sampleInit, tempRoot } from './helpers.ts';

const release = { host: 'h1', group: 'g1', operator: 'bob', at: '2026-01-01T00:04:00Z', comment: 'disk replaced' };

test('a release reads back after a crash (journal replay) and after a clean close (snapshot)', async (t) => {
  const root = tempRoot(t);
  const dir = join(root, 'c1');
  const store = await CampaignStore.create(dir, sampleInit());
  await store.recordRelease(release);
  t.deepEqual(store.releases(), [release]);
  const crashed = crashCopy(dir, join(root, 'crashed'));
  await store.close();
  for (const d of [dir, crashed]) {
    const again = await CampaignStore.open(d);
    t.deepEqual(again.releases(), [release], d);
    await again.close();
  }
});

test('a store whose snapshot predates releases opens with none, and records one', async (t) => {
  const dir = join(tempRoot(t), 'c1');
  await (await CampaignStore.create(dir, sampleInit())).close();
  const path = join(dir, 'snapshot.json');
  const snap = (await readSealed(nodeFs, path, 'hvroll-snapshot'))!;
  const { releases: _gone, ...older } = snap.data as Record<string, unknown>;
  await writeSealedAtomic(nodeFs, path, 'hvroll-snapshot', snap.header as Record<string, number>, JSON.stringify(older));
  const store = await CampaignStore.open(dir);
  t.deepEqual(store.releases(), []);
  await store.recordRelease(release);
  await store.close();
  const again = await CampaignStore.open(dir, { readOnly: true });
  t.deepEqual(again.releases(), [release]);
  await again.close();
});
