// Runs a planned campaign: the campaign machine's scheduling pass (src/engine/group-pump.ts) starts each group
// as soon as the groups it depends on (`after` in the plan) are done and the limits allow it
// (src/engine/admission.ts), never by wave barrier; operator requests (pause, resume, abort, approve, release) are polled and applied; every snapshot
// goes to the store. Resume is the same call on a store that already holds snapshots.
//
// Hosts a failed or aborted group left out of the pool keep holding its slots until they are back; the pass
// restores who holds what from the store (group snapshots minus releases). A release request frees its host's
// slot at once. When nothing runs and the groups left wait only for such hosts, the campaign pauses and says
// which: an operator checks them, releases them (`hvroll release`), and resumes.

import { createActor, fromPromise, waitFor, type Actor, type SnapshotFrom } from 'xstate';
import { CAMPAIGN_MACHINE_VERSION, campaignMachine, type BlockedGroup, type RunGroupsInput, type RunGroupsOutput } from '../machines/campaign-machine.ts';
import { HvrollError } from '../model/errors.ts';
import type { CampaignTotals, EngineListener } from '../model/events.ts';
import { takeControlRequests, writeControlResult, type ControlRequest, type ControlResult } from './control.ts';
import type { EngineDeps } from './deps.ts';
import { withEta, type EtaOptions } from './eta.ts';
import { startGroup, type GroupResult, type LiveGroup } from './group-runner.ts';
import { GroupPump, type PumpHost } from './group-pump.ts';
import { hostsOutOfPool, type OutOfPoolHost } from '../model/out-of-pool.ts';
import { releaseHost } from './release.ts';

/** Key under which the campaign machine's own snapshot is stored (not a valid group name). */
export const CAMPAIGN_KEY = '~campaign';

export type CampaignFinal = 'done' | 'stopped' | 'aborted' | 'paused';

export interface CampaignOutcome {
  state: CampaignFinal;
  failed: string[];
  aborted: string[];
  /** Groups that could never start: a group they wait for failed, was aborted or is blocked. */
  blocked: BlockedGroup[];
  /** Hosts left out of the pool and not released: they hold their group's slots. */
  outOfPool: OutOfPoolHost[];
  /** Paused because the groups left wait only for these hosts to be released (null otherwise). */
  waitingForRelease: { groups: string[]; hosts: OutOfPoolHost[] } | null;
}

export interface RunCampaignOptions {
  listener?: EngineListener;
  /** How often operator requests are looked for, ms. */
  controlPollMs?: number;
  /** When an ETA change is worth announcing. */
  eta?: EtaOptions;
}

export function runCampaign(deps: EngineDeps, options: RunCampaignOptions = {}): Promise<CampaignOutcome> {
  return new CampaignRun(deps, options).run();
}

type CampaignActor = Actor<typeof campaignMachine>;

