// Fault matrix 11: secrets never leak. Canaries are planted in every secret hvroll takes — the SSH key's
// passphrase (HVROLL_SSH_PASSPHRASE), the private key itself, and a chat webhook URL whose path is the token
// (given as env:NAME) — then `hvroll run` (a real process) drives a campaign that fails (a migration that
// keeps failing, so error paths log and chat gets the failure), and afterwards status, audit and report run
// on it. Every log line, every file of the store, the HTML report, every CLI output and every webhook
// payload is searched for the canaries: zero hits. (hvroll takes no passwords: SSH is public-key only.)
import test from 'ava';
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { generateKeyPair } from '../helpers/ssh-keys.ts';
import { cli, startCliRig, type CliRig } from '../engine/cli-rig.ts';
import { startWebhookServer, type WebhookServer } from '../notify/webhook-server.ts';

const PASSPHRASE = 'CANARY-passphrase-7f3a9c';
const TOKEN = 'CANARY-token-b81d44';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

let rig: CliRig;
let hook: WebhookServer;
test.before(async () => {
  const clientKey = generateKeyPair('ed25519', { passphrase: PASSPHRASE, cipher: 'aes256-ctr', rounds: 4 });
  rig = await startCliRig(3, 2, { clientKey, retryDelays: { migrate: 0.2 } });
  hook = await startWebhookServer();
});
test.after.always(async () => {
  await hook?.close();
  await rig?.stop();
});

test('no canary secret in any log line, store file, report, CLI output or chat payload of a failing campaign', async (t) => {
  const keyBody = readFileSync(join(rig.dir, 'id'), 'utf8').split('\n').filter((l) => l && !l.startsWith('-----'))[1]!;
  t.true(ssh2.utils.parseKey(readFileSync(join(rig.dir, 'id'))) instanceof Error, 'the key on disk is encrypted: useless without the passphrase');
  const state = join(rig.dir, 'state');
  const logFile = join(rig.dir, 'run.log');
  const notify = join(rig.dir, 'notify.yaml');
  writeFileSync(notify, 'notifications:\n  - { name: ops-hook, type: webhook, url: env:HVROLL_TEST_HOOK, events: ["*"] }\n  - { name: ops-slack, type: slack, url: env:HVROLL_TEST_SLACK, events: ["*"] }\n');
  chmodSync(join(rig.dir, 'id'), 0o600);
  const env = { HVROLL_SSH_PASSPHRASE: PASSPHRASE, HVROLL_TEST_HOOK: hook.url(`/hook/${TOKEN}`), HVROLL_TEST_SLACK: hook.url(`/services/T0/B0/${TOKEN}`) };
  rig.reset();
  rig.fleet.model.failNextMigrations(20);
  const run = await cli(['run', '--plan', rig.plan, '--set', 'version=2.0', '--state', state, '--campaign', 'c1', '--log-file', logFile, '--notify', notify, ...rig.sshFlags], env);
  t.not(run.code, 0, 'the campaign failed, as arranged');
  const outputs = [run.stdout, run.stderr];
  for (const args of [['status', 'c1', '--json'], ['status', 'c1'], ['audit', 'c1', '--json'], ['report', 'c1', '--out', join(rig.dir, 'report.html')]]) {
    const r = await cli([...args, '--state', state], env);
    t.is(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    outputs.push(r.stdout, r.stderr);
  }
  const log = readFileSync(logFile, 'utf8');
  const lines = log.split('\n').filter(Boolean);
  t.true(lines.some((l) => l.includes('"step.failed"')), 'the failure was logged (error path)');
  t.true(hook.received.some((r) => r.raw.includes('step.failed') || r.raw.includes('failed')), 'chat heard about the failure');
  const haystacks: [string, string][] = [
    ...lines.map((l, i) => [`log line ${i + 1}`, l] as [string, string]),
    ...filesUnder(join(state, 'c1')).map((f) => [f, readFileSync(f, 'latin1')] as [string, string]),
    ['report.html', readFileSync(join(rig.dir, 'report.html'), 'utf8')],
    ...outputs.map((o, i) => [`cli output ${i}`, o] as [string, string]),
    ...hook.received.map((r, i) => [`webhook payload ${i} (${r.path.replace(TOKEN, '<token>')})`, r.raw] as [string, string]),
  ];
  t.true(haystacks.length > 20, `${haystacks.length} places searched`);
  const hits = haystacks.filter(([, text]) => [PASSPHRASE, TOKEN, keyBody].some((c) => text.includes(c))).map(([where]) => where);
  t.deepEqual(hits, [], 'canaries found');
  t.true(hook.received.length >= 4, `${hook.received.length} payloads`);
  // The canaries were live: the token is the path every payload went to, the passphrase opened the key.
  t.true(hook.received.every((r) => r.path.includes(TOKEN)));
  t.true(rig.fleet.allReceived().length > 20, 'hosts were reached with the decrypted key');
  t.log(`${haystacks.length} places searched (${lines.length} log lines, ${hook.received.length} webhook payloads): 0 canaries`);
});
