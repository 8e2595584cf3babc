// Fault matrix 6: a migration that never converges (memory remaining flat) is aborted after the runbook's
// progress timeout — not left to the 30-minute step timeout — and the group fails safe; a slow migration that
// keeps converging is left alone. Over real SSH against the in-process hypervisors.
import test from 'ava';
import { runCampaign } from '../../src/engine/campaign-runner.ts';
import { remainingMiB } from '../../src/engine/progress-watch.ts';
import { parseRunbook } from '../../src/runbook/parse.ts';
import { readFile } from 'node:fs/promises';
import { startRig } from './campaign-fixture.ts';

function fastPolls(rig: Awaited<ReturnType<typeof startRig>>, everySeconds: number, stallSeconds: number): void {
  const p = rig.deps.runbook.steps.migrate!.progress!;
  p.everySeconds = everySeconds;
  p.stallSeconds = stallSeconds;
}

test('remaining memory is read in the units virsh prints', (t) => {
  t.is(remainingMiB('Job type:         Unbounded\nMemory remaining: 1.500 GiB\n', 'Memory remaining'), 1536);
  t.is(remainingMiB('Memory remaining: 512 KiB', 'Memory remaining'), 0.5);
  t.is(remainingMiB('Memory remaining: 3.000 MiB', 'Memory remaining'), 3);
  t.is(remainingMiB('Job type:         None\n', 'Memory remaining'), null, 'no job: nothing to judge');
  t.is(remainingMiB('Memory remaining: lots', 'Memory remaining'), null);
});

test('the shipped libvirt runbook watches migrations: domjobinfo on the source, domjobabort after 180 s without progress', async (t) => {
  const parsed = parseRunbook('runbooks/libvirt.yaml', await readFile('runbooks/libvirt.yaml', 'utf8'));
  t.true(parsed.ok);
  const p = parsed.ok ? parsed.value.steps.migrate!.progress! : undefined;
  t.deepEqual(p?.command, { argv: ['virsh', 'domjobinfo', '{vm}'], on: 'source' });
  t.deepEqual(p?.abort, { argv: ['virsh', 'domjobabort', '{vm}'], on: 'source' });
  t.is(p?.stallSeconds, 180);
});

test('a runbook whose stall window is shorter than two polls is refused with the fix', (t) => {
  const text = `platform: x\ndiscover: { run: [ls] }\nsteps:\n  migrate:\n    check: [{ run: [a, "{vm}"] }]\n    run: [[m, "{vm}"]]\n    progress: { run: [p, "{vm}"], remainingKey: left, everySeconds: 10, stallSeconds: 15, abort: [x, "{vm}"] }\n  upgrade: { check: [{ run: [v] }], run: [[u]] }\n`;
  const r = parseRunbook('rb.yaml', text);
  t.false(r.ok);
  if (!r.ok) t.regex(r.error.map((i) => `${i.message} ${i.fix}`).join('\n'), /stallSeconds .*twice everySeconds/);
});

test('a migration that never converges is aborted after the progress timeout; the VM stays home, the host is re-enabled, nothing upgraded', async (t) => {
  const rig = await startRig({ hosts: 2, vmsPerHost: 1 });
  t.teardown(() => rig.close());
  fastPolls(rig, 0.2, 1);
  rig.fleet.model.slowNextMigrations({ memoryMiB: 412, ms: 0, stall: true });
  const started = Date.now();
  const outcome = await runCampaign(rig.deps, { controlPollMs: 50 });
  const elapsed = Date.now() - started;
  t.is(outcome.state, 'stopped');
  t.deepEqual(outcome.failed, ['hv-1']);
  t.deepEqual(outcome.outOfPool, []);
  t.is(rig.fleet.model.vms.get('vm-0')!.host, 'hv-1', 'the VM keeps running on its source');
  t.is(rig.fleet.model.migrations.length, 0);
  t.false(rig.hosts.host('hv-1').marker, 're-enabled: it was never upgraded');
  t.is(rig.hosts.host('hv-1').upgrades, 0);
  t.true(elapsed < 15_000, `aborted after ${elapsed} ms, far below the 1800 s migrate timeout`);
  const abort = await Promise.resolve(rig.deps.store.journal({ step: 'migrate:abort' }));
  t.is(abort.length, 1, 'one abort, journalled');
  t.deepEqual(abort[0]!.argv, ['virsh', 'domjobabort', 'vm-0']);
  t.is(abort[0]!.outcome?.exitCode, 0);
  const migrate = await Promise.resolve(rig.deps.store.journal({ step: 'migrate' }));
  t.is(migrate.length, 1, 'not retried: it would not converge either');
  const snap = rig.deps.store.groupSnapshot('hv-1')!.snapshot as { context: { error: { message: string; details: { reason: string } } } };
  t.regex(snap.context.error.message, /no progress for \d+ s \(412 MiB still to copy\).*keeps running on hv-1.*auto-converge/);
  t.is(snap.context.error.details.reason, 'no-progress');
  const polls = rig.fleet.host('hv-1').received.filter((c) => c.argv?.[1] === 'domjobinfo');
  t.true(polls.length >= 3, `${polls.length} polls`);
  t.true(polls.every((c) => c.argv!.join(' ') === 'virsh domjobinfo vm-0'), 'each poll is exactly the runbook argv');
});

test('a slow migration that keeps converging is not aborted', async (t) => {
  const rig = await startRig({ hosts: 2, vmsPerHost: 1 });
  t.teardown(() => rig.close());
  fastPolls(rig, 0.2, 0.6);
  rig.fleet.model.slowNextMigrations({ memoryMiB: 4096, ms: 2500 });
  const outcome = await runCampaign(rig.deps, { controlPollMs: 50 });
  t.is(outcome.state, 'done');
  t.is(rig.fleet.model.vms.get('vm-0')!.host, 'hv-2');
  t.is((await Promise.resolve(rig.deps.store.journal({ step: 'migrate:abort' }))).length, 0);
  t.true(rig.fleet.host('hv-1').received.filter((c) => c.argv?.[1] === 'domjobinfo').length >= 5, 'it was watched all along');
});
