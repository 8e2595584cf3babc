// One scheduling pass of a campaign (the campaign machine's `runGroups`): restores from the store who holds
// what (every group's saved state; hosts left out of the pool minus those released since), starts each group
// as soon as the admission policy allows it (engine/admission.ts), takes each group's result as it ends, and
// ends when nothing runs and nothing more can start — saying which groups failed, were aborted or can never
// start, and whether the pass was interrupted (a pause, or groups that wait only for hosts an operator must
// release, which pauses the campaign).
//
// The pass owns no actor: its host (the campaign run) starts the group machines and stops them on a fatal
// error; the pass decides what starts when.

import type { RunGroupsOutput } from '../machines/campaign-machine.ts';
import type { EngineListener } from '../model/events.ts';
import { Admission } from './admission.ts';
import type { EngineDeps } from './deps.ts';
import { savedSnapshot, type GroupResult } from './group-runner.ts';
import { hostsOutOfPool, type OutOfPoolHost } from '../model/out-of-pool.ts';
import { groupOf } from './steps/common.ts';

/** What a pass needs from the campaign run it belongs to. */
export interface PumpHost {
  /** No new group may start: a fatal error, or an operator's pause or abort. */
  halted(): boolean;
  /** The error that ended the campaign, or null. */
  fatal(): unknown;
  onFatal(e: unknown): void;
  /**
   * Starts a group's machine (new, or restored from its snapshot) and resolves with its result when it ends or
   * pauses. Throws at once when it cannot start (a snapshot of another machine version).
   */
  start(group: string): Promise<GroupResult>;
  /** Releases under way: the pass does not end before they do. */
  releasing(): number;
  /** The groups left wait only for hosts left out of the pool: pause the campaign and say so. */
  pauseForRelease(groups: string[], hosts: OutOfPoolHost[]): void;
}

/** A group in one of these states has ended for good. */
const FINAL_GROUP = new Set(['done', 'failed', 'aborted']);

export class GroupPump {
  private readonly admission: Admission;
  /** Hosts an operator put back in the pool (`hvroll release`): they no longer hold their group's slots. */
  private readonly released: Set<string>;
  private readonly results = new Map<string, GroupResult>();
  /** Groups restored mid-step: they resume first, whatever the limits say now (they met them when they started). */
  private readonly resumed: string[] = [];
  private readonly running = new Set<string>();
  private readonly wavesAnnounced = new Set<number>();
  private failed = 0;
  private interrupted = false;
  private settle: { resolve: (o: RunGroupsOutput) => void; reject: (e: Error) => void } | null = null;

  constructor(
    private readonly deps: EngineDeps,
    private readonly listener: EngineListener,
    private readonly host: PumpHost,
  ) {
    const overcommit = deps.plan.settings.cpuOvercommit;
    this.admission = new Admission(deps.plan, {
      hostCapacity: (name) => {
        const c = deps.hosts.get(name)?.capacity;
        return c && { memoryMiB: c.memoryMiB, vcpus: c.vcpus * overcommit };
      },
    });
    this.released = new Set(deps.store.releases().map((r) => r.host));
    this.restore();
  }

  /** Runs the pass to its end. */
  run(): Promise<RunGroupsOutput> {
    return new Promise<RunGroupsOutput>((resolve, reject) => {
      this.settle = { resolve, reject };
      if (!this.stopNew()) this.launchAll(this.resumed);
      this.pump();
    });
  }

  /** An operator released `host` (verified and back in the pool): its group no longer holds its slots. */
  hostReleased(host: string): void {
    this.released.add(host);
    this.admission.release(host);
  }

  /** Starts what may start now; when nothing runs any more (and no release is under way), the pass is over. */
  pump(): void {
    if (this.settle === null) return;
    if (!this.stopNew()) this.launchAll(this.admission.next());
    if (this.running.size === 0 && this.host.releasing() === 0) this.finish();
  }

