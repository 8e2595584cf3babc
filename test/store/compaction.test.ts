import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CampaignStore } from '../../src/store/index.ts';
import { copyStore, countingFs, crashCopy, sampleInit, tempRoot } from './helpers.ts';

function journalLines(dir: string): number {
  return readFileSync(join(dir, 'journal.ndjson'), 'utf8').split('\n').filter(Boolean).length;
}

test('compaction keeps the content and bounds the journal', async (t) => {
  const root = tempRoot(t);
  const dir = join(root, 'c1');
  const store = await CampaignStore.create(dir, sampleInit(), { compaction: { maxJournalRecords: 25, minJournalBytes: 1 << 30 } });
  let maxLines = 0;
  for (let i = 0; i < 200; i++) {
    await store.saveGroupSnapshot(`g${i % 9}`, { machineVersion: 'v', snapshot: { i } });
    const id = await store.journalIntent({ key: `c1/g${i % 9}/s/${i}`, group: `g${i % 9}`, step: 's', host: 'h', startedAt: `${i}`, operator: 'a' });
    if (i % 3 !== 0) await store.journalOutcome(id, { exitCode: 0, outputTail: '', endedAt: `${i}` });
    maxLines = Math.max(maxLines, journalLines(dir));
  }
  const before = { journal: await store.journal(), groups: store.groups().map((g) => store.groupSnapshot(g)), audit: store.audit() };
  t.true(store.stats().compactions >= 15, `compactions: ${store.stats().compactions}`);
  t.true(maxLines <= 1 + 25 + 3, `journal stayed bounded (max ${maxLines} lines)`);
  const copy = crashCopy(dir, join(root, 'copy'));
  await store.close();
  t.is(journalLines(dir), 1, 'clean close compacts: only the header is left');
  for (const d of [dir, copy]) {
    const r = await CampaignStore.open(d, { readOnly: true });
    t.deepEqual({ journal: await r.journal(), groups: r.groups().map((g) => r.groupSnapshot(g)), audit: r.audit() }, before);
    t.is(r.openIntents().length, 67);
  }
});

test('compaction by size: the journal is compacted once it outgrows the snapshot', async (t) => {
  const dir = join(tempRoot(t), 'c1');
  const store = await CampaignStore.create(dir, sampleInit(), { compaction: { maxJournalRecords: 1e9, minJournalBytes: 4096 } });
  for (let i = 0; i < 100; i++) await store.recordAudit({ at: `${i}`, operator: 'a', action: 'x'.repeat(100) });
  const s = store.stats();
  t.true(s.compactions >= 1);
  t.true(s.journalBytes <= Math.max(4096, s.snapshotBytes) + 300);
  await store.close();
});

test('a crash between the snapshot rename and the journal rotation replays without double-applying', async (t) => {
  const root = tempRoot(t);
  const dir = join(root, 'c1');
  const store = await CampaignStore.create(dir, sampleInit());
  for (let i = 0; i < 5; i++) await store.journalIntent({ key: `c1/g/s/${i}`, group: 'g', step: 's', host: 'h', startedAt: 't', operator: 'a' });
  const oldJournal = readFileSync(join(dir, 'journal.ndjson'));
  await store.compact();
  await store.close();
  // State after "snapshot renamed, crash before the fresh journal": new snapshot, old journal.
  const crashed = join(root, 'crashed');
  copyStore(dir, crashed);
  writeFileSync(join(crashed, 'journal.ndjson'), oldJournal);
  const r = await CampaignStore.open(crashed);
  t.is((await r.journal()).length, 5);
  await r.journalIntent({ key: 'c1/g/s/5', group: 'g', step: 's', host: 'h', startedAt: 't', operator: 'a' });
  await r.close();
  const again = await CampaignStore.open(crashed, { readOnly: true });
  t.deepEqual((await again.journal()).map((e) => e.id), [1, 2, 3, 4, 5, 6]);
});

/** A store with `groups` group snapshots and exactly 20,000 records before the measured steps. */
async function storeWithGroups(dir: string, groups: number, fs: ReturnType<typeof countingFs>['fs']): Promise<CampaignStore> {
  const store = await CampaignStore.create(dir, sampleInit(), { fs, compaction: { maxJournalRecords: 1e9, minJournalBytes: 1 << 30 } });
  const snapshot = (g: number) => ({ machineVersion: 'group-v1', snapshot: { value: 'pending', context: { group: `g${String(g).padStart(5, '0')}`, hosts: ['h-a', 'h-b'], moved: [] } } });
  // Same number of records for both sizes, so sequence numbers have the same width.
  for (let done = 0; done < 20_000; done += groups) await Promise.all(Array.from({ length: groups }, (_, g) => store.saveGroupSnapshot(`g${String(g).padStart(5, '0')}`, snapshot(g))));
  await store.compact();
  return store;
}

async function oneStep(store: CampaignStore, i: number): Promise<void> {
  const group = 'g00007';
  const id = await store.journalIntent({ key: `c1/${group}/reboot`, group, step: 'reboot', host: 'h-a', startedAt: '2026-01-01T00:00:00.000Z', operator: 'alice' });
  await store.saveGroupSnapshot(group, { machineVersion: 'group-v1', snapshot: { value: 'upgrading', context: { step: i % 10, hosts: ['h-a', 'h-b'] } } });
  await store.journalOutcome(id, { exitCode: 0, outputTail: 'rebooted', endedAt: '2026-01-01T00:01:00.000Z' });
}

test('checkpoint cost does not grow with the campaign: bytes written per step are the same at 1k and 20k groups', async (t) => {
  t.timeout(120_000);
  const root = tempRoot(t);
  const perStep: number[] = [];
  const snapshotSizes: number[] = [];
  for (const groups of [1000, 20_000]) {
    const counter = countingFs();
    const store = await storeWithGroups(join(root, `g${groups}`), groups, counter.fs);
    snapshotSizes.push(store.stats().snapshotBytes);
    const compactions = store.stats().compactions;
    counter.reset();
    for (let i = 0; i < 20; i++) await oneStep(store, i);
    perStep.push(counter.written() / 20);
    t.is(store.stats().compactions, compactions, 'no compaction inside the measured steps');
    await store.close();
  }
  t.log(`bytes per step: ${perStep.join(' vs ')}; snapshot: ${snapshotSizes.join(' vs ')} bytes`);
  t.true((snapshotSizes[1] ?? 0) > 15 * (snapshotSizes[0] ?? 0), 'the 20k document really is ~20x bigger');
  t.is(perStep[0], perStep[1]);
  t.true((perStep[0] ?? Infinity) < 1024);
});
