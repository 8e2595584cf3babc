// A simulated campaign (the real engine, store and runbook against the simulated fleet in virtual time) that
// can be "killed -9" at any command boundary and resumed in the same process, as often as wanted.
//
// A kill abandons the running engine the way a dead process would be abandoned: from that instant its
// executor, clock and filesystem never answer again (every call hangs), its SSH sessions drop (every command
// it has in flight on a host is cancelled there, like sshd hanging up on a dead client), and its lock stays
// behind. Writes it issued before dying still land. Resume is what an operator does: break the stale lock
// (audited), open the store with a fresh engine, run the campaign again. Nothing of the engine is changed.
//
// The independent checker (invariants.ts) sees every command as it reaches a host, and checks the world
// against the journal after every journalled event.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { runCampaign, type CampaignOutcome } from '../../src/engine/campaign-runner.ts';
import type { Clock } from '../../src/engine/clock.ts';
import { engineDeps } from '../../src/app/engine-deps.ts';
import type { CommandResult, CommandSpec, Executor, HostRef, WaitForHostOptions } from '../../src/executor/executor.ts';
import { mulberry32, pick } from '../../src/fleet/random.ts';
import { GROUP_MACHINE_VERSION } from '../../src/machines/group-machine.ts';
import type { Inventory } from '../../src/model/inventory.ts';
import type { PlanFile } from '../../src/model/plan.ts';
import { planFingerprint } from '../../src/plan-file/fingerprint.ts';
import { toPlanFile } from '../../src/plan-file/plan-file.ts';
import { buildPlan } from '../../src/planner/plan.ts';
import type { Runbook } from '../../src/runbook/model.ts';
import { InvariantChecker as CapacityChecker, poolLimits } from '../../src/sim/invariants.ts';
import { LibvirtCommands } from '../../src/sim/libvirt-commands.ts';
import { runInVirtualTime } from '../../src/sim/scheduler.ts';
import { SimExecutor } from '../../src/sim/sim-executor.ts';
import { SimFleet } from '../../src/sim/sim-fleet.ts';
import { SimTiming } from '../../src/sim/timing.ts';
import { VirtualClock } from '../../src/sim/virtual-clock.ts';
import { nodeFs, type StoreFs } from '../../src/store/fs.ts';
import type { LockEnv } from '../../src/store/lock.ts';
import { breakLock, CampaignStore } from '../../src/store/store.ts';
import { InvariantChecker, isProgressPoll, poolRules, type JournalFacts, type World } from './invariants.ts';

const NEVER = new Promise<never>(() => undefined);

/** One run of the engine (a process): once `dead`, nothing it does reaches the world again. */
class Incarnation {
  dead = false;
  readonly sessions = new AbortController();
  private onKill: (() => void) | null = null;
  readonly killed = new Promise<'killed'>((resolve) => (this.onKill = () => resolve('killed')));

  constructor(readonly pid: number) {}

  kill(): void {
    if (this.dead) return;
    this.dead = true;
    this.sessions.abort(new Error('the hvroll process died'));
    this.onKill!();
  }

  /** `p`'s result, or never when the process died meanwhile. */
  gate<T>(p: Promise<T>): Promise<T> {
    if (this.dead) return NEVER;
    return p.then(
      (v) => (this.dead ? NEVER : v),
      (e: unknown) => (this.dead ? NEVER : Promise.reject(e)),
    );
  }

  /** `onAppend` is asked before and after every journal append whether the process dies right there. */
  fs(base: StoreFs, onAppend: (where: 'before' | 'after') => boolean = () => false): StoreFs {
    const wrap = <T extends object>(target: T, appends: boolean): T =>
      new Proxy(target, {
        get: (t, key) => {
          const v = Reflect.get(t, key) as unknown;
          if (typeof v !== 'function') return v;
          const call = (...args: unknown[]) => Promise.resolve((v as (...a: unknown[]) => unknown).apply(t, args));
          if (appends && key === 'append') {
            return (...args: unknown[]) => (this.dead || onAppend('before') ? NEVER : this.gate(call(...args)).then((r) => (onAppend('after') ? NEVER : r)));
          }
          return (...args: unknown[]) => (this.dead ? NEVER : this.gate(key === 'openAppend' ? call(...args).then((f) => wrap(f as object, true)) : call(...args)));
        },
      });
    return wrap(base, false);
  }

  clock(base: VirtualClock): Clock {
    return { now: () => base.now(), sleep: (ms, signal) => this.gate(base.sleep(ms, signal)) };
  }

  lockEnv(alive: () => number): LockEnv {
    return { hostname: 'sim-controller', pid: this.pid, isAlive: (pid) => pid === alive() };
  }
}

