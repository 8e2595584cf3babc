// Journal archiving: finished entries of settled groups leave memory and the snapshot for history files,
// and stay readable (journal()) across compaction, reopen, crashes and power loss; damage is refused.
import test from 'ava';
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../../src/fleet/random.ts';
import { HvrollError } from '../../src/model/errors.ts';
import { breakLock, CampaignStore } from '../../src/store/index.ts';
import type { LockEnv } from '../../src/store/lock.ts';
import { CrashableFs } from './crashable-fs.ts';
import { copyStore, crashCopy, fingerprint, sampleInit, tempRoot } from './helpers.ts';

/** One group's whole life: an intent and outcome per step, then its final snapshot, settled. */
async function groupLife(store: CampaignStore, g: number, steps = 3): Promise<void> {
  const group = `g${g}`;
  await store.saveGroupSnapshot(group, { machineVersion: 'v', snapshot: { value: 'draining' } });
  for (let s = 0; s < steps; s++) {
    const id = await store.journalIntent({ key: `c1/${group}/s${s}`, group, step: `s${s}`, host: `h${g}`, startedAt: `t${g}.${s}`, operator: 'a' });
    await store.journalOutcome(id, { exitCode: s === 1 ? 1 : 0, outputTail: `out ${g}.${s}`, endedAt: `e${g}.${s}` });
  }
  await store.saveGroupSnapshot(group, { machineVersion: 'v', snapshot: { value: 'done' }, settled: true });
}

const historyFiles = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('history-'));

test('a settled group leaves the live journal; journal() still returns every entry in id order, across compaction and reopen', async (t) => {
  const root = tempRoot(t);
  const dir = join(root, 'c1');
  const store = await CampaignStore.create(dir, sampleInit(), { compaction: { maxJournalRecords: 20, minJournalBytes: 1 << 30 } });
  // An unsettled group with an open intent stays live throughout.
  const open = await store.journalIntent({ key: 'c1/live/reboot', group: 'live', step: 'reboot', host: 'hl', startedAt: 't', operator: 'a' });
  for (let g = 0; g < 30; g++) await groupLife(store, g);
  t.true(store.stats().compactions >= 5);
  t.true(historyFiles(dir).length >= 5, 'compactions wrote history files');
  t.deepEqual(store.liveJournal().map((e) => e.id), [open], 'only the unsettled group is in memory');
  t.deepEqual(store.liveJournal({ group: 'g3' }), []);
  const all = await store.journal();
  t.is(all.length, 1 + 30 * 3);
  t.deepEqual(all.map((e) => e.id), all.map((_, i) => i + 1));
  t.deepEqual((await store.journal({ group: 'g3', step: 's1' })).map((e) => e.outcome?.outputTail), ['out 3.1']);
  t.deepEqual((await store.journal({ open: true })).map((e) => e.id), [open]);
  t.deepEqual(store.tally('s1'), { finished: 30, exitZero: 0 });
  t.deepEqual(store.tally('s0'), { finished: 30, exitZero: 30 });
  // The snapshot holds no archived entry.
  t.false(readFileSync(join(dir, 'snapshot.json'), 'utf8').includes('out 3.1'));

  const copy = crashCopy(dir, join(root, 'copy'));
  await store.journalOutcome(open, { exitCode: 0, outputTail: 'rebooted', endedAt: 'e' });
  await store.close();
  for (const [d, openIds] of [[dir, []], [copy, [open]]] as const) {
    const r = await CampaignStore.open(d, { readOnly: true });
    const again = await r.journal();
    t.is(again.length, all.length);
    t.deepEqual(again.filter((e) => e.id !== open), all.filter((e) => e.id !== open));
    t.deepEqual(r.openIntents().map((e) => e.id), [...openIds]);
    t.deepEqual(r.tally('s1'), { finished: 30, exitZero: 0 });
    await r.close();
  }
  // A finished, archived entry cannot get a second outcome.
  const w = await CampaignStore.open(dir);
  await t.throwsAsync(w.journalOutcome(2, { exitCode: 0, outputTail: '', endedAt: 'x' }), { instanceOf: HvrollError, message: /already has an outcome/ });
  await w.close();
});

test('an entry finishing after its group settled goes to the history too; settled is never unset', async (t) => {
  const dir = join(tempRoot(t), 'c1');
  const store = await CampaignStore.create(dir, sampleInit());
  const id = await store.journalIntent({ key: 'c1/g/x', group: 'g', step: 'x', host: 'h', startedAt: 't', operator: 'a' });
  await store.saveGroupSnapshot('g', { machineVersion: 'v', snapshot: 1, settled: true });
  t.is(store.liveJournal().length, 1, 'an open intent stays live');
  await store.journalOutcome(id, { exitCode: 0, outputTail: 'ok', endedAt: 'e' });
  t.deepEqual(store.liveJournal(), []);
  await store.saveGroupSnapshot('g', { machineVersion: 'v', snapshot: 2 });
  t.true(store.groupSnapshot('g')?.settled);
  await store.close();
  const r = await CampaignStore.open(dir, { readOnly: true });
  t.deepEqual((await r.journal()).map((e) => e.outcome?.outputTail), ['ok']);
  t.deepEqual(r.groupSnapshot('g'), { machineVersion: 'v', snapshot: 2, settled: true });
  await r.close();
});

