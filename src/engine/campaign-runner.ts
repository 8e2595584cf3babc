// Runs a planned campaign: the campaign machine's scheduling pass starts each group as soon as the groups it
// depends on (`after` in the plan) are done and the limits allow it (src/engine/admission.ts), never by wave
// barrier; operator requests (pause, resume, abort, approve, release) are polled and applied; every snapshot
// goes to the store. Resume is the same call on a store that already holds snapshots.
//
// Hosts a failed or aborted group left out of the pool keep holding its slots until they are back; the pass
// restores who holds what from the store (group snapshots minus releases). A release request frees its host's
// slot at once. When nothing runs and the groups left wait only for such hosts, the campaign pauses and says
// which: an operator checks them, releases them (`hvroll release`), and resumes.

import { createActor, fromPromise, waitFor, type SnapshotFrom } from 'xstate';
import { CAMPAIGN_MACHINE_VERSION, campaignMachine, type BlockedGroup, type RunGroupsInput, type RunGroupsOutput } from '../machines/campaign-machine.ts';
import { Admission } from './admission.ts';
import { HvrollError } from '../model/errors.ts';
import { takeControlRequests, writeControlResult, type ControlRequest, type ControlResult } from './control.ts';
import type { EngineDeps } from './deps.ts';
import { withEta, type EtaOptions } from './eta.ts';
import type { CampaignTotals, EngineListener } from '../model/events.ts';
import { savedSnapshot, startGroup, type GroupResult, type LiveGroup } from './group-runner.ts';
import { hostsOutOfPool, type OutOfPoolHost } from './out-of-pool.ts';
import { releaseHost } from './release.ts';
import { groupOf } from './steps.ts';

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

const FINAL_GROUP = new Set(['done', 'failed', 'aborted']);

