import { existsSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { HvrollError } from '../../../src/model/errors.ts';
import { HypervisorModel } from '../../helpers/ssh-hypervisor.ts';
import { rig } from './fixture.ts';

test('a command runs and its exit code, stdout and stderr come back; non-zero exit is a result, not a throw', async (t) => {
  const { fleet, exec } = await rig(t, { hosts: ['hv1'] });
  const ok = await exec.run(fleet.hostRef('hv1'), { argv: ['hvroll-test-exit', '0'], timeoutMs: 2000 });
  t.like(ok, { exitCode: 0, signal: null, stdout: 'out-0\n', stdoutTail: 'out-0\n', stderrTail: 'err-0\n', timedOut: false });
  const bad = await exec.run(fleet.hostRef('hv1'), { argv: ['hvroll-test-exit', '3'], timeoutMs: 2000 });
  t.like(bad, { exitCode: 3, stdout: 'out-3\n', stderrTail: 'err-3\n' });
  const missing = await exec.run(fleet.hostRef('hv1'), { argv: ['no-such-command'], timeoutMs: 2000 });
  t.is(missing.exitCode, 127);
});

test('one connection per host is reused for many commands, including concurrent first commands', async (t) => {
  const { fleet, exec } = await rig(t, { hosts: ['hv1', 'hv2'] });
  await Promise.all(Array.from({ length: 5 }, () => exec.run(fleet.hostRef('hv1'), { argv: ['true'], timeoutMs: 2000 })));
  for (let i = 0; i < 20; i++) await exec.run(fleet.hostRef('hv1'), { argv: ['true'], timeoutMs: 2000 });
  await exec.run(fleet.hostRef('hv2'), { argv: ['true'], timeoutMs: 2000 });
  t.is(fleet.host('hv1').stats.connections, 1);
  t.is(fleet.host('hv1').stats.execs, 25);
  t.is(fleet.host('hv2').stats.connections, 1);
});

test('stdout and stderr are kept as bounded tails, stdout up to its cap and marked truncated', async (t) => {
  const { fleet, exec } = await rig(t, { hosts: ['hv1'] }, { executor: { outputTailBytes: 16, stdoutCapBytes: 100 } });
  const r = await exec.run(fleet.hostRef('hv1'), { argv: ['hvroll-test-output', '5000'], timeoutMs: 2000 });
  const full = Array.from({ length: 5000 }, (_, i) => String(i % 10)).join('');
  t.is(r.stdoutTail, full.slice(-16));
  t.is(r.stderrTail, full.slice(-16));
  t.is(r.stdout, full.slice(0, 100));
  t.true(r.stdoutTruncated);
});

test('stdin is delivered and then closed', async (t) => {
  const { fleet, exec } = await rig(t, { hosts: ['hv1'] });
  const r = await exec.run(fleet.hostRef('hv1'), { argv: ['hvroll-test-cat'], timeoutMs: 2000, stdin: 'line 1\nline 2\n' });
  t.is(r.stdout, 'line 1\nline 2\n');
  // Without stdin the command sees EOF at once instead of waiting for input forever.
  t.is((await exec.run(fleet.hostRef('hv1'), { argv: ['hvroll-test-cat'], timeoutMs: 2000 })).stdout, '');
});

test('a command timeout fires, closes the command on the host, and the connection stays usable', async (t) => {
  const { fleet, exec } = await rig(t, { hosts: ['hv1'] });
  fleet.hangNext('hv1');
  const started = Date.now();
  const err = await t.throwsAsync(exec.run(fleet.hostRef('hv1'), { argv: ['upgrade-packages'], timeoutMs: 200 }), { instanceOf: HvrollError });
  t.true(Date.now() - started < 1500);
  t.like(err?.details, { reason: 'timeout', argv: ['upgrade-packages'], result: { timedOut: true } });
  t.true(err?.retryable);
  t.is(fleet.host('hv1').received.at(-1)?.outcome, 'cancelled', 'the host saw the command stopped');
  const after = await exec.run(fleet.hostRef('hv1'), { argv: ['true'], timeoutMs: 2000 });
  t.is(after.exitCode, 0);
  t.is(fleet.host('hv1').stats.connections, 1, 'the same connection served the next command');
});

test('sleep past the timeout is stopped the same way', async (t) => {
  const { fleet, exec } = await rig(t, { hosts: ['hv1'] });
  const err = await t.throwsAsync(exec.run(fleet.hostRef('hv1'), { argv: ['sleep', '30'], timeoutMs: 150 }), { instanceOf: HvrollError });
  t.like(err?.details, { reason: 'timeout' });
});

test('a wedged host that never confirms the close gets its connection destroyed; the next command reconnects', async (t) => {
  const { fleet, exec } = await rig(t, { hosts: ['hv1'] }, { executor: { closeGraceMs: 200 } });
  fleet.freezeNext('hv1');
  const started = Date.now();
  const err = await t.throwsAsync(exec.run(fleet.hostRef('hv1'), { argv: ['true'], timeoutMs: 200 }), { instanceOf: HvrollError });
  t.like(err?.details, { reason: 'timeout' });
  t.true(Date.now() - started < 2000, 'timeout + grace, never a hung promise');
  t.is((await exec.run(fleet.hostRef('hv1'), { argv: ['true'], timeoutMs: 2000 })).exitCode, 0);
  t.is(fleet.host('hv1').stats.connections, 2);
});

test('an AbortSignal cancels a running command and leaves the connection usable', async (t) => {
  const { fleet, exec } = await rig(t, { hosts: ['hv1'] });
  fleet.hangNext('hv1');
  const ac = new AbortController();
  void fleet.host('hv1').nextCommand().then(() => ac.abort());
  const err = await t.throwsAsync(exec.run(fleet.hostRef('hv1'), { argv: ['virsh', 'list', '--all', '--name'], timeoutMs: 10_000, signal: ac.signal }), { instanceOf: HvrollError });
  t.like(err?.details, { reason: 'aborted' });
  t.false(err?.retryable);
  t.is(fleet.host('hv1').received.at(-1)?.outcome, 'cancelled');
  const pre = await t.throwsAsync(exec.run(fleet.hostRef('hv1'), { argv: ['true'], timeoutMs: 2000, signal: ac.signal }), { instanceOf: HvrollError });
  t.like(pre?.details, { reason: 'aborted' });
  t.is(fleet.host('hv1').stats.execs, 1, 'an already-aborted signal sends nothing');
  t.is((await exec.run(fleet.hostRef('hv1'), { argv: ['true'], timeoutMs: 2000 })).exitCode, 0);
});

test('a connection dropped mid-command fails the command as retryable; the next command reconnects', async (t) => {
  const { fleet, exec } = await rig(t, { hosts: ['hv1'] });
  await exec.run(fleet.hostRef('hv1'), { argv: ['true'], timeoutMs: 2000 });
  fleet.dropNext('hv1');
  const err = await t.throwsAsync(exec.run(fleet.hostRef('hv1'), { argv: ['hvroll-test-version', 'set', '2.0.0'], timeoutMs: 2000 }), { instanceOf: HvrollError });
  t.like(err?.details, { reason: 'disconnected' });
  t.true(err?.retryable);
  t.regex(err?.message ?? '', /may or may not have taken effect/);
  const r = await exec.run(fleet.hostRef('hv1'), { argv: ['hvroll-test-version'], timeoutMs: 2000 });
  t.is(r.stdout, '1.0.0\n');
  t.is(fleet.host('hv1').stats.connections, 2);
});

test('a connection that died while idle is replaced transparently (the command had not started)', async (t) => {
  const { fleet, exec } = await rig(t, { hosts: ['hv1'] });
  await exec.run(fleet.hostRef('hv1'), { argv: ['true'], timeoutMs: 2000 });
  await fleet.host('hv1').stop();
  await fleet.host('hv1').start();
  await new Promise((r) => setTimeout(r, 50)); // let the client see the reset
  t.is((await exec.run(fleet.hostRef('hv1'), { argv: ['true'], timeoutMs: 2000 })).exitCode, 0);
  t.is(fleet.host('hv1').stats.connections, 2);
});

test('a hostile VM name arrives as exactly one argument and nothing is executed', async (t) => {
  const canary = join(tmpdir(), `hvroll-pwned-${process.pid}-${Date.now()}`);
  const evil = `x'; touch ${canary}; '`;
  const model = new HypervisorModel().addHost('hv1').addHost('hv2').addVm({ name: evil, host: 'hv1', vcpus: 2, memoryMiB: 1024 });
  const { fleet, exec } = await rig(t, { hosts: ['hv1', 'hv2'], model });
  const argv = ['virsh', 'migrate', '--live', '--persistent', '--undefinesource', evil, 'qemu+ssh://hv2/system'];
  const r = await exec.run(fleet.hostRef('hv1'), { argv, timeoutMs: 2000 });
  t.is(r.exitCode, 0, r.stderrTail);
  t.deepEqual(fleet.host('hv1').received.at(-1)?.argv, argv);
  t.is(model.vms.get(evil)?.host, 'hv2');
  for (const name of [`$(touch ${canary})`, `\`touch ${canary}\``, '-rf', '--help']) {
    await exec.run(fleet.hostRef('hv2'), { argv: ['virsh', 'domstate', name], timeoutMs: 2000 });
    t.deepEqual(fleet.host('hv2').received.at(-1)?.argv, ['virsh', 'domstate', name]);
  }
  t.false(existsSync(canary));
});

test('the default hypervisor handler lists, describes and migrates VMs; injected migration failures leave the VM in place', async (t) => {
  const model = new HypervisorModel().addHost('hv1').addHost('hv2').addVm({ name: 'web-1', host: 'hv1', vcpus: 4, memoryMiB: 8192 });
  const { fleet, exec } = await rig(t, { hosts: ['hv1', 'hv2'], model });
  const run = (host: string, argv: string[]) => exec.run(fleet.hostRef(host), { argv, timeoutMs: 2000 });
  t.is((await run('hv1', ['virsh', 'list', '--all', '--name'])).stdout, 'web-1\n\n');
  t.regex((await run('hv1', ['virsh', 'dominfo', 'web-1'])).stdout, /CPU\(s\):\s+4\n[^]*Max memory:\s+8388608 KiB/);
  model.failNextMigrations(1);
  const failed = await run('hv1', ['virsh', 'migrate', '--live', '--persistent', '--undefinesource', 'web-1', 'qemu+ssh://hv2/system']);
  t.is(failed.exitCode, 1);
  t.is(model.vms.get('web-1')?.host, 'hv1');
  const moved = await run('hv1', ['virsh', 'migrate', '--live', '--persistent', '--undefinesource', 'web-1', 'qemu+ssh://hv2/system']);
  t.is(moved.exitCode, 0);
  t.deepEqual(model.migrations, [{ vm: 'web-1', from: 'hv1', to: 'hv2' }]);
  t.is((await run('hv2', ['virsh', 'domstate', 'web-1'])).stdout, 'running\n\n');
});

test('connect failures are retryable and bounded by the connect timeout', async (t) => {
  const { fleet, exec } = await rig(t, { hosts: ['hv1'], down: ['hv1'] }, { executor: { connectTimeoutMs: 500 } });
  const err = await t.throwsAsync(exec.run(fleet.hostRef('hv1'), { argv: ['true'], timeoutMs: 2000 }), { instanceOf: HvrollError });
  t.like(err?.details, { reason: 'connect', host: 'hv1' });
  t.true(err?.retryable);
});

test('close() ends every connection and later calls are refused', async (t) => {
  const { fleet, exec } = await rig(t, { hosts: ['hv1', 'hv2'] });
  await exec.run(fleet.hostRef('hv1'), { argv: ['true'], timeoutMs: 2000 });
  await exec.run(fleet.hostRef('hv2'), { argv: ['true'], timeoutMs: 2000 });
  await exec.close();
  const err = await t.throwsAsync(exec.run(fleet.hostRef('hv1'), { argv: ['true'], timeoutMs: 2000 }), { instanceOf: HvrollError });
  t.like(err?.details, { reason: 'closed' });
});

test('keepalives detect a connection that went silent while idle; the next command reconnects', async (t) => {
  const { fleet, exec, logs } = await rig(t, { hosts: ['hv1'] }, { executor: { keepaliveIntervalMs: 50, keepaliveCountMax: 2 } });
  await exec.run(fleet.hostRef('hv1'), { argv: ['true'], timeoutMs: 2000 });
  fleet.host('hv1').freezeConnections();
  const deadline = Date.now() + 3000;
  while (!logs.some((l) => l.msg === 'ssh connection closed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  t.true(logs.some((l) => l.msg === 'ssh connection closed'), 'keepalive should have closed the silent connection');
  t.is((await exec.run(fleet.hostRef('hv1'), { argv: ['true'], timeoutMs: 2000 })).exitCode, 0);
  t.is(fleet.host('hv1').stats.connections, 2);
});

/** A host that accepts TCP connections and never says a word (a hung sshd): every connect times out. */
async function silentHost(t: import('ava').ExecutionContext): Promise<{ port: number; connections: () => number }> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((s) => {
    connections++;
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as net.AddressInfo).port, connections: () => connections };
}

test('commands that share a connect that times out fail with it after that one attempt; the error says the attempts and the time waited', async (t) => {
  const { exec } = await rig(t, { hosts: ['hv1'] }, { executor: { connectTimeoutMs: 300 } });
  const hole = await silentHost(t);
  const ref = { name: 'hung', address: '127.0.0.1', port: hole.port };
  const started = Date.now();
  const calls = [0, 1, 2].map(async () => {
    const err = await t.throwsAsync(exec.run(ref, { argv: ['true'], timeoutMs: 2000 }), { instanceOf: HvrollError });
    return { err: err!, wallMs: Date.now() - started };
  });
  const results = await Promise.all(calls);
  t.is(hole.connections(), 1, 'one connect, shared; a command that joined it does not start a second one');
  for (const { err, wallMs } of results) {
    const d = err.details as { reason: string; attempts: number; elapsedMs: number };
    t.is(d.reason, 'connect');
    t.is(d.attempts, 1);
    t.true(d.elapsedMs <= wallMs, 'the time it states is no more than the time it took');
    t.regex(err.message, /^hung: could not connect to 127\.0\.0\.1:\d+ within 300 ms \(1 connect attempt(, started by another command; waited [\d.]+ s for it|, [\d.]+ s)\)$/);
    t.true(err.retryable);
  }
  t.is(results.filter((r) => /started by another command/.test(r.err.message)).length, 2);
});
