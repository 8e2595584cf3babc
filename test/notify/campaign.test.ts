// The notifier on a real campaign (in-process SSH hosts): a hanging endpoint does not slow the campaign,
// a failure reaches chat with its host, step, exit code and output, and the webhook URL (a secret) appears
// nowhere: not in logs, the store, nor any message.
import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runCampaign } from '../../src/engine/campaign-runner.ts';
import type { WebhookPayload } from '../../src/notify/format-webhook.ts';
import { startRig } from '../engine/campaign-fixture.ts';
import { capturingLogger, notifier, target } from './helpers.ts';
import { startWebhookServer } from './webhook-server.ts';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

async function timedCampaign(withHangingEndpoint: boolean): Promise<{ ms: number; closeMs: number; listenerMs: number }> {
  const rig = await startRig({ hosts: 4, vmsPerHost: 2 });
  const srv = await startWebhookServer();
  srv.always('hang');
  try {
    const { n } = notifier(
      withHangingEndpoint ? [target('slack', 'slack', srv.url('/s')), target('teams', 'teams', srv.url('/t')), target('generic', 'webhook', srv.url('/g'))] : [],
      { windowMs: 10, retry: { timeoutMs: 30_000, maxAttempts: 5 } },
    );
    let listenerMs = 0;
    const t0 = Date.now();
    const outcome = await runCampaign(rig.deps, {
      controlPollMs: 50,
      listener: (e) => {
        const s = performance.now();
        n.listener(e);
        listenerMs += performance.now() - s;
      },
    });
    const ms = Date.now() - t0;
    if (outcome.state !== 'done') throw new Error(`campaign ended ${outcome.state}`);
    const c0 = Date.now();
    await n.close(300);
    return { ms, closeMs: Date.now() - c0, listenerMs };
  } finally {
    await srv.close();
    await rig.close();
  }
}

test.serial("a hanging endpoint does not slow the campaign: same wall time as without notifications", async (t) => {
  await timedCampaign(false); // warm-up: module loading, first SSH handshakes
  const base: number[] = [];
  const hung: number[] = [];
  for (let i = 0; i < 2; i++) {
    base.push((await timedCampaign(false)).ms);
    const h = await timedCampaign(true);
    hung.push(h.ms);
    t.true(h.closeMs < 1500, `close() bounded: ${h.closeMs} ms`);
    t.true(h.listenerMs < 50, `listener time over the whole campaign: ${h.listenerMs.toFixed(1)} ms`);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const b = Math.min(...base);
  const h = Math.min(...hung);
  t.log(`campaign wall time: without notifier ${base.join('/')} ms, with 3 hanging endpoints ${hung.join('/')} ms (median ${median(base)} vs ${median(hung)})`);
  t.true(h <= b * 1.25 + 250, `with a hanging endpoint ${h} ms vs ${b} ms without`);
});

test.serial('a failed migration reaches chat with host, step, exit code and output; the URL is a secret kept everywhere', async (t) => {
  const CANARY = 'CANARY-T0K3N-5e1f';
  const rig = await startRig({ hosts: 2, vmsPerHost: 1, retries: { migrate: 0 } });
  t.teardown(() => rig.close());
  const srv = await startWebhookServer();
  t.teardown(() => srv.close());
  srv.script([{ status: 500 }, 'close', { status: 429, headers: { 'retry-after': '0' } }]);
  const logs = capturingLogger();
  rig.deps = { ...rig.deps, log: logs.log };
  rig.fleet.model.failNextMigrations(10);
  const { n, records, logs: nlogs } = notifier(
    [target('ops-slack', 'slack', srv.url(`/services/${CANARY}`)), target('ops-hook', 'webhook', srv.url(`/hook/${CANARY}`))],
    { record: (r) => rig.deps.store.recordNotification(r).then(() => void records.push(r)), log: logs.log },
  );
  const outcome = await runCampaign(rig.deps, { controlPollMs: 50, listener: n.listener });
  t.is(outcome.state, 'stopped');
  await n.close(3000);

  const generic = srv.received.filter((r) => r.path.startsWith('/hook/')).map((r) => r.body as WebhookPayload);
  const failed = generic.find((p) => p.event === 'step.failed');
  t.truthy(failed, `events: ${generic.map((p) => p.event).join(', ')}`);
  t.like(failed, { group: 'hv-1', host: 'hv-1', step: 'migrate' });
  t.is(failed!.fields['Exit code'], '1');
  t.truthy(failed!.output, 'output tail');
  t.true(generic.some((p) => p.event === 'budget.reached'));
  const finished = generic.find((p) => p.event === 'campaign.finished')!;
  t.regex(finished.fields.Groups!, /1 failed/);
  t.true(records.every((r) => r.status === 'sent'), JSON.stringify(records));

  // The canary: nowhere in logs, the store's files, the store's notification records, or any message body.
  const haystacks = [
    logs.text(),
    nlogs.text(),
    ...filesUnder(rig.dir).map((f) => readFileSync(f, 'utf8')),
    JSON.stringify(rig.deps.store.notifications()),
    ...srv.received.map((r) => r.raw),
  ];
  t.true(rig.deps.store.notifications().length >= 4);
  t.is(haystacks.filter((h) => h.includes(CANARY)).length, 0);
  t.is(haystacks.filter((h) => h.includes('/services/') || h.includes('/hook/')).length, 0);
});
