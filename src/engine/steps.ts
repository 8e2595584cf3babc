// The implementations of the group machine's steps over a runbook and an Executor. Each one asks the hosts
// what is already true and does only what is missing, because a restored machine re-runs the step that was
// in flight. Deadlines are absolute, computed when the step starts.

import { fromPromise } from 'xstate';
import type { CommandResult, HostRef } from '../executor/executor.ts';
import type { ActiveStep, RollbackInput, RollbackOutput, StepInput } from '../machines/group-machine.ts';
import { errorOfKind, HvrollError } from '../model/errors.ts';
import { journalStep, journalStepName, MIGRATE_CONFIRMED, MIGRATE_CONFIRMED_STEP, PRE_DISABLED, PRE_DISABLED_STEP, type JournalStep } from '../model/journal.ts';
import { showName } from '../model/show-name.ts';
import type { Move, PlannedGroup } from '../model/plan.ts';
import type { Step, StepName } from '../runbook/model.ts';
import { render } from '../runbook/template.ts';
import { stepKey } from '../store/store.ts';
import { hostRef, stepValues, type EngineDeps } from './deps.ts';
import { compareWithPlan, describeUnknown } from './discovery.ts';
import { requirePowerSteps, shutDownByUs, shutDownVms, startVms } from './power-cycle.ts';
import { discoverVms } from './read-host.ts';
import { failingCheck, mustRequire, reconcile, type ReconcileOutcome, type StepTarget } from './reconcile.ts';
import { probeRemote, runRemote } from './remote.ts';
import { checkTargetRoom, whileDraining } from './target-room.ts';

/** The runbook step behind each active state of the group machine. */
export const STEP_OF: Record<ActiveStep, StepName> = {
  disabling: 'disable',
  draining: 'migrate',
  upgrading: 'upgrade',
  rebooting: 'reboot',
  verifying: 'verify',
  rejoining: 'enable',
};

/** Groups by name, per plan: looked up on every step, and a linear find is O(groups) at 20k hosts. */
const groupIndex = new WeakMap<EngineDeps['plan'], Map<string, PlannedGroup>>();

export function groupOf(deps: EngineDeps, name: string): PlannedGroup {
  let index = groupIndex.get(deps.plan);
  if (!index) groupIndex.set(deps.plan, (index = new Map(deps.plan.groups.map((x) => [x.name, x]))));
  const g = index.get(name);
  if (!g) throw new HvrollError('internal', `group ${name} is not in the plan`);
  return g;
}

const values = stepValues;

function stepDeadline(deps: EngineDeps, step: Step | undefined, hosts = 1): number {
  return deps.clock.now() + (step?.timeoutSeconds ?? 120) * 1000 * Math.max(1, hosts);
}

/**
 * Settle every item's work (hosts, or the VMs of a drain); if any failed, throw one error that names them all
 * (the step is retried whole). `hostOf` maps an item to its host, so `details.hosts` always names hosts.
 */
async function forEachHost(items: readonly string[], work: (item: string) => Promise<unknown>, hostOf?: (item: string) => string): Promise<void> {
  const results = await Promise.allSettled(items.map(work));
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ item: items[i]!, error: r.reason as unknown }] : []));
  if (failed.length === 0) return;
  if (failed.length === 1) throw failed[0]!.error;
  const retryable = failed.every((f) => f.error instanceof HvrollError && f.error.retryable);
  const hosts = [...new Set(failed.map((f) => hostOf?.(f.item) ?? f.item))];
  throw new HvrollError('remote', failed.map((f) => `${f.item}: ${f.error instanceof Error ? f.error.message : String(f.error)}`).join('; '), {
    retryable,
    details: { hosts, ...(hostOf ? { vms: failed.map((f) => f.item) } : {}) },
  });
}

async function backoff(deps: EngineDeps, step: Step | undefined, attempt: number, signal: AbortSignal): Promise<void> {
  if (attempt > 0 && step) await deps.clock.sleep(step.retryDelaySeconds * 1000 * attempt, signal);
}


/** The typed fields of one of hvroll's own records (no command behind it). */
const record = (s: JournalStep) => ({ probe: s.probe!, effect: s.effect });

/** The host was out of the pool before this campaign touched it: the campaign must leave it that way. */
function wasDisabledBefore(deps: EngineDeps, group: string, host: string): boolean {
  return deps.store.liveJournal({ group, host, step: PRE_DISABLED }).length > 0;
}

