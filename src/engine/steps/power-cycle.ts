// VMs of a group's `shutdown` non-migratable policy (rules.nonMigratable): the plan promises they are shut
// down for the upgrade and started after it. After the drain each one is shut down gracefully (the runbook's
// `shutdown` step); once the hosts are verified and back in the pool, each VM this campaign shut down is
// started (`start`) and confirmed running. Both are reconciles: the check says whether it is already so, the
// run is journalled, and the confirm is read again every retryDelaySeconds until it holds or the step's
// timeoutSeconds pass (a guest takes its time to shut down). A VM that was already off before the campaign is
// never started: only a `shutdown` command in the journal makes it ours.

import type { HostRef } from '../../executor/executor.ts';
import { HvrollError } from '../../model/errors.ts';
import { journalStep } from '../../model/journal.ts';
import type { NonMigratableVm, PlannedGroup } from '../../model/plan.ts';
import { showName, showNames } from '../../model/show-name.ts';
import type { Step } from '../../runbook/model.ts';
import { render } from '../../runbook/template.ts';
import { hostRef, stepValues, type EngineDeps } from '../deps.ts';
import { failingCheck, type StepTarget } from '../reconcile.ts';
import { runRemote } from '../remote.ts';

/** The VMs the group stops for its upgrade. */
export function vmsToShutDown(g: PlannedGroup): NonMigratableVm[] {
  return g.nonMigratable.filter((n) => n.policy === 'shutdown');
}

/**
 * A group holding VMs to shut down needs the runbook's shutdown and start steps: without them the reboot would
 * kill the VMs. Said before anything moves.
 */
export function requirePowerSteps(deps: EngineDeps, g: PlannedGroup): void {
  const vms = vmsToShutDown(g);
  const missing = (['shutdown', 'start'] as const).filter((s) => !deps.runbook.steps[s]);
  if (vms.length === 0 || missing.length === 0) return;
  throw new HvrollError(
    'invalid-input',
    `group ${g.name} holds VM(s) to shut down for the upgrade (non-migratable policy shutdown: ${showNames(vms.map((v) => v.vm))}), but ${deps.runbook.file} has no ${missing.map((s) => `steps.${s}`).join(' or ')}: ` +
      'nothing would stop them before the reboot. Nothing was migrated from this group. Add the steps (see runbooks/libvirt.yaml and runbooks/README.md), or choose the policy skip for this group and plan again.',
    { retryable: false, details: { vms: vms.map((v) => v.vm), missing } },
  );
}

function target(deps: EngineDeps, group: string, host: HostRef, vm: string, step: Step, signal: AbortSignal): StepTarget {
  const values = stepValues(deps, group, host, { vm });
  return { group, roles: { host }, values, vm, deadline: deps.clock.now() + step.timeoutSeconds * 1000, signal };
}

/**
 * Check, run, then wait for the confirm. A run command that fails is not judged at once: the state may have
 * got there anyway (the guest finished shutting down meanwhile), so the check is asked once more first.
 */
async function reconcileAndWait(deps: EngineDeps, t: StepTarget, step: Step): Promise<'already-done' | 'done'> {
  if ((await failingCheck(deps, t, step, step.check, journalStep(step.name, 'check'))) === null) return 'already-done';
  const host = t.roles.host!;
  for (const command of step.run) {
    const argv = render(command.argv, t.values, `${deps.runbook.file}: steps.${step.name}`);
    const r = await runRemote(deps, { group: t.group, step: journalStep(step.name), host, vm: t.vm!, argv, timeoutMs: Math.max(1, t.deadline - deps.clock.now()), ...(t.signal ? { signal: t.signal } : {}) });
    if (r.exitCode !== 0 && (await failingCheck(deps, t, step, step.check, journalStep(step.name, 'check'))) !== null) {
      throw new HvrollError('remote', `${step.name} of VM ${showName(t.vm!)} on ${host.name}: \`${argv.map(showName).join(' ')}\` exited ${r.exitCode}: ${(r.stderrTail || r.stdoutTail).trim().split('\n').slice(-2).join(' | ')}`, {
        retryable: true,
        details: { host: host.name, vm: t.vm, step: step.name, exitCode: r.exitCode },
      });
    }
  }
  const confirm = step.confirm.length > 0 ? step.confirm : step.check;
  for (;;) {
    // Read again until it holds: a guest takes its time to shut down or start.
    const problem = await failingCheck(deps, t, step, confirm, journalStep(step.name, 'await'));
    if (problem === null) return 'done';
    const wait = step.retryDelaySeconds * 1000;
    if (deps.clock.now() + wait >= t.deadline) {
      throw new HvrollError('remote', `${step.name} of VM ${showName(t.vm!)} on ${host.name} did not take within ${step.timeoutSeconds} s: ${problem}`, {
        retryable: false,
        details: { host: host.name, vm: t.vm, step: step.name },
      });
    }
    await deps.clock.sleep(wait, t.signal!);
  }
}

/** Settles every VM's work; throws one error naming every VM that failed. */
async function forEachVm(vms: readonly NonMigratableVm[], work: (v: NonMigratableVm) => Promise<void>): Promise<void> {
  const results = await Promise.allSettled(vms.map(work));
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ vm: vms[i]!, error: r.reason as unknown }] : []));
  if (failed.length === 0) return;
  if (failed.length === 1) throw failed[0]!.error;
  throw new HvrollError('remote', failed.map((f) => (f.error instanceof Error ? f.error.message : String(f.error))).join('; '), {
    retryable: failed.every((f) => f.error instanceof HvrollError && f.error.retryable),
    details: { hosts: [...new Set(failed.map((f) => f.vm.host))], vms: failed.map((f) => f.vm.vm) },
  });
}

/** After the drain: shut down the group's `shutdown`-policy VMs, gracefully, and wait until they are off. */
export async function shutDownVms(deps: EngineDeps, g: PlannedGroup, signal: AbortSignal): Promise<void> {
  const step = deps.runbook.steps.shutdown;
  if (!step) return;
  await forEachVm(vmsToShutDown(g), async (v) => {
    const outcome = await reconcileAndWait(deps, target(deps, g.name, hostRef(deps, v.host), v.vm, step, signal), step);
    deps.log.info({ group: g.name, vm: v.vm, host: v.host, outcome }, `${showName(v.vm)} ${outcome === 'already-done' ? 'was already shut off' : 'shut down'} on ${v.host} for the upgrade (policy shutdown)`);
  });
}

/** The group's VMs this campaign shut down (a `shutdown` command is in the journal): only those are started again. */
export function shutDownByUs(deps: EngineDeps, g: PlannedGroup): NonMigratableVm[] {
  return vmsToShutDown(g).filter((v) => deps.store.liveJournal({ group: g.name, host: v.host, step: 'shutdown' }).some((e) => e.vm === v.vm));
}

/** After rejoin (or a rollback that puts the hosts back): start every VM this campaign shut down, and confirm it runs. */
export async function startVms(deps: EngineDeps, g: PlannedGroup, signal: AbortSignal): Promise<void> {
  const step = deps.runbook.steps.start;
  if (!step) return;
  await forEachVm(shutDownByUs(deps, g), async (v) => {
    const outcome = await reconcileAndWait(deps, target(deps, g.name, hostRef(deps, v.host), v.vm, step, signal), step);
    deps.log.info({ group: g.name, vm: v.vm, host: v.host, outcome }, `${showName(v.vm)} ${outcome === 'already-done' ? 'already runs' : 'started again'} on ${v.host}`);
  });
}
