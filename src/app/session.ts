// Starting and resuming a campaign: everything between "an operator typed a command" and "the engine runs".
// Checks the plan is the one reviewed (fingerprint of its inputs, then planned again from them and compared),
// the runbook and its variables, seals the plan into the store (resume checks that seal), opens the store (the
// lock makes a second runner fail here), and builds the SSH executor. No host is contacted before all checks
// pass; a refused attempt is audited.

import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { appendStateAudit, refusalEvent, stateAuditPath, type RefusalAction } from '../audit/state-audit.ts';
import type { Executor, HostRef } from '../executor/executor.ts';
import { loadInventory } from '../inventory/load.ts';
import { GROUP_MACHINE_VERSION } from '../machines/group-machine.ts';
import { HvrollError } from '../model/errors.ts';
import type { Inventory, NotificationTarget } from '../model/inventory.ts';
import type { PlanFile } from '../model/plan.ts';
import { planFingerprint } from '../plan-file/fingerprint.ts';
import { readPlanFile } from '../plan-file/plan-file.ts';
import { checkRederived } from '../plan-file/rederive.ts';
import { sealPlan } from '../plan-file/seal.ts';
import { loadRunbook } from '../runbook/load.ts';
import type { Runbook } from '../runbook/model.ts';
import { campaignDir } from '../store/paths.ts';
import { CampaignStore } from '../store/store.ts';
import type { Clock } from '../engine/clock.ts';
import { crashPoint } from './crash-point.ts';
import { engineDeps, type EngineParts } from './engine-deps.ts';
import type { EngineDeps } from '../engine/deps.ts';
import type { Env } from './env.ts';
import { buildSshExecutor, type SshSettings } from './ssh.ts';
import { checkStoredPlan } from './stored-plan.ts';

export interface SessionOptions {
  stateRoot: string;
  operator: string;
  log: Logger;
  /** Built from the SSH settings unless given (tests, the simulator). */
  executor?: Executor;
  ssh?: SshSettings;
  /** Where SSH_AUTH_SOCK, HVROLL_SSH_PASSPHRASE and HOME are read (default: this process's). */
  env?: Env;
  controller?: HostRef | null;
  clock?: Clock;
  /**
   * Checks the inventory's notification targets with any others (a --notify file; `env:` URLs must resolve)
   * before the campaign starts: a failure is a refused attempt, audited like the others.
   */
  checkNotifications?: (targets: NotificationTarget[]) => void | Promise<void>;
}

export interface Session {
  deps: EngineDeps;
  /** Chat targets from the inventory's rules (URLs unresolved: `env:` references stay as written). */
  notifications: NotificationTarget[];
  close(): Promise<void>;
}

const sha256 = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

/** `--set name=value` pairs over the runbook's defaults; every required variable must end up non-empty. */
export function runbookVars(runbook: Runbook, sets: Record<string, string>): Record<string, string> {
  const unknown = Object.keys(sets).filter((k) => !(k in runbook.vars) && !runbook.required.includes(k));
  if (unknown.length > 0) {
    throw new HvrollError('usage', `--set ${unknown.join(', ')}: not a variable of ${runbook.file} (it has: ${[...new Set([...Object.keys(runbook.vars), ...runbook.required])].join(', ')})`);
  }
  const vars = { ...runbook.vars, ...sets };
  const missing = runbook.required.filter((k) => !vars[k]);
  if (missing.length > 0) throw new HvrollError('usage', `${runbook.file} needs ${missing.map((k) => `--set ${k}=…`).join(' ')} (e.g. the package version to upgrade to)`);
  return vars;
}

/** The executor given (tests, the simulator), or the SSH executor built from the settings. */
function executorFor(o: SessionOptions): Executor {
  return o.executor ?? buildSshExecutor(o.ssh ?? {}, { env: o.env ?? process.env, log: o.log });
}

/** The engine's dependencies for this session (app/engine-deps.ts), with the fault matrix's checkpoints. */
function deps(o: SessionOptions, parts: Omit<EngineParts, 'log' | 'operator' | 'clock' | 'controller' | 'checkpoint'>): EngineDeps {
  return engineDeps({ ...parts, log: o.log, operator: o.operator, controller: o.controller ?? null, checkpoint: crashPoint, ...(o.clock ? { clock: o.clock } : {}) });
}

