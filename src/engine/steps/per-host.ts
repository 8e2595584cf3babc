// A per-host runbook step (precheck, disable, upgrade, verify, enable) as a reconcile on every host of the
// group; a host disabled by somebody else before the campaign is left as it is.

import type { StepInput } from '../../machines/group-machine.ts';
import type { StepName } from '../../runbook/model.ts';
import { hostRef, stepValues, type EngineDeps } from '../deps.ts';
import { reconcile, type ReconcileOutcome, type StepTarget } from '../reconcile.ts';
import { backoff, forEachHost, stepDeadline } from './common.ts';
import { disabledBySomeoneElse, wasDisabledBefore } from './pre-disabled.ts';

const OUTCOME_SAID: Record<ReconcileOutcome, string> = {
  'already-done': 'already done',
  done: 'done',
  'leftover-removed': 'done (a remnant removed)',
  'left-alone': 'not needed: disabled by someone else before the campaign, left as it is',
};

/** Runs a per-host runbook step on every host of the group. */
export async function perHostStep(deps: EngineDeps, input: StepInput, stepName: StepName, signal: AbortSignal): Promise<void> {
  const step = deps.runbook.steps[stepName];
  if (!step) return;
  await backoff(deps, step, input.attempt, signal);
  await forEachHost(input.hosts, async (name) => {
    if ((stepName === 'enable' || stepName === 'rollback') && wasDisabledBefore(deps, input.group, name)) return;
    const host = hostRef(deps, name);
    const target: StepTarget = { group: input.group, roles: { host }, values: stepValues(deps, input.group, host), deadline: stepDeadline(deps, step), signal };
    const leaveAlone = stepName === 'disable' ? { leaveAlone: () => disabledBySomeoneElse(deps, target, input.group, name) } : {};
    const outcome = await reconcile(deps, target, step, leaveAlone);
    deps.log.info({ group: input.group, host: name, step: stepName, outcome }, `${stepName} ${OUTCOME_SAID[outcome]} on ${name}`);
  });
}