/** Whether a disable command was ever sent to the host for this group (journalled before it is sent). */
function disableSent(deps: EngineDeps, group: string, host: string): boolean {
  return deps.store.liveJournal({ group, host, step: STEP_OF.disabling }).length > 0;
}

/** Record that somebody else disabled `host` before the campaign, so rejoin and rollback leave it disabled. */
async function notePreDisabled(deps: EngineDeps, group: string, host: string): Promise<void> {
  if (wasDisabledBefore(deps, group, host)) return;
  const now = new Date(deps.clock.now()).toISOString();
  const id = await deps.store.journalIntent({ key: stepKey(deps.campaignId, group, PRE_DISABLED, host), group, step: PRE_DISABLED, host, startedAt: now, operator: deps.operator, ...record(PRE_DISABLED_STEP) });
  await deps.store.journalOutcome(id, { exitCode: 0, outputTail: 'disabled before the campaign: it stays disabled after it', endedAt: now });
  deps.log.warn({ group, host }, `${host} was already disabled before the campaign; it will be left disabled`);
}

/**
 * Asked by the disable step when the host is not disabled by this campaign (its check failed): is it out of
 * the pool all the same — the enable step's check ("in the pool") fails — with no disable of ours ever sent?
 * Then somebody else disabled it before the campaign: recorded, and left exactly as it is (no disable of ours
 * written over theirs, never re-enabled by us). A host disabled by another hvroll campaign never gets here:
 * the disable step's require refuses it first.
 */
async function disabledBySomeoneElse(deps: EngineDeps, t: StepTarget, group: string, host: string): Promise<boolean> {
  if (wasDisabledBefore(deps, group, host)) return true;
  const inPool = deps.runbook.steps.enable;
  if (!inPool || inPool.check.length === 0 || disableSent(deps, group, host)) return false;
  if ((await failingCheck(deps, t, inPool, inPool.check, journalStep(STEP_OF.disabling, 'pre-disabled-check'))) === null) return false;
  await notePreDisabled(deps, group, host);
  return true;
}

const OUTCOME_SAID: Record<ReconcileOutcome, string> = {
  'already-done': 'already done',
  done: 'done',
  'leftover-removed': 'done (a remnant removed)',
  'left-alone': 'not needed: disabled by someone else before the campaign, left as it is',
};

async function perHostStep(deps: EngineDeps, input: StepInput, stepName: StepName, signal: AbortSignal): Promise<void> {
  const step = deps.runbook.steps[stepName];
  if (!step) return;
  await backoff(deps, step, input.attempt, signal);
  await forEachHost(input.hosts, async (name) => {
    if ((stepName === 'enable' || stepName === 'rollback') && wasDisabledBefore(deps, input.group, name)) return;
    const host = hostRef(deps, name);
    const target: StepTarget = { group: input.group, roles: { host }, values: values(deps, input.group, host), deadline: stepDeadline(deps, step), signal };
    const leaveAlone = stepName === 'disable' ? { leaveAlone: () => disabledBySomeoneElse(deps, target, input.group, name) } : {};
    const outcome = await reconcile(deps, target, step, leaveAlone);
    deps.log.info({ group: input.group, host: name, step: stepName, outcome }, `${stepName} ${OUTCOME_SAID[outcome]} on ${name}`);
  });
}

const MIGRATE_SAID: Record<ReconcileOutcome, (vm: string, from: string, to: string) => string> = {
  'already-done': (vm, _from, to) => `${vm}: already on ${to}`,
  done: (vm, _from, to) => `${vm}: migrated to ${to}`,
  'leftover-removed': (vm, from, to) => `${vm}: already running on ${to}; removed the stopped copy an interrupted migration left on ${from}`,
  'left-alone': (vm, from) => `${vm}: left on ${from}`,
};

/** Per VM of a group: its migrate:confirmed record — `done`, or the id of an intent a killed run left open. */
type ConfirmedRecords = Map<string, number | 'done'>;

/** Read once per drain attempt (one pass over the group's journal), then kept up to date by noteConfirmed. */
function confirmedRecords(deps: EngineDeps, group: string): ConfirmedRecords {
  const records: ConfirmedRecords = new Map();
  for (const e of deps.store.liveJournal({ group, step: MIGRATE_CONFIRMED })) {
    if (e.vm !== undefined && records.get(e.vm) !== 'done') records.set(e.vm, e.outcome === undefined ? e.id : 'done');
  }
  return records;
}

/**
 * Records that `move` is done: the VM runs on its target, however it got there (migrated now, found there, or
 * a leftover removed). Written once per group and VM; an intent left without outcome by a killed run is completed.
 */
