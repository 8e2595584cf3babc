// `hvroll pause|abort|approve`: requests to a campaign. A running campaign picks them up within a second
// (the runner holds the store lock, so these commands never write the store behind its back); a campaign
// that is not running gets approvals recorded directly, and pause/abort applied when it is resumed.

import { Command } from 'commander';
import { CAMPAIGN_KEY } from '../../engine/campaign-runner.ts';
import { writeControlRequest, type ControlAction, type ControlRequest } from '../../engine/control.ts';
import { checkStoredPlan } from '../../app/stored-plan.ts';
import { closest } from '../../inventory/suggest.ts';
import { HvrollError } from '../../model/errors.ts';
import { mapFsFault } from '../../store/guarded-fs.ts';
import { campaignDir } from '../../store/paths.ts';
import { adoptStore, breakLock, CampaignStore, listCampaigns } from '../../store/store.ts';
import { operatorOf, stateRoot, withCampaignFlags, type CampaignFlags } from '../campaign-flags.ts';
import type { CliIo } from '../io.ts';

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

async function request(io: CliIo, flags: CampaignFlags, id: string, action: ControlAction, group?: string, comment?: string): Promise<void> {
  const root = stateRoot(flags, io);
  const operator = operatorOf(flags, io);
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
        io.stderr.write(`group ${group} of campaign ${id} was already approved by ${already.operator} at ${already.at}; nothing recorded\n`);
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
        io.stderr.write(`approved ${group} in campaign ${id} (recorded; it applies when the campaign runs)\n`);
        return;
      }
    }
  } finally {
    await store.close();
  }
  await sendRequest(campaignDir(root, id), { action, operator, at: new Date().toISOString(), ...(group ? { group } : {}), ...(comment ? { comment } : {}) });
  io.stderr.write(running ? `${action} sent to campaign ${id}; it applies within a second (see hvroll status ${id})\n` : `campaign ${id} is not running: the ${action} applies when it is resumed (hvroll resume ${id})\n`);
}

export function pauseCommand(io: CliIo): Command {
  return withCampaignFlags(new Command('pause'))
    .description('Pause a campaign: running groups stop after their current step; resume with hvroll resume')
    .argument('<campaign>')
    .action((id: string, flags: CampaignFlags) => request(io, flags, id, 'pause'));
}

export function abortCommand(io: CliIo): Command {
  return withCampaignFlags(new Command('abort'))
    .description('Abort a campaign: running groups finish their step, then drained hosts not yet upgraded are re-enabled; hosts mid-upgrade are left out and named')
    .argument('<campaign>')
    .action((id: string, flags: CampaignFlags) => request(io, flags, id, 'abort'));
}

export function approveCommand(io: CliIo): Command {
  return withCampaignFlags(new Command('approve'))
    .description('Approve a group whose class needs approval before it is drained (records who approved)')
    .argument('<campaign>')
    .argument('<group>')
    .option('--comment <text>', 'why, for the audit trail')
    .action((id: string, group: string, flags: CampaignFlags & { comment?: string }) => request(io, flags, id, 'approve', group, flags.comment));
}

export function unlockCommand(io: CliIo): Command {
  return withCampaignFlags(new Command('unlock'))
    .description('Break the lock of a campaign whose runner died (kill -9, crash, power loss); recorded in the audit trail')
    .argument('<campaign>')
    .option('--force', 'also break a lock held on another machine, which cannot be checked from here (make sure nothing runs the campaign there); never a runner alive on this machine')
    .option('--adopt', 'accept the campaign directory as it is although its durability marker is missing or unreadable (moved here without it): only if you know it is the newest copy; recorded in the audit trail')
    .option('--reason <text>', 'why, for the audit trail')
    .action(async (id: string, flags: CampaignFlags & { force?: boolean; adopt?: boolean; reason?: string }) => {
      const root = stateRoot(flags, io);
      const dir = campaignDir(root, id);
      const opts = { force: flags.force === true, ...(flags.reason === undefined ? {} : { reason: flags.reason }) };
      const operator = operatorOf(flags, io);
      if (flags.adopt !== true && !(await isLocked(root, id))) {
        // Nothing to break (e.g. a runner that stopped on a full disk released it): say so, after checking the store reads.
        await (await CampaignStore.open(dir, { readOnly: true })).close();
        io.stderr.write(`campaign ${id} is not locked: nothing to break; continue with hvroll resume ${id}\n`);
        return;
      }
      const { previous, adopted } = flags.adopt === true ? await adoptStore(dir, operator, opts) : { ...(await breakLock(dir, operator, opts)), adopted: null };
      if (previous !== null) {
        const who = 'info' in previous ? `pid ${previous.info.pid} on ${previous.info.hostname}` : 'an unreadable lock';
        io.stderr.write(`lock of campaign ${id} broken (was held by ${who})\n`);
      }
      if (adopted !== null) io.stderr.write(`campaign store ${dir} adopted as it is (its durability marker was ${adopted}); a new marker starts at the end of its journal\n`);
      io.stderr.write(`continue with hvroll resume ${id}\n`);
    });
}
