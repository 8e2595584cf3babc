// The plan a campaign store holds is the one `run` sealed (src/plan-file/seal.ts): checked by resume before it runs
// anything, and by an offline `approve` before it records an approval weighed against that plan.

import { HvrollError } from '../model/errors.ts';
import { planSeal, storedPlanSeal } from '../plan-file/seal.ts';
import { storeFiles } from '../store/paths.ts';
import type { CampaignStore } from '../store/store.ts';

const RESTORE_STORE = 'restore the campaign directory from a backup; to run another plan, plan again and start a new campaign (hvroll run)';

/**
 * The stored plan is the one `run` sealed: the seal in campaign.json, the one in the run record and the one of
 * plan.json agree; stale-plan (exit 4) otherwise. Resume runs only such a plan, and `approve` records an
 * approval only against one (it reads the two-person rule and the groups needing approval from it).
 * `unsealed: 'accept'` lets a store that shows no seal anywhere pass (one made without `run`: simulator,
 * tests); a seal in either place makes the check apply.
 */
export async function checkStoredPlan(store: CampaignStore, id: string, o: { unsealed: 'refuse' | 'accept' } = { unsealed: 'refuse' }): Promise<void> {
  const plan = store.plan();
  const run = store.audit().find((a) => a.action === 'run')?.details as { planSeal?: unknown } | undefined;
  const files = storeFiles(store.dir);
  const sealed = store.meta().planSeal;
  if (sealed === undefined && run?.planSeal === undefined && o.unsealed === 'accept') return;
  const refuse = (message: string, fix: string) => new HvrollError('stale-plan', `stale or altered plan: ${message} Nothing was run or recorded.`, { details: { file: files.plan, fix } });
  if (sealed === undefined) {
    throw refuse(
      `campaign ${id} has no seal of its plan in ${files.meta} (started by an hvroll that did not seal plans), so ${files.plan} cannot be proven to be the plan that was reviewed.`,
      'finish the campaign with the hvroll version that started it, or plan the hosts left again and start a new campaign',
    );
  }
  // The run record repeats the seal (a second place to alter); it may be missing only when campaign.json
  // holds how the campaign started (a full disk refused the record right after the store was created).
  if (run === undefined ? store.meta().start === undefined : run.planSeal !== sealed) {
    throw refuse(`the plan seal in ${files.meta} (${sealed}) is not the one in the run record of campaign ${id} (${run?.planSeal ?? 'none'}): the store was altered.`, RESTORE_STORE);
  }
  // The stored bytes give the seal at once; only if they do not is the plan serialised again (a plan.json
  // rewritten with other formatting is still the same plan).
  if (storedPlanSeal(await store.planJsonBytes(), plan) === sealed) return;
  const now = planSeal(plan);
  if (now !== sealed) throw refuse(`${files.plan} changed since campaign ${id} started: its seal is now ${now}, but ${files.meta} and the run record say ${sealed}.`, RESTORE_STORE);
}
