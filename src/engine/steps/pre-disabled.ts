// A host somebody else disabled before the campaign: the disable step notices it (its own check fails, the
// enable step's "in the pool" check fails too, and no disable of ours was ever sent), records it, and leaves it
// as it is; rejoin, rollback and release then leave it disabled. Read from the group's journal.

import { journalStep, PRE_DISABLED, PRE_DISABLED_STEP } from '../../model/journal.ts';
import { stepKey } from '../../store/store.ts';
import type { EngineDeps } from '../deps.ts';
import { failingCheck, type StepTarget } from '../reconcile.ts';
import { STEP_OF } from './common.ts';

/** The host was out of the pool before this campaign touched it: the campaign must leave it that way. */
export function wasDisabledBefore(deps: EngineDeps, group: string, host: string): boolean {
  return deps.store.liveJournal({ group, host, step: PRE_DISABLED }).length > 0;
}

/** Whether a disable command was ever sent to the host for this group (journalled before it is sent). */
export function disableSent(deps: EngineDeps, group: string, host: string): boolean {
  return deps.store.liveJournal({ group, host, step: STEP_OF.disabling }).length > 0;
}

/** Record that somebody else disabled `host` before the campaign, so rejoin and rollback leave it disabled. */
async function notePreDisabled(deps: EngineDeps, group: string, host: string): Promise<void> {
  if (wasDisabledBefore(deps, group, host)) return;
  const now = new Date(deps.clock.now()).toISOString();
  const id = await deps.store.journalIntent({ key: stepKey(deps.campaignId, group, PRE_DISABLED, host), group, step: PRE_DISABLED, host, startedAt: now, operator: deps.operator, probe: 'pre-disabled', effect: PRE_DISABLED_STEP.effect });
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
export async function disabledBySomeoneElse(deps: EngineDeps, t: StepTarget, group: string, host: string): Promise<boolean> {
  if (wasDisabledBefore(deps, group, host)) return true;
  const inPool = deps.runbook.steps.enable;
  if (!inPool || inPool.check.length === 0 || disableSent(deps, group, host)) return false;
  if ((await failingCheck(deps, t, inPool, inPool.check, journalStep(STEP_OF.disabling, 'pre-disabled-check'))) === null) return false;
  await notePreDisabled(deps, group, host);
  return true;
}
