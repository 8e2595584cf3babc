import test from 'ava';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HvrollError } from '../../src/model/errors.ts';
import { defaultStateRoot } from '../../src/app/env.ts';
import { CampaignStore, OUTPUT_TAIL_MAX, campaignDir, listCampaigns, stepKey } from '../../src/store/index.ts';
import { crashCopy, sampleInit, tempRoot } from './helpers.ts';

async function fill(store: CampaignStore): Promise<void> {
  await store.saveGroupSnapshot('g1', { machineVersion: 'group-v1', snapshot: { value: 'draining', context: { moved: ['vm1'] } } });
  const id = await store.journalIntent({ key: stepKey('c1', 'g1', 'migrate', 'vm1'), group: 'g1', step: 'migrate', host: 'h1', vm: 'vm1', argv: ['virsh', 'migrate', 'vm1'], startedAt: '2026-01-01T00:00:00Z', operator: 'alice' });
  await store.journalOutcome(id, { exitCode: 0, outputTail: 'migrated', endedAt: '2026-01-01T00:00:05Z' });
  await store.journalIntent({ key: stepKey('c1', 'g1', 'reboot'), group: 'g1', step: 'reboot', host: 'h1', startedAt: '2026-01-01T00:01:00Z', operator: 'alice' });
  await store.recordApproval({ group: 'g2', operator: 'bob', at: '2026-01-01T00:02:00Z', comment: 'go' });
  await store.recordNotification({ channel: 'slack', event: 'group-started', at: '2026-01-01T00:00:00Z', status: 'sent', attempts: 1 });
  await store.recordAudit({ at: '2026-01-01T00:03:00Z', operator: 'bob', action: 'approve', details: { group: 'g2' } });
}

async function content(s: CampaignStore) {
  return { meta: s.meta(), plan: s.plan(), g1: s.groupSnapshot('g1'), journal: await s.journal(), approvals: s.approvals(), notifications: s.notifications(), audit: s.audit() };
}

test('round trip: everything recorded reads back the same after close and reopen', async (t) => {
  const dir = join(tempRoot(t), 'c1');
  const store = await CampaignStore.create(dir, sampleInit());
  await fill(store);
  const before = await content(store);
  await store.close();
  const again = await CampaignStore.open(dir, { readOnly: true });
  t.deepEqual(await content(again), before);
  t.deepEqual(again.plan(), sampleInit().plan);
  t.is(again.meta().campaignId, 'c1');
  t.is(again.meta().planFingerprint, 'sha256:abc');
  t.deepEqual(again.approvals('g2').map((a) => a.comment), ['go']);
  t.deepEqual(again.warnings(), []);
  await again.close();
});

test('replay after reopen: a store left by a crash (journal not compacted) rebuilds the same state', async (t) => {
  const root = tempRoot(t);
  const dir = join(root, 'c1');
  const store = await CampaignStore.create(dir, sampleInit());
  await fill(store);
  const before = await content(store);
  const copy = crashCopy(dir, join(root, 'crashed'));
  await store.close();
  t.true(readFileSync(join(copy, 'journal.ndjson'), 'utf8').split('\n').length > 5, 'the copy holds journal records to replay');
  const replayed = await CampaignStore.open(copy);
  t.deepEqual(await content(replayed), before);
  t.is(replayed.epoch, 2, 'a new writer gets the next epoch');
  await replayed.close();
});

test('openIntents lists intents without an outcome, and filters select journal entries', async (t) => {
  const store = await CampaignStore.create(join(tempRoot(t), 'c1'), sampleInit());
  await fill(store);
  t.deepEqual(store.openIntents().map((e) => e.key), ['c1/g1/reboot']);
  t.deepEqual((await store.journal({ open: false })).map((e) => e.key), ['c1/g1/migrate/vm1']);
  t.is((await store.journal({ host: 'h2' })).length, 0);
  t.is((await store.journal({ group: 'g1', step: 'migrate' }))[0]?.outcome?.exitCode, 0);
  await store.close();
});

test('outcome output is kept to its tail; a second outcome for an intent is refused', async (t) => {
  const store = await CampaignStore.create(join(tempRoot(t), 'c1'), sampleInit());
  const id = await store.journalIntent({ key: 'c1/g1/upgrade', group: 'g1', step: 'upgrade', host: 'h1', startedAt: 't0', operator: 'alice' });
  await store.journalOutcome(id, { exitCode: 1, outputTail: 'a'.repeat(OUTPUT_TAIL_MAX) + 'END', endedAt: 't1' });
  const tail = (await store.journal())[0]?.outcome?.outputTail ?? '';
  t.is(tail.length, OUTPUT_TAIL_MAX);
  t.true(tail.endsWith('END'));
  await t.throwsAsync(store.journalOutcome(id, { exitCode: 0, outputTail: '', endedAt: 't2' }), { instanceOf: HvrollError, message: /already has an outcome/ });
  await store.close();
});

