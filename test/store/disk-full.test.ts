// ENOSPC on a REAL full filesystem (a small tmpfs), at every kind of store write: creating the campaign (its
// plan.json, campaign.json, snapshot, journal, marker), taking and rewriting the lock, giving an old store
// its marker, appending to the journal, compacting (history segment, snapshot). Each time: a store error
// (exit 5) that names the state directory and says it is full, with the fix; nothing acknowledged lost;
// nothing half-written left behind (no partial journal line, no empty lock); and once space is back the
// store opens and goes on.
import test from 'ava';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { EXIT_CODE, HvrollError } from '../../src/model/errors.ts';
import { CampaignStore } from '../../src/store/index.ts';
import { makeLegacy, markerOf, sampleInit } from './helpers.ts';
import { cannotMount, mountTmpfs, type Tmpfs } from './tmpfs.ts';

const tmpfsTest = cannotMount === null ? test.serial : test.serial.skip;
const skipped = cannotMount === null ? '' : ` [skipped: cannot mount a tmpfs here: ${cannotMount}]`;

async function step(store: CampaignStore, n: number): Promise<void> {
  const group = `g${n % 3}`;
  await store.saveGroupSnapshot(group, { machineVersion: 'group-v1', snapshot: { value: 'draining', n, pad: 'p'.repeat(200) } });
  const id = await store.journalIntent({ key: `c1/${group}/migrate/vm${n}`, group, step: 'migrate', host: `h${n % 3}`, vm: `vm${n}`, startedAt: `t${n}`, operator: 'alice' });
  await store.journalOutcome(id, { exitCode: 0, outputTail: `migrated vm${n}`, endedAt: `t${n}e` });
}

/** Steps until one fails; returns the last step acknowledged and the error. */
async function stepUntilFull(store: CampaignStore, from: number): Promise<{ acked: number; err: unknown }> {
  for (let n = from; n < from + 10_000; n++) {
    try {
      await step(store, n);
    } catch (err) {
      return { acked: n - 1, err };
    }
  }
  throw new Error('the filesystem never filled up');
}

function assertFull(t: import('ava').ExecutionContext, err: unknown, dir: string, what: string, creating = false): void {
  t.true(err instanceof HvrollError, `${what}: ${String(err)}`);
  const e = err as HvrollError;
  t.is(e.kind, 'store', what);
  t.is(EXIT_CODE[e.kind], 5);
  t.true(e.message.includes(`the state directory ${dir} is full (no space left on device)`), `${what}: ${e.message}`);
  t.regex(e.message, creating ? /Nothing was created: the campaign has not started/ : /every acknowledged record is intact/, what);
  t.regex((e.details as { fix?: string }).fix ?? '', creating ? /free space on the filesystem holding .*start the campaign again/ : new RegExp(`free space on the filesystem holding .*hvroll resume ${basename(dir)}`), what);
}

/** Every step up to `acked` is in the store, complete. */
async function holdsSteps(t: import('ava').ExecutionContext, store: CampaignStore, from: number, acked: number, what: string): Promise<void> {
  const done = new Set((await store.journal({ open: false })).map((e) => e.key));
  for (let n = from; n <= acked; n++) if (!done.has(`c1/g${n % 3}/migrate/vm${n}`)) return void t.fail(`${what}: acknowledged step ${n} lost`);
  t.pass();
}

const leftovers = (dir: string) => readdirSync(dir).filter((n) => n.includes('.tmp-'));

function setUp(t: import('ava').ExecutionContext): { fs: Tmpfs; root: string; dir: string } {
  const fs = mountTmpfs(t, 1024 * 1024);
  const root = join(fs.dir, 'state');
  return { fs, root, dir: join(root, 'c1') };
}

tmpfsTest(`campaign creation on a full disk: refused as full, nothing left behind; created once space is back${skipped}`, async (t) => {
  const { fs, root, dir } = setUp(t);
  // One page per file: each run fails at the next file of the new store, in the order they are written.
  const failsAt = [/campaign\.json\.tmp-/, /plan\.json\.tmp-/, /snapshot\.json\.tmp-/, /journal\.ndjson\.tmp-/, /\.marks\/c1\.mark\.tmp-/];
  for (const [pages, file] of failsAt.entries()) {
    fs.leave(pages);
    const err = await t.throwsAsync(CampaignStore.create(dir, sampleInit()));
    assertFull(t, err, dir, `create with ${pages} free pages`, true);
    t.regex((err as Error).message, file);
    t.false(existsSync(dir), `${pages} free pages: no campaign directory`);
    t.deepEqual(
      readdirSync(root).filter((n) => n !== '.marks'),
      [],
      `${pages} free pages: no temp directory left in the state root`,
    );
    fs.release();
  }
  const store = await CampaignStore.create(dir, sampleInit());
  await step(store, 1);
  await store.close();
});

