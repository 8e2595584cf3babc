// Runs a planned campaign: the campaign machine walks the waves; each wave's groups run through p-queue
// within `concurrency.groups`; operator requests (pause, resume, abort, approve) are polled and applied;
// every snapshot goes to the store. Resume is the same call on a store that already holds snapshots.

import PQueue from 'p-queue';
import { createActor, fromPromise, waitFor, type SnapshotFrom } from 'xstate';
import { CAMPAIGN_MACHINE_VERSION, campaignMachine, type WaveInput, type WaveOutput } from '../machines/campaign-machine.ts';
import { HvrollError } from '../model/errors.ts';
import { takeControlRequests, type ControlRequest } from './control.ts';
import type { EngineDeps } from './deps.ts';
import { withEta, type EtaOptions } from './eta.ts';
import type { CampaignTotals, EngineListener } from './events.ts';
import { savedSnapshot, startGroup, type GroupResult, type LiveGroup } from './group-runner.ts';

/** Key under which the campaign machine's own snapshot is stored (not a valid group name). */
export const CAMPAIGN_KEY = '~campaign';

export type CampaignFinal = 'done' | 'stopped' | 'aborted' | 'paused';

export interface CampaignOutcome {
  state: CampaignFinal;
  failed: string[];
  aborted: string[];
  outOfPool: { host: string; why: string }[];
}

export interface RunCampaignOptions {
  listener?: EngineListener;
  /** How often operator requests are looked for, ms. */
  controlPollMs?: number;
  /** When an ETA change is worth announcing. */
  eta?: EtaOptions;
}

const FINAL_GROUP = new Set(['done', 'failed', 'aborted']);