test('values returned by the store are copies: mutating them or the saved input does not change the store', async (t) => {
  const store = await CampaignStore.create(join(tempRoot(t), 'c1'), sampleInit());
  const snap = { value: 'a', list: [1] };
  await store.saveGroupSnapshot('g1', { machineVersion: 'v', snapshot: snap });
  snap.list.push(2);
  const got = store.groupSnapshot('g1');
  (got?.snapshot as { list: number[] }).list.push(3);
  t.deepEqual(store.groupSnapshot('g1')?.snapshot, { value: 'a', list: [1] });
  t.true(Object.isFrozen(store.plan()));
  await store.close();
});

test('concurrent writes are all durable and replay in call order', async (t) => {
  const root = tempRoot(t);
  const dir = join(root, 'c1');
  const store = await CampaignStore.create(dir, sampleInit());
  const ids = await Promise.all(
    Array.from({ length: 50 }, (_, i) => store.journalIntent({ key: `c1/g${i}/drain`, group: `g${i}`, step: 'drain', host: `h${i}`, startedAt: 't', operator: 'alice' })),
  );
  t.deepEqual(ids, Array.from({ length: 50 }, (_, i) => i + 1));
  const copy = crashCopy(dir, join(root, 'copy'));
  await store.close();
  const r = await CampaignStore.open(copy, { readOnly: true });
  t.deepEqual((await r.journal()).map((e) => e.group), Array.from({ length: 50 }, (_, i) => `g${i}`));
});

test('create refuses a directory that already holds a store, or anything else', async (t) => {
  const root = tempRoot(t);
  const dir = join(root, 'c1');
  const store = await CampaignStore.create(dir, sampleInit());
  await store.close();
  await t.throwsAsync(CampaignStore.create(dir, sampleInit()), { instanceOf: HvrollError, message: /already exists.*resume/ });
  const other = join(root, 'other');
  mkdirSync(other);
  writeFileSync(join(other, 'notes.txt'), 'mine');
  await t.throwsAsync(CampaignStore.create(other, sampleInit()), { message: /not empty/ });
  const empty = join(root, 'empty');
  mkdirSync(empty);
  const made = await CampaignStore.create(empty, sampleInit('c2'));
  t.is(made.meta().campaignId, 'c2');
  await made.close();
});

test('a read-only store records nothing', async (t) => {
  const dir = join(tempRoot(t), 'c1');
  await (await CampaignStore.create(dir, sampleInit())).close();
  const ro = await CampaignStore.open(dir, { readOnly: true });
  const err = await t.throwsAsync(ro.recordAudit({ at: 't', operator: 'x', action: 'y' }), { instanceOf: HvrollError, message: /read-only/ });
  t.is(err?.kind, 'store');
  await t.throwsAsync(ro.compact(), { message: /read-only/ });
});

test('defaultStateRoot follows XDG_DATA_HOME, else ~/.local/share; campaignDir refuses ids that escape the root', (t) => {
  t.is(defaultStateRoot({ XDG_DATA_HOME: '/data', HOME: '/home/a' }), '/data/hvroll/campaigns');
  t.is(defaultStateRoot({ HOME: '/home/a' }), '/home/a/.local/share/hvroll/campaigns');
  t.is(defaultStateRoot({ XDG_DATA_HOME: 'relative', HOME: '/home/a' }), '/home/a/.local/share/hvroll/campaigns');
  t.is(campaignDir('/r', 'spring-2026'), '/r/spring-2026');
  for (const bad of ['../x', 'a/b', '', '.hidden']) t.throws(() => campaignDir('/r', bad), { instanceOf: HvrollError });
});

test('listCampaigns reads meta and lock state of each campaign, and lists damaged ones with their problem', async (t) => {
  const root = tempRoot(t);
  await (await CampaignStore.create(join(root, 'a'), sampleInit('a'))).close();
  const b = await CampaignStore.create(join(root, 'b'), sampleInit('b'));
  mkdirSync(join(root, 'broken'));
  writeFileSync(join(root, 'broken', 'campaign.json'), '{"kind":"hvroll-campaign"');
  const list = await listCampaigns(root);
  t.deepEqual(list.map((c) => c.id), ['a', 'b', 'broken']);
  t.is(list[0]?.meta?.operator, 'alice');
  t.is(list[0]?.lock, null);
  t.is(list[1]?.lock?.state, 'alive');
  t.regex(list[2]?.problem ?? '', /campaign\.json is damaged/);
  t.deepEqual(await listCampaigns(join(root, 'nope')), []);
  await b.close();
});
