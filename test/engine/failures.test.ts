// The engine against hosts that misbehave, over real SSH: hangs, dropped connections, failing migrations,
// changed host keys, VMs the plan does not know; and the operator's pause, resume, abort and approval.
import test from 'ava';
import { runCampaign } from '../../src/engine/campaign-runner.ts';
import { writeControlRequest } from '../../src/engine/control.ts';
import { startRig } from './campaign-fixture.ts';

const isMigrate = (argv: string[]) => argv[0] === 'virsh' && argv[1] === 'migrate';

test('a migration that hangs is cut at the step timeout, retried, and the campaign completes', async (t) => {
  const rig = await startRig({ hosts: 2, vmsPerHost: 1, timeouts: { migrate: 2 } });
  t.teardown(() => rig.close());
  rig.fleet.hangNext('hv-1', isMigrate);
  const outcome = await runCampaign(rig.deps, { controlPollMs: 50 });
  t.is(outcome.state, 'done');
  t.is(rig.fleet.model.vms.get('vm-0')!.host, 'hv-2');
  const migrate = await rig.deps.store.journal({ step: 'migrate' });
  t.is(migrate.length, 2, 'one timed-out attempt, one that worked');
  t.is(migrate[0]!.outcome!.error?.details && (migrate[0]!.outcome!.error.details as { reason: string }).reason, 'timeout');
});

test('a connection dropped mid-command fails the step retryably; the retry reconnects and re-checks first', async (t) => {
  const rig = await startRig({ hosts: 2, vmsPerHost: 1 });
  t.teardown(() => rig.close());
  rig.fleet.dropNext('hv-1', isMigrate);
  const outcome = await runCampaign(rig.deps, { controlPollMs: 50 });
  t.is(outcome.state, 'done');
  t.is(rig.fleet.model.migrations.length, 1, 'migrated exactly once');
  t.true(rig.fleet.host('hv-1').stats.connections >= 2, 'reconnected');
});

test('a migration that keeps failing is retried per the runbook, then the group fails safe: host re-enabled, VM still running at home', async (t) => {
  const rig = await startRig({ hosts: 2, vmsPerHost: 1, retries: { migrate: 1 } });
  t.teardown(() => rig.close());
  rig.fleet.model.failNextMigrations(10);
  const outcome = await runCampaign(rig.deps, { controlPollMs: 50 });
  t.is(outcome.state, 'stopped', 'failure budget 0: one failed group stops the campaign');
  t.deepEqual(outcome.failed, ['hv-1']);
  t.deepEqual(outcome.outOfPool, []);
  t.is(rig.fleet.model.vms.get('vm-0')!.host, 'hv-1');
  t.false(rig.hosts.host('hv-1').marker, 'hv-1 re-enabled');
  t.is(rig.hosts.host('hv-1').upgrades, 0, 'never upgraded');
  t.is((await rig.deps.store.journal({ step: 'migrate' })).length, 2, 'first try + 1 retry');
});

test('a host whose key changed is refused before authenticating; its group fails and nothing runs on it', async (t) => {
  const rig = await startRig({ hosts: 2, vmsPerHost: 1 });
  t.teardown(() => rig.close());
  await rig.fleet.host('hv-2').rotateKey();
  const before = rig.fleet.host('hv-2').stats.authAttempts;
  const outcome = await runCampaign(rig.deps, { controlPollMs: 50 });
  t.not(outcome.state, 'done');
  t.is(rig.fleet.host('hv-2').stats.authAttempts, before, 'no authentication attempted');
  t.is(rig.fleet.host('hv-2').received.length, 0, 'no command ran on it');
  const failed = (await rig.deps.store.journal()).find((e) => e.host === 'hv-2' && e.outcome?.error);
  t.regex(failed!.outcome!.error!.message, /ssh-keygen -R/);
  t.false(outcome.outOfPool.some((o) => o.host === 'hv-2'), 'never disabled, so not reported out of the pool');
  t.false(rig.hosts.host('hv-2').marker, 'hv-2 still in the pool');
});

test('a VM the plan does not know stops its group before anything migrates, with a message that says what to do', async (t) => {
  const rig = await startRig({ hosts: 3, vmsPerHost: 1 });
  t.teardown(() => rig.close());
  rig.fleet.model.addVm({ name: 'stranger', host: 'hv-1', vcpus: 1, memoryMiB: 256 });
  const outcome = await runCampaign(rig.deps, { controlPollMs: 50 });
  t.deepEqual(outcome.failed, ['hv-1']);
  t.false(rig.fleet.model.migrations.some((m) => m.from === 'hv-1'), 'nothing left hv-1');
  t.false(rig.hosts.host('hv-1').marker, 'hv-1 re-enabled');
  const snap = rig.deps.store.groupSnapshot('hv-1')!.snapshot as { context: { error: { message: string } } };
  t.regex(snap.context.error.message, /the plan does not know: stranger.*hvroll discover/);
});

