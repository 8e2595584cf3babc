// A runbook step as a reconcile: make sure the step may run at all (require), ask the hosts whether it is
// already done (check), do only what is missing (run), and confirm it took (confirm). Resume re-runs the step
// that was in flight; the check makes that safe — and after a run of ours, only the confirm proves that run
// left the intended state. A step with `progress` (migrate) has its run command watched, and aborted when it
// stops converging. A step with `leftover` (migrate) recognises the remnant of a run cut short and removes it
// instead of redoing the work.

import type { CommandResult, HostRef } from '../executor/executor.ts';
import { HvrollError } from '../model/errors.ts';
import { journalStep, type JournalStep } from '../model/journal.ts';
import { unmet } from '../runbook/expect.ts';
import type { Check, Command, RunOn, Step } from '../runbook/model.ts';
import { render } from '../runbook/template.ts';
import type { EngineDeps } from './deps.ts';
import { runWatched } from './progress-watch.ts';
import { probeRemote, runRemote, type RemoteCall } from './remote.ts';
import { requirementError } from './step-errors.ts';

export interface StepTarget {
  group: string;
  /** Hosts by role: `host` for per-host steps, `source`/`target` for a migration. */
  roles: Partial<Record<RunOn, HostRef>>;
  /** Placeholder values (runbook vars, host names, VM …). */
  values: Readonly<Record<string, string | undefined>>;
  vm?: string;
  /** Absolute deadline of the whole step (epoch ms). */
  deadline: number;
  signal?: AbortSignal;
}

/** `left-alone`: the step found a state somebody else made and must not touch (ReconcileOptions.leaveAlone). */
export type ReconcileOutcome = 'already-done' | 'done' | 'leftover-removed' | 'left-alone';

export interface ReconcileOptions {
  /**
   * Asked when the check fails, before any leftover or run: true when what the step would change is in a state
   * somebody else made, which the step must leave as it is (a host disabled by someone before the campaign).
   */
  leaveAlone?: () => Promise<boolean>;
}

function where(deps: EngineDeps, t: StepTarget, c: Command, what: string): HostRef {
  const ref = c.on === 'controller' ? deps.controller ?? undefined : t.roles[c.on];
  if (!ref) {
    throw new HvrollError('invalid-input', `${deps.runbook.file}: ${what} runs on "${c.on}", but no such host is known here`, {
      details: { on: c.on },
    });
  }
  return ref;
}

function remaining(deps: EngineDeps, t: StepTarget, step: string): number {
  const ms = t.deadline - deps.clock.now();
  if (ms <= 0) throw new HvrollError('remote', `step ${step} passed its deadline`, { retryable: true, details: { reason: 'timeout', deadline: new Date(t.deadline).toISOString() } });
  return ms;
}

/** One journalled command for this target (its VM, its abort signal), as `step`. */
function call(t: StepTarget, step: JournalStep, host: HostRef, argv: string[], timeoutMs: number): RemoteCall {
  return { group: t.group, step, host, ...(t.vm === undefined ? {} : { vm: t.vm }), argv, timeoutMs, ...(t.signal ? { signal: t.signal } : {}) };
}

function send(deps: EngineDeps, t: StepTarget, step: JournalStep, host: HostRef, argv: string[], timeoutMs: number) {
  return runRemote(deps, call(t, step, host, argv, timeoutMs));
}

/** The step's confirm (its checks when it has none) must hold now; `said` turns what failed into the error. */
async function mustConfirm(deps: EngineDeps, t: StepTarget, step: Step, said: (problem: string) => string): Promise<void> {
  const problem = await failingCheck(deps, t, step, step.confirm.length > 0 ? step.confirm : step.check, journalStep(step.name, 'confirm'));
  if (problem !== null) throw new HvrollError('remote', said(problem), { retryable: true, details: { step: step.name, vm: t.vm } });
}

/** The first check that does not hold, in words, or null when all hold. Each is journalled as `as`, with its verdict. */
export async function failingCheck(deps: EngineDeps, t: StepTarget, step: Step, checks: readonly Check[], as: JournalStep): Promise<string | null> {
  for (const check of checks) {
    const host = where(deps, t, check.command, `check "${check.name}"`);
    const argv = render(check.command.argv, t.values, `${deps.runbook.file}: steps.${step.name}`);
    const judge = (r: CommandResult) => unmet(check.expect, r, t.values, `${deps.runbook.file}: steps.${step.name}`);
    const { problem } = await probeRemote(deps, call(t, as, host, argv, Math.min(remaining(deps, t, step.name), step.timeoutSeconds * 1000)), judge);
    if (problem !== null) return `${check.name} on ${host.name}: ${problem}`;
  }
  return null;
}

/**
 * Every requirement of the step holds now, or the step fails without retry, naming the host, the requirement
 * and what was seen. Journalled as `<step>:require`.
 */
export async function mustRequire(deps: EngineDeps, t: StepTarget, step: Step): Promise<void> {
  for (const req of step.require) {
    const host = where(deps, t, req.command, `requirement "${req.name}"`);
    const argv = render(req.command.argv, t.values, `${deps.runbook.file}: steps.${step.name}.require`);
    const judge = (r: CommandResult) => unmet(req.expect, r, t.values, `${deps.runbook.file}: steps.${step.name}.require`);
    const { result, problem } = await probeRemote(deps, call(t, journalStep(step.name, 'require'), host, argv, Math.min(remaining(deps, t, step.name), step.timeoutSeconds * 1000)), judge);
    if (problem !== null) {
      throw requirementError({ campaignId: deps.campaignId, step: step.name, host: host.name, ...(t.vm === undefined ? {} : { vm: t.vm }), requirement: req.name, problem, result });
    }
  }
}

