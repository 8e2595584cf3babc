// Issue 12 over real SSH against the in-process hypervisors, with the shipped libvirt runbook: hosts whose
// package is left half-configured or whose dpkg lies, a VM that appears on a drained host, a host another
// campaign (or someone else) holds, and hosts reached through sudo.
//
// Two hosts: hv-2 starts empty (a spare), so its group runs first and hv-1's VM moves onto it afterwards.
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCampaign } from '../../src/engine/campaign-runner.ts';
import { GROUP_MACHINE_VERSION } from '../../src/machines/group-machine.ts';
import { CampaignStore } from '../../src/store/store.ts';
import { startRig, type CampaignRig } from './campaign-fixture.ts';

type Snapshot = { context: { error: { message: string; retryable: boolean } | null } };
const errorOf = (rig: CampaignRig, group: string) => (rig.deps.store.groupSnapshot(group)!.snapshot as Snapshot).context.error!;

/** Runs `act` when `host` is about to answer its `nth` (1-based) command equal to `argv`. */
function onNth(rig: CampaignRig, host: string, argv: string, nth: number, act: () => void): void {
  let seen = 0;
  rig.fleet.onCommand = (h, a) => {
    if (h === host && a.join(' ') === argv && ++seen === nth) act();
  };
}

test('a failed postinst leaves the package half-configured: the retry does not take it as done, the host is never rebooted nor rejoined, no VM moves onto it', async (t) => {
  const rig = await startRig({ hosts: 2, vmsPerHost: 1 });
  t.teardown(() => rig.close());
  rig.hosts.host('hv-2').failPostinst = 5;
  const outcome = await runCampaign(rig.deps, { controlPollMs: 20 });
  t.is(outcome.state, 'stopped');
  t.deepEqual(outcome.failed, ['hv-2']);
  const hv2 = rig.hosts.host('hv-2');
  t.is(hv2.status, 'iF ', 'still half-configured');
  t.is(hv2.version, '2.0', 'at the new version all the same');
  t.is(hv2.upgrades, 2, 'the first install and its retry, never "already done"');
  t.is(hv2.reboots, 0);
  t.true(hv2.marker, 'left out of the pool');
  t.true(outcome.outOfPool.some((o) => o.host === 'hv-2'));
  t.is(rig.fleet.model.vms.get('vm-0')!.host, 'hv-1', 'no VM moved onto the half-configured host');
  t.regex(errorOf(rig, 'hv-2').message, /exited 100/);
  const checks = await rig.deps.store.journal({ step: 'upgrade:check', host: 'hv-2' });
  t.deepEqual(checks.map((e) => e.outcome?.outputTail.trim()), ['ii 1.0', 'iF 2.0'], 'the retry\'s check read dpkg\'s status, not only the version');
});