export async function runCampaign(deps: EngineDeps, options: RunCampaignOptions = {}): Promise<CampaignOutcome> {
  const listener = withEta(deps.plan, deps.clock, options.listener ?? (() => undefined), options.eta);
  const startedAt = deps.clock.now();
  const live = new Map<string, LiveGroup>();
  let fatal: unknown = null;
  let pauseRequested = false;
  let abortRequested = false;
  let waitingForRelease: CampaignOutcome['waitingForRelease'] = null;
  /** The scheduling pass under way, told of every host released meanwhile. */
  let pass: { released(host: string): void; settled(): void } | null = null;
  const releasing = new Set<Promise<void>>();
  const onFatal = (e: unknown) => {
    if (fatal !== null) return;
    fatal = e;
    deps.log.error({ err: e }, 'the campaign cannot go on (a store write failed, or a group cannot be restored): stopping every group now');
    for (const g of live.values()) g.actor.stop();
  };

  const runGroups = (): Promise<RunGroupsOutput> => {
    const budget = deps.plan.settings.failureBudget;
    const overcommit = deps.plan.settings.cpuOvercommit;
    const admission = new Admission(deps.plan, {
      hostCapacity: (name) => {
        const c = deps.hosts.get(name)?.capacity;
        return c && { memoryMiB: c.memoryMiB, vcpus: c.vcpus * overcommit };
      },
    });
    const released = new Set(deps.store.releases().map((r) => r.host));
    /** A failed or aborted group's hosts left out of the pool, not released since, hold its slots. */
    const holdLeftOut = (name: string, outOfPool: readonly { host: string }[]) => admission.leftOut(name, outOfPool.map((o) => o.host).filter((h) => !released.has(h)));
    const results = new Map<string, GroupResult>();
    // A group restored mid-step resumes first, whatever the limits say now: it met them when it started.
    const resumed: string[] = [];
    for (const g of admission.order) {
      const saved = savedSnapshot(deps, g.name);
      const state = saved ? String(saved.value) : 'pending';
      if (FINAL_GROUP.has(state)) {
        const ctx = saved!.context;
        results.set(g.name, { group: g.name, state: state as GroupResult['state'], error: ctx.error?.message ?? null, outOfPool: ctx.outOfPool });
        admission.set(g.name, state as 'done' | 'failed' | 'aborted');
        holdLeftOut(g.name, ctx.outOfPool);
      } else if (state !== 'pending') resumed.push(g.name);
    }
    let failed = [...results.values()].filter((r) => r.state === 'failed').length;
    let interrupted = false;
    const wavesAnnounced = new Set<number>();
    const stopNew = () => fatal !== null || abortRequested || pauseRequested || failed > budget;

    return new Promise<RunGroupsOutput>((resolve, reject) => {
      const finish = () => {
        pass = null;
        if (fatal !== null) return reject(fatal instanceof Error ? fatal : new Error(String(fatal)));
        let stoppedEarly = stopNew();
        const held = stoppedEarly ? [] : admission.waitingForRelease();
        if (held.length > 0) {
          // Nothing runs, and what waits would start if the hosts left out of the pool were back: only an
          // operator can tell whether they are fine. Pause, and say so.
          const hosts = hostsOutOfPool(deps.store, deps.plan);
          waitingForRelease = { groups: held, hosts };
          deps.log.warn({ groups: held, hosts: hosts.map((h) => h.host) }, `pausing: ${held.length} group(s) wait for hosts left out of the pool (${hosts.map((h) => h.host).join(', ')}); check them, hvroll release ${deps.campaignId} <host>, then hvroll resume ${deps.campaignId}`);
          campaign.send({ type: 'PAUSE' });
          interrupted = stoppedEarly = true;
        }
        // Nothing runs and nothing can start: what still waits can never start in this campaign.
        if (!stoppedEarly) for (const g of admission.waiting()) admission.set(g.name, 'blocked', 'could not start: an earlier group of the plan order never finished');
        const all = [...results.values()];
        resolve({
          failed: all.filter((r) => r.state === 'failed').map((r) => r.group),
          aborted: all.filter((r) => r.state === 'aborted').map((r) => r.group),
          blocked: admission.blocked(),
          outOfPool: all.flatMap((r) => r.outOfPool).filter((o) => !released.has(o.host)),
          interrupted: (interrupted || stoppedEarly) && !(failed > budget),
        });
      };
      const launch = (name: string) => {
        admission.set(name, 'running');
        const wave = groupOf(deps, name).wave;
        if (!wavesAnnounced.has(wave)) {
          wavesAnnounced.add(wave);
          listener({ type: 'wave.started', wave, groups: deps.plan.waves[wave]?.groups ?? [name] });
        }
        let g: LiveGroup;
        try {
          g = startGroup(deps, name, listener, onFatal);
        } catch (e) {
          // E.g. a snapshot saved by another machine version: nothing more may start.
          admission.set(name, 'waiting');
          onFatal(e);
          return;
        }
        live.set(name, g);
        g.result.then(
          (r) => {
            live.delete(name);
            results.set(name, r);
            if (r.state === 'paused') {
              interrupted = true;
              admission.set(name, 'waiting');
            } else {
              admission.set(name, r.state);
              holdLeftOut(name, r.outOfPool);
            }
            if (r.state === 'failed') {
              failed++;
              if (failed === budget + 1) listener({ type: 'budget.reached', failed, budget });
            }
            pump();
          },
          (e: unknown) => {
            live.delete(name);
            onFatal(e);
            pump();
          },
        );
      };
      // Start what may start; when nothing runs any more (and no release is under way), the pass is over.
      const pump = () => {
        if (pass === null) return;
        if (!stopNew()) for (const name of admission.next()) launch(name);
        if (live.size === 0 && releasing.size === 0) finish();
      };
      pass = {
        released: (host) => {
          released.add(host);
          admission.release(host);
        },
        settled: pump,
      };
      if (!stopNew()) for (const name of resumed) launch(name);
      pump();
    });
  };

  const machine = campaignMachine.provide({ actors: { runGroups: fromPromise<RunGroupsOutput, RunGroupsInput>(() => runGroups()) } });
  const saved = deps.store.groupSnapshot(CAMPAIGN_KEY);
  if (saved && saved.machineVersion !== CAMPAIGN_MACHINE_VERSION) {
    throw new HvrollError('store', `campaign ${deps.campaignId} was saved by machine version ${saved.machineVersion}; this hvroll runs ${CAMPAIGN_MACHINE_VERSION}. Finish it with the hvroll version that started it, or plan again and start a new campaign`);
  }
  const input = { campaignId: deps.campaignId, groups: deps.plan.groups.filter((g) => g.wave >= 0).length, failureBudget: deps.plan.settings.failureBudget };
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
  listener({ type: 'campaign.started', campaignId: deps.campaignId, resumed: snapshot !== undefined, waves: deps.plan.waves.length, groups: deps.plan.groups.length });

  /** Verify and rejoin a host in the background (a pause or abort is not held up by it); answer the sender. */
  const release = (req: ControlRequest) => {
    const work = (async () => {
      let answer: ControlResult;
      try {
        if (!req.host) throw new HvrollError('usage', 'a release request names no host');
        const r = await releaseHost(deps, { host: req.host, operator: req.operator, ...(req.comment ? { comment: req.comment } : {}) });
        if (r.result === 'released') pass?.released(r.host);
        answer = { result: r.result, message: r.message };
      } catch (e) {
        const kind = e instanceof HvrollError ? e.kind : 'internal';
        if (kind !== 'usage') deps.log.error({ err: e, host: req.host }, 'release failed');
        answer = { result: 'error', kind, message: e instanceof Error ? e.message : String(e) };
      }
      if (req.id) await writeControlResult(deps.store.dir, req.id, answer).catch((e: unknown) => deps.log.error({ err: e }, 'could not answer a release request'));
    })();
    releasing.add(work);
    void work.finally(() => {
      releasing.delete(work);
      pass?.settled();
    });
  };

  const apply = async (req: ControlRequest) => {
    // Audited by the release itself, with its result.
    if (req.action === 'release') return release(req);
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
    await Promise.all(releasing);
    const outcome: CampaignOutcome = {
      state: String(final.value) as CampaignFinal,
      failed: final.context.failed,
      aborted: final.context.aborted,
      blocked: final.context.blocked,
      // From the store, not the machine's context: hosts released since they were left out are back.
      outOfPool: hostsOutOfPool(deps.store, deps.plan),
      waitingForRelease: String(final.value) === 'paused' ? waitingForRelease : null,
    };
    listener({ type: 'campaign.finished', state: outcome.state, failed: outcome.failed, outOfPool: outcome.outOfPool, totals: totals(deps), durationMs: deps.clock.now() - startedAt });
    return outcome;
  } finally {
    stopPolling.abort();
    campaign.stop();
    await poll;
    await Promise.all(releasing);
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