  /** Every group's saved state: ended groups count (and hold what they left out of the pool), mid-step ones resume. */
  private restore(): void {
    for (const g of this.admission.order) {
      const saved = savedSnapshot(this.deps, g.name);
      const state = saved ? String(saved.value) : 'pending';
      if (FINAL_GROUP.has(state)) {
        const ctx = saved!.context;
        const ended = state as 'done' | 'failed' | 'aborted';
        this.results.set(g.name, { group: g.name, state: ended, error: ctx.error?.message ?? null, outOfPool: ctx.outOfPool });
        this.admission.set(g.name, ended);
        this.holdLeftOut(g.name, ctx.outOfPool);
      } else if (state !== 'pending') this.resumed.push(g.name);
    }
    this.failed = [...this.results.values()].filter((r) => r.state === 'failed').length;
  }

  /** No group starts: the campaign is halted, or more groups failed than the budget allows. */
  private stopNew(): boolean {
    return this.host.halted() || this.overBudget();
  }

  private overBudget(): boolean {
    return this.failed > this.deps.plan.settings.failureBudget;
  }

  /** A failed or aborted group's hosts left out of the pool, not released since, hold its slots. */
  private holdLeftOut(name: string, outOfPool: readonly { host: string }[]): void {
    this.admission.leftOut(name, outOfPool.map((o) => o.host).filter((h) => !this.released.has(h)));
  }

  /** A group that could not start is fatal: the others admitted with it must not start either. */
  private launchAll(names: readonly string[]): void {
    for (const name of names) {
      if (this.host.fatal() !== null) return;
      this.launch(name);
    }
  }

  private launch(name: string): void {
    this.admission.set(name, 'running');
    this.announceWave(name);
    let result: Promise<GroupResult>;
    try {
      result = this.host.start(name);
    } catch (e) {
      // E.g. a snapshot saved by another machine version: nothing more may start.
      this.admission.set(name, 'waiting');
      this.host.onFatal(e);
      return;
    }
    this.running.add(name);
    result.then(
      (r) => {
        this.running.delete(name);
        this.ended(name, r);
        this.pump();
      },
      (e: unknown) => {
        this.running.delete(name);
        this.host.onFatal(e);
        this.pump();
      },
    );
  }

  /** The first group of a wave to start announces the wave. */
  private announceWave(name: string): void {
    const wave = groupOf(this.deps, name).wave;
    if (this.wavesAnnounced.has(wave)) return;
    this.wavesAnnounced.add(wave);
    this.listener({ type: 'wave.started', wave, groups: this.deps.plan.waves[wave]?.groups ?? [name] });
  }

  /** A group ended (or paused): record it, hold what it left out of the pool, count it against the budget. */
  private ended(name: string, r: GroupResult): void {
    this.results.set(name, r);
    if (r.state === 'paused') {
      this.interrupted = true;
      this.admission.set(name, 'waiting');
    } else {
      this.admission.set(name, r.state);
      this.holdLeftOut(name, r.outOfPool);
    }
    if (r.state !== 'failed') return;
    this.failed++;
    const budget = this.deps.plan.settings.failureBudget;
    if (this.failed === budget + 1) this.listener({ type: 'budget.reached', failed: this.failed, budget });
  }

  private finish(): void {
    const settle = this.settle!;
    this.settle = null;
    const fatal = this.host.fatal();
    if (fatal !== null) return settle.reject(fatal instanceof Error ? fatal : new Error(String(fatal)));
    let stoppedEarly = this.stopNew();
    const held = stoppedEarly ? [] : this.admission.waitingForRelease();
    if (held.length > 0) {
      // Nothing runs, and what waits would start if the hosts left out of the pool were back: only an operator
      // can tell whether they are fine. Pause, and say so.
      this.host.pauseForRelease(held, hostsOutOfPool(this.deps.store, this.deps.plan));
      this.interrupted = stoppedEarly = true;
    }
    // Nothing runs and nothing can start: what still waits can never start in this campaign.
    if (!stoppedEarly) for (const g of this.admission.waiting()) this.admission.set(g.name, 'blocked', 'could not start: an earlier group of the plan order never finished');
    const all = [...this.results.values()];
    settle.resolve({
      failed: all.filter((r) => r.state === 'failed').map((r) => r.group),
      aborted: all.filter((r) => r.state === 'aborted').map((r) => r.group),
      blocked: this.admission.blocked(),
      outOfPool: all.flatMap((r) => r.outOfPool).filter((o) => !this.released.has(o.host)),
      interrupted: (this.interrupted || stoppedEarly) && !this.overBudget(),
    });
  }
}
