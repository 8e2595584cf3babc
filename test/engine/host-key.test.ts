// Fault matrix 9: an unknown or changed host key during a campaign. The server side proves that no
// authentication was attempted and no command ran; the refusal is in the audit trail with the offered
// fingerprint and the fix; and over a whole campaign no host was ever asked for agent forwarding, a PTY,
// X11, environment variables or a shell.
import test from 'ava';
import { dirname, join } from 'node:path';
import ssh2 from 'ssh2';
import { runCampaign } from '../../src/engine/campaign-runner.ts';
import { startRig } from './campaign-fixture.ts';

interface KeyAudit {
  action: string;
  details: { host: string; reason: string; fingerprint: string | null; message: string };
}

async function keyAudits(rig: Awaited<ReturnType<typeof startRig>>): Promise<KeyAudit[]> {
  return ((await Promise.resolve(rig.deps.store.audit())) as KeyAudit[]).filter((a) => a.action === 'host-key-refused');
}

test('a changed host key: no authentication, no command, one audit event with the fingerprint and the ssh-keygen -R fix', async (t) => {
  const rig = await startRig({ hosts: 2, vmsPerHost: 1 });
  t.teardown(() => rig.close());
  const h = rig.fleet.host('hv-2');
  await h.rotateKey();
  const outcome = await runCampaign(rig.deps, { controlPollMs: 50 });
  t.not(outcome.state, 'done');
  t.is(h.stats.authAttempts, 0, 'the server saw no authentication request');
  t.is(h.stats.execs, 0);
  const audits = await keyAudits(rig);
  t.is(audits.length, 1, 'one audit event for the host, however many steps met the refusal');
  t.is(audits[0]!.details.host, 'hv-2');
  t.is(audits[0]!.details.reason, 'host-key-changed');
  t.regex(audits[0]!.details.fingerprint ?? '', /^SHA256:/);
  t.true(audits[0]!.details.message.includes(`ssh-keygen -R '[${h.address}]:${h.port}' -f '${join(dirname(rig.dir), 'known_hosts')}'`), audits[0]!.details.message);
});

test('an unknown host key: no authentication, no command, audited with the ssh-keyscan fix', async (t) => {
  const rig = await startRig({ hosts: 2, vmsPerHost: 1 });
  t.teardown(() => rig.close());
  await rig.fleet.writeKnownHosts(join(dirname(rig.dir), 'known_hosts'), { hosts: ['hv-1'] });
  const outcome = await runCampaign(rig.deps, { controlPollMs: 50 });
  t.not(outcome.state, 'done');
  const h = rig.fleet.host('hv-2');
  t.is(h.stats.authAttempts, 0);
  t.is(h.stats.execs, 0);
  const audits = await keyAudits(rig);
  t.is(audits.length, 1);
  t.is(audits[0]!.details.reason, 'host-key-unknown');
  t.regex(audits[0]!.details.message, /ssh-keyscan -p \d+ /);
});

test('a whole campaign never asks any host for agent forwarding, a PTY, X11, env or a shell', async (t) => {
  const rig = await startRig({ hosts: 3, vmsPerHost: 2 });
  t.teardown(() => rig.close());
  const outcome = await runCampaign(rig.deps, { controlPollMs: 50 });
  t.is(outcome.state, 'done');
  let execs = 0;
  for (const h of rig.fleet.hosts.values()) {
    t.is(h.stats.forbiddenRequests, 0, `${h.name}`);
    execs += h.stats.execs;
  }
  t.true(execs > 50, `${execs} commands ran`);
  t.is((await keyAudits(rig)).length, 0);
});

test('the test hosts do notice such requests (so the zero above means something)', async (t) => {
  const rig = await startRig({ hosts: 2, vmsPerHost: 1 });
  t.teardown(() => rig.close());
  const h = rig.fleet.host('hv-1');
  const client = new ssh2.Client();
  await new Promise<void>((resolve, reject) => {
    client.on('ready', () => resolve()).on('error', reject);
    client.connect({ host: h.address, port: h.port, username: 'hvroll', privateKey: rig.fleet.clientKey.private, hostVerifier: () => true });
  });
  t.teardown(() => client.end());
  await new Promise<void>((resolve) => {
    client.exec('true', { pty: true, env: { LC_SECRET: 'x' } }, (err, stream) => {
      if (err) return resolve();
      stream.on('close', () => resolve()).resume();
      stream.stderr.resume();
    });
  });
  t.true(h.stats.forbiddenRequests >= 2, `${h.stats.forbiddenRequests}`);
});
