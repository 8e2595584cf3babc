// `hvroll status` ETA: what is left of the plan's timeline, scaled by the pace so far. Groups run at the same
// time, so progress is how far along the timeline the finished groups got — not the sum of their durations.

import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { campaignStatus } from '../../src/app/status.ts';
import { CAMPAIGN_KEY, runCampaign } from '../../src/engine/campaign-runner.ts';
import { GROUP_MACHINE_VERSION } from '../../src/machines/group-machine.ts';
import { fingerprint } from '../../src/plan-file/fingerprint.ts';
import { toPlanFile } from '../../src/plan-file/plan-file.ts';
import { buildPlan } from '../../src/planner/plan.ts';
import { campaignDir } from '../../src/store/paths.ts';
import { CampaignStore } from '../../src/store/store.ts';
import { CLEAR_MARKER_SCRIPT } from '../../src/sim/libvirt-commands.ts';
import { startRig, type CampaignRig } from '../engine/campaign-fixture.ts';
import type { CommandHandler } from '../helpers/ssh-fleet.ts';
import { host, inventory, vm } from '../planner/fixtures.ts';

const START = Date.parse('2026-03-01T10:00:00.000Z');

test('ETA on pace with overlapping groups is the plan time left; at half pace, twice that', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'hvroll-status-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const hosts = [1, 2, 3, 4, 5, 6].map((i) => host(`hv-${i}`, { rack: `r${i}` }, 16, 65536));
  const vms = [1, 2, 3, 4, 5].map((i) => vm(`vm-${i}`, `hv-${i}`, 4096, 2));
  const inv = inventory(hosts, vms, { concurrency: { groups: 3, migrations: 4, migrationsPerHost: 2 } });
  const file = toPlanFile(buildPlan(inv), { fingerprint: fingerprint({ inventory: inv, options: {} }), inputs: { inventory: ['<test>'], ansible: null, runbook: null } });
  const store = await CampaignStore.create(campaignDir(root, 'c1'), { campaignId: 'c1', operator: 'alice', plan: file, planFingerprint: file.fingerprint, machineVersion: GROUP_MACHINE_VERSION }, { now: () => new Date(START) });
  // The groups of the first two start instants are done (the spare, then several side by side).
  const starts = [...new Set(file.groups.map((g) => g.estimate.startSeconds))].sort((a, b) => a - b);
  const first = file.groups.filter((g) => g.estimate.startSeconds <= starts[1]!);
  t.true(file.groups.filter((g) => g.estimate.startSeconds === starts[1]).length >= 2, 'the plan runs groups at the same time');
  for (const g of first) await store.saveGroupSnapshot(g.name, { machineVersion: GROUP_MACHINE_VERSION, snapshot: { value: 'done', context: { error: null } } });
  await store.saveGroupSnapshot(CAMPAIGN_KEY, { machineVersion: 'campaign/test', snapshot: { value: 'running' } });
  await store.close();

  const along = Math.max(...first.map((g) => g.estimate.endSeconds));
  const left = file.summary.estimatedSeconds - along;
  t.true(left > 0);
  const onPace = await campaignStatus(root, 'c1', START + along * 1000);
  t.is(onPace.etaSeconds, Math.round(left));
  const halfPace = await campaignStatus(root, 'c1', START + 2 * along * 1000);
  t.is(halfPace.etaSeconds, Math.round(2 * left));
  t.is(onPace.groups.byState.done, first.length);
});

test('an active group shows the command it has in flight', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'hvroll-status-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const inv = inventory([host('hv-1', { rack: 'r1' }), host('hv-2', { rack: 'r2' })], [vm('web-1', 'hv-1')]);
  const file = toPlanFile(buildPlan(inv), { fingerprint: fingerprint({ inventory: inv, options: {} }), inputs: { inventory: ['<test>'], ansible: null, runbook: null } });
  const busy = file.groups.find((g) => g.moves.length > 0)!;
  const store = await CampaignStore.create(campaignDir(root, 'c1'), { campaignId: 'c1', operator: 'alice', plan: file, planFingerprint: file.fingerprint, machineVersion: GROUP_MACHINE_VERSION });
  await store.saveGroupSnapshot(busy.name, { machineVersion: GROUP_MACHINE_VERSION, snapshot: { value: 'draining', context: { error: null } } });
  const done = await store.journalIntent({ key: 'c1/x/1', group: busy.name, step: 'migrate:check', host: 'hv-2', vm: 'web-1', startedAt: new Date().toISOString(), operator: 'alice' });
  await store.journalOutcome(done, { exitCode: 1, outputTail: '', endedAt: new Date().toISOString() });
  await store.journalIntent({ key: 'c1/x/2', group: busy.name, step: 'migrate', host: 'hv-1', vm: 'web-1', argv: ['virsh', 'migrate'], startedAt: new Date().toISOString(), operator: 'alice' });
  await store.close();
  const s = await campaignStatus(root, 'c1');
  t.deepEqual(s.active, [{ group: busy.name, state: 'draining', step: 'migrate web-1 on hv-1' }]);
});

