// After a failure or an abort: hosts not yet upgraded are re-enabled (the runbook's rollback step, else its
// enable step), and the VMs this campaign shut down start again; a host further along is left out of the pool
// and named, with the VMs that stay off on it. A host disabled before the campaign, or never disabled by it, is
// left as it is.

import type { RollbackInput, RollbackOutput } from '../../machines/group-machine.ts';
import { showName } from '../../model/show-name.ts';
import { hostRef, stepValues, type EngineDeps } from '../deps.ts';
import { reconcile } from '../reconcile.ts';
import { groupOf, stepDeadline } from './common.ts';
import { shutDownByUs, startVms } from './power-cycle.ts';
import { disableSent, wasDisabledBefore } from './pre-disabled.ts';

/** After a failure or abort: hosts not yet upgraded are re-enabled; anything further is left out and named. */
export async function rollback(deps: EngineDeps, input: RollbackInput, signal: AbortSignal): Promise<RollbackOutput> {
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
        await reconcile(deps, { group: input.group, roles: { host }, values: stepValues(deps, input.group, host), deadline: stepDeadline(deps, step), signal }, step);
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
