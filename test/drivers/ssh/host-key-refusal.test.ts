import { writeFile } from 'node:fs/promises';
import test from 'ava';
import { fingerprintSha256 } from '../../../src/drivers/ssh/known-hosts.ts';
import { SshExecutor } from '../../../src/drivers/ssh/ssh-executor.ts';
import { generateKeyPair } from '../../helpers/ssh-keys.ts';
import { HvrollError } from '../../../src/model/errors.ts';
import { rig } from './fixture.ts';

const TRUE = { argv: ['true'], timeoutMs: 2000 };

test('an unknown host key is refused before authentication, with the fingerprint and the ssh-keyscan fix', async (t) => {
  const { fleet, exec, knownHostsPath } = await rig(t, { hosts: ['hv1'] }, { knownHosts: 'none' });
  const err = await t.throwsAsync(exec.run(fleet.hostRef('hv1'), TRUE), { instanceOf: HvrollError });
  const h = fleet.host('hv1');
  t.is(err?.kind, 'remote');
  t.false(err?.retryable);
  t.like(err?.details, { host: 'hv1', reason: 'host-key-unknown' });
  const fp = fingerprintSha256(Buffer.from(h.publicKeyLine.split(' ')[1] as string, 'base64'));
  t.true(err?.message.includes(fp), err?.message);
  t.true(err?.message.includes(`ssh-keyscan -p ${h.port} '127.0.0.1' >> '${knownHostsPath}'`), err?.message);
  t.is(h.stats.authAttempts, 0, 'no authentication may happen with an unverified host');
  t.is(h.stats.execs, 0);
});

test('a changed host key (host reinstalled) is refused before authentication, with the ssh-keygen -R fix', async (t) => {
  const { fleet, exec, knownHostsPath } = await rig(t, { hosts: ['hv1'] });
  await exec.run(fleet.hostRef('hv1'), TRUE);
  const h = fleet.host('hv1');
  await h.rotateKey();
  const authBefore = h.stats.authAttempts;
  const err = await t.throwsAsync(exec.run(fleet.hostRef('hv1'), TRUE), { instanceOf: HvrollError });
  t.like(err?.details, { reason: 'host-key-changed' });
  t.regex(err?.message ?? '', /CHANGED/);
  t.true(err?.message.includes(`ssh-keygen -R '[127.0.0.1]:${h.port}' -f '${knownHostsPath}'`), err?.message);
  t.is(h.stats.authAttempts, authBefore, 'no authentication after the key changed');
});

test('a revoked host key is refused', async (t) => {
  const { fleet, exec, knownHostsPath } = await rig(t, { hosts: ['hv1'] });
  const h = fleet.host('hv1');
  await writeFile(knownHostsPath, `${fleet.knownHostsText()}@revoked [127.0.0.1]:${h.port} ${h.publicKeyLine}\n`);
  const err = await t.throwsAsync(exec.run(fleet.hostRef('hv1'), TRUE), { instanceOf: HvrollError });
  t.like(err?.details, { reason: 'host-key-revoked' });
  t.is(h.stats.authAttempts, 0);
});

test('hashed known_hosts entries verify like plain ones', async (t) => {
  const { fleet, exec } = await rig(t, { hosts: ['hv1', 'hv2'] }, { knownHosts: 'hashed' });
  t.is((await exec.run(fleet.hostRef('hv1'), TRUE)).exitCode, 0);
  t.is((await exec.run(fleet.hostRef('hv2'), TRUE)).exitCode, 0);
});

test('a key the host does not accept fails as auth, not retryable, and names the user', async (t) => {
  const { fleet, exec } = await rig(t, { hosts: ['hv1'], users: ['someone-else'] });
  const err = await t.throwsAsync(exec.run(fleet.hostRef('hv1', 'hvroll'), TRUE), { instanceOf: HvrollError });
  t.like(err?.details, { reason: 'auth' });
  t.false(err?.retryable);
  t.regex(err?.message ?? '', /hvroll@127\.0\.0\.1/);
});

test('secrets never reach errors or logs: a wrong passphrase is reported without it', async (t) => {
  const enc = generateKeyPair('ed25519', { passphrase: 'hunter2-secret', cipher: 'aes256-ctr', rounds: 4 });
  const err = t.throws(() => new SshExecutor({ knownHostsPath: '/nonexistent', privateKey: enc.private, passphrase: 'wrong-passphrase-xyz', connectTimeoutMs: 1000, defaultUser: 'x' }));
  t.false(err?.message.includes('wrong-passphrase-xyz'));
  t.false(err?.message.includes('hunter2'));
  t.regex(err?.message ?? '', /passphrase/);
});

test('an encrypted key works with its passphrase, and neither key nor passphrase shows up in logs or errors', async (t) => {
  const passphrase = 'correct-horse-battery-staple';
  const clientKey = generateKeyPair('ed25519', { passphrase, cipher: 'aes256-ctr', rounds: 4 });
  const { fleet, exec, logs } = await rig(t, { hosts: ['hv1', 'hv2'], clientKey }, { executor: { privateKey: clientKey.private, passphrase } });
  t.is((await exec.run(fleet.hostRef('hv1'), { argv: ['true'], timeoutMs: 2000 })).exitCode, 0);
  fleet.hangNext('hv1');
  const timeout = await t.throwsAsync(exec.run(fleet.hostRef('hv1'), { argv: ['x'], timeoutMs: 100 }), { instanceOf: HvrollError });
  const auth = await t.throwsAsync(exec.run(fleet.hostRef('hv2', 'nobody'), TRUE), { instanceOf: HvrollError });
  const everything = JSON.stringify({ logs, errors: [timeout?.toRecord(), auth?.toRecord(), timeout?.message, auth?.message] });
  const keyBody = clientKey.private.split('\n')[1] as string;
  t.true(logs.length > 0);
  t.false(everything.includes(keyBody));
  t.false(everything.includes(passphrase));
});