test('a class that needs approval waits; an approval request lets it run and is recorded', async (t) => {
  const rig = await startRig({
    hosts: 2,
    vmsPerHost: 1,
    patch: { sensitivity: [{ class: 'critical', match: {}, order: 'last', approval: true }] },
  });
  t.teardown(() => rig.close());
  const running = runCampaign(rig.deps, {
    controlPollMs: 20,
    listener: (e) => {
      if (e.type === 'group.awaiting-approval') void writeControlRequest(rig.dir, { action: 'approve', operator: 'bob', group: e.group, at: new Date().toISOString() });
    },
  });
  const outcome = await running;
  t.is(outcome.state, 'done');
  t.deepEqual(rig.deps.store.approvals().map((a) => [a.group, a.operator]), [['hv-1', 'bob']]);
  t.true(rig.deps.store.audit().some((a) => a.action === 'approve' && a.operator === 'bob'));
});

test('pause stops at a step boundary; running the campaign again resumes it to the end', async (t) => {
  // One group per wave, and hv-1's migration hangs until its step timeout: the pause surely lands mid-drain.
  const rig = await startRig({ hosts: 3, vmsPerHost: 1, timeouts: { migrate: 2 }, patch: { concurrency: { groups: 1, migrations: 2, migrationsPerHost: 1 } } });
  t.teardown(() => rig.close());
  rig.fleet.hangNext('hv-1', isMigrate);
  let sent = false;
  const first = await runCampaign(rig.deps, {
    controlPollMs: 20,
    listener: (e) => {
      if (!sent && e.type === 'group.state' && e.group === 'hv-1' && e.state === 'draining') {
        sent = true;
        void writeControlRequest(rig.dir, { action: 'pause', operator: 'alice', at: new Date().toISOString() });
      }
    },
  });
  t.is(first.state, 'paused');
  t.is(rig.hosts.host('hv-1').upgrades, 0, 'hv-1 stopped after its drain');
  t.is(rig.hosts.host('hv-2').upgrades, 0, 'hv-2 never started');
  const second = await runCampaign(rig.deps, { controlPollMs: 20 });
  t.is(second.state, 'done');
  for (const s of rig.hosts.state.values()) {
    t.is(s.upgrades, 1);
    t.is(s.reboots, 1);
  }
});

test('abort while draining: the step finishes, the drained host is re-enabled, nothing is upgraded', async (t) => {
  const rig = await startRig({ hosts: 3, vmsPerHost: 1, timeouts: { migrate: 2 }, patch: { concurrency: { groups: 1, migrations: 2, migrationsPerHost: 1 } } });
  t.teardown(() => rig.close());
  rig.fleet.hangNext('hv-1', isMigrate);
  let sent = false;
  const outcome = await runCampaign(rig.deps, {
    controlPollMs: 20,
    listener: (e) => {
      if (!sent && e.type === 'group.state' && e.group === 'hv-1' && e.state === 'draining') {
        sent = true;
        void writeControlRequest(rig.dir, { action: 'abort', operator: 'alice', at: new Date().toISOString() });
      }
    },
  });
  t.is(outcome.state, 'aborted');
  t.deepEqual(outcome.outOfPool, []);
  for (const [h, s] of rig.hosts.state) t.false(s.marker, `${h} back in the pool`);
  t.is(rig.hosts.host('hv-1').upgrades, 0, 'drained, then re-enabled without an upgrade');
  t.is(rig.hosts.host('hv-2').upgrades, 0, 'never started');
  t.true(rig.deps.store.audit().some((a) => a.action === 'abort'));
});

test('a host already disabled before the campaign is still disabled after it (and every other host is back)', async (t) => {
  const rig = await startRig({ hosts: 3, vmsPerHost: 1 });
  t.teardown(() => rig.close());
  rig.hosts.host('hv-2').marker = true; // an operator's own maintenance, before hvroll
  const outcome = await runCampaign(rig.deps, { controlPollMs: 20 });
  t.is(outcome.state, 'done');
  t.true(rig.hosts.host('hv-2').marker, 'hv-2 left disabled as it was');
  t.false(rig.hosts.host('hv-1').marker);
  t.false(rig.hosts.host('hv-3').marker);
  t.is(rig.hosts.host('hv-2').upgrades, 1, 'still upgraded: it was drained like the others');
  t.true((await rig.deps.store.journal({ step: 'disable:pre-disabled' })).some((e) => e.host === 'hv-2'));
});

