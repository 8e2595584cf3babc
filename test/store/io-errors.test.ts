// EIO, EROFS, EDQUOT and ENOSPC injected (test/store/crashable-fs.ts) into every kind of store write: the
// journal append (nothing or part of it written), its fdatasync, the marker update and its fdatasync, each
// file a compaction writes, a rename, a directory sync — and the cut-back after a failed append failing too.
// Each time: a store error (exit 5) that says what happened where, with the fix; no later write; and once the
// fault is gone — after a power loss or not — the store opens with every acknowledged step and goes on.
import test from 'ava';
import { mulberry32 } from '../../src/fleet/random.ts';
import { HvrollError } from '../../src/model/errors.ts';
import { CampaignStore } from '../../src/store/index.ts';
import type { LockEnv } from '../../src/store/lock.ts';
import { CrashableFs, type FsCall, type FsFault } from './crashable-fs.ts';
import { sampleInit } from './helpers.ts';

const env: LockEnv = { hostname: 'lab', pid: 4242, isAlive: () => false };
const DIR = '/state/c1';

async function step(store: CampaignStore, n: number): Promise<void> {
  const group = `g${n % 3}`;
  await store.saveGroupSnapshot(group, { machineVersion: 'group-v1', snapshot: { value: 'draining', n } });
  const id = await store.journalIntent({ key: `c1/${group}/migrate/vm${n}`, group, step: 'migrate', host: `h${n % 3}`, vm: `vm${n}`, startedAt: `t${n}`, operator: 'alice' });
  await store.journalOutcome(id, { exitCode: 0, outputTail: `migrated vm${n}`, endedAt: `t${n}e` });
}

interface Case {
  name: string;
  call: FsCall;
  path: RegExp;
  fault: FsFault;
  /** The operation that meets the fault: a step, or a compaction. */
  during: 'step' | 'compact';
  /** Also fail the cut-back of the journal after the failed append. */
  truncateFails?: boolean;
  message: RegExp;
}

const cases: Case[] = [
  { name: 'append fails with EIO before writing anything', call: 'append', path: /journal\.ndjson$/, fault: { code: 'EIO' }, during: 'step', message: /I\/O error .* while appending/ },
  { name: 'append fails with ENOSPC after a partial line', call: 'append', path: /journal\.ndjson$/, fault: { code: 'ENOSPC', partial: 37 }, during: 'step', message: /is full .* while appending/ },
  { name: 'append fails after a partial line, and so does the cut-back (the marker tells the tail apart)', call: 'append', path: /journal\.ndjson$/, fault: { code: 'EIO', partial: 80 }, during: 'step', truncateFails: true, message: /I\/O error/ },
  { name: 'fdatasync of the journal fails with EIO', call: 'datasync', path: /journal\.ndjson$/, fault: { code: 'EIO' }, during: 'step', message: /I\/O error .* while syncing .*journal\.ndjson/ },
  { name: 'the journal is on a filesystem remounted read-only', call: 'append', path: /journal\.ndjson$/, fault: { code: 'EROFS' }, during: 'step', message: /read-only filesystem/ },
  { name: 'the disk quota is exhausted', call: 'append', path: /journal\.ndjson$/, fault: { code: 'EDQUOT', partial: 5 }, during: 'step', message: /disk quota .* exhausted/ },
  { name: 'the marker update fails with EIO (pwrite)', call: 'writeAt', path: /\.mark$/, fault: { code: 'EIO' }, during: 'step', message: /I\/O error .* while updating .*\.marks\/c1\.mark/ },
  { name: 'the marker update is torn, then fails', call: 'writeAt', path: /\.mark$/, fault: { code: 'EIO', partial: 60 }, during: 'step', message: /I\/O error .*c1\.mark/ },
  { name: 'fdatasync of the marker fails', call: 'datasync', path: /\.mark$/, fault: { code: 'EIO' }, during: 'step', message: /I\/O error .* while updating the durability marker .*c1\.mark/ },
  { name: 'compaction: the history segment cannot be written', call: 'writeNew', path: /history-\d+\.ndjson\.tmp-/, fault: { code: 'ENOSPC', partial: 100 }, during: 'compact', message: /is full .*history-/ },
  { name: 'compaction: the snapshot cannot be written', call: 'writeNew', path: /snapshot\.json\.tmp-/, fault: { code: 'EIO', partial: 10 }, during: 'compact', message: /I\/O error .*snapshot\.json/ },
  { name: 'compaction: the snapshot rename fails', call: 'rename', path: /snapshot\.json$/, fault: { code: 'EIO' }, during: 'compact', message: /I\/O error .* renaming/ },
  { name: 'compaction: the fresh journal cannot be written', call: 'writeNew', path: /journal\.ndjson\.tmp-/, fault: { code: 'ENOSPC' }, during: 'compact', message: /is full .*journal\.ndjson/ },
  { name: 'compaction: the directory sync fails', call: 'syncDir', path: /c1$/, fault: { code: 'EIO' }, during: 'compact', message: /I\/O error .* syncing the directory/ },
  { name: 'compaction: the marker update after the fresh journal fails', call: 'writeAt', path: /\.mark$/, fault: { code: 'EIO' }, during: 'compact', message: /I\/O error .*c1\.mark/ },
];