tmpfsTest(`open for writing on a full disk (taking the lock, rewriting it, giving an old store its marker): refused as full, no lock left${skipped}`, async (t) => {
  const { fs, dir } = setUp(t);
  await (await CampaignStore.create(dir, sampleInit())).close();
  for (const [pages, file] of [/while writing \S+\/lock \(/, /while writing \S+\/lock\.tmp-/].entries()) {
    fs.leave(pages);
    const err = await t.throwsAsync(CampaignStore.open(dir));
    assertFull(t, err, dir, `open with ${pages} free pages`);
    t.regex((err as Error).message, file, 'taking the lock, then rewriting it with the epoch');
    t.false(existsSync(join(dir, 'lock')), `${pages} free pages: no lock left behind (an empty one would need unlock)`);
    t.deepEqual(leftovers(dir), []);
    fs.release();
  }
  makeLegacy(dir);
  fs.leave(1); // the lock fits, the new marker does not
  const legacy = await t.throwsAsync(CampaignStore.open(dir));
  assertFull(t, legacy, dir, 'marker for an old store');
  t.regex(legacy?.message ?? '', /\.marks\/c1\.mark\.tmp-/);
  t.false(existsSync(join(dir, 'lock')));
  t.false(existsSync(markerOf(dir)));
  fs.release();
  const store = await CampaignStore.open(dir);
  t.true(existsSync(markerOf(dir)));
  await store.close();
});

tmpfsTest(`journal appends until the disk is full: the failing write is refused as full and cut back, nothing acknowledged is lost, and the store goes on once space is back${skipped}`, async (t) => {
  const { fs, dir } = setUp(t);
  let store = await CampaignStore.create(dir, sampleInit(), { compaction: { maxJournalRecords: 1e9, minJournalBytes: 1 << 30 } });
  await step(store, 0);
  let next = 1;
  for (const round of [0, 1, 2]) {
    fs.leave(round); // 0: the next page of the journal fails; 1, 2: a little later
    const { acked, err } = await stepUntilFull(store, next);
    assertFull(t, err, dir, `round ${round}`);
    t.regex((err as Error).message, /while appending to .*journal\.ndjson/);
    // Nothing more is written after a failed write, and what is on disk ends with a whole line.
    await t.throwsAsync(step(store, acked + 2), { message: /is full/ });
    t.true(readFileSync(join(dir, 'journal.ndjson')).at(-1) === 0x0a, `round ${round}: the partial line was cut back`);
    await store.close();
    t.false(existsSync(join(dir, 'lock')), 'the lock is released: resume needs no unlock');
    fs.release();
    store = await CampaignStore.open(dir, { compaction: { maxJournalRecords: 1e9, minJournalBytes: 1 << 30 } });
    await holdsSteps(t, store, 0, acked, `round ${round}`);
    t.deepEqual(store.warnings().filter((w) => /torn/.test(w)), []);
    next = acked + 1;
  }
  await step(store, next);
  await store.close();
});

tmpfsTest(`compaction on a full disk (history segment, snapshot): refused as full, no temp file left, nothing lost; compacts once space is back${skipped}`, async (t) => {
  const { fs, root } = setUp(t);
  for (const settle of [true, false]) {
    const dir = join(root, settle ? 'settled' : 'running');
    const store = await CampaignStore.create(dir, sampleInit());
    const from = 0;
    for (let n = from; n < from + 30; n++) await step(store, n);
    // Settled groups make the compaction write a history segment first; otherwise it starts with the snapshot.
    if (settle) for (let g = 0; g < 3; g++) await store.saveGroupSnapshot(`g${g}`, { machineVersion: 'group-v1', snapshot: { value: 'done' }, settled: true });
    const segmentsBefore = readdirSync(dir).filter((n) => n.startsWith('history-')).length;
    fs.leave(0);
    const err = await t.throwsAsync(store.compact());
    assertFull(t, err, dir, `compaction (${settle ? 'history segment' : 'snapshot'})`);
    t.regex((err as Error).message, settle ? /history-\d+\.ndjson/ : /snapshot\.json/);
    t.deepEqual(leftovers(dir), [], 'the temp file is removed');
    t.is(readdirSync(dir).filter((n) => n.startsWith('history-')).length, segmentsBefore);
    await store.close();
    fs.release();
    const again = await CampaignStore.open(dir);
    await holdsSteps(t, again, from, from + 29, 'after a failed compaction');
    await again.compact();
    await again.close();
  }
});
