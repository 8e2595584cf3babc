// The simulated fleet answers the shipped runbook's guards: a VM another actor starts on a drained host
// (SimFleet.placeVm) stops its group before the upgrade, in virtual time; a runbook with `become: sudo` runs
// the same campaign through `sudo -n --`; a host another campaign disabled is refused.
import test from 'ava';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { runCampaign } from '../../src/engine/campaign-runner.ts';
import type { EngineDeps } from '../../src/engine/deps.ts';
import { MigrationLimiter } from '../../src/engine/limiter.ts';
import type { Executor } from '../../src/executor/executor.ts';
import { GROUP_MACHINE_VERSION } from '../../src/machines/group-machine.ts';
import { planFingerprint } from '../../src/plan-file/fingerprint.ts';
import { toPlanFile } from '../../src/plan-file/plan-file.ts';
import { buildPlan } from '../../src/planner/plan.ts';
import type { Runbook } from '../../src/runbook/model.ts';
import { parseRunbook } from '../../src/runbook/parse.ts';
import { InvariantChecker, poolLimits } from '../../src/sim/invariants.ts';
import { LibvirtCommands } from '../../src/sim/libvirt-commands.ts';
import { runInVirtualTime } from '../../src/sim/scheduler.ts';
import { SimExecutor } from '../../src/sim/sim-executor.ts';
import { SimFleet } from '../../src/sim/sim-fleet.ts';
import { SimTiming } from '../../src/sim/timing.ts';
import { VirtualClock } from '../../src/sim/virtual-clock.ts';
import { CampaignStore } from '../../src/store/store.ts';
import { host, inventory, vm } from '../planner/fixtures.ts';

async function runbook(edit: (text: string) => string = (x) => x): Promise<Runbook> {
  const r = parseRunbook('runbooks/libvirt.yaml', edit(await readFile('runbooks/libvirt.yaml', 'utf8')));
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value;
}

/** hv-1 holds one VM, hv-2 is a spare (its group runs first). `hook` sees every command before the host does. */
async function simulated(t: import('ava').ExecutionContext, rb: Runbook, hook: (fleet: SimFleet, host: string, argv: readonly string[]) => void = () => {}) {
  const inv = inventory([host('hv-1', { rack: 'r1' }, 8, 4096), host('hv-2', { rack: 'r1' }, 8, 4096)], [vm('vm-0', 'hv-1', 512, 1)]);
  const plan = buildPlan(inv, { estimates: { ...rb.durations } });
  const file = toPlanFile(plan, { fingerprint: planFingerprint(inv, plan.settings, rb.text), inputs: { inventory: ['<test>'], ansible: null, runbook: rb.file } });
  const clock = new VirtualClock();
  const fleet = new SimFleet(inv, new InvariantChecker(inv, poolLimits(file), () => clock.now()));
  const vars: Record<string, string> = { ...rb.vars, version: '1:2.0.0-1' };
  const timing = new SimTiming({ estimates: file.settings.estimates, spread: 0, seed: 1, migrationFailRate: 0, verifyFailRate: 0 });
  const sim = new SimExecutor(fleet, new LibvirtCommands(fleet, timing, { package: vars.package!, maintenanceFile: vars.maintenanceFile! }, (ms, fire) => clock.at(ms, fire), () => clock.now()), clock);
  const sent: string[][] = [];
  const executor: Executor = {
    run: (ref, cmd) => {
      sent.push(cmd.argv);
      hook(fleet, ref.name, cmd.argv);
      return sim.run(ref, cmd);
    },
    waitForHost: (ref, o) => sim.waitForHost(ref, o),
    close: () => sim.close(),
  };
  const root = await mkdtemp(join(tmpdir(), 'hvroll-sim-hosts-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const store = await CampaignStore.create(join(root, 'c'), { campaignId: 'c1', operator: 'sim', plan: file, planFingerprint: file.fingerprint, machineVersion: GROUP_MACHINE_VERSION });
  const deps: EngineDeps = {
    campaignId: 'c1',
    plan: file,
    hosts: new Map(inv.hosts.map((h) => [h.name, h])),
    runbook: rb,
    vars,
    controller: null,
    executor,
    store,
    clock,
    log: pino({ level: 'silent' }),
    operator: 'sim',
    limiter: new MigrationLimiter(2, 1),
  };
  const outcome = await runInVirtualTime(clock, () => runCampaign(deps, { controlPollMs: 60_000 }));
  const errors = outcome.failed.map((g) => (store.groupSnapshot(g)!.snapshot as { context: { error: { message: string } } }).context.error.message);
  await runInVirtualTime(clock, () => store.close());
  return { outcome, fleet, sent, errors };
}

test('a VM another actor starts on a drained simulated host stops its group before the upgrade; nothing rebooted, the VM still running', async (t) => {
  let placed = false;
  const { outcome, fleet, errors } = await simulated(t, await runbook(), (f, h, argv) => {
    if (!placed && h === 'hv-2' && argv.join(' ') === 'virsh list --name') placed = !!f.placeVm('intruder', 'hv-2');
  });
  t.deepEqual(outcome.failed, ['hv-2']);
  t.regex(errors[0]!, /^upgrade on hv-2: requirement "no running or paused VM" does not hold .*seen: "intruder"/);
  const hv2 = fleet.hosts.get('hv-2')!;
  t.like(hv2, { upgrades: 0, reboots: 0, marker: true });
  t.true(hv2.vms.has('intruder'));
  t.false(fleet.harmed.has('intruder'));
  t.is(fleet.vms.get('vm-0')!.host, 'hv-1', 'hv-1 never drained onto a host that did not finish');
});

test('the simulated campaign finishes with the daemon probe and the marker of this campaign; the disable reason is removed at the end', async (t) => {
  const { outcome, fleet, sent, errors } = await simulated(t, await runbook());
  t.is(outcome.state, 'done', errors.join('\n'));
  for (const h of fleet.hosts.values()) t.like(h, { version: '1:2.0.0-1', daemonVersion: '1:2.0.0-1', marker: false, markerText: '', upgrades: 1, reboots: 1 });
  t.true(sent.some((a) => a.join(' ') === 'virsh version --daemon'));
  t.true(sent.some((a) => a[0] === 'sh' && a.at(-1) === 'hvroll:c1:hv-2'));
});

test('become: sudo in the simulator: every command goes through sudo -n --, and the campaign finishes', async (t) => {
  const { outcome, sent } = await simulated(t, await runbook((x) => x.replace('# become: sudo', 'become: sudo')));
  t.is(outcome.state, 'done');
  t.true(sent.length > 10);
  t.true(sent.every((a) => a.slice(0, 3).join(' ') === 'sudo -n --'));
});

test('a simulated host another campaign disabled is refused and keeps that campaign\'s marker', async (t) => {
  let set = false;
  const { outcome, fleet, errors } = await simulated(t, await runbook(), (f, h) => {
    if (!set && h === 'hv-2') set = (f.setMarker(f.hosts.get('hv-2')!, true, 'hvroll:other:hv-2'), true);
  });
  t.deepEqual(outcome.failed, ['hv-2']);
  t.regex(errors[0]!, /disabled by hvroll campaign other \(group hv-2\); it is not taken over/);
  t.like(fleet.hosts.get('hv-2')!, { marker: true, markerText: 'hvroll:other:hv-2', upgrades: 0 });
});