for (const c of cases) {
  for (const powerLoss of [false, true]) {
    test(`${c.name}${powerLoss ? ', then a power loss' : ''}: store error, nothing acknowledged lost, resumable once the fault is gone`, async (t) => {
      const fs = new CrashableFs(mulberry32(c.name.length * 31 + (powerLoss ? 7 : 0)));
      await fs.mkdir('/state');
      const store = await CampaignStore.create(DIR, sampleInit(), { fs, lockEnv: env, compaction: { maxJournalRecords: 1e9, minJournalBytes: 1 << 30 } });
      for (let n = 0; n < 4; n++) await step(store, n);
      if (c.during === 'compact') for (let g = 0; g < 3; g++) await store.saveGroupSnapshot(`g${g}`, { machineVersion: 'group-v1', snapshot: { value: 'done' }, settled: true });
      let armed = true;
      fs.fault = (call, path) => {
        if (call === 'truncate' && c.truncateFails) return { code: 'EIO' };
        if (!armed || call !== c.call || !c.path.test(path)) return undefined;
        armed = false;
        return c.fault;
      };
      const err = await t.throwsAsync(c.during === 'step' ? step(store, 4) : store.compact(), { instanceOf: HvrollError });
      t.is(err?.kind, 'store');
      t.regex(err?.message ?? '', c.message);
      t.regex(err?.message ?? '', /every acknowledged record is intact/);
      t.regex((err?.details as { fix?: string } | undefined)?.fix ?? '', /hvroll resume c1/);
      t.false(armed, 'the fault was met');
      await t.throwsAsync(step(store, 5), { instanceOf: HvrollError }, 'nothing more is written after a failed write');
      await store.close();
      fs.fault = null;
      if (powerLoss) fs.crash();

      const again = await CampaignStore.open(DIR, { fs, lockEnv: env });
      const done = new Set((await again.journal({ open: false })).map((e) => e.key));
      for (let n = 0; n < 4; n++) t.true(done.has(`c1/g${n % 3}/migrate/vm${n}`), `acknowledged step ${n} is there`);
      await step(again, 6);
      await again.compact();
      await again.close();
      const last = await CampaignStore.open(DIR, { fs, lockEnv: env, readOnly: true });
      t.true((await last.journal()).some((e) => e.key === 'c1/g0/migrate/vm6'));
    });
  }
}

test('a failure taking the store over (the epoch record of a new writer) releases the lock and leaves the store as it was', async (t) => {
  const fs = new CrashableFs(mulberry32(3));
  await fs.mkdir('/state');
  const store = await CampaignStore.create(DIR, sampleInit(), { fs, lockEnv: env });
  await step(store, 0);
  await store.close();
  fs.fault = (call, path) => (call === 'append' && path.endsWith('journal.ndjson') ? { code: 'EIO', partial: 3 } : undefined);
  const err = await t.throwsAsync(CampaignStore.open(DIR, { fs, lockEnv: env }), { instanceOf: HvrollError });
  t.regex(err?.message ?? '', /I\/O error/);
  t.is(await fs.readFile(`${DIR}/lock`), null, 'the lock is released');
  fs.fault = null;
  const again = await CampaignStore.open(DIR, { fs, lockEnv: env });
  t.is((await again.journal()).length, 1);
  await again.close();
});