test('a migration that reports success while the VM never moved: the confirm catches it, the retry moves it for real', async (t) => {
  const rig = await startRig({ hosts: 2, vmsPerHost: 1 });
  t.teardown(() => rig.close());
  rig.hosts.lyingMigrations = 1;
  const outcome = await runCampaign(rig.deps, { controlPollMs: 20 });
  t.is(outcome.state, 'done');
  t.is(rig.fleet.model.vms.get('vm-0')!.host, 'hv-2', 'actual placement wins');
  t.is(rig.fleet.model.migrations.length, 1, 'moved once, for real');
  const migrate = await rig.deps.store.journal({ step: 'migrate' });
  t.is(migrate.length, 2, 'the lying attempt and the real one');
  const confirm = await rig.deps.store.journal({ step: 'migrate:confirm' });
  t.true(confirm.some((e) => e.outcome?.exitCode !== 0), 'the confirm saw the VM was not on its target');
  t.true(rig.hosts.host('hv-1').upgrades === 1);
});

/** What a run killed around `systemctl reboot` leaves in the journal of group `host`. */
async function leftByKilledRun(rig: Awaited<ReturnType<typeof startRig>>, host: string, delivered: boolean): Promise<void> {
  const store = rig.deps.store;
  const at = new Date().toISOString();
  const seen = await store.journalIntent({ key: `c1/${host}/reboot:boot-id/${host}`, group: host, step: 'reboot:boot-id', host, startedAt: at, operator: 'tester' });
  await store.journalOutcome(seen, { exitCode: 0, outputTail: `${rig.hosts.host(host).bootId}\n`, endedAt: at });
  const sent = await store.journalIntent({ key: `c1/${host}/reboot/${host}`, group: host, step: 'reboot', host, argv: ['systemctl', 'reboot'], startedAt: at, operator: 'tester' });
  if (delivered) await store.journalOutcome(sent, { exitCode: 0, outputTail: '', endedAt: at });
}

test('resumed after a kill between journalling the reboot and sending it: after a grace period the host is rebooted, once', async (t) => {
  const rig = await startRig({ hosts: 2, vmsPerHost: 1, timeouts: { reboot: 4 } });
  t.teardown(() => rig.close());
  await leftByKilledRun(rig, 'hv-2', false);
  const outcome = await runCampaign(rig.deps, { controlPollMs: 20 });
  t.is(outcome.state, 'done');
  t.is(rig.hosts.host('hv-2').reboots, 1);
  t.is(rig.hosts.host('hv-1').reboots, 1);
});

test('resumed after a reboot command that was delivered but never took: the host is never rebooted a second time', async (t) => {
  const rig = await startRig({ hosts: 2, vmsPerHost: 1, timeouts: { reboot: 3 } });
  t.teardown(() => rig.close());
  await leftByKilledRun(rig, 'hv-2', true);
  const outcome = await runCampaign(rig.deps, { controlPollMs: 20 });
  t.deepEqual(outcome.failed, ['hv-2']);
  t.is(rig.hosts.host('hv-2').reboots, 0, 'no second reboot');
  t.true(outcome.outOfPool.some((o) => o.host === 'hv-2'), 'left out of the pool and named');
  const snap = rig.deps.store.groupSnapshot('hv-2')!.snapshot as { context: { error: { message: string } } };
  t.regex(snap.context.error.message, /Not rebooting it again/);
});

test('a half-open connection during a migration (no data, no close) is detected by keepalives, not the 30-min step timeout', async (t) => {
  // The rig's executor: keepalive every 1 s, 3 missed → dead. The runbook's migrate timeout stays 1800 s.
  const rig = await startRig({ hosts: 2, vmsPerHost: 1 });
  t.teardown(() => rig.close());
  rig.fleet.freezeNext('hv-1', isMigrate);
  const started = Date.now();
  const outcome = await runCampaign(rig.deps, { controlPollMs: 20 });
  const elapsed = Date.now() - started;
  t.is(outcome.state, 'done');
  t.is(rig.fleet.model.migrations.length, 1, 'migrated once');
  const attempts = await rig.deps.store.journal({ step: 'migrate' });
  t.is(attempts.length, 2);
  t.is((attempts[0]!.outcome!.error!.details as { reason: string }).reason, 'disconnected');
  // Keepalive 1 s × 3 + margin, plus the rest of a small campaign.
  t.true(elapsed < 15_000, `took ${elapsed} ms`);
  const retryChecks = (await rig.deps.store.journal({ step: 'migrate:check' })).filter((e) => e.id > attempts[0]!.id);
  t.true(retryChecks.length > 0, 'the retry re-read the hosts before migrating again');
});
