// `hvroll simulate`: the real campaign engine (same machines, store, scheduler, runbook reconciles) against
// the simulated fleet in virtual time, and what it measured. One run per strategy; the naive placement runs
// the same way so the two can be compared.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { runCampaign, type CampaignFinal } from '../engine/campaign-runner.ts';
import { GROUP_MACHINE_VERSION } from '../machines/group-machine.ts';
import { loadInventory } from '../inventory/load.ts';
import { HvrollError, type InputIssue } from '../model/errors.ts';
import type { EstimateRules, Inventory } from '../model/inventory.ts';
import type { PlacementStrategy, PlanFile } from '../model/plan.ts';
import { planFingerprint } from '../plan-file/fingerprint.ts';
import { toPlanFile } from '../plan-file/plan-file.ts';
import { buildPlan } from '../planner/plan.ts';
import { loadRunbook } from '../runbook/load.ts';
import type { Runbook } from '../runbook/model.ts';
import { CampaignStore } from '../store/store.ts';
import { lowerBound, type LowerBound } from '../sim/bounds.ts';
import { InvariantChecker, poolLimits, type Violation, type ViolationKind } from '../sim/invariants.ts';
import { LibvirtCommands } from '../sim/libvirt-commands.ts';
import { meteredFs } from '../sim/metered-fs.ts';
import { runInVirtualTime } from '../sim/scheduler.ts';
import { SimExecutor } from '../sim/sim-executor.ts';
import { SimFleet } from '../sim/sim-fleet.ts';
import { SimTiming, type DirtyRateRule } from '../sim/timing.ts';
import { VirtualClock } from '../sim/virtual-clock.ts';
import { engineDeps } from './engine-deps.ts';
import { silentLogger } from './logging.ts';

export interface SimulateOptions {
  inventory: Inventory;
  runbook: Runbook;
  seed?: number;
  /** Share of migration attempts that fail. */
  migrationFailRate?: number;
  /** Share of hosts whose verification fails. */
  verifyFailRate?: number;
  /** Share of hosts whose upgrade fails (apt-get exits 100, the package half-configured). */
  upgradeFailRate?: number;
  spread?: number;
  /** Overrides of the estimates (flags); the runbook's durations come first. */
  estimates?: Partial<EstimateRules>;
  dirtyRates?: DirtyRateRule[];
  /** Runbook variables (`version` defaults to a simulated target version). */
  vars?: Record<string, string>;
  /** Where the stores go, one directory per run (`sim-<strategy>-<seed>`), kept. Default: a temp directory, removed after. */
  storeRoot?: string;
  /** fsync the store; default true when storeRoot is given, false for the throwaway temp store. */
  durable?: boolean;
  /** Also open the finished store again, as a resume would, and time it (in this process). */
  measureResume?: boolean;
  /** Called with the store directory after the campaign, before the store is closed (bench: resume probes). */
  beforeClose?: (dir: string) => Promise<void>;
  log?: Logger;
}

export interface SimRunReport {
  strategy: PlacementStrategy;
  hosts: number;
  vms: number;
  groups: number;
  waves: number;
  outcome: CampaignFinal;
  failedGroups: string[];
  outOfPool: number;
  makespanSeconds: number;
  lowerBound: LowerBound;
  /** makespan / T_LB. */
  makespanRatio: number;
  /** makespan / the rules-aware bound (order tiers in sequence, class limits as chains; src/sim/bounds.ts). */
  makespanRatioRules: number;
  plannedSeconds: number;
  migrations: { done: number; failedAttempts: number; planned: number; lowerBound: number; ratio: number; movedMoreThanOnce: number; movedMoreThanTwice: number };
  maintenance: { peak: number; kEff: number; limit: number };
  violations: Record<ViolationKind, number> & { total: number; examples: Violation[] };
  /** VMs not on the host the plan put them (only checked when the campaign finished). */
  placementMismatches: number | null;
  orchestrator: {
    cpuSeconds: number;
    wallSeconds: number;
    commands: number;
    checkpoints: number;
    /** Journal appends (each one write + fdatasync); checkpoints / appends is the group-commit factor. */
    appends: number;
    checkpointBytes: number;
    bytesPerCheckpoint: number;
    storeMsPerCheckpoint: number;
    /** The part of storeMsPerCheckpoint spent appending (the rest: compactions, i.e. snapshot and history files). */
    appendMsPerCheckpoint: number;
    cpuMsPerCheckpoint: number;
    virtualInstants: number;
    /** After the run: open the store for writing (lock, epoch) as `hvroll resume` does. */
    resumeOpenMs: number | null;
    /** resumeOpenMs plus restoring every group machine from its saved snapshot. */
    resumeRestoreMs: number | null;
    /** Before the clean close: read the store as a kill -9 leaves it (snapshot + the journal since it). */
    tailOpenMs: number | null;
  };
}

export interface SimReport {
  seed: number;
  settings: { spread: number; migrationFailRate: number; verifyFailRate: number; upgradeFailRate: number; estimates: EstimateRules };
  runs: SimRunReport[];
  /** upgrade-aware over naive, when both ran. */
  comparison: { migrations: number; makespan: number } | null;
}

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