async function noteConfirmed(deps: EngineDeps, group: string, move: Move, outcome: ReconcileOutcome, records: ConfirmedRecords): Promise<void> {
  const seen = records.get(move.vm);
  if (seen === 'done') return;
  const now = new Date(deps.clock.now()).toISOString();
  const id =
    seen ??
    (await deps.store.journalIntent({ key: stepKey(deps.campaignId, group, MIGRATE_CONFIRMED, move.vm), group, step: MIGRATE_CONFIRMED, host: move.to, vm: move.vm, startedAt: now, operator: deps.operator, ...record(MIGRATE_CONFIRMED_STEP) }));
  records.set(move.vm, id);
  await deps.store.journalOutcome(id, { exitCode: 0, outputTail: `runs on ${move.to} (${outcome})`, endedAt: now });
  records.set(move.vm, 'done');
}

/** Every VM running on a host of the group must be one the plan knows there, by its exact name. */
async function requireOnlyPlannedVms(deps: EngineDeps, g: PlannedGroup, signal: AbortSignal): Promise<void> {
  const expected = new Map<string, Set<string>>(g.hosts.map((h) => [h, new Set<string>()]));
  for (const m of g.moves) expected.get(m.from)?.add(m.vm);
  for (const n of g.nonMigratable) expected.get(n.host)?.add(n.vm);
  await forEachHost(g.hosts, async (name) => {
    const found = await discoverVms(deps, g.name, hostRef(deps, name), signal);
    const planned = expected.get(name)!;
    const { unknown } = compareWithPlan(found, planned);
    if (unknown.length > 0) {
      const shown = unknown.slice(0, 10).map((vm) => describeUnknown(vm, planned));
      throw new HvrollError(
        'remote',
        `host ${name} runs VM(s) the plan does not know: ${shown.join(', ')}${unknown.length > 10 ? ` and ${unknown.length - 10} more` : ''}. ` +
          'Nothing was migrated from this group. Refresh the inventory (hvroll discover), plan again, and run the new plan.',
        { retryable: false, details: { host: name, unknown } },
      );
    }
  });
}

/**
 * Drain: compare what runs with the plan, check the targets still have room, live-migrate every planned VM to
 * its target, then shut down the VMs that stay (policy shutdown).
 */
async function drain(deps: EngineDeps, input: StepInput, signal: AbortSignal): Promise<void> {
  const step = deps.runbook.steps.migrate!;
  await backoff(deps, step, input.attempt, signal);
  const g = groupOf(deps, input.group);
  requirePowerSteps(deps, g);
  await whileDraining(deps, g, async () => {
    await requireOnlyPlannedVms(deps, g, signal);
    await checkTargetRoom(deps, g, signal);
    const moveOf = new Map(g.moves.map((m) => [m.vm, m]));
    const confirmed = confirmedRecords(deps, g.name);
    const deadline = stepDeadline(deps, step, Math.ceil(g.moves.length / Math.max(1, deps.plan.settings.concurrency.migrations)));
    await forEachHost(
      g.moves.map((m) => m.vm),
      async (vm) => {
        const move = moveOf.get(vm)!;
        const source = hostRef(deps, move.from);
        const target = hostRef(deps, move.to);
        await deps.limiter.run(move.from, move.to, async () => {
          const t: StepTarget = {
            group: input.group,
            roles: { source, target, host: source },
            values: values(deps, input.group, source, { vm, source: source.name, 'source.address': source.address, target: target.name, 'target.address': target.address }),
            vm,
            deadline,
            signal,
          };
          const outcome = await reconcile(deps, t, step);
          await noteConfirmed(deps, input.group, move, outcome, confirmed);
          deps.log.info({ group: input.group, vm, from: move.from, to: move.to, outcome }, MIGRATE_SAID[outcome](vm, move.from, move.to));
        });
      },
      (vm) => moveOf.get(vm)!.from,
    );
    await shutDownVms(deps, g, signal);
  });
}

const BOOT_ID = journalStep('reboot', 'boot-id');

/** The boot id recorded before this campaign rebooted `host`, if it ever got that far. */
function bootIdBefore(deps: EngineDeps, group: string, host: string): string | undefined {
  const name = journalStepName(BOOT_ID);
  const key = stepKey(deps.campaignId, group, name, host);
  const seen = deps.store.liveJournal({ group, host, step: name }).filter((e) => e.key === key && e.outcome?.exitCode === 0);
  return seen.at(-1)?.outcome?.outputTail.trim();
}