test('a host whose dpkg-query lies is caught by the daemon probe: verify fails, the host stays out of the pool', async (t) => {
  const rig = await startRig({ hosts: 2, vmsPerHost: 1, retries: { verify: 1 } });
  t.teardown(() => rig.close());
  rig.hosts.host('hv-2').dpkgSays = { status: 'ii ', version: '2.0' };
  const outcome = await runCampaign(rig.deps, { controlPollMs: 20 });
  t.deepEqual(outcome.failed, ['hv-2']);
  const hv2 = rig.hosts.host('hv-2');
  t.is(hv2.upgrades, 0, 'the lie made the upgrade "already done"');
  t.is(hv2.reboots, 1);
  t.true(hv2.marker, 'not rejoined');
  t.is(rig.fleet.model.vms.get('vm-0')!.host, 'hv-1');
  t.regex(errorOf(rig, 'hv-2').message, /libvirtd runs the target version on hv-2: output does not match \/\^Running against daemon: 2\\\.0\$\//);
});

test('a VM started on a drained host before its upgrade stops the group: nothing upgraded or rebooted, the VM still running', async (t) => {
  const rig = await startRig({ hosts: 2, vmsPerHost: 1 });
  t.teardown(() => rig.close());
  onNth(rig, 'hv-2', 'virsh list --name', 1, () => rig.fleet.model.addVm({ name: 'intruder', host: 'hv-2', vcpus: 1, memoryMiB: 256 }));
  const outcome = await runCampaign(rig.deps, { controlPollMs: 20 });
  t.deepEqual(outcome.failed, ['hv-2']);
  t.is(rig.hosts.host('hv-2').upgrades, 0);
  t.is(rig.hosts.host('hv-2').reboots, 0);
  t.like(rig.fleet.model.vms.get('intruder'), { host: 'hv-2', state: 'running' });
  t.deepEqual(rig.fleet.model.harmed, []);
  const e = errorOf(rig, 'hv-2');
  t.false(e.retryable);
  t.regex(e.message, /^upgrade on hv-2: requirement "no running or paused VM" does not hold .*seen: "intruder"/);
  t.is((await rig.deps.store.journal({ step: 'upgrade' })).length, 0, 'no upgrade command sent');
});

test('a VM started on the host between its upgrade and its reboot stops the group: never rebooted, the VM still running', async (t) => {
  const rig = await startRig({ hosts: 2, vmsPerHost: 1 });
  t.teardown(() => rig.close());
  onNth(rig, 'hv-2', 'virsh list --name', 2, () => rig.fleet.model.addVm({ name: 'intruder', host: 'hv-2', vcpus: 1, memoryMiB: 256 }));
  const outcome = await runCampaign(rig.deps, { controlPollMs: 20 });
  t.deepEqual(outcome.failed, ['hv-2']);
  t.is(rig.hosts.host('hv-2').upgrades, 1);
  t.is(rig.hosts.host('hv-2').reboots, 0, 'never rebooted');
  t.like(rig.fleet.model.vms.get('intruder'), { host: 'hv-2', state: 'running' });
  t.deepEqual(rig.fleet.model.harmed, []);
  t.regex(errorOf(rig, 'hv-2').message, /^reboot on hv-2: requirement "no running or paused VM" does not hold/);
  t.is((await rig.deps.store.journal({ step: 'reboot:boot-id' })).length, 0, 'not even its boot id read: a resume will not reboot it either');
});

test('a shut-off VM defined on the drained host (a stopped VM) is allowed: the campaign finishes and leaves it defined', async (t) => {
  const rig = await startRig({ hosts: 2, vmsPerHost: 1 });
  t.teardown(() => rig.close());
  onNth(rig, 'hv-2', 'virsh list --name', 1, () => rig.fleet.model.addVm({ name: 'stopped', host: 'hv-2', vcpus: 1, memoryMiB: 256, state: 'shut off' }));
  const outcome = await runCampaign(rig.deps, { controlPollMs: 20 });
  t.is(outcome.state, 'done');
  t.like(rig.fleet.model.vms.get('stopped'), { host: 'hv-2', state: 'shut off' });
  t.deepEqual(rig.fleet.model.harmed, []);
});

test('a host another campaign disabled is refused, named and left exactly as that campaign left it', async (t) => {
  const rig = await startRig({ hosts: 2, vmsPerHost: 1 });
  t.teardown(() => rig.close());
  // Campaign c0 fails hv-2 after its upgrade: hv-2 stays out of the pool, disabled by c0.
  rig.hosts.host('hv-2').failPostinst = 5;
  const first = await runCampaign(rig.deps, { controlPollMs: 20 });
  t.deepEqual(first.failed, ['hv-2']);
  t.like(rig.hosts.host('hv-2'), { marker: true, markerText: 'hvroll:c1:hv-2' });
  // A second campaign from another state directory over the same hosts.
  const store = await CampaignStore.create(join(mkdtempSync(join(tmpdir(), 'hvroll-c2-')), 'c2'), { campaignId: 'c2', operator: 'tester', plan: rig.deps.plan, planFingerprint: rig.deps.plan.fingerprint, machineVersion: GROUP_MACHINE_VERSION });
  t.teardown(() => store.close().catch(() => undefined));
  const c2 = { ...rig.deps, campaignId: 'c2', store };
  const before = rig.fleet.host('hv-2').received.length;
  const second = await runCampaign(c2, { controlPollMs: 20 });
  t.deepEqual(second.failed, ['hv-2']);
  t.false(second.outOfPool.some((o) => o.host === 'hv-2'), 'c2 never took it out of the pool');
  t.like(rig.hosts.host('hv-2'), { marker: true, markerText: 'hvroll:c1:hv-2', upgrades: 2, reboots: 0 });
  const e = (store.groupSnapshot('hv-2')!.snapshot as Snapshot).context.error!;
  t.false(e.retryable);
  t.regex(e.message, /^disable on hv-2: requirement "not disabled by another hvroll campaign" does not hold .* hv-2 is disabled by hvroll campaign c1 \(group hv-2\); it is not taken over/);
  const sent = rig.fleet.host('hv-2').received.slice(before).map((r) => r.argv!.join(' '));
  t.deepEqual(sent, ['virsh version', 'cat /var/lib/hvroll/maintenance'], 'the precheck and the requirement: nothing written, nothing removed');
});

test('a marker someone else put over ours while the group ran is not removed: enable refuses, the host is named out of the pool', async (t) => {
  const rig = await startRig({ hosts: 2, vmsPerHost: 1 });
  t.teardown(() => rig.close());
  onNth(rig, 'hv-2', 'systemctl is-active libvirtd', 1, () => Object.assign(rig.hosts.host('hv-2'), { marker: true, markerText: 'ops: disk swap, ticket 4711' }));
  const outcome = await runCampaign(rig.deps, { controlPollMs: 20 });
  t.deepEqual(outcome.failed, ['hv-2']);
  t.like(rig.hosts.host('hv-2'), { marker: true, markerText: 'ops: disk swap, ticket 4711' });
  t.true(outcome.outOfPool.some((o) => o.host === 'hv-2' && /disabled by this campaign or not at all/.test(o.why)));
  t.regex(errorOf(rig, 'hv-2').message, /^enable on hv-2: requirement "disabled by this campaign or not at all" does not hold .*seen: "ops: disk swap, ticket 4711"/);
});

test('a host disabled by someone else before the campaign keeps their marker: not written over, not removed', async (t) => {
  const rig = await startRig({ hosts: 3, vmsPerHost: 1 });
  t.teardown(() => rig.close());
  Object.assign(rig.hosts.host('hv-2'), { marker: true, markerText: 'ops: firmware window' });
  const outcome = await runCampaign(rig.deps, { controlPollMs: 20 });
  t.is(outcome.state, 'done');
  t.like(rig.hosts.host('hv-2'), { marker: true, markerText: 'ops: firmware window', upgrades: 1, reboots: 1 });
  t.false(rig.hosts.host('hv-1').marker);
  t.true((await rig.deps.store.journal({ step: 'disable:pre-disabled' })).some((e) => e.host === 'hv-2'));
  t.false(rig.hosts.changes.some((c) => c.startsWith('hv-2 disable') || c.startsWith('hv-2 enable')), 'no disable or enable of ours reached hv-2');
});

const becomeSudo = (text: string) => text.replace('# become: sudo', 'become: sudo');

test('become: sudo over a login that is not root: every host command goes through sudo -n --, as journalled, and the campaign finishes', async (t) => {
  const rig = await startRig({ hosts: 2, vmsPerHost: 1, sudo: 'nopasswd', runbookText: becomeSudo });
  t.teardown(() => rig.close());
  const outcome = await runCampaign(rig.deps, { controlPollMs: 20 });
  t.is(outcome.state, 'done');
  t.is(rig.fleet.model.vms.get('vm-0')!.host, 'hv-2');
  for (const name of ['hv-1', 'hv-2']) t.like(rig.hosts.host(name), { upgrades: 1, reboots: 1, marker: false });
  const received = rig.fleet.allReceived().map((r) => r.argv!);
  t.true(received.length > 20);
  t.true(received.every((argv) => argv.slice(0, 3).join(' ') === 'sudo -n --'), 'nothing ran without sudo');
  // What each host received is what the journal says was sent (progress polls are not journalled).
  const journal = (await rig.deps.store.journal()).filter((e) => e.argv);
  for (const name of ['hv-1', 'hv-2']) {
    const got = rig.fleet.host(name).received.map((r) => r.argv!.join(' ')).filter((a) => !a.includes('domjobinfo'));
    t.deepEqual(got, journal.filter((e) => e.host === name).map((e) => e.argv!.join(' ')), name);
  }
});

test('become: sudo where sudo wants a password: the first command fails the group at once, without retry, naming the host and the fix', async (t) => {
  const rig = await startRig({ hosts: 2, vmsPerHost: 1, sudo: 'password', runbookText: becomeSudo });
  t.teardown(() => rig.close());
  const outcome = await runCampaign(rig.deps, { controlPollMs: 20 });
  t.deepEqual(outcome.failed, ['hv-2']);
  t.deepEqual(outcome.outOfPool, []);
  const e = errorOf(rig, 'hv-2');
  t.false(e.retryable);
  t.regex(e.message, /^hv-2: sudo refused to run `sudo -n -- virsh version`: "sudo: a password is required"\..* Fix: give hvroll a NOPASSWD sudoers entry .*docs\/getting-started\.md/);
  t.deepEqual(rig.fleet.host('hv-2').received.map((r) => r.argv!.join(' ')), ['sudo -n -- virsh version'], 'one command, no retry');
  t.is(rig.fleet.host('hv-1').received.length, 0);
});

test('without become, a host that wants sudo refuses every command: the group fails before anything changed', async (t) => {
  const rig = await startRig({ hosts: 2, vmsPerHost: 1, sudo: 'nopasswd', retries: { disable: 0 } });
  t.teardown(() => rig.close());
  const outcome = await runCampaign(rig.deps, { controlPollMs: 20 });
  t.deepEqual(outcome.failed, ['hv-2']);
  t.deepEqual(rig.hosts.changes, []);
});