function simVars(runbook: Runbook, given: Record<string, string> = {}): Record<string, string> {
  const vars: Record<string, string> = { ...runbook.vars, ...given };
  for (const k of runbook.required) if (!vars[k]) vars[k] = k === 'version' ? '2.0.0-sim' : 'simulated';
  return vars;
}

function planFor(o: SimulateOptions, strategy: PlacementStrategy): PlanFile {
  const plan = buildPlan(o.inventory, { strategy, estimates: { ...o.runbook.durations, ...o.estimates } });
  if (!plan.summary.runnable) {
    const p = plan.problems[0];
    throw new HvrollError('infeasible-plan', `the ${strategy} plan cannot run: ${plan.problems.length} problem(s), e.g. ${p?.message ?? '?'}; nothing to simulate`, {
      details: { fix: p?.fix ?? 'see hvroll plan' },
    });
  }
  return toPlanFile(plan, {
    fingerprint: planFingerprint(o.inventory, plan.settings, o.runbook.text),
    inputs: { inventory: o.inventory.sources, ansible: null, runbook: o.runbook.file },
  });
}

export async function simulateOnce(o: SimulateOptions, strategy: PlacementStrategy): Promise<SimRunReport> {
  if (o.runbook.platform !== 'libvirt') {
    throw new HvrollError('usage', `the simulator models libvirt hosts; ${o.runbook.file} is for ${o.runbook.platform}. Use runbooks/libvirt.yaml`);
  }
  const plan = planFor(o, strategy);
  const seed = o.seed ?? 1;
  const timing = new SimTiming({
    estimates: plan.settings.estimates,
    ...(o.dirtyRates ? { dirtyRates: o.dirtyRates } : {}),
    spread: o.spread ?? 0,
    seed,
    migrationFailRate: o.migrationFailRate ?? 0,
    verifyFailRate: o.verifyFailRate ?? 0,
    upgradeFailRate: o.upgradeFailRate ?? 0,
  });
  const bound = lowerBound(plan, o.inventory, timing);
  const clock = new VirtualClock();
  const start = clock.now();
  const checker = new InvariantChecker(o.inventory, poolLimits(plan), () => clock.now() - start);
  const fleet = new SimFleet(o.inventory, checker);
  const vars = simVars(o.runbook, o.vars);
  const model = new LibvirtCommands(fleet, timing, { package: vars.package ?? 'libvirt-daemon-system', maintenanceFile: vars.maintenanceFile ?? '/var/lib/hvroll/maintenance' }, (ms, fire) => clock.at(ms, fire), () => clock.now());
  const executor = new SimExecutor(fleet, model, clock);

  const tempRoot = o.storeRoot === undefined ? await mkdtemp(join(tmpdir(), 'hvroll-sim-')) : null;
  const campaignId = `sim-${strategy}-${seed}`;
  const dir = join(o.storeRoot ?? tempRoot!, campaignId);
  const { fs, meter } = meteredFs(o.durable ?? o.storeRoot !== undefined);
  const operator = 'simulator';
  const store = await CampaignStore.create(dir, { campaignId, operator, plan, planFingerprint: plan.fingerprint, machineVersion: GROUP_MACHINE_VERSION }, { fs, now: () => new Date(clock.now()) });
  try {
    await store.recordAudit({ at: new Date(clock.now()).toISOString(), operator, action: 'simulate', details: { strategy, seed, runbook: o.runbook.file, vars } });
    // The simulated operator approves up front: approval waits are the operator's time, not the campaign's.
    for (const g of plan.groups) if (g.approval) await store.recordApproval({ group: g.name, operator, at: new Date(clock.now()).toISOString(), comment: 'simulated' });
    const deps = engineDeps({ campaignId, plan, inventory: o.inventory, runbook: o.runbook, vars, executor, store, clock, log: o.log ?? silentLogger(), operator });
    const before = { bytes: meter.bytes, records: meter.records, ms: meter.ms, appendMs: meter.appendMs, appends: meter.appends };
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    const stats = { steps: 0 };
    // Operator requests (pause/abort files) are still honoured, looked for once a virtual minute.
    const outcome = await runInVirtualTime(clock, () => runCampaign(deps, { controlPollMs: 60_000 }), stats);
    const cpu = process.cpuUsage(cpu0);
    const wallSeconds = (performance.now() - wall0) / 1000;
    const makespanSeconds = (clock.now() - start) / 1000;
    const checkpoints = meter.records - before.records;
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;

    let moreThanOnce = 0;
    let moreThanTwice = 0;
    for (const v of fleet.vms.values()) {
      if (v.moves > 1) moreThanOnce++;
      if (v.moves > 2) moreThanTwice++;
    }
    let mismatches: number | null = null;
    if (outcome.state === 'done') {
      const want = new Map<string, string>(o.inventory.vms.map((v) => [v.name, v.host]));
      for (const g of plan.groups) for (const m of g.moves) want.set(m.vm, m.to);
      mismatches = 0;
      for (const v of fleet.vms.values()) if (v.host !== want.get(v.name)) mismatches++;
    }
    const report: SimRunReport = {
      strategy,
      hosts: o.inventory.hosts.length,
      vms: o.inventory.vms.length,
      groups: plan.groups.length,
      waves: plan.waves.length,
      outcome: outcome.state,
      failedGroups: outcome.failed,
      outOfPool: outcome.outOfPool.length,
      makespanSeconds: round(makespanSeconds, 1),
      lowerBound: { ...bound, seconds: round(bound.seconds, 1), workSeconds: round(bound.workSeconds, 1), longestHostSeconds: round(bound.longestHostSeconds, 1), migrationSeconds: round(bound.migrationSeconds, 1), rulesSeconds: round(bound.rulesSeconds, 1), tiers: bound.tiers.map((x) => ({ ...x, seconds: round(x.seconds, 1), chain: x.chain && { ...x.chain, seconds: round(x.chain.seconds, 1) } })) },
      makespanRatio: round(makespanSeconds / bound.seconds),
      makespanRatioRules: round(makespanSeconds / bound.rulesSeconds),
      plannedSeconds: plan.summary.estimatedSeconds,
      migrations: {
        done: fleet.migrations,
        failedAttempts: fleet.failedMigrations,
        planned: plan.summary.migrations,
        lowerBound: plan.summary.migrationsLowerBound,
        ratio: round(fleet.migrations / Math.max(1, plan.summary.migrationsLowerBound)),
        movedMoreThanOnce: moreThanOnce,
        movedMoreThanTwice: moreThanTwice,
      },
      maintenance: { peak: checker.peakMaintenance, kEff: bound.kEff, limit: checker.maintenanceLimit },
      violations: { ...checker.counts, total: checker.total, examples: checker.examples },
      placementMismatches: mismatches,
      orchestrator: {
        cpuSeconds: round(cpuSeconds, 2),
        wallSeconds: round(wallSeconds, 2),
        commands: executor.commands,
        checkpoints,
        appends: meter.appends - before.appends,
        checkpointBytes: meter.bytes - before.bytes,
        bytesPerCheckpoint: round((meter.bytes - before.bytes) / Math.max(1, checkpoints), 1),
        storeMsPerCheckpoint: round((meter.ms - before.ms) / Math.max(1, checkpoints), 4),
        appendMsPerCheckpoint: round((meter.appendMs - before.appendMs) / Math.max(1, checkpoints), 4),
        cpuMsPerCheckpoint: round((cpuSeconds * 1000) / Math.max(1, checkpoints), 4),
        virtualInstants: stats.steps,
        resumeOpenMs: null,
        resumeRestoreMs: null,
        tailOpenMs: null,
      },
    };
    // The store as a kill -9 would leave it (snapshot + the journal since it), for whoever wants to look.
    if (o.beforeClose) await o.beforeClose(dir);
    await store.close();
    if (o.measureResume) {
      const t0 = performance.now();
      const again = await CampaignStore.open(dir, { fs });
      report.orchestrator.resumeOpenMs = round(performance.now() - t0, 1);
      await again.close();
    }
    return report;
  } finally {
    await store.close().catch(() => undefined);
    if (tempRoot !== null) await rm(tempRoot, { recursive: true, force: true });
  }
}

