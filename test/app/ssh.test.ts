// The one SSH executor builder: every command that reaches hosts builds it the same way — a passphrase-
// protected key opened with HVROLL_SSH_PASSPHRASE (discover ignored it), and the process's logger handed to
// the driver, so its connects and drops reach the logs (run, resume and discover logged nothing of SSH).
import test from 'ava';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { buildSshExecutor } from '../../src/app/ssh.ts';
import { HvrollError } from '../../src/model/errors.ts';
import { cli, startCliRig, type CliRig } from '../engine/cli-rig.ts';
import { generateKeyPair } from '../helpers/ssh-keys.ts';

const PASSPHRASE = 'open sesame 42';

let rig: CliRig;
test.before(async () => {
  rig = await startCliRig(3, 1, { clientKey: generateKeyPair('ed25519', { passphrase: PASSPHRASE, cipher: 'aes256-ctr', rounds: 4 }) });
  chmodSync(join(rig.dir, 'id'), 0o600);
});
test.after.always(() => rig?.stop());

const settings = () => ({ knownHosts: join(rig.dir, 'known_hosts'), identity: join(rig.dir, 'id'), user: 'hvroll' });

function capture(): { log: pino.Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const stream = new Writable({ write: (chunk, _enc, done) => void (out.push(String(chunk)), done()) });
  return { log: pino({ level: 'debug' }, stream), lines: () => out.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test.serial('an encrypted key opens with HVROLL_SSH_PASSPHRASE; the driver logs through the logger it is given', async (t) => {
  const { log, lines } = capture();
  const executor = buildSshExecutor(settings(), { env: { HVROLL_SSH_PASSPHRASE: PASSPHRASE }, log });
  const h = rig.fleet.host('hv-1');
  const r = await executor.run({ name: 'hv-1', address: h.address, port: h.port }, { argv: ['virsh', 'list', '--name'], timeoutMs: 10_000 });
  t.is(r.exitCode, 0);
  await executor.close();
  const ssh = lines().filter((l) => l.component === 'ssh');
  t.true(ssh.some((l) => l.msg === 'ssh connected' && l.host === 'hv-1'), JSON.stringify(lines()));
  t.true(ssh.some((l) => l.msg === 'ssh connection closed' && l.host === 'hv-1'));
  t.false(JSON.stringify(lines()).includes(PASSPHRASE), 'never the passphrase');
});

test.serial('without the passphrase, or without known_hosts, nothing is built: a usage error that says why', (t) => {
  const { log } = capture();
  const locked = t.throws(() => buildSshExecutor(settings(), { env: {}, log }));
  t.true(locked instanceof HvrollError && locked.kind === 'usage');
  t.regex(locked!.message, /encrypted and no passphrase was given/);
  const noKnownHosts = t.throws(() => buildSshExecutor({ ...settings(), knownHosts: join(rig.dir, 'nope') }, { env: {}, log }));
  t.regex(noKnownHosts!.message, /known_hosts file .*nope does not exist/);
});

test.serial('hvroll discover opens an encrypted key with HVROLL_SSH_PASSPHRASE, and --log-file gets the SSH connections', async (t) => {
  rig.reset();
  const logFile = join(rig.dir, 'discover.log');
  writeFileSync(logFile, '');
  const r = await cli(['discover', join(rig.dir, 'inventory.yaml'), '--runbook', 'runbooks/libvirt.yaml', '--known-hosts', join(rig.dir, 'known_hosts'), '--identity', join(rig.dir, 'id'), '--log-file', logFile], { HVROLL_SSH_PASSPHRASE: PASSPHRASE });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /2 VMs on 3\/3 hosts read/);
  const log = readFileSync(logFile, 'utf8');
  t.regex(log, /"component":"ssh".*"msg":"ssh connection closed"/);
  t.false(log.includes(PASSPHRASE));
});

test.serial('hvroll run logs the SSH driver: every host\'s connection is in --log-file', async (t) => {
  rig.reset();
  const logFile = join(rig.dir, 'run.log');
  const r = await cli(['run', '--plan', rig.plan, '--set', 'version=2.0', '--state', join(rig.dir, 'state'), '--campaign', 'c1', '--log-file', logFile, '--known-hosts', join(rig.dir, 'known_hosts'), '--identity', join(rig.dir, 'id'), '--no-progress'], { HVROLL_SSH_PASSPHRASE: PASSPHRASE });
  t.is(r.code, 0, r.stderr);
  const closed = readFileSync(logFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { component?: string; msg?: string; host?: string })
    .filter((l) => l.component === 'ssh' && l.msg === 'ssh connection closed');
  t.deepEqual([...new Set(closed.map((l) => l.host))].sort(), ['hv-1', 'hv-2', 'hv-3']);
});