const sameChecks = (a: readonly Check[], b: readonly Check[]) => JSON.stringify(a.map((c) => [c.command, c.expect])) === JSON.stringify(b.map((c) => [c.command, c.expect]));

/**
 * The step's check holds — and, when a run of ours for this target is in the journal (a retry after it
 * failed, or a resume after a run killed mid-command), its confirm holds too. A failed run proves nothing by
 * the check alone: `apt-get install` exiting 100 leaves the package at the new version, half-configured, and a
 * check that reads the version would call the step done. The confirm is what says the run left the state.
 */
async function isDone(deps: EngineDeps, t: StepTarget, step: Step): Promise<boolean> {
  if (step.check.length === 0) return false;
  if ((await failingCheck(deps, t, step, step.check, journalStep(step.name, 'check'))) !== null) return false;
  if (step.confirm.length === 0 || sameChecks(step.confirm, step.check) || !sentBefore(deps, t, step)) return true;
  const problem = await failingCheck(deps, t, step, step.confirm, journalStep(step.name, 'confirm'));
  if (problem === null) return true;
  deps.log.warn(
    { group: t.group, vm: t.vm, step: step.name },
    `${step.name}${t.vm ? ` of VM ${t.vm}` : ''}: its check holds, but after an earlier run of ours its confirm does not (${problem}): not taking it as done`,
  );
  return false;
}

/**
 * Whether this step's work was sent for this target before (by an earlier attempt, or a run that was killed):
 * only then can a remnant be ours, and only then does "already done" need the confirm (isDone). hvroll never
 * removes what somebody else left; it costs the first attempt of every step nothing.
 */
function sentBefore(deps: EngineDeps, t: StepTarget, step: Step): boolean {
  const first = step.run[0];
  if (!first) return false;
  const host = where(deps, t, first, `steps.${step.name}.run`).name;
  return deps.store.liveJournal({ group: t.group, host, step: step.name }).some((e) => e.vm === t.vm);
}

/**
 * The work is done but a remnant is left (every `when` check of one of the step's leftovers holds): remove it
 * and confirm. Its commands are journalled as `<step>:leftover`, so audit shows them and the fault checker can
 * tell them from the work.
 */
async function removeLeftover(deps: EngineDeps, t: StepTarget, step: Step): Promise<boolean> {
  if (step.leftover.length === 0 || !sentBefore(deps, t, step)) return false;
  for (const leftover of step.leftover) {
    if ((await failingCheck(deps, t, step, leftover.when, journalStep(step.name, 'leftover-check'))) !== null) continue;
    const what = `${step.name}${t.vm ? ` of VM ${t.vm}` : ''}`;
    deps.log.warn({ group: t.group, vm: t.vm, step: step.name, leftover: leftover.name }, `${what}: an interrupted run left ${leftover.name} (${leftover.when.map((c) => c.name).join(', ')}); removing it`);
    for (const command of leftover.run) {
      const host = where(deps, t, command, `steps.${step.name}.leftover`);
      const argv = render(command.argv, t.values, `${deps.runbook.file}: steps.${step.name}.leftover`);
      await send(deps, t, journalStep(step.name, 'leftover'), host, argv, Math.min(remaining(deps, t, step.name), step.timeoutSeconds * 1000));
    }
    await mustConfirm(deps, t, step, (problem) => `${what}: removing ${leftover.name} left by an interrupted run did not finish the step: ${problem}`);
    return true;
  }
  return false;
}

export async function reconcile(deps: EngineDeps, t: StepTarget, step: Step, o: ReconcileOptions = {}): Promise<ReconcileOutcome> {
  await mustRequire(deps, t, step);
  if (await isDone(deps, t, step)) return 'already-done';
  if (o.leaveAlone && (await o.leaveAlone())) return 'left-alone';
  if (await removeLeftover(deps, t, step)) return 'leftover-removed';
  for (const command of step.run) {
    const host = where(deps, t, command, `steps.${step.name}.run`);
    const argv = render(command.argv, t.values, `${deps.runbook.file}: steps.${step.name}`);
    const run = () => send(deps, t, journalStep(step.name), host, argv, remaining(deps, t, step.name));
    const progress = step.progress;
    const result = progress
      ? await runWatched(deps, progress, { file: deps.runbook.file, group: t.group, host: where(deps, t, progress.command, `steps.${step.name}.progress`), ...(t.vm === undefined ? {} : { vm: t.vm }), values: t.values, ...(t.signal ? { signal: t.signal } : {}) }, run)
      : await run();
    if (result.exitCode !== 0) {
      throw new HvrollError('remote', `${step.name} on ${host.name}${t.vm ? ` (VM ${t.vm})` : ''}: \`${argv.join(' ')}\` exited ${result.exitCode ?? `by signal ${result.signal}`}: ${lastLines(result.stderrTail || result.stdoutTail)}`, {
        retryable: true,
        details: { host: host.name, step: step.name, exitCode: result.exitCode, vm: t.vm },
      });
    }
  }
  await mustConfirm(deps, t, step, (problem) => `${step.name}${t.vm ? ` of VM ${t.vm}` : ''} did not take: ${problem}`);
  return 'done';
}

function lastLines(text: string, n = 3): string {
  return text.trim().split('\n').slice(-n).join(' | ') || '(no output)';
}