export type StrategyChoice = PlacementStrategy | 'both';

/** `hvroll simulate`: the inventory and runbook files, loaded (`warn` hears the inventory's warnings), then simulated. */
export async function simulateFiles(files: { inventory: string[]; runbook: string }, o: Omit<SimulateOptions, 'inventory' | 'runbook'>, choice: StrategyChoice, warn: (issue: InputIssue) => void): Promise<SimReport> {
  const { inventory, warnings } = await loadInventory(files.inventory);
  for (const w of warnings) warn(w);
  const runbook = await loadRunbook(files.runbook);
  return simulate({ ...o, inventory, runbook }, choice);
}

export async function simulate(o: SimulateOptions, choice: StrategyChoice): Promise<SimReport> {
  const strategies: PlacementStrategy[] = choice === 'both' ? ['upgrade-aware', 'naive'] : [choice];
  const runs: SimRunReport[] = [];
  for (const s of strategies) runs.push(await simulateOnce(o, s));
  const ours = runs.find((r) => r.strategy === 'upgrade-aware');
  const naive = runs.find((r) => r.strategy === 'naive');
  const estimates = buildEstimates(o);
  return {
    seed: o.seed ?? 1,
    settings: { spread: o.spread ?? 0, migrationFailRate: o.migrationFailRate ?? 0, verifyFailRate: o.verifyFailRate ?? 0, upgradeFailRate: o.upgradeFailRate ?? 0, estimates },
    runs,
    comparison: ours && naive ? { migrations: round(ours.migrations.done / Math.max(1, naive.migrations.done)), makespan: round(ours.makespanSeconds / Math.max(1e-9, naive.makespanSeconds)) } : null,
  };
}

function buildEstimates(o: SimulateOptions): EstimateRules {
  return { ...o.inventory.rules.estimates, ...o.runbook.durations, ...o.estimates } as EstimateRules;
}