export interface StartOptions extends SessionOptions {
  planPath: string;
  runbookPath?: string;
  sets: Record<string, string>;
  campaignId?: string;
}

/**
 * Checks everything, creates the campaign store and records the run. A refusal (stale or altered plan, plan
 * that cannot run, unknown --set, …) is recorded in the state root's audit file: there is no campaign yet.
 */
export async function startCampaign(o: StartOptions): Promise<Session> {
  try {
    return await start(o);
  } catch (e) {
    await recordRefusal(o, 'run-refused', { plan: resolve(o.planPath) }, e);
    throw e;
  }
}

async function start(o: StartOptions): Promise<Session> {
  const plan = await readPlanFile(o.planPath);
  const runbookPath = o.runbookPath ?? plan.inputs.runbook;
  if (!runbookPath) throw new HvrollError('usage', `${o.planPath} was planned without a runbook: plan again with --runbook runbooks/<platform>.yaml`);
  const runbook = await loadRunbook(runbookPath);
  const { inventory } = await loadInventory(plan.inputs.inventory, plan.inputs.ansible ? { ansible: plan.inputs.ansible } : {});
  // The inputs first (the message names them), then what the plan file makes of them, then whether it can run:
  // an edited `summary.runnable` or `problems` is reported as the edit it is.
  checkFingerprint(o.planPath, plan, inventory, runbook, runbookPath);
  checkRederived(plan, inventory, o.planPath);
  if (!plan.summary.runnable) {
    throw new HvrollError('infeasible-plan', `${o.planPath} cannot run: ${plan.problems.length} problem(s), e.g. ${plan.problems[0]?.message ?? 'see hvroll plan'}. Fix them and plan again.`);
  }
  const vars = runbookVars(runbook, o.sets);
  await o.checkNotifications?.(inventory.rules.notifications ?? []);
  const campaignId = o.campaignId ?? `${new Date().toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-')}-${plan.fingerprint.slice(7, 15)}`;
  const executor = executorFor(o);
  // Stored as canonical JSON, so resume checks it against the seal by hashing its bytes.
  const sealed = sealPlan(plan);
  let store: CampaignStore;
  try {
    store = await CampaignStore.create(campaignDir(o.stateRoot, campaignId), {
      campaignId,
      operator: o.operator,
      plan,
      planJson: sealed.json,
      planFingerprint: plan.fingerprint,
      planSeal: sealed.seal,
      start: { plan: o.planPath, runbook: runbookPath, runbookSha: sha256(runbook.text), vars },
      machineVersion: GROUP_MACHINE_VERSION,
    });
  } catch (e) {
    await executor.close();
    throw e;
  }
  crashPoint('created');
  try {
    await store.recordAudit({
      at: new Date().toISOString(),
      operator: o.operator,
      action: 'run',
      details: { plan: o.planPath, runbook: runbookPath, runbookSha: sha256(runbook.text), vars, planSeal: sealed.seal },
    });
  } catch (e) {
    await executor.close();
    await store.close();
    throw e;
  }
  return {
    deps: deps(o, { campaignId, plan, inventory, runbook, vars, store, executor }),
    notifications: inventory.rules.notifications ?? [],
    close: async () => {
      await executor.close();
      await store.close();
    },
  };
}

/** The fingerprint is over the inputs and the settings the plan records of its options (strategy, estimates). */
function checkFingerprint(planPath: string, plan: PlanFile, inventory: Inventory, runbook: Runbook, runbookPath: string): void {
  const now = planFingerprint(inventory, plan.settings, runbook.text);
  if (now === plan.fingerprint) return;
  throw new HvrollError(
    'stale-plan',
    `stale or altered plan: ${planPath} no longer matches its inputs: ${[...plan.inputs.inventory, runbookPath].join(', ')} changed since it was planned, or the plan's settings.strategy or settings.estimates were edited. Nothing was run.`,
    { details: { file: planPath, planned: plan.fingerprint, now, fix: 'plan again (hvroll plan … --out <file>) and review the new plan' } },
  );
}

