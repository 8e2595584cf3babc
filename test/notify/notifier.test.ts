// The notifier against a real HTTP server on 127.0.0.1: payload shapes, coalescing, retries that honour
// Retry-After and back off, endpoints that hang or drop the connection, filters and the close deadline.
import test from 'ava';
import { webhookPayload, type WebhookPayload } from '../../src/notify/format-webhook.ts';
import { groupDone, notifier, stepFailed, target, until } from './helpers.ts';
import { startWebhookServer } from './webhook-server.ts';

test('one step failure reaches Slack, Teams and a generic webhook, each in its own format', async (t) => {
  const srv = await startWebhookServer();
  t.teardown(() => srv.close());
  const { n, records } = notifier([target('slack', 'slack', srv.url('/slack')), target('teams', 'teams', srv.url('/teams')), target('generic', 'webhook', srv.url('/generic'))]);
  n.listener(stepFailed);
  await n.close();
  t.is(srv.received.length, 3);
  const by = (p: string) => srv.received.find((r) => r.path === p)!.body as Record<string, unknown>;

  const slack = by('/slack') as { text: string; attachments: { color: string; fields: { title: string; value: string }[]; text: string }[] };
  t.regex(slack.text, /^:x: Step migrate failed on hv-03 \(exit 1\)$/);
  t.is(slack.attachments[0]!.color, '#e01e5a');
  t.deepEqual(
    slack.attachments[0]!.fields.map((f) => f.title),
    ['Campaign', 'Group', 'Host', 'Step', 'Exit code'],
  );
  t.regex(slack.attachments[0]!.text, /```\nline 1\nline 2\nerror: migration of db-7 failed/);

  const teams = by('/teams') as { type: string; attachments: { contentType: string; content: { type: string; body: { type: string; text?: string; facts?: unknown[] }[] } }[] };
  t.is(teams.type, 'message');
  t.is(teams.attachments[0]!.contentType, 'application/vnd.microsoft.card.adaptive');
  const card = teams.attachments[0]!.content;
  t.is(card.type, 'AdaptiveCard');
  t.is(card.body[0]!.text, 'Step migrate failed on hv-03 (exit 1)');
  t.is(card.body[1]!.type, 'FactSet');
  t.true(card.body.some((b) => b.text?.includes('cannot reach target')));

  const generic = by('/generic') as unknown as WebhookPayload;
  t.like(generic, { event: 'step.failed', severity: 'error', campaign: 'c1', group: 'r1/2', host: 'hv-03', step: 'migrate', count: 1 });
  t.regex(generic.error!, /virsh migrate/);
  t.is(generic.fields['Exit code'], '1');
  t.deepEqual(Object.keys(generic).sort(), Object.keys(webhookPayload({ ...generic, kind: 'step.failed', fields: [], items: [] } as never)).sort());

  t.deepEqual(records.map((r) => `${r.channel} ${r.event} ${r.status} ${r.attempts}`).sort(), ['generic step.failed sent 1', 'slack step.failed sent 1', 'teams step.failed sent 1']);
});

test('a wave of 50 groups finishing is one message, not 50', async (t) => {
  const srv = await startWebhookServer();
  t.teardown(() => srv.close());
  const { n, records } = notifier([target('generic', 'webhook', srv.url())], { windowMs: 200 });
  n.listener({ type: 'wave.started', wave: 2, groups: Array.from({ length: 50 }, (_, i) => `g-${i}`) });
  for (let i = 0; i < 50; i++) n.listener(groupDone(i));
  await until(() => srv.received.length >= 2);
  await n.close();
  t.is(srv.received.length, 2, 'the wave start, then one message for the 50 groups');
  const done = srv.received[1]!.body as WebhookPayload;
  t.is(done.event, 'group.done');
  t.is(done.count, 50);
  t.is(done.headline, '50 groups finished (5 not done)');
  t.is(done.severity, 'error', 'a merged message takes the worst severity');
  t.is(done.items.length, 21, '20 listed, the rest counted');
  t.is(done.items.at(-1), '… and 30 more');
  t.is(records.find((r) => r.event === 'group.done')!.detail, '50 events coalesced; HTTP 200');
});

test('HTTP 429 with Retry-After is honoured: the retry waits as long as asked', async (t) => {
  const srv = await startWebhookServer();
  t.teardown(() => srv.close());
  srv.script([{ status: 429, headers: { 'retry-after': '1' } }]);
  const { n, records } = notifier([target('slack', 'slack', srv.url())]);
  n.listener(stepFailed);
  await until(() => records.length === 1);
  await n.close();
  t.is(srv.received.length, 2);
  const gap = srv.received[1]!.at - srv.received[0]!.at;
  t.true(gap >= 950, `waited ${gap} ms`);
  t.true(gap < 1500, `not much longer than asked: ${gap} ms`);
  t.like(records[0], { status: 'sent', attempts: 2 });
  t.regex(records[0]!.detail!, /^HTTP 429 \(retry in 1s, Retry-After\) → HTTP 200$/);
});

test('HTTP 500 is retried with a growing backoff; a 4xx other than 408/429 is not retried', async (t) => {
  const srv = await startWebhookServer();
  t.teardown(() => srv.close());
  srv.script([{ status: 500 }, { status: 502 }, { status: 503 }], '/a');
  srv.script([{ status: 404 }], '/b');
  const { n, records } = notifier([target('a', 'webhook', srv.url('/a')), target('b', 'webhook', srv.url('/b'))], { retry: { backoffMs: 100, maxBackoffMs: 5000, maxAttempts: 5, timeoutMs: 500 } });
  n.listener(stepFailed);
  await until(() => records.length === 2);
  await n.close();
  const a = srv.received.filter((r) => r.path === '/a').map((r) => r.at);
  t.is(a.length, 4);
  const gaps = a.slice(1).map((x, i) => x - a[i]!);
  // Backoff 100·2^k ms with jitter in [50 %, 100 %]: ≥ 50, ≥ 100, ≥ 200.
  t.true(gaps[0]! >= 45 && gaps[1]! >= 95 && gaps[2]! >= 195, `gaps ${gaps.join(', ')}`);
  t.like(records.find((r) => r.channel === 'a'), { status: 'sent', attempts: 4 });
  t.like(records.find((r) => r.channel === 'b'), { status: 'failed', attempts: 1, detail: 'HTTP 404' });
});

test('an endpoint that hangs, or closes the socket, is retried after the timeout and the message still goes out', async (t) => {
  const srv = await startWebhookServer();
  t.teardown(() => srv.close());
  srv.script(['hang', 'close'], '/x');
  const { n, records } = notifier([target('x', 'webhook', srv.url('/x'))], { retry: { timeoutMs: 300, backoffMs: 20, maxAttempts: 4 } });
  n.listener(stepFailed);
  await until(() => records.length === 1);
  await n.close();
  t.is(srv.received.length, 3);
  t.like(records[0], { status: 'sent', attempts: 3 });
  t.regex(records[0]!.detail!, /^no answer in 0\.3s \(retry in \d+ms\) → connection error \w+ \(retry in \d+ms\) → HTTP 200$/);
});

test('filters: each target gets only the kinds and severities it asked for', async (t) => {
  const srv = await startWebhookServer();
  t.teardown(() => srv.close());
  const { n } = notifier([
    target('errors', 'webhook', srv.url('/errors'), { minSeverity: 'error' }),
    target('groups', 'webhook', srv.url('/groups'), { events: ['group.*'] }),
    target('approvals', 'webhook', srv.url('/approvals'), { events: ['approval.needed'] }),
  ]);
  n.listener({ type: 'campaign.started', campaignId: 'c1', resumed: false, waves: 1, groups: 2 });
  n.listener({ type: 'group.started', group: 'g1', className: 'standard', hosts: ['hv-1'] });
  n.listener({ type: 'group.awaiting-approval', group: 'db/1', className: 'critical' });
  n.listener(stepFailed);
  n.listener({ type: 'group.state', group: 'g1', state: 'draining', hosts: ['hv-1'] });
  await n.close();
  const kinds = (p: string) => srv.received.filter((r) => r.path === p).map((r) => (r.body as WebhookPayload).event);
  t.deepEqual(kinds('/errors'), ['step.failed']);
  t.deepEqual(kinds('/groups'), ['group.started']);
  t.deepEqual(kinds('/approvals'), ['approval.needed']);
  const approval = srv.received.find((r) => r.path === '/approvals')!.body as WebhookPayload;
  t.is(approval.command, 'hvroll approve c1 db/1');
  t.is(approval.fields.Why, 'class critical requires an approval before its hosts are drained');
});

test('a dead endpoint costs close() at most its deadline; what was not sent is recorded as failed', async (t) => {
  const srv = await startWebhookServer();
  t.teardown(() => srv.close());
  srv.always('hang');
  const { n, records } = notifier([target('dead', 'slack', srv.url())], { retry: { timeoutMs: 10_000, maxAttempts: 5 } });
  const t0 = Date.now();
  n.listener(stepFailed);
  n.listener({ type: 'budget.reached', failed: 1, budget: 0 });
  t.true(Date.now() - t0 < 20, 'the listener returns at once');
  const stats = await n.close(500);
  const took = Date.now() - t0;
  t.true(took < 2000, `close took ${took} ms`);
  t.is(stats.sent, 0);
  t.is(records.length, 2);
  t.true(records.every((r) => r.status === 'failed'));
});

test('the queue is bounded: a flood against a slow endpoint drops the least severe notices and says so', async (t) => {
  const srv = await startWebhookServer();
  t.teardown(() => srv.close());
  srv.always('hang');
  const { n, records } = notifier([target('slow', 'webhook', srv.url())], { maxQueue: 5, windowMs: 5 });
  for (let i = 0; i < 40; i++) {
    n.listener({ type: 'wave.started', wave: i, groups: [`g-${i}`] });
    n.listener(stepFailed);
    await new Promise((r) => setTimeout(r, 8));
  }
  t.true(n.stats.dropped > 0);
  await n.close(300);
  t.true(records.some((r) => r.event === 'dropped' && /dropped: queue full/.test(r.detail ?? '')));
});