const bootIdOf = (r: CommandResult) => (r.exitCode === 0 ? r.stdout.trim() : '');

/** The host's boot id, read as `as` (the one recorded before the reboot, a check after a restore, a poll for the new one). */
async function readBootId(deps: EngineDeps, group: string, host: HostRef, as: JournalStep, signal: AbortSignal): Promise<string> {
  const { result } = await probeRemote(deps, { group, step: as, host, argv: deps.runbook.bootId.argv, timeoutMs: 30_000, signal }, (r) => (bootIdOf(r) === '' ? 'no boot id' : null));
  const id = bootIdOf(result);
  if (id === '') throw new HvrollError('remote', `cannot read the boot id of ${host.name}`, { retryable: true, details: { host: host.name } });
  return id;
}

/**
 * What the journal says of this campaign's reboot command for `host`: never written, written but with no
 * outcome (the run died around sending it: it may or may not have reached the host), or delivered.
 */
function rebootCommand(deps: EngineDeps, group: string, host: string): 'none' | 'unknown' | 'delivered' {
  const sent = deps.store.liveJournal({ group, host, step: journalStepName(journalStep('reboot')) });
  if (sent.length === 0) return 'none';
  return sent.some((e) => e.outcome !== undefined) ? 'delivered' : 'unknown';
}

/** Waits until `host` answers with a boot id other than `before`; false when `deadline` passes first. Only reads. */
async function sawNewBoot(deps: EngineDeps, group: string, host: HostRef, before: string, deadline: number, signal: AbortSignal): Promise<boolean> {
  for (;;) {
    if (deps.clock.now() >= deadline) return false;
    try {
      await deps.executor.waitForHost(host, { deadline, signal, pollMs: 250 });
      if ((await readBootId(deps, group, host, journalStep('reboot', 'await'), signal)) !== before) return true;
    } catch (e) {
      // Down between connect and read, or still down at the deadline: poll on / let the check above decide.
      if (!(e instanceof HvrollError) || !e.retryable) throw e;
    }
    await deps.clock.sleep(250, signal);
  }
}

async function waitForNewBoot(deps: EngineDeps, group: string, host: HostRef, before: string, deadline: number, signal: AbortSignal): Promise<void> {
  if (await sawNewBoot(deps, group, host, before, deadline, signal)) return;
  throw new HvrollError('remote', `${host.name} did not come back with a new boot id before the deadline (still down, or the reboot never took). Not rebooting it again: check the host`, {
    retryable: false,
    details: { host: host.name, bootId: before },
  });
}

/** How long a resumed run waits for a reboot that may or may not have been sent before sending it. */
const UNKNOWN_REBOOT_GRACE_MS = 120_000;

/**
 * Reboot each host exactly once, and only when the runbook's requirements hold right before the command (an
 * empty host in maintenance). The boot id is journalled before the reboot command; on a re-run, a changed
 * boot id means the reboot happened, and a journalled reboot command means it may be under way: wait for it,
 * never send a second one.
 */
async function reboot(deps: EngineDeps, input: StepInput, signal: AbortSignal): Promise<void> {
  const step = deps.runbook.steps.reboot;
  if (!step) return;
  await forEachHost(input.hosts, async (name) => {
    const host = hostRef(deps, name);
    const deadline = stepDeadline(deps, step);
    const guarded: StepTarget = { group: input.group, roles: { host }, values: values(deps, input.group, host), deadline, signal };
    let before = bootIdBefore(deps, input.group, name);
    if (before !== undefined) {
      await deps.executor.waitForHost(host, { deadline, signal, pollMs: 250 });
      if ((await readBootId(deps, input.group, host, journalStep('reboot', 'check'), signal)) !== before) return;
      const command = rebootCommand(deps, input.group, name);
      if (command === 'delivered') return waitForNewBoot(deps, input.group, host, before, deadline, signal);
      if (command === 'unknown') {
        const grace = Math.min(deadline, deps.clock.now() + Math.min(UNKNOWN_REBOOT_GRACE_MS, (step.timeoutSeconds * 1000) / 4));
        if (await sawNewBoot(deps, input.group, host, before, grace, signal)) return;
        deps.log.warn({ group: input.group, host: name }, `${name}: the reboot sent by the interrupted run never took effect (same boot id after the grace period); sending it now`);
      }
      await mustRequire(deps, guarded, step);
    } else {
      // Before the boot id is recorded: a host that fails its requirements is never rebooted, now or on resume.
      await mustRequire(deps, guarded, step);
      before = await readBootId(deps, input.group, host, BOOT_ID, signal);
    }
    for (const command of step.run) {
      try {
        await runRemote(deps, { group: input.group, step: journalStep('reboot'), host, argv: render(command.argv, values(deps, input.group, host), 'reboot'), timeoutMs: 60_000, signal });
      } catch (e) {
        // The connection dropping is what a reboot looks like from here.
        const reason = errorOfKind(e, 'remote')?.details?.reason;
        if (reason !== 'disconnected' && reason !== 'timeout') throw e;
      }
    }
    await waitForNewBoot(deps, input.group, host, before, deadline, signal);
  });
}

