// Operator requests to a campaign (pause, abort, approve) and breaking its lock (unlock). A running campaign
// picks requests up within a second (the runner holds the store lock, so these never write the store behind
// its back); a campaign that is not running gets approvals recorded directly, and pause/abort applied when it
// is resumed.

import { CAMPAIGN_KEY } from '../engine/campaign-runner.ts';
import { writeControlRequest, type ControlAction, type ControlRequest } from '../engine/control.ts';
import { closest } from '../inventory/suggest.ts';
import { HvrollError } from '../model/errors.ts';
import { mapFsFault } from '../store/guarded-fs.ts';
import { campaignDir } from '../store/paths.ts';
import { adoptStore, breakLock, CampaignStore, listCampaigns } from '../store/store.ts';
import { checkStoredPlan } from './stored-plan.ts';

export interface ControlRequestArgs {
  stateRoot: string;
  campaignId: string;
  operator: string;
  action: ControlAction;
  group?: string;
  comment?: string;
  /** What happened, in a line the operator reads. */
  say(line: string): void;
}

async function isRunning(root: string, id: string): Promise<boolean> {
  const c = (await listCampaigns(root)).find((x) => x.id === id);
  if (!c) throw new HvrollError('usage', `no campaign ${id} in ${root} (see hvroll list)`);
  return c.lock?.state === 'alive' || c.lock?.state === 'remote';
}

async function isLocked(root: string, id: string): Promise<boolean> {
  const c = (await listCampaigns(root)).find((x) => x.id === id);
  if (!c) throw new HvrollError('usage', `no campaign ${id} in ${root} (see hvroll list)`);
  return c.lock !== null;
}

/** A request file in the campaign directory; a full or failing disk there is a store error (exit 5), not a bug. */
async function sendRequest(dir: string, req: ControlRequest): Promise<void> {
  try {
    await writeControlRequest(dir, req);
  } catch (e) {
    throw mapFsFault(e, `writing the ${req.action} request into ${dir}/control`, dir, 'request');
  }
}

/** Final states: the campaign machine never leaves them, so a resume would end at once (nothing to act on). */
const CAMPAIGN_ENDED = new Set(['done', 'stopped', 'aborted']);
const GROUP_ENDED = new Set(['done', 'failed', 'aborted']);

function stateOf(store: CampaignStore, key: string): string | undefined {
  const snap = store.groupSnapshot(key)?.snapshot as { value?: unknown } | undefined;
  return snap?.value === undefined ? undefined : String(snap.value);
}

/** A request the campaign can no longer act on is refused, instead of being queued for a resume that never applies it. */
function refuseIfEnded(store: CampaignStore, id: string, action: ControlAction, group?: string): void {
  const campaign = stateOf(store, CAMPAIGN_KEY);
  if (campaign !== undefined && CAMPAIGN_ENDED.has(campaign)) {
    throw new HvrollError('usage', `campaign ${id} has ended (${campaign}): there is nothing to ${action} (see hvroll status ${id}; plan the hosts left again for a new campaign)`);
  }
  if (action !== 'approve' || group === undefined) return;
  const g = stateOf(store, group);
  if (g !== undefined && GROUP_ENDED.has(g)) throw new HvrollError('usage', `group ${group} of campaign ${id} has already ended (${g}): there is nothing to approve`);
}

/**
 * Sends (or, for an approval of a campaign that is not running, records) an operator's request; `say` gets the
 * line that tells the operator what happened. Refuses what the campaign can no longer act on.
 */
