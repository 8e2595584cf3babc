// Power loss at a random moment (fault matrix 2): data not yet fsynced is dropped, except a random prefix of
// unsynced appends (torn tails). After each crash the store must open, hold every acknowledged write, and be at
// most one step behind what was in flight.
import test from 'ava';
import { mulberry32 } from '../../src/fleet/random.ts';
import { breakLock, CampaignStore } from '../../src/store/index.ts';
import type { LockEnv } from '../../src/store/lock.ts';
import { CrashableFs } from './crashable-fs.ts';
import { sampleInit } from './helpers.ts';

// The crashed writer's pid is gone after the "reboot"; the reader is another process.
const writerEnv: LockEnv = { hostname: 'lab', pid: 4242, isAlive: () => false };
const readerEnv: LockEnv = { hostname: 'lab', pid: 4343, isAlive: (pid) => pid === 4343 };

async function oneStep(store: CampaignStore, n: number): Promise<void> {
  const group = `g${n % 5}`;
  await store.saveGroupSnapshot(group, { machineVersion: 'group-v1', snapshot: { n } });
  const id = await store.journalIntent({ key: `c1/${group}/step/${n}`, group, step: 'step', host: `h${n % 5}`, startedAt: `t${n}`, operator: 'op' });
  await store.journalOutcome(id, { exitCode: 0, outputTail: `done ${n}`, endedAt: `t${n}e` });
}

test('300 random power losses: the store always opens, keeps every acknowledged step, and is at most one step behind', async (t) => {
  t.timeout(170_000);
  let crashedInCompaction = 0;
  let tornTails = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const random = mulberry32(seed);
    const fs = new CrashableFs(random);
    const dir = '/state/c1';
    await fs.mkdir('/state');
    await (await CampaignStore.create(dir, sampleInit(), { fs, lockEnv: writerEnv })).close();
    const compaction = { maxJournalRecords: 5 + Math.floor(random() * 40), minJournalBytes: 1_000 };
    let store = await CampaignStore.open(dir, { fs, lockEnv: writerEnv, compaction });
    let acked = 0;
    const steps = 1 + Math.floor(random() * 60);
    for (let n = 1; n <= steps; n++) {
      await oneStep(store, n);
      acked = n;
    }
    // One more step in flight, cut after a random number of event-loop turns (possibly inside a compaction).
    const inFlight = oneStep(store, acked + 1).catch(() => undefined);
    const turns = Math.floor(random() * 12);
    for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
    if (store.stats().compactions > 0 && turns > 0) crashedInCompaction++;
    fs.crash();
    void inFlight;
    const journal = await fs.readFile(`${dir}/journal.ndjson`);
    if (journal && journal.length > 0 && journal[journal.length - 1] !== 0x0a) tornTails++;

    await breakLock(dir, 'tester', { fs, lockEnv: readerEnv }).catch(() => undefined); // no lock left is fine too
    store = await CampaignStore.open(dir, { fs, lockEnv: readerEnv });
    const done = new Set((await store.journal({ open: false })).map((e) => e.key));
    for (let n = 1; n <= acked; n++) t.true(done.has(`c1/g${n % 5}/step/${n}`), `seed ${seed}: acknowledged step ${n} lost`);
    const beyond = (await store.journal()).filter((e) => Number(e.key.split('/')[3]) > acked + 1);
    t.deepEqual(beyond, [], `seed ${seed}: nothing beyond the step in flight`);
    const snap = (store.groupSnapshot(`g${acked % 5}`)?.snapshot as { n: number } | undefined)?.n;
    t.true(snap !== undefined && snap >= acked, `seed ${seed}: the last acknowledged snapshot is there`);
    // The store keeps working after the crash.
    await oneStep(store, acked + 2);
    await store.close();
  }
  t.log(`300 crashes, ${crashedInCompaction} with compactions behind them, ${tornTails} with a torn journal tail`);
});