export async function runCampaign(deps: EngineDeps, options: RunCampaignOptions = {}): Promise<CampaignOutcome> {
  const listener = withEta(deps.plan, deps.clock, options.listener ?? (() => undefined), options.eta);
  const startedAt = deps.clock.now();
  const live = new Map<string, LiveGroup>();
  let fatal: unknown = null;
  let pauseRequested = false;
  let abortRequested = false;
  const onFatal = (e: unknown) => {
    if (fatal !== null) return;
    fatal = e;
    deps.log.error({ err: e }, 'campaign store write failed: stopping every group now');
    for (const g of live.values()) g.actor.stop();
  };

  const runWave = async ({ wave, failedBefore }: WaveInput): Promise<WaveOutput> => {
    const groups = deps.plan.waves[wave]!.groups;
    listener({ type: 'wave.started', wave, groups });
    const queue = new PQueue({ concurrency: deps.plan.settings.concurrency.groups });
    const results: GroupResult[] = [];
    let failed = failedBefore;
    let interrupted = false;
    for (const name of groups) {
      const saved = savedSnapshot(deps, name);
      if (saved && FINAL_GROUP.has(String(saved.value))) {
        const ctx = saved.context;
        results.push({ group: name, state: String(saved.value) as GroupResult['state'], error: ctx.error?.message ?? null, outOfPool: ctx.outOfPool });
        continue;
      }
      void queue.add(async () => {
        // Checked when a slot frees, not when queued: the budget or an operator may have stopped the wave.
        if (fatal !== null || abortRequested || pauseRequested || failed > deps.plan.settings.failureBudget) {
          interrupted = true;
          return;
        }
        const g = startGroup(deps, name, listener, onFatal);
        live.set(name, g);
        const r = await g.result;
        live.delete(name);
        results.push(r);
        if (r.state === 'failed') failed++;
        if (r.state === 'failed' && failed === deps.plan.settings.failureBudget + 1) listener({ type: 'budget.reached', failed, budget: deps.plan.settings.failureBudget });
        if (r.state === 'paused') interrupted = true;
      });
    }
    await queue.onIdle();
    if (fatal !== null) throw fatal;
    return {
      failed: results.filter((r) => r.state === 'failed').map((r) => r.group),
      aborted: results.filter((r) => r.state === 'aborted').map((r) => r.group),
      outOfPool: results.flatMap((r) => r.outOfPool),
      interrupted: interrupted && !(failed > deps.plan.settings.failureBudget),
    };
  };

  const machine = campaignMachine.provide({ actors: { runWave: fromPromise<WaveOutput, WaveInput>(({ input }) => runWave(input)) } });
  const saved = deps.store.groupSnapshot(CAMPAIGN_KEY);
  if (saved && saved.machineVersion !== CAMPAIGN_MACHINE_VERSION) {
    throw new HvrollError('store', `campaign ${deps.campaignId} was saved by machine version ${saved.machineVersion}; this hvroll runs ${CAMPAIGN_MACHINE_VERSION}`);
  }
  const input = { campaignId: deps.campaignId, waves: deps.plan.waves.length, failureBudget: deps.plan.settings.failureBudget };
  const snapshot = saved?.snapshot as SnapshotFrom<typeof campaignMachine> | undefined;
  const campaign = createActor(machine, snapshot ? { input, snapshot } : { input });
  let saving: Promise<void> = Promise.resolve();
  campaign.subscribe({
    next: () => {
      const persisted = campaign.getPersistedSnapshot();
      saving = saving.then(() => deps.store.saveGroupSnapshot(CAMPAIGN_KEY, { machineVersion: CAMPAIGN_MACHINE_VERSION, snapshot: persisted })).catch(onFatal);
    },
    error: onFatal,
  });
  listener({ type: 'campaign.started', campaignId: deps.campaignId, resumed: snapshot !== undefined, waves: input.waves, groups: deps.plan.groups.length });

  const apply = async (req: ControlRequest) => {
    const refused = approvalRefusal(deps, req);
    await deps.store.recordAudit({ at: req.at, operator: req.operator, action: req.action, details: { ...(req.group ? { group: req.group } : {}), result: refused ? `refused: ${refused}` : 'applied' } });
    if (refused) {
      deps.log.warn({ group: req.group, operator: req.operator }, `approval refused: ${refused}`);
      return;
    }
    if (req.action === 'approve' && req.group) {
      await deps.store.recordApproval({ group: req.group, operator: req.operator, at: req.at, ...(req.comment ? { comment: req.comment } : {}) });
      live.get(req.group)?.actor.send({ type: 'APPROVE', operator: req.operator });
      return;
    }
    if (req.action === 'pause') {
      pauseRequested = true;
      listener({ type: 'campaign.paused', operator: req.operator });
      campaign.send({ type: 'PAUSE' });
      for (const g of live.values()) g.actor.send({ type: 'PAUSE' });
    }
    if (req.action === 'abort') {
      abortRequested = true;
      listener({ type: 'campaign.aborted', operator: req.operator });
      campaign.send({ type: 'ABORT' });
      for (const g of live.values()) g.actor.send({ type: 'ABORT' });
    }
  };
  const stopPolling = new AbortController();
  const campaignDir = deps.store.dir;
  const poll = (async () => {
    while (!stopPolling.signal.aborted) {
      for (const req of await takeControlRequests(campaignDir)) await apply(req);
      await deps.clock.sleep(options.controlPollMs ?? 500, stopPolling.signal).catch(() => undefined);
    }
  })();

  try {
    campaign.start();
    if (String(campaign.getSnapshot().value) === 'paused') campaign.send({ type: 'RESUME' });
    const final = await waitFor(campaign, (s) => s.status === 'done' || s.value === 'paused' || fatal !== null, { timeout: Infinity });
    await saving;
    if (fatal !== null) throw fatal;
    const outcome: CampaignOutcome = {
      state: String(final.value) as CampaignFinal,
      failed: final.context.failed,
      aborted: final.context.aborted,
      outOfPool: final.context.outOfPool,
    };
    listener({ type: 'campaign.finished', state: outcome.state, failed: outcome.failed, outOfPool: outcome.outOfPool, totals: totals(deps), durationMs: deps.clock.now() - startedAt });
    return outcome;
  } finally {
    stopPolling.abort();
    campaign.stop();
    await poll;
  }
}

/** Why an approval request must not count (two-person rule), or null. */
export function approvalRefusal(deps: EngineDeps, req: ControlRequest): string | null {
  if (req.action !== 'approve' || deps.plan.settings.twoPersonRule !== true) return null;
  const starter = deps.store.meta().operator;
  return req.operator === starter ? `the two-person rule is on: ${starter} started campaign ${deps.campaignId}, so another operator must approve` : null;
}

/** Groups by final state, from the saved snapshots (once, at the end). */
function totals(deps: EngineDeps): CampaignTotals {
  const t: CampaignTotals = { groups: deps.plan.groups.length, done: 0, failed: 0, aborted: 0 };
  for (const g of deps.plan.groups) {
    const state = String((deps.store.groupSnapshot(g.name)?.snapshot as { value?: unknown } | undefined)?.value ?? '');
    if (state === 'done' || state === 'failed' || state === 'aborted') t[state]++;
  }
  return t;
}