export async function request(r: ControlRequestArgs): Promise<void> {
  const { stateRoot: root, campaignId: id, operator, action, group, comment } = r;
  const running = await isRunning(root, id);
  // Read-only unless this command itself records the approval (a runner holds the lock otherwise).
  const store = await CampaignStore.open(campaignDir(root, id), { readOnly: running || action !== 'approve' });
  try {
    refuseIfEnded(store, id, action, group);
    if (action === 'approve') {
      // Recorded here, an approval is weighed against the stored plan (two-person rule): it must be the sealed one.
      if (!running) await checkStoredPlan(store, id, { unsealed: 'accept' });
      const plan = store.plan();
      const g = plan.groups.find((x) => x.name === group);
      if (!g) {
        const guess = closest(group ?? '', plan.groups.map((x) => x.name));
        const needing = plan.groups.filter((x) => x.approval).map((x) => x.name);
        throw new HvrollError('usage', `campaign ${id} has no group ${group}${guess ? `; did you mean ${guess}?` : ''} (groups that need approval: ${needing.join(', ') || 'none'})`);
      }
      if (!g.approval) throw new HvrollError('usage', `group ${group} (class ${g.class}) needs no approval`);
      const already = store.approvals(group).at(-1);
      if (already) {
        r.say(`group ${group} of campaign ${id} was already approved by ${already.operator} at ${already.at}; nothing recorded`);
        return;
      }
      const starter = store.meta().operator;
      if (plan.settings.twoPersonRule === true && operator === starter) {
        const reason = `the two-person rule is on: ${starter} started campaign ${id}, so another operator must approve ${group}`;
        // The refusal is an operator action too: recorded here, or by the runner (which refuses it again).
        if (running) await sendRequest(campaignDir(root, id), { action, operator, at: new Date().toISOString(), group: group!, ...(comment ? { comment } : {}) });
        else await store.recordAudit({ at: new Date().toISOString(), operator, action: 'approve', details: { group, result: `refused: ${reason}` } });
        throw new HvrollError('usage', `approval refused: ${reason} (hvroll approve ${id} ${group} --operator <someone else>)`);
      }
      if (!running) {
        const at = new Date().toISOString();
        await store.recordApproval({ group: group!, operator, at, ...(comment ? { comment } : {}) });
        await store.recordAudit({ at, operator, action: 'approve', details: { group, result: 'applied' } });
        r.say(`approved ${group} in campaign ${id} (recorded; it applies when the campaign runs)`);
        return;
      }
    }
  } finally {
    await store.close();
  }
  await sendRequest(campaignDir(root, id), { action, operator, at: new Date().toISOString(), ...(group ? { group } : {}), ...(comment ? { comment } : {}) });
  r.say(running ? `${action} sent to campaign ${id}; it applies within a second (see hvroll status ${id})` : `campaign ${id} is not running: the ${action} applies when it is resumed (hvroll resume ${id})`);
}

export interface UnlockArgs {
  stateRoot: string;
  campaignId: string;
  operator: string;
  /** Also a lock held on another machine (never a runner alive on this one). */
  force?: boolean;
  /** Accept a campaign directory without its durability marker (moved here without it). */
  adopt?: boolean;
  reason?: string;
  say(line: string): void;
}

/** Breaks the lock of a campaign whose runner died (audited), or adopts its directory as it is. */
export async function unlock(r: UnlockArgs): Promise<void> {
  const root = r.stateRoot;
  const id = r.campaignId;
  const operator = r.operator;
  const dir = campaignDir(root, id);
  const opts = { force: r.force === true, ...(r.reason === undefined ? {} : { reason: r.reason }) };
  if (r.adopt !== true && !(await isLocked(root, id))) {
    // Nothing to break (e.g. a runner that stopped on a full disk released it): say so, after checking the store reads.
    await (await CampaignStore.open(dir, { readOnly: true })).close();
    r.say(`campaign ${id} is not locked: nothing to break; continue with hvroll resume ${id}`);
    return;
  }
  const { previous, adopted } = r.adopt === true ? await adoptStore(dir, operator, opts) : { ...(await breakLock(dir, operator, opts)), adopted: null };
  if (previous !== null) {
    const who = 'info' in previous ? `pid ${previous.info.pid} on ${previous.info.hostname}` : 'an unreadable lock';
    r.say(`lock of campaign ${id} broken (was held by ${who})`);
  }
  if (adopted !== null) r.say(`campaign store ${dir} adopted as it is (its durability marker was ${adopted}); a new marker starts at the end of its journal`);
  r.say(`continue with hvroll resume ${id}`);
}
