// The campaign store keeps the plan text it is given (canonical JSON, for a seal over its bytes) and the
// plan's seal in its metadata; planJsonBytes reads that text back exactly, for resume's seal check.

import test from 'ava';
import { join } from 'node:path';
import { canonicalJson } from '../../src/plan-file/canonical-json.ts';
import { CampaignStore } from '../../src/store/store.ts';
import { sampleInit, tempRoot } from './helpers.ts';

test('plan text and seal given at create: the seal is in campaign.json, the text comes back byte for byte, the plan parsed', async (t) => {
  const dir = join(tempRoot(t), 'c1');
  const init = sampleInit();
  const planJson = canonicalJson(init.plan);
  const store = await CampaignStore.create(dir, { ...init, planJson, planSeal: 'sha256:seal' });
  await store.close();
  const again = await CampaignStore.open(dir, { readOnly: true });
  t.is(again.meta().planSeal, 'sha256:seal');
  t.deepEqual(again.plan(), init.plan);
  t.is(Buffer.from(await again.planJsonBytes()).toString('utf8'), planJson);
  await again.close();
});

test('without them (older callers, the simulator) the metadata has no seal and the plan is stored as JSON.stringify writes it', async (t) => {
  const dir = join(tempRoot(t), 'c1');
  const init = sampleInit();
  const store = await CampaignStore.create(dir, init);
  t.is(store.meta().planSeal, undefined);
  t.is(Buffer.from(await store.planJsonBytes()).toString('utf8'), JSON.stringify(init.plan));
  await store.close();
});