export interface ResumeOptions extends SessionOptions {
  campaignId: string;
  runbookPath?: string;
  /** false: open the campaign to act on it without resuming it (`hvroll release` audits its own action). */
  auditResume?: boolean;
}

interface RunRecord {
  plan: string;
  runbook: string;
  runbookSha: string;
  vars: Record<string, string>;
  planSeal?: string;
}

/**
 * Opens the campaign's store (the lock makes a second runner fail here), checks the stored plan against its
 * seal and the runbook against its hash. A refusal is recorded in the campaign's audit trail when the store is
 * open for writing, else (damaged, locked by another runner, missing) in the state root's audit file.
 */
export async function resumeCampaign(o: ResumeOptions): Promise<Session> {
  const store = await openForResume(o);
  let executor: Executor | null = null;
  try {
    const plan = store.plan();
    // campaign.json holds it since it was written with the store; older stores have only the run record.
    const run = store.meta().start ?? (store.audit().find((a) => a.action === 'run')?.details as RunRecord | undefined);
    if (!run) throw new HvrollError('store', `campaign ${o.campaignId} has no record of how it was started; it cannot be resumed safely`);
    await checkStoredPlan(store, o.campaignId);
    const runbook = await loadRunbook(o.runbookPath ?? run.runbook);
    if (sha256(runbook.text) !== run.runbookSha) {
      throw new HvrollError('stale-plan', `the runbook ${runbook.file} changed since campaign ${o.campaignId} started; resume with the original runbook (the campaign must finish with the commands it started with)`);
    }
    const inventory = await loadInventory(plan.inputs.inventory, plan.inputs.ansible ? { ansible: plan.inputs.ansible } : {}).then(
      (loaded) => loaded.inventory,
      () => null,
    );
    if (!inventory) throw new HvrollError('usage', `cannot read the inventory of campaign ${o.campaignId} (${plan.inputs.inventory.join(', ')}): hvroll needs it for host addresses`);
    await o.checkNotifications?.(inventory.rules.notifications ?? []);
    const ssh = executorFor(o);
    executor = ssh;
    if (o.auditResume !== false) await store.recordAudit({ at: new Date().toISOString(), operator: o.operator, action: 'resume' });
    return {
      deps: deps(o, { campaignId: o.campaignId, plan, inventory, runbook, vars: run.vars, store, executor: ssh }),
      notifications: inventory.rules.notifications ?? [],
      close: async () => {
        await ssh.close();
        await store.close();
      },
    };
  } catch (e) {
    await recordRefusal(o, 'resume-refused', { campaign: o.campaignId }, e, store);
    await executor?.close();
    await store.close();
    throw e;
  }
}

/** Opens the store for writing; a store that cannot be opened (damaged, locked, missing) cannot take the refusal either. */
async function openForResume(o: ResumeOptions): Promise<CampaignStore> {
  try {
    return await CampaignStore.open(campaignDir(o.stateRoot, o.campaignId));
  } catch (e) {
    await recordRefusal(o, 'resume-refused', { campaign: o.campaignId }, e);
    throw e;
  }
}

/** Where a refused attempt is recorded: the campaign's own trail if its store is open for writing, else the state root's file. */
async function recordRefusal(o: SessionOptions, action: RefusalAction, subject: { plan: string } | { campaign: string }, error: unknown, store?: CampaignStore): Promise<void> {
  const event = refusalEvent(new Date().toISOString(), o.operator, action, subject, error);
  if (store !== undefined && !store.readOnly) {
    try {
      await store.recordAudit(event);
      return;
    } catch (e) {
      o.log.warn({ err: e }, `could not record the refused ${action.replace('-refused', '')} in the campaign's audit trail; recording it in the state audit file`);
    }
  }
  try {
    await appendStateAudit(o.stateRoot, event);
  } catch (e) {
    o.log.error({ err: e }, `could not record the refused ${action.replace('-refused', '')} in ${stateAuditPath(o.stateRoot)}`);
  }
}
