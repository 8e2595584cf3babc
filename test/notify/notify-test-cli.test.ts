// `hvroll notify test` as an operator runs it before a campaign: one sample of every message kind reaches
// every configured target (Slack, Teams, generic webhook) in its own format, marked as a test; a target that
// fails is named with what came back, and the exit code says something was not delivered.

import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NOTICE_KINDS } from '../../src/model/notice-kinds.ts';
import { startWebhookServer } from './webhook-server.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

function hvroll(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: root, env: { ...process.env, HVROLL_DEBUG: '', ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

test('every sample reaches Slack, Teams and a generic webhook, marked [test]; a failing target is named and the exit is 6', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hvroll-notify-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const srv = await startWebhookServer();
  t.teardown(() => srv.close());
  const file = join(dir, 'notify.yaml');
  await writeFile(
    file,
    `notifications:\n  - { name: ops-slack, type: slack, url: "${srv.url('/slack')}" }\n  - { name: ops-teams, type: teams, url: "${srv.url('/teams')}" }\n  - { name: ops-hook, type: webhook, url: env:HVROLL_TEST_HOOK }\n`,
  );
  const ok = await hvroll(['notify', 'test', '--notify', file], { HVROLL_TEST_HOOK: srv.url('/hook') });
  t.is(ok.code, 0, ok.stderr);
  const kinds = NOTICE_KINDS.length;
  t.regex(ok.stdout, new RegExp(`ops-slack \\(slack, url from inline\\): ${kinds}/${kinds} sent`));
  t.regex(ok.stdout, new RegExp(`ops-teams \\(teams, url from inline\\): ${kinds}/${kinds} sent`));
  t.regex(ok.stdout, new RegExp(`ops-hook \\(webhook, url from env:HVROLL_TEST_HOOK\\): ${kinds}/${kinds} sent`));
  const at = (p: string) => srv.received.filter((r) => r.path === p);
  const generic = at('/hook').map((r) => r.body as { event: string; headline: string });
  t.deepEqual([...new Set(generic.map((g) => g.event))].sort(), [...NOTICE_KINDS].sort(), 'one sample of every kind');
  t.true(generic.every((g) => g.headline.startsWith('[test] ')));
  t.true(at('/slack').every((r) => /^:[a-z_]+: \[test\] /.test((r.body as { text: string }).text)));
  t.true(at('/teams').every((r) => JSON.stringify(r.body).includes('AdaptiveCard') && JSON.stringify(r.body).includes('[test] ')));
  t.false(ok.stdout.includes(srv.url('')) || ok.stderr.includes(srv.url('')), 'the URL is never printed');

  srv.always({ status: 404 });
  const bad = await hvroll(['notify', 'test', '--notify', file, '--timeout', '5'], { HVROLL_TEST_HOOK: srv.url('/hook') });
  t.is(bad.code, 6);
  t.regex(bad.stdout, new RegExp(`ops-slack \\(slack, url from inline\\): 0/${kinds} sent\\n {2}campaign\\.started: HTTP 404`));
  t.regex(bad.stderr, /test message\(s\) were not delivered; check the target's URL \(hvroll never prints it\)/);
});