export interface CrashRunOptions {
  inventory: Inventory;
  runbook: Runbook;
  seed: number;
  /** Kill the engine on average once every this many command boundaries (before and after each command). */
  killEvery: number;
  /** At most this many kills in this campaign. */
  maxKills: number;
  migrationFailRate?: number;
  /** Share of migrations cut short in their last phase (a paused copy left on the source, virsh fails). */
  migrationCutShortRate?: number;
  /** Share of hosts whose verification fails after the upgrade (libvirtd does not come back). */
  verifyFailRate?: number;
  /** Share of hosts whose upgrade fails: apt-get exits 100, the package left half-configured at the new version. */
  upgradeFailRate?: number;
  /** Hosts disabled by somebody else before the campaign (they must stay so). */
  preDisabled?: string[];
  /** Also kill right before and after store appends. */
  killInWrites?: boolean;
  /** Virtual time that passes between a kill and its resume (nothing may expire meanwhile: locks, drain records). */
  downtimeMs?: number;
}

export interface CrashRunReport {
  kills: number;
  killsBefore: number;
  killsAfter: number;
  /** Kills right before or right after a store append (a record written, its writer never told). */
  killsInWrites: number;
  /** Commands journalled without an outcome by a killed run (intent written, result never recorded). */
  openIntentsAtResume: number;
  incarnations: number;
  outcome: CampaignOutcome;
  checker: InvariantChecker;
  capacityViolations: number;
  /** The first of them, in words. */
  capacityExamples: string[];
  commands: number;
  /** Commands that removed a stopped copy an interrupted migration left (journal step migrate:leftover). */
  leftoverCommands: number;
  plan: PlanFile;
}

function planFor(inventory: Inventory, runbook: Runbook): PlanFile {
  const plan = buildPlan(inventory, { estimates: { ...runbook.durations } });
  if (!plan.summary.runnable) throw new Error(`plan not runnable: ${JSON.stringify(plan.problems.slice(0, 2))}`);
  return toPlanFile(plan, { fingerprint: planFingerprint(inventory, plan.settings, runbook.text), inputs: { inventory: inventory.sources, ansible: null, runbook: runbook.file } });
}

function simWorld(fleet: SimFleet): World {
  return {
    hosts: () =>
      [...fleet.hosts.values()].map((h) => ({
        name: h.name,
        disabled: h.marker,
        version: h.version,
        packageConfigured: h.status === 'ii ',
        libvirtd: h.libvirtd,
        bootId: fleet.bootId(h),
        upgrades: h.upgrades,
        reboots: h.reboots,
      })),
    vms: () => {
      const on = new Map<string, string[]>();
      for (const h of fleet.hosts.values()) for (const vm of h.vms) on.set(vm, [...(on.get(vm) ?? []), h.name]);
      return [...fleet.vms.values()].map((v) => {
        const remnant = fleet.remnants.get(v.name);
        // A destroyed or undefined running copy is a lost VM, wherever the fleet still files it.
        return { name: v.name, on: fleet.harmed.has(v.name) ? [] : (on.get(v.name) ?? []), migratingTo: v.migratingTo, stoppedCopies: remnant ? [remnant.host] : [] };
      });
    },
  };
}