/** After a failure or abort: hosts not yet upgraded are re-enabled; anything further is left out and named. */
async function rollback(deps: EngineDeps, input: RollbackInput, signal: AbortSignal): Promise<RollbackOutput> {
  const notYetUpgraded = ['pending', 'disabling', 'draining'].includes(input.phase) && input.failedStep !== 'upgrading';
  const verified = input.phase === 'verifying';
  if (!notYetUpgraded && !verified) {
    const why = `${input.reason} after ${input.phase}${input.failedStep ? ` (failed in ${input.failedStep})` : ''}: not verified, left disabled — check it, then re-enable it by hand`;
    return { outOfPool: input.hosts.map((host) => ({ host, why: `${why}${stillShutDown(deps, input.group, host)}` })) };
  }
  const step = deps.runbook.steps.rollback ?? deps.runbook.steps.enable;
  if (!step) return { outOfPool: [] };
  const outOfPool: RollbackOutput['outOfPool'] = [];
  await Promise.all(
    input.hosts.map(async (name) => {
      if (wasDisabledBefore(deps, input.group, name)) return;
      // No disable command of ours ever went to it (host key refused, unreachable, failed precheck): it never
      // left the pool, and calling it out of the pool would be a false alarm.
      if (!disableSent(deps, input.group, name)) return;
      const host = hostRef(deps, name);
      try {
        await reconcile(deps, { group: input.group, roles: { host }, values: values(deps, input.group, host), deadline: stepDeadline(deps, step), signal }, step);
      } catch (e) {
        outOfPool.push({ host: name, why: `could not re-enable it: ${e instanceof Error ? e.message : String(e)}` });
      }
    }),
  );
  // VMs this campaign shut down go back up with their host (state we created is undone).
  await startVms(deps, groupOf(deps, input.group), signal).catch((e: unknown) => {
    deps.log.error({ group: input.group }, `could not start again the VMs shut down for the upgrade: ${e instanceof Error ? e.message : String(e)}`);
  });
  return { outOfPool: outOfPool.sort((a, b) => a.host.localeCompare(b.host)) };
}

/** For a host left out of the pool: the VMs this campaign shut down on it, which stay off until it is fixed. */
function stillShutDown(deps: EngineDeps, group: string, host: string): string {
  const vms = shutDownByUs(deps, groupOf(deps, group)).filter((v) => v.host === host);
  return vms.length === 0 ? '' : `; VM(s) ${vms.map((v) => showName(v.vm)).join(', ')} shut down for the upgrade stay off: start them once the host is fixed`;
}

/** The actors the group machine invokes by name, bound to these dependencies. */
export function stepActors(deps: EngineDeps) {
  const step = (fn: (input: StepInput, signal: AbortSignal) => Promise<void>) => fromPromise<void, StepInput>(({ input, signal }) => fn(input, signal));
  return {
    disableHosts: step(async (input, signal) => {
      if (deps.runbook.steps.precheck) await perHostStep(deps, input, 'precheck', signal);
      await perHostStep(deps, input, STEP_OF.disabling, signal);
    }),
    drainHosts: step((input, signal) => drain(deps, input, signal)),
    upgradeHosts: step((input, signal) => perHostStep(deps, input, STEP_OF.upgrading, signal)),
    rebootHosts: step((input, signal) => reboot(deps, input, signal)),
    verifyHosts: step((input, signal) => perHostStep(deps, input, STEP_OF.verifying, signal)),
    rejoinHosts: step(async (input, signal) => {
      await perHostStep(deps, input, STEP_OF.rejoining, signal);
      await startVms(deps, groupOf(deps, input.group), signal);
    }),
    rollbackGroup: fromPromise<RollbackOutput, RollbackInput>(({ input, signal }) => rollback(deps, input, signal)),
  };
}