/** One run of a campaign in this process: the campaign machine, its scheduling passes, operator requests. */
class CampaignRun implements PumpHost {
  private readonly listener: EngineListener;
  private readonly startedAt: number;
  /** Group machines running now. */
  private readonly live = new Map<string, LiveGroup>();
  /** Releases under way (verify, then enable), in the background. */
  private readonly releases = new Set<Promise<void>>();
  private fatalError: unknown = null;
  private pauseRequested = false;
  private abortRequested = false;
  private waitingForRelease: CampaignOutcome['waitingForRelease'] = null;
  /** The scheduling pass under way, told of every host released meanwhile. */
  private pass: GroupPump | null = null;
  private campaign: CampaignActor | null = null;
  /** The campaign machine's snapshots, saved in order. */
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: EngineDeps,
    private readonly options: RunCampaignOptions,
  ) {
    this.listener = withEta(deps.plan, deps.clock, options.listener ?? (() => undefined), options.eta);
    this.startedAt = deps.clock.now();
  }

  async run(): Promise<CampaignOutcome> {
    const campaign = this.createCampaign();
    const stopPolling = new AbortController();
    const poll = this.pollRequests(stopPolling.signal);
    try {
      campaign.start();
      if (String(campaign.getSnapshot().value) === 'paused') campaign.send({ type: 'RESUME' });
      const final = await waitFor(campaign, (s) => s.status === 'done' || s.value === 'paused' || this.fatalError !== null, { timeout: Infinity });
      await this.saving;
      if (this.fatalError !== null) throw this.fatalError;
      await Promise.all(this.releases);
      return this.finished(final);
    } finally {
      stopPolling.abort();
      campaign.stop();
      await poll;
      await Promise.all(this.releases);
    }
  }

  // --- what a scheduling pass asks of the run (PumpHost) ---

  halted(): boolean {
    return this.fatalError !== null || this.abortRequested || this.pauseRequested;
  }

  fatal(): unknown {
    return this.fatalError;
  }

  readonly onFatal = (e: unknown): void => {
    if (this.fatalError !== null) return;
    this.fatalError = e;
    this.deps.log.error({ err: e }, 'the campaign cannot go on (a store write failed, or a group cannot be restored): stopping every group now');
    for (const g of this.live.values()) g.actor.stop();
  };

  start(group: string): Promise<GroupResult> {
    const g = startGroup(this.deps, group, this.listener, this.onFatal);
    this.live.set(group, g);
    return g.result.finally(() => this.live.delete(group));
  }

  releasing(): number {
    return this.releases.size;
  }

  pauseForRelease(groups: string[], hosts: OutOfPoolHost[]): void {
    const { deps } = this;
    this.waitingForRelease = { groups, hosts };
    deps.log.warn({ groups, hosts: hosts.map((h) => h.host) }, `pausing: ${groups.length} group(s) wait for hosts left out of the pool (${hosts.map((h) => h.host).join(', ')}); check them, hvroll release ${deps.campaignId} <host>, then hvroll resume ${deps.campaignId}`);
    this.campaign?.send({ type: 'PAUSE' });
  }

  // --- the campaign machine ---

  /** The campaign machine, restored from its snapshot when there is one; every snapshot is saved, in order. */
  private createCampaign(): CampaignActor {
    const { deps } = this;
    const machine = campaignMachine.provide({ actors: { runGroups: fromPromise<RunGroupsOutput, RunGroupsInput>(() => this.runGroups()) } });
    const saved = deps.store.groupSnapshot(CAMPAIGN_KEY);
    if (saved && saved.machineVersion !== CAMPAIGN_MACHINE_VERSION) {
      throw new HvrollError('store', `campaign ${deps.campaignId} was saved by machine version ${saved.machineVersion}; this hvroll runs ${CAMPAIGN_MACHINE_VERSION}. Finish it with the hvroll version that started it, or plan again and start a new campaign`);
    }
    const input = { campaignId: deps.campaignId, groups: deps.plan.groups.filter((g) => g.wave >= 0).length, failureBudget: deps.plan.settings.failureBudget };
    const snapshot = saved?.snapshot as SnapshotFrom<typeof campaignMachine> | undefined;
    const campaign = createActor(machine, snapshot ? { input, snapshot } : { input });
    this.campaign = campaign;
    campaign.subscribe({
      next: () => {
        const persisted = campaign.getPersistedSnapshot();
        this.saving = this.saving.then(() => deps.store.saveGroupSnapshot(CAMPAIGN_KEY, { machineVersion: CAMPAIGN_MACHINE_VERSION, snapshot: persisted })).catch(this.onFatal);
      },
      error: this.onFatal,
    });
    this.listener({ type: 'campaign.started', campaignId: deps.campaignId, resumed: snapshot !== undefined, waves: deps.plan.waves.length, groups: deps.plan.groups.length });
    return campaign;
  }

  /** The campaign machine's scheduling pass (engine/group-pump.ts). */
  private runGroups(): Promise<RunGroupsOutput> {
    const pass = new GroupPump(this.deps, this.listener, this);
    this.pass = pass;
    return pass.run().finally(() => {
      if (this.pass === pass) this.pass = null;
    });
  }

  private finished(final: ReturnType<CampaignActor['getSnapshot']>): CampaignOutcome {
    const { deps } = this;
    const state = String(final.value) as CampaignFinal;
    const outcome: CampaignOutcome = {
      state,
      failed: final.context.failed,
      aborted: final.context.aborted,
      blocked: final.context.blocked,
      // From the store, not the machine's context: hosts released since they were left out are back.
      outOfPool: hostsOutOfPool(deps.store, deps.plan),
      waitingForRelease: state === 'paused' ? this.waitingForRelease : null,
    };
    this.listener({ type: 'campaign.finished', state: outcome.state, failed: outcome.failed, outOfPool: outcome.outOfPool, totals: totals(deps), durationMs: deps.clock.now() - this.startedAt });
    return outcome;
  }

  // --- operator requests ---

  /** Operator requests (control files), looked for every controlPollMs until the run ends. */
  private async pollRequests(stop: AbortSignal): Promise<void> {
    const dir = this.deps.store.dir;
    while (!stop.aborted) {
      for (const req of await takeControlRequests(dir)) await this.apply(req);
      await this.deps.clock.sleep(this.options.controlPollMs ?? 500, stop).catch(() => undefined);
    }
  }

  private async apply(req: ControlRequest): Promise<void> {
    const { deps } = this;
    // Audited by the release itself, with its result.
    if (req.action === 'release') return this.release(req);
    const refused = approvalRefusal(deps, req);
    await deps.store.recordAudit({ at: req.at, operator: req.operator, action: req.action, details: { ...(req.group ? { group: req.group } : {}), result: refused ? `refused: ${refused}` : 'applied' } });
    if (refused) {
      deps.log.warn({ group: req.group, operator: req.operator }, `approval refused: ${refused}`);
      return;
    }
    if (req.action === 'approve' && req.group) {
      await deps.store.recordApproval({ group: req.group, operator: req.operator, at: req.at, ...(req.comment ? { comment: req.comment } : {}) });
      this.live.get(req.group)?.actor.send({ type: 'APPROVE', operator: req.operator });
      return;
    }
    if (req.action === 'pause') {
      this.pauseRequested = true;
      this.listener({ type: 'campaign.paused', operator: req.operator });
      this.campaign?.send({ type: 'PAUSE' });
      for (const g of this.live.values()) g.actor.send({ type: 'PAUSE' });
    }
    if (req.action === 'abort') {
      this.abortRequested = true;
      this.listener({ type: 'campaign.aborted', operator: req.operator });
      this.campaign?.send({ type: 'ABORT' });
      for (const g of this.live.values()) g.actor.send({ type: 'ABORT' });
    }
  }

  /** Verify and rejoin a host in the background (a pause or abort is not held up by it); answer the sender. */
  private release(req: ControlRequest): void {
    const { deps } = this;
    const work = (async () => {
      let answer: ControlResult;
      try {
        if (!req.host) throw new HvrollError('usage', 'a release request names no host');
        const r = await releaseHost(deps, { host: req.host, operator: req.operator, ...(req.comment ? { comment: req.comment } : {}) });
        if (r.result === 'released') this.pass?.hostReleased(r.host);
        answer = { result: r.result, message: r.message };
      } catch (e) {
        const kind = e instanceof HvrollError ? e.kind : 'internal';
        if (kind !== 'usage') deps.log.error({ err: e, host: req.host }, 'release failed');
        answer = { result: 'error', kind, message: e instanceof Error ? e.message : String(e) };
      }
      if (req.id) await writeControlResult(deps.store.dir, req.id, answer).catch((e: unknown) => deps.log.error({ err: e }, 'could not answer a release request'));
    })();
    this.releases.add(work);
    void work.finally(() => {
      this.releases.delete(work);
      this.pass?.pump();
    });
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