/** startRig's spare is hv-3, every VM's target: once its group has put it back in the pool, `vm` is moved there by hand. */
function moveByHandWhenSpareIsBack(rig: CampaignRig, vm: string): void {
  const fleet = rig.fleet as unknown as { handler: CommandHandler };
  const inner = fleet.handler;
  fleet.handler = async (host, argv, ctx) => {
    if (host === 'hv-3' && argv[0] === 'sh' && argv[2] === CLEAR_MARKER_SCRIPT) rig.fleet.model.vms.get(vm)!.host = 'hv-3';
    return inner(host, argv, ctx);
  };
}

test('migrations count VMs confirmed on their target: found there already, or its interrupted copy removed, counts too', async (t) => {
  const rig = await startRig({ hosts: 3, vmsPerHost: 2 });
  t.teardown(() => rig.close());
  const model = rig.fleet.model;
  // vm-0 is moved to its planned target by hand once the spare is back; the first migration is cut short (a
  // paused copy stays behind).
  moveByHandWhenSpareIsBack(rig, 'vm-0');
  model.cutShortNextMigrations({ state: 'paused', persistent: true });
  const outcome = await runCampaign(rig.deps, { controlPollMs: 50 });
  t.is(outcome.state, 'done');
  t.is(model.migrations.length, 3, 'three migrate commands, one of them cut short');
  await rig.deps.store.close();
  const s = await campaignStatus(dirname(rig.dir), basename(rig.dir));
  t.deepEqual(s.migrations, { done: 4, planned: 4 });
});

test('a group that failed half-way through its drain counts the VMs it did move, exactly', async (t) => {
  const rig = await startRig({ hosts: 3, vmsPerHost: 2, retries: { migrate: 0 } });
  t.teardown(() => rig.close());
  const model = rig.fleet.model;
  moveByHandWhenSpareIsBack(rig, 'vm-0');
  model.failNextMigrations(1);
  const outcome = await runCampaign(rig.deps, { controlPollMs: 50 });
  t.true(outcome.failed.length >= 1);
  await rig.deps.store.close();
  const onTarget = rig.deps.plan.groups.flatMap((g) => g.moves).filter((m) => model.vms.get(m.vm)!.host === m.to).length;
  t.true(onTarget >= 1 && onTarget < 4);
  const s = await campaignStatus(dirname(rig.dir), basename(rig.dir));
  t.deepEqual(s.migrations, { done: onTarget, planned: 4 });
});

test('a migrate:confirmed record that a killed run left without outcome is completed by the resumed drain, never written twice', async (t) => {
  const rig = await startRig({ hosts: 3, vmsPerHost: 2 });
  t.teardown(() => rig.close());
  const open = await rig.deps.store.journalIntent({ key: 'c1/hv-1/migrate:confirmed/vm-0', group: 'hv-1', step: 'migrate:confirmed', host: 'hv-3', vm: 'vm-0', startedAt: new Date().toISOString(), operator: 'tester' });
  const outcome = await runCampaign(rig.deps, { controlPollMs: 50 });
  t.is(outcome.state, 'done');
  const records = await rig.deps.store.journal({ step: 'migrate:confirmed' });
  t.deepEqual(records.map((e) => e.vm).sort(), ['vm-0', 'vm-1', 'vm-2', 'vm-3']);
  t.is(records.find((e) => e.vm === 'vm-0')!.id, open);
  t.true(records.every((e) => e.outcome?.exitCode === 0));
});