export async function crashingCampaign(o: CrashRunOptions): Promise<CrashRunReport> {
  const plan = planFor(o.inventory, o.runbook);
  const random = mulberry32(o.seed);
  const vars: Record<string, string> = { ...o.runbook.vars, version: '2.0.0-sim' };
  const timing = new SimTiming({
    estimates: plan.settings.estimates,
    spread: 0.3,
    seed: o.seed,
    migrationFailRate: o.migrationFailRate ?? 0,
    migrationCutShortRate: o.migrationCutShortRate ?? 0,
    verifyFailRate: o.verifyFailRate ?? 0,
    upgradeFailRate: o.upgradeFailRate ?? 0,
  });
  const clock = new VirtualClock();
  const largest = Math.max(...plan.groups.map((g) => g.hosts.length));
  const limit = plan.settings.concurrency.groups * largest;
  const capacity = new CapacityChecker(o.inventory, poolLimits(plan), () => clock.now());
  const fleet = new SimFleet(o.inventory, capacity);
  for (const name of o.preDisabled ?? []) fleet.hosts.get(name)!.marker = true;
  const model = new LibvirtCommands(fleet, timing, { package: vars.package!, maintenanceFile: vars.maintenanceFile! }, (ms, fire) => clock.at(ms, fire), () => clock.now());
  const world = new SimExecutor(fleet, model, clock);
  const overcommit = o.inventory.rules.cpuOvercommit;
  const checker = new InvariantChecker({
    world: simWorld(fleet),
    targetVersion: vars.version!,
    capacity: new Map(o.inventory.hosts.map((h) => [h.name, { memoryMiB: h.capacity.memoryMiB, vcpus: h.capacity.vcpus * overcommit }])),
    sizes: new Map(o.inventory.vms.map((v) => [v.name, { memoryMiB: v.memoryMiB, vcpus: v.vcpus }])),
    outOfPoolLimit: limit,
    pool: poolRules(plan, o.inventory),
    marker: vars.maintenanceFile!,
    pkg: vars.package!,
  });

  const root = await mkdtemp(join(tmpdir(), 'hvroll-crash-'));
  const dir = join(root, 'campaign');
  const campaignId = `crash-${o.seed}`;
  let live = 0;
  const openSeen = new Set<number>();
  let boundary = 0;
  let nextKill = 1 + pick(random, 2 * o.killEvery);
  const report = { kills: 0, killsBefore: 0, killsAfter: 0, killsInWrites: 0, openIntentsAtResume: 0, incarnations: 0 };
  try {
    for (let n = 1; ; n++) {
      const me = new Incarnation(1_000_000 + n);
      live = me.pid;
      report.incarnations++;
      // Store appends are kill points too, once the campaign runs (not while the harness creates or reopens it).
      let running = false;
      const fs = me.fs(nodeFs, () => running && o.killInWrites === true && killHere('write'));
      const storeOpts = { fs, lockEnv: me.lockEnv(() => live), now: () => new Date(clock.now()) };
      const store = await runInVirtualTime(clock, async () => {
        if (n === 1) {
          const s = await CampaignStore.create(dir, { campaignId, operator: 'tester', plan, planFingerprint: plan.fingerprint, machineVersion: GROUP_MACHINE_VERSION }, storeOpts);
          for (const g of plan.groups) if (g.approval) await s.recordApproval({ group: g.name, operator: 'approver', at: new Date(clock.now()).toISOString() });
          return s;
        }
        if (o.downtimeMs) await clock.sleep(o.downtimeMs);
        // What the operator does after a crash: the stale lock is refused until broken explicitly.
        await breakLock(dir, 'tester', { ...storeOpts, reason: 'fault matrix: the previous run was killed' });
        const s = await CampaignStore.open(dir, storeOpts);
        for (const e of s.openIntents()) openSeen.add(e.id);
        report.openIntentsAtResume = openSeen.size;
        return s;
      });
      // The journal as the store holds it (what a killed run wrote and never made durable is not there),
      // then kept up to date with every record this run adds: checked after every journalled event.
      const journal = new Map<number, JournalFacts>();
      for (const e of await runInVirtualTime(clock, () => Promise.resolve(store.journal()))) journal.set(e.id, { ...e });
      const entries = () => [...journal.values()];
      checker.state(entries());
      const intent = store.journalIntent.bind(store);
      const outcome = store.journalOutcome.bind(store);
      store.journalIntent = async (e) => {
        const id = await intent(e);
        journal.set(id, { ...e, id });
        checker.state(entries());
        return id;
      };
      store.journalOutcome = async (id, e) => {
        await outcome(id, e);
        journal.get(id)!.outcome = e;
        checker.state(entries());
      };

      function killHere(where: 'before' | 'after' | 'write'): boolean {
        // Two commands may finish in one instant: the second finds the process already dead.
        if (me.dead) return true;
        if (report.kills >= o.maxKills || ++boundary < nextKill) return false;
        nextKill = boundary + 1 + pick(random, 2 * o.killEvery);
        report.kills++;
        report[where === 'before' ? 'killsBefore' : where === 'after' ? 'killsAfter' : 'killsInWrites']++;
        me.kill();
        return true;
      }
      const executor: Executor = {
        run: async (ref: HostRef, cmd: CommandSpec): Promise<CommandResult> => {
          if (me.dead || killHere('before')) return NEVER;
          if (fleet.hosts.get(ref.name)?.up) checker.command(ref.name, cmd.argv);
          const signal = cmd.signal ? AbortSignal.any([cmd.signal, me.sessions.signal]) : me.sessions.signal;
          const r = await me.gate(world.run(ref, { ...cmd, signal }));
          if (killHere('after')) return NEVER;
          return r;
        },
        waitForHost: (ref: HostRef, w: WaitForHostOptions) => me.gate(world.waitForHost(ref, { ...w, signal: w.signal ? AbortSignal.any([w.signal, me.sessions.signal]) : me.sessions.signal })),
        close: () => Promise.resolve(),
      };
      const deps = engineDeps({ campaignId, plan, inventory: o.inventory, runbook: o.runbook, vars, executor, store, clock: me.clock(clock), log: pino({ level: 'silent' }), operator: 'tester' });
      running = true;
      const result = await runInVirtualTime(clock, () => Promise.race([runCampaign(deps, { controlPollMs: 60_000 }), me.killed]));
      running = false;
      if (result === 'killed') continue;
      await runInVirtualTime(clock, () => store.close());
      checker.state(entries());
      checker.argvMatchesJournal(entries(), isProgressPoll);
      checker.final({
        done: result.state === 'done' && result.failed.length === 0,
        reportedOutOfPool: result.outOfPool.map((x) => x.host),
        expectedPlacement: new Map([...o.inventory.vms.map((v) => [v.name, v.host] as const), ...plan.groups.flatMap((g) => g.moves.map((m) => [m.vm, m.to] as const))]),
      });
      const leftoverCommands = entries().filter((e) => e.step === 'migrate:leftover').length;
      const capacityExamples = capacity.examples.map((e) => `${e.kind} on ${e.host}: ${e.message}`);
      return { ...report, outcome: result, checker, capacityViolations: capacity.total, capacityExamples, commands: checker.commands, leftoverCommands, plan };
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