test('a history file written by a compaction that crashed before its snapshot is dropped by the next writer; nothing is doubled', async (t) => {
  const root = tempRoot(t);
  const dir = join(root, 'c1');
  const store = await CampaignStore.create(dir, sampleInit());
  for (let g = 0; g < 4; g++) await groupLife(store, g);
  const before = crashCopy(dir, join(root, 'before'));
  await store.compact();
  const [written] = historyFiles(dir);
  t.truthy(written);
  // The state of a crash right after the history file: old snapshot and journal, plus the new file.
  cpSync(join(dir, written!), join(before, written!));
  await store.close();
  const ro = await CampaignStore.open(before, { readOnly: true });
  t.is((await ro.journal()).length, 12, 'a reader ignores the unlisted file');
  await ro.close();
  const w = await CampaignStore.open(before);
  t.deepEqual(historyFiles(before), [], 'the writer removed it');
  await groupLife(w, 9);
  await w.close();
  const r = await CampaignStore.open(before, { readOnly: true });
  const all = await r.journal();
  t.deepEqual(all.map((e) => e.id), Array.from({ length: 15 }, (_, i) => i + 1));
  await r.close();
});

test('a deleted history file is refused at open; a damaged one when the journal is read, naming the file', async (t) => {
  const root = tempRoot(t);
  const dir = join(root, 'c1');
  const store = await CampaignStore.create(dir, sampleInit());
  for (let g = 0; g < 3; g++) await groupLife(store, g);
  await store.close();
  const [file] = historyFiles(dir);
  const path = join(dir, file!);

  const deleted = join(root, 'deleted');
  copyStore(dir, deleted);
  rmSync(join(deleted, file!));
  const before = fingerprint(deleted);
  for (const readOnly of [false, true]) {
    const err = await t.throwsAsync(CampaignStore.open(deleted, { readOnly }), { instanceOf: HvrollError });
    t.is(err?.kind, 'store');
    t.true(err?.message.includes(join(deleted, file!)), err?.message);
    t.regex(err?.message ?? '', /missing \(deleted\?\).*Nothing was changed on disk.*Restore/s);
  }
  t.deepEqual(fingerprint(deleted), before);

  const damages: Record<string, [(b: Buffer) => Buffer, RegExp]> = {
    'one character changed': [(b) => Buffer.from(b.toString('utf8').replace('out 1.1', 'out 1.2')), /checksum mismatch/],
    truncated: [(b) => b.subarray(0, b.length - 10), /bytes, but snapshot\.json recorded/],
    'NUL-filled': [(b) => Buffer.alloc(b.length), /NUL bytes/],
  };
  for (const [name, [damage, problem]] of Object.entries(damages)) {
    const d = join(root, name.replace(/\W/g, '-'));
    copyStore(dir, d);
    writeFileSync(join(d, file!), damage(readFileSync(path)));
    const r = await CampaignStore.open(d, { readOnly: true });
    const err = await t.throwsAsync(r.journal(), { instanceOf: HvrollError });
    t.true(err?.message.includes(join(d, file!)), `${name}: ${err?.message}`);
    t.regex(err?.message ?? '', problem, name);
    t.deepEqual(r.liveJournal(), [], `${name}: the live state is still usable`);
    await r.close();
  }
});

// The crashed writer's pid is gone after the "reboot"; the reader is another process.
const writerEnv: LockEnv = { hostname: 'lab', pid: 4242, isAlive: () => false };
const readerEnv: LockEnv = { hostname: 'lab', pid: 4343, isAlive: (pid) => pid === 4343 };

test('200 random power losses with groups settling: every acknowledged entry is in the history exactly once', async (t) => {
  t.timeout(170_000);
  for (let seed = 1; seed <= 200; seed++) {
    const random = mulberry32(seed);
    const fs = new CrashableFs(random);
    const dir = '/state/c1';
    await fs.mkdir('/state');
    await (await CampaignStore.create(dir, sampleInit(), { fs, lockEnv: writerEnv })).close();
    const compaction = { maxJournalRecords: 4 + Math.floor(random() * 30), minJournalBytes: 1_000 };
    let store = await CampaignStore.open(dir, { fs, lockEnv: writerEnv, compaction });
    let acked = 0;
    const groups = 1 + Math.floor(random() * 25);
    for (let g = 1; g <= groups; g++) {
      await groupLife(store, g, 2);
      acked = g;
    }
    const inFlight = groupLife(store, acked + 1, 2).catch(() => undefined);
    const turns = Math.floor(random() * 30);
    for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
    fs.crash();
    void inFlight;

    await breakLock(dir, 'tester', { fs, lockEnv: readerEnv }).catch(() => undefined);
    store = await CampaignStore.open(dir, { fs, lockEnv: readerEnv });
    const all = await store.journal();
    const keys = all.map((e) => e.key);
    t.is(new Set(keys).size, keys.length, `seed ${seed}: no entry twice`);
    t.deepEqual(all.map((e) => e.id), all.map((_, i) => i + 1), `seed ${seed}: ids 1..n, in order`);
    for (let g = 1; g <= acked; g++) for (const s of [0, 1]) t.true(keys.includes(`c1/g${g}/s${s}`), `seed ${seed}: acknowledged g${g}/s${s} lost`);
    t.true(all.every((e) => Number(e.group.slice(1)) <= acked + 1), `seed ${seed}: nothing beyond the group in flight`);
    for (let g = 1; g <= acked; g++) t.deepEqual(store.liveJournal({ group: `g${g}` }), [], `seed ${seed}: settled g${g} not in memory`);
    await groupLife(store, acked + 2, 2);
    await store.close();
    const r = await CampaignStore.open(dir, { fs, lockEnv: readerEnv, readOnly: true });
    t.is((await r.journal()).length, all.length + 2);
    await r.close();
  }
});
