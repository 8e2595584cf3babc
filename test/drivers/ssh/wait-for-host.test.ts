import test from 'ava';
import { HvrollError } from '../../../src/model/errors.ts';
import { rig } from './fixture.ts';

test('waitForHost waits for a host that starts late, then commands use that connection', async (t) => {
  const { fleet, exec } = await rig(t, { hosts: ['hv1'], down: ['hv1'] });
  setTimeout(() => void fleet.host('hv1').start(), 300);
  const started = Date.now();
  await exec.waitForHost(fleet.hostRef('hv1'), { deadline: Date.now() + 5000, pollMs: 50 });
  t.true(Date.now() - started >= 250);
  t.is((await exec.run(fleet.hostRef('hv1'), { argv: ['true'], timeoutMs: 2000 })).exitCode, 0);
  t.is(fleet.host('hv1').stats.connections, 1, 'the connection that proved the host is up is reused');
});

test('waitForHost after a reboot replaces the stale pooled connection', async (t) => {
  const { fleet, exec } = await rig(t, { hosts: ['hv1'] });
  await exec.run(fleet.hostRef('hv1'), { argv: ['true'], timeoutMs: 2000 });
  await fleet.host('hv1').stop();
  setTimeout(() => void fleet.host('hv1').start(), 200);
  await exec.waitForHost(fleet.hostRef('hv1'), { deadline: Date.now() + 5000, pollMs: 50 });
  t.is((await exec.run(fleet.hostRef('hv1'), { argv: ['true'], timeoutMs: 2000 })).exitCode, 0);
  t.is(fleet.host('hv1').stats.connections, 2);
});

test('waitForHost gives up at the absolute deadline with a timeout error', async (t) => {
  const { fleet, exec } = await rig(t, { hosts: ['hv1'], down: ['hv1'] });
  const started = Date.now();
  const err = await t.throwsAsync(exec.waitForHost(fleet.hostRef('hv1'), { deadline: Date.now() + 300, pollMs: 50 }), { instanceOf: HvrollError });
  t.like(err?.details, { reason: 'timeout', host: 'hv1' });
  t.regex(err?.message ?? '', /before the deadline \S+ \((\d+) connect attempts? in [\d.]+ s\); last attempt: /);
  const d = err?.details as { attempts: number; elapsedMs: number };
  t.true(d.attempts >= 1);
  t.true(d.elapsedMs <= Date.now() - started);
  t.true(Date.now() - started < 1500);
});

test('waitForHost does not wait out a host-key problem: it fails at once', async (t) => {
  const { fleet, exec } = await rig(t, { hosts: ['hv1'] }, { knownHosts: 'none' });
  const err = await t.throwsAsync(exec.waitForHost(fleet.hostRef('hv1'), { deadline: Date.now() + 10_000, pollMs: 50 }), { instanceOf: HvrollError });
  t.like(err?.details, { reason: 'host-key-unknown' });
  t.is(fleet.host('hv1').stats.connections, 1);
});

test('waitForHost is cancelled by its AbortSignal', async (t) => {
  const { fleet, exec } = await rig(t, { hosts: ['hv1'], down: ['hv1'] });
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 150);
  const err = await t.throwsAsync(exec.waitForHost(fleet.hostRef('hv1'), { deadline: Date.now() + 10_000, pollMs: 50, signal: ac.signal }), { instanceOf: HvrollError });
  t.like(err?.details, { reason: 'aborted' });
});
