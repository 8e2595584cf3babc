// The reboot: each host exactly once, and only when the runbook's requirements hold right before the command.
// The boot id is journalled before the reboot command; on a re-run, a changed boot id means the reboot
// happened, and a journalled reboot command means it may be under way: wait for it, never send a second one.

import type { CommandResult, HostRef } from '../../executor/executor.ts';
import type { StepInput } from '../../machines/group-machine.ts';
import { errorOfKind, HvrollError } from '../../model/errors.ts';
import { journalStep, journalStepName, type JournalStep } from '../../model/journal.ts';
import { render } from '../../runbook/template.ts';
import { stepKey } from '../../store/store.ts';
import { hostRef, stepValues, type EngineDeps } from '../deps.ts';
import { mustRequire, type StepTarget } from '../reconcile.ts';
import { probeRemote, runRemote } from '../remote.ts';
import { forEachHost, stepDeadline } from './common.ts';

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
export async function reboot(deps: EngineDeps, input: StepInput, signal: AbortSignal): Promise<void> {
  const step = deps.runbook.steps.reboot;
  if (!step) return;
  await forEachHost(input.hosts, async (name) => {
    const host = hostRef(deps, name);
    const deadline = stepDeadline(deps, step);
    const guarded: StepTarget = { group: input.group, roles: { host }, values: stepValues(deps, input.group, host), deadline, signal };
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
        await runRemote(deps, { group: input.group, step: journalStep('reboot'), host, argv: render(command.argv, stepValues(deps, input.group, host), 'reboot'), timeoutMs: 60_000, signal });
      } catch (e) {
        // The connection dropping is what a reboot looks like from here.
        const reason = errorOfKind(e, 'remote')?.details?.reason;
        if (reason !== 'disconnected' && reason !== 'timeout') throw e;
      }
    }
    await waitForNewBoot(deps, input.group, host, before, deadline, signal);
  });
}
