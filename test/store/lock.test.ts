import test from 'ava';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HvrollError } from '../../src/model/errors.ts';
import { encodeRecord } from '../../src/store/journal-file.ts';
import { CampaignStore, breakLock, listCampaigns } from '../../src/store/index.ts';
import { fingerprint, sampleInit, startWriter, tempRoot } from './helpers.ts';

test('lock: a second opener is refused while the first lives, and gets in once it closes', async (t) => {
  const dir = join(tempRoot(t), 'c1');
  const first = await CampaignStore.create(dir, sampleInit());
  const lock = JSON.parse(readFileSync(join(dir, 'lock'), 'utf8')) as { pid: number; epoch: number; hostname: string; startedAt: string };
  t.is(lock.pid, process.pid);
  t.is(lock.epoch, 1);
  t.truthy(lock.hostname && lock.startedAt);
  const err = await t.throwsAsync(CampaignStore.open(dir), { instanceOf: HvrollError, message: new RegExp(`in use by pid ${process.pid}`) });
  t.is(err?.kind, 'store');
  await t.throwsAsync(breakLock(dir, 'bob'), { message: /refusing to break the lock.*is alive on this host/ });
  await t.throwsAsync(breakLock(dir, 'bob', { force: true }), { message: /--force does not override that/ }, 'force is for holders on other hosts');
  const reader = await CampaignStore.open(dir, { readOnly: true });
  t.is(reader.meta().campaignId, 'c1', 'readers do not need the lock');
  await first.close();
  t.false(existsSync(join(dir, 'lock')));
  const second = await CampaignStore.open(dir);
  t.is(second.epoch, 2);
  await second.close();
});

test('a child holding the lock is kill -9ed: the lock is reported stale and refused until breakLock, which is audited', async (t) => {
  const root = tempRoot(t);
  const dir = join(root, 'c1');
  await (await CampaignStore.create(dir, sampleInit())).close();
  const child = startWriter(['hold', dir]);
  await child.waitFor((l) => l.startsWith('locked '));
  const pid = child.proc.pid;
  await t.throwsAsync(CampaignStore.open(dir), { message: new RegExp(`in use by pid ${pid}`) });

  child.proc.kill('SIGKILL');
  t.is((await child.exited).signal, 'SIGKILL');
  const before = fingerprint(dir);
  const err = await t.throwsAsync(CampaignStore.open(dir), { instanceOf: HvrollError, message: new RegExp(`stale lock .*pid ${pid}.*no longer running`) });
  t.is(err?.kind, 'store');
  t.deepEqual(fingerprint(dir), before, 'a stale lock is never broken silently');
  t.is((await listCampaigns(root))[0]?.lock?.state, 'stale');

  const { previous } = await breakLock(dir, 'bob', { reason: 'runner host rebooted' });
  t.is(previous.state, 'stale');
  const store = await CampaignStore.open(dir);
  const entry = store.audit().find((a) => a.action === 'lock-broken');
  t.is(entry?.operator, 'bob');
  t.like(entry?.details as object, { previous: { pid, state: 'stale' }, reason: 'runner host rebooted' });
  t.is(store.epoch, 4, 'create=1, child=2, breakLock=3, this writer=4');
  await store.close();
});

test('stale-epoch writer: a writer whose lock was broken cannot write late, and the new writer is unaffected', async (t) => {
  const dir = join(tempRoot(t), 'c1');
  const old = await CampaignStore.create(dir, sampleInit());
  await old.recordAudit({ at: 't1', operator: 'alice', action: 'before-stop' });
  // The old writer runs on another machine (seen from here), frozen: the operator breaks its lock with force
  // (its process cannot be checked from here) and a new writer starts.
  await breakLock(dir, 'bob', { force: true, reason: 'runner frozen', lockEnv: { hostname: 'elsewhere', pid: 1, isAlive: () => false } });
  const fresh = await CampaignStore.open(dir);
  t.true(fresh.epoch > old.epoch);

  const late = await t.throwsAsync(old.recordAudit({ at: 't2', operator: 'alice', action: 'late-write' }), { instanceOf: HvrollError });
  t.is(late?.kind, 'store');
  t.regex(late?.message ?? '', /epoch 1.*lost the campaign lock.*No further write was made/);
  await t.throwsAsync(old.saveGroupSnapshot('g1', { machineVersion: 'v', snapshot: {} }), { message: /lost the campaign lock/ });
  await old.close(); // must not remove the new writer's lock
  t.true(existsSync(join(dir, 'lock')));

  await fresh.recordAudit({ at: 't3', operator: 'bob', action: 'after-takeover' });
  await fresh.close();
  const r = await CampaignStore.open(dir, { readOnly: true });
  const actions = r.audit().map((a) => a.action);
  t.deepEqual(actions, ['campaign-created', 'before-stop', 'lock-broken', 'after-takeover']);
});

test('a late record that slipped past the lock check (older epoch, after a newer epoch began) is ignored on replay', async (t) => {
  const dir = join(tempRoot(t), 'c1');
  const store = await CampaignStore.create(dir, sampleInit());
  await store.recordAudit({ at: 't1', operator: 'alice', action: 'ok' });
  await store.close();
  const next = await CampaignStore.open(dir); // epoch 2
  // What a frozen epoch-1 writer could append if it woke up between its check and its write:
  appendFileSync(join(dir, 'journal.ndjson'), encodeRecord(3, 1, JSON.stringify({ t: 'audit', value: { at: 't9', operator: 'ghost', action: 'late' } })));
  await next.recordAudit({ at: 't2', operator: 'bob', action: 'legit' });
  t.regex(next.warnings().join('\n'), /late record\(s\) from a superseded writer/);
  const copy = await CampaignStore.open(dir, { readOnly: true });
  t.deepEqual(copy.audit().map((a) => a.action), ['campaign-created', 'ok', 'legit']);
  t.regex(copy.warnings().join('\n'), /superseded writer \(epoch 1\).*ignored/);
  await next.close();
});

test('a writer that finds a newer writer\'s records in the journal stops', async (t) => {
  const dir = join(tempRoot(t), 'c1');
  const store = await CampaignStore.create(dir, sampleInit());
  appendFileSync(join(dir, 'journal.ndjson'), encodeRecord(99, 7, JSON.stringify({ t: 'audit', value: { at: 't', operator: 'x', action: 'y' } })));
  await t.throwsAsync(store.recordAudit({ at: 't', operator: 'alice', action: 'z' }), { message: /another writer appended .* epoch 7.*superseded/ });
  await store.close();
});
