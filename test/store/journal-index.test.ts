import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CampaignStore } from '../../src/store/store.ts';
import type { PlanFile } from '../../src/model/plan.ts';

test('journal({group, …}) answers from the per-group index exactly what a scan of the whole journal does, live and after reopen', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'hvroll-index-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const dir = join(root, 'c');
  const store = await CampaignStore.create(dir, { campaignId: 'c1', operator: 'a', plan: {} as PlanFile, planFingerprint: 'sha256:x', machineVersion: 'group/1' });
  await Promise.all(
    Array.from({ length: 60 }, async (_, i) => {
      const id = await store.journalIntent({ key: `c1/g${i % 4}/s${i % 3}/h${i % 5}`, group: `g${i % 4}`, step: `s${i % 3}`, host: `h${i % 5}`, startedAt: `${i}`, operator: 'a' });
      if (i % 2 === 0) await store.journalOutcome(id, { exitCode: 0, outputTail: `${i}`, endedAt: `${i}` });
    }),
  );
  const scan = async (s: CampaignStore, f: { group: string; host?: string; step?: string; open?: boolean }) =>
    (await s.journal()).filter((e) => e.group === f.group && (f.host === undefined || e.host === f.host) && (f.step === undefined || e.step === f.step) && (f.open === undefined || (e.outcome === undefined) === f.open));
  const filters = [{ group: 'g1' }, { group: 'g2', host: 'h2', step: 's1' }, { group: 'g3', open: true }, { group: 'nope' }];
  for (const f of filters) t.deepEqual(await store.journal(f), await scan(store, f));
  t.deepEqual((await store.journal({ group: 'g0' })).map((e) => e.id), (await scan(store, { group: 'g0' })).map((e) => e.id).sort((a, b) => a - b), 'in id order');
  await store.close();
  const again = await CampaignStore.open(dir, { readOnly: true });
  t.teardown(() => again.close());
  for (const f of filters) t.deepEqual(await again.journal(f), await scan(again, f));
});
