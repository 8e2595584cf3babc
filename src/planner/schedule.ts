// The campaign's schedule, pipelined: the planner walks an estimated timeline and starts a group as soon as
// (a) the admission policy allows it (src/policy/, the same rules `hvroll run` applies: concurrency, tier
// barriers, class and failure-domain limits, the groups it waits for), (b) within a tier no earlier group of
// another class still waits, (c) its failure domains keep their headroom — checked here on the exact fleet
// state once it is drained and its VMs placed, which only the planner knows — and, for the upgrade-aware
// strategy, (d) every VM it holds fits on hosts already upgraded and back in service, so it moves once.
// Each group records the groups it must wait for (`after`): those that upgraded the hosts its VMs go to, and
// those that parked VMs on its hosts. `hvroll run` starts groups by these dependencies and the same limits,
// so a group never waits for an unrelated slow one (no wave barrier).
//
// `waves` become the timeline's start instants: the groups started together at one estimated instant, and why
// no more started then (`closedBy`).

import type { PlanProblem, PlacementStrategy } from '../model/plan.ts';
import { TIER_POSITION } from '../model/tiers.ts';
import { admissionWait, concurrencyWait, OutOfService, TierBarrier, type AdmissionState, type Candidate } from '../policy/index.ts';
import type { Classification } from './classes.ts';
import { diagnoseNoTarget } from './diagnose.ts';
import type { FleetState } from './fleet-state.ts';
import type { OrderedGroup } from './order.ts';
import { drainSeconds } from './estimate.ts';
import type { Placer } from './placement.ts';

export interface PlannedMove {
  vm: number;
  from: number;
  to: number;
  repeat: boolean;
}

export interface WaveCut {
  groups: number[];
  startSeconds: number;
  closedBy: string;
}

export interface Durations {
  /** Estimated seconds of one live migration of `vm`. */
  migration(vm: number): number;
  /** Upgrade + reboot + verify of a host. */
  maintenance: number;
}

export interface ScheduleOutcome {
  waves: WaveCut[];
  /** Wave (start instant) of each ordered group, -1 when it does not run. */
  groupWave: Int32Array;
  infeasible: Uint8Array;
  /** Groups started before an earlier group of their class because their VMs fit on upgraded hosts. */
  broughtForward: Uint8Array;
  /** Campaign order = estimated start order (indices into the ordered groups); groups that do not run last. */
  order: number[];
  moves: PlannedMove[][];
  /** Per ordered group: the groups it must wait for (indices into the ordered groups), in campaign order. */
  after: number[][];
  startSeconds: Float64Array;
  drainSeconds: Float64Array;
  endSeconds: Float64Array;
  problems: PlanProblem[];
}

const MAX_PROBLEMS_PER_GROUP = 5;
/** Failed placement attempts per migration domain and instant before that domain waits (bounds the work). */
const LOOKAHEAD = 4;
const EPS = 1e-6;

interface Attempt {
  ok: boolean;
  moves: PlannedMove[];
  why: string;
  problems: PlanProblem[];
}

export function schedule(
  groups: readonly OrderedGroup[],
  state: FleetState,
  placer: Placer,
  cls: Classification,
  strategy: PlacementStrategy,
  durations: Durations,
): ScheduleOutcome {
  const inv = state.inv;
  const { concurrency } = inv.rules;
  const G = groups.length;
  const out: ScheduleOutcome = {
    waves: [],
    groupWave: new Int32Array(G).fill(-1),
    infeasible: new Uint8Array(G),
    broughtForward: new Uint8Array(G),
    order: [],
    moves: groups.map(() => []),
    after: groups.map(() => []),
    startSeconds: new Float64Array(G),
    drainSeconds: new Float64Array(G),
    endSeconds: new Float64Array(G),
    problems: [],
  };
  const hostGroup = new Int32Array(state.hostCount).fill(-1);
  groups.forEach((g, gi) => g.hosts.forEach((h) => (hostGroup[h] = gi)));
  const done = new Uint8Array(G);
  /** Per host not yet drained: groups that parked VMs on it (its group waits for them). */
  const parkedBy = new Map<number, Set<number>>();
  /** Groups not yet done (or given up), per tier: the order's barriers. */
  const tiers = new TierBarrier();
  for (const g of groups) if (g.hosts.length > 0) tiers.add(g.tier);
  /** Hosts of the groups in flight: what every limit counts. */
  const outOfService = new OutOfService();
  const inflight: number[] = [];
  // Groups not started yet, in campaign order; removed lazily (a flag, and a head that skips started ones).
  const order = groups.map((_, gi) => gi).filter((gi) => groups[gi]!.hosts.length > 0);
  const isPending = new Uint8Array(G);
  for (const gi of order) isPending[gi] = 1;
  let pendingCount = order.length;
  let head = 0;
  const firstPending = (): number => {
    while (head < order.length && !isPending[order[head]!]) head++;
    return head < order.length ? order[head]! : -1;
  };
  const unpend = (gi: number) => {
    isPending[gi] = 0;
    pendingCount--;
  };
  let now = 0;

  /** Groups of one key (tier and class) may start in any order among themselves; keys start in order. */
  const keyOf = groups.map((g) => TIER_POSITION[g.tier] * 65536 + g.klass + 1);

  // The admission policy over the estimated timeline. Its headroom is checked by `attempt` below, on the exact
  // fleet state with the group drained and its VMs placed; its dependencies are the groups that parked VMs on
  // its hosts and are still running.
  const policy: AdmissionState = {
    limits: {
      groups: concurrency.groups,
      classMax: (k) => {
        const max = (k as number) >= 0 ? cls.classes[k as number]!.maxConcurrentGroups : Infinity;
        return Number.isFinite(max) ? max : undefined;
      },
      groupsPerDomain: concurrency.groupsPerDomain ?? null,
    },
    out: outOfService,
    tiers,
    isDone: (gi) => done[gi as number] === 1,
    domainName: (d) => state.failure.names[d as number]!,
    dependencyWhy: (g, p) => `group ${g.name} holds VMs parked by ${groups[p as number]!.name}, still running`,
    headroom: null,
  };
  const candidate = (gi: number): Candidate => {
    const g = groups[gi]!;
    const waitsFor: number[] = [];
    for (const h of g.hosts) for (const p of parkedBy.get(h) ?? []) waitsFor.push(p);
    return { name: g.name, tier: g.tier, klass: g.klass, className: g.className, domains: domains[gi]!, waitsFor };
  };
  /** Why `g` cannot start now for a reason no placement changes, or null. `stop`: later groups cannot either. */
  const limitReached = (gi: number): { why: string; stop: boolean } | null => admissionWait(candidate(gi), policy);
  /** What group `gi` takes out of service while it runs. */
  const serviceHosts = (gi: number) =>
    groups[gi]!.hosts.map((h) => ({ host: h, domain: state.failure.ofHost[h]!, memoryMiB: inv.hosts[h]!.capacity.memoryMiB, vcpus: inv.hosts[h]!.capacity.vcpus * inv.rules.cpuOvercommit }));

  const attempt = (gi: number, allowOld: boolean): Attempt => {
    const g = groups[gi]!;
    state.begin();
    placer.drain(g.hosts, out.waves.length);
    for (const d of domains[gi]!) {
      if (!state.domainWithinHeadroom(d)) {
        const domain = state.failure.names[d]!;
        state.rollback();
        const problem: PlanProblem = {
          kind: 'headroom',
          group: g.name,
          constraint: `headroom:${domain}`,
          message: `draining group ${g.name} would leave ${domain} below its headroom (memory ${inv.rules.headroom.memoryPercent}%, vCPU ${inv.rules.headroom.vcpuPercent}%) even before any VM moves`,
          fix: 'lower rules.headroom, add capacity to the domain, or make the group smaller (rules.grouping.maxHostsPerGroup)',
        };
        return { ok: false, moves: [], why: `headroom of ${domain}`, problems: [problem] };
      }
    }
    const vms = g.hosts.flatMap((h) => state.hostVms[h]!.filter((v) => inv.vms[v]!.migratable));
    vms.sort((a, b) => {
      const va = inv.vms[a]!;
      const vb = inv.vms[b]!;
      return vb.memoryMiB - va.memoryMiB || vb.vcpus - va.vcpus || a - b;
    });
    const moves: PlannedMove[] = [];
    const problems: PlanProblem[] = [];
    let failed = 0;
    for (const vm of vms) {
      const to = placer.choose(vm, allowOld);
      if (to === -1) {
        failed++;
        if (!allowOld) break;
        if (problems.length < MAX_PROBLEMS_PER_GROUP) problems.push(diagnoseNoTarget(state, vm, g.name));
        continue;
      }
      moves.push({ vm, from: state.vmHost[vm]!, to, repeat: state.vmMoves[vm]! > 0 });
      placer.place(vm, to, out.waves.length);
    }
    if (failed > 0) {
      state.rollback();
      if (failed > problems.length && allowOld) {
        problems.push({
          kind: 'no-target',
          group: g.name,
          constraint: 'capacity',
          message: `${failed - problems.length} more VM(s) of group ${g.name} have no target host either`,
          fix: 'see the problems above; the same fix applies',
        });
      }
      return { ok: false, moves: [], why: `waiting for upgraded hosts with room for all VMs of ${g.name} (move-once)`, problems };
    }
    state.commit();
    return { ok: true, moves, why: '', problems };
  };

  // Per group, computed once: its failure domains, and the memory its migratable VMs need per migration domain
  // (a lower bound: a host only gains VMs until it is drained, by parking).
  const domains = groups.map((g) => [...new Set(g.hosts.map((h) => state.failure.ofHost[h]!))]);
  const need = groups.map((g) => {
    const byDomain = new Map<number, number>();
    for (const h of g.hosts) {
      for (const v of state.hostVms[h]!) {
        const vm = inv.vms[v]!;
        if (vm.migratable) byDomain.set(state.migration.ofHost[h]!, (byDomain.get(state.migration.ofHost[h]!) ?? 0) + vm.memoryMiB);
      }
    }
    return [...byDomain];
  });
  /** Cheap test before a placement attempt: upgraded hosts of the VMs' migration domains have the memory at all. */
  const roomOnUpgraded = (gi: number): boolean => need[gi]!.every(([m, mem]) => placer.upgradedFreeMiB(m) >= mem);

  const estimateDrain = (moves: readonly PlannedMove[]): number => {
    if (moves.length === 0) return 0;
    const outgoing = new Map<number, number>();
    const incoming = new Map<number, number>();
    let total = 0;
    for (const m of moves) {
      const s = durations.migration(m.vm);
      outgoing.set(m.from, (outgoing.get(m.from) ?? 0) + s);
      incoming.set(m.to, (incoming.get(m.to) ?? 0) + s);
      total += s;
    }
    // Busiest source or target host over its streams, or this group's share of the global streams (shared
    // with the groups still draining at the same time).
    const draining = 1 + inflight.filter((gi) => now < out.startSeconds[gi]! + out.drainSeconds[gi]!).length;
    return drainSeconds({ perHost: [...outgoing.values(), ...incoming.values()], total }, total * draining, concurrency);
  };

  const start = (gi: number, result: Attempt, wave: number) => {
    const g = groups[gi]!;
    out.moves[gi] = result.moves;
    out.groupWave[gi] = wave;
    const deps = new Set<number>();
    for (const h of g.hosts) for (const p of parkedBy.get(h) ?? []) deps.add(p);
    for (const m of result.moves) {
      const owner = hostGroup[m.to]!;
      if (owner < 0) continue;
      if (done[owner]) deps.add(owner);
      else {
        let set = parkedBy.get(m.to);
        if (!set) parkedBy.set(m.to, (set = new Set()));
        set.add(gi);
      }
    }
    out.after[gi] = [...deps];
    out.startSeconds[gi] = now;
    out.drainSeconds[gi] = estimateDrain(result.moves);
    out.endSeconds[gi] = now + out.drainSeconds[gi]! + durations.maintenance;
    out.order.push(gi);
    inflight.push(gi);
    laneInflight[laneOf[gi]!]!++;
    outOfService.hold(gi, g.klass, serviceHosts(gi));
  };

  const finish = (gi: number) => {
    const g = groups[gi]!;
    done[gi] = 1;
    laneInflight[laneOf[gi]!]!--;
    placer.rejoin(g.hosts);
    tiers.finish(g.tier);
    outOfService.free(gi);
  };

  const giveUp = (gi: number, problems: PlanProblem[]) => {
    out.infeasible[gi] = 1;
    out.order.push(gi);
    // Its hosts are never drained: VMs parked there later wait for no group.
    for (const h of groups[gi]!.hosts) hostGroup[h] = -1;
    out.problems.push(...problems);
    done[gi] = 1;
    tiers.finish(groups[gi]!.tier);
  };

  // Lanes: groups are taken per migration domain, the domain least far along first, so that every domain
  // grows its upgraded capacity from the start instead of one domain after the other (each would ramp up
  // alone from its few spares). Within a lane, campaign order.
  const laneOf = groups.map((g, gi) => need[gi]![0]?.[0] ?? (g.hosts.length > 0 ? state.migration.ofHost[g.hosts[0]!]! : 0));
  const laneHosts = new Float64Array(state.migration.names.length);
  const laneStarted = new Float64Array(state.migration.names.length);
  for (const gi of order) laneHosts[laneOf[gi]!]! += groups[gi]!.hosts.length;
  /** Per key, per lane: its groups in campaign order, and the first that may still be pending. */
  const lanesOfKey = new Map<number, Map<number, { list: number[]; head: number }>>();
  for (const gi of order) {
    let lanes = lanesOfKey.get(keyOf[gi]!);
    if (!lanes) lanesOfKey.set(keyOf[gi]!, (lanes = new Map()));
    let lane = lanes.get(laneOf[gi]!);
    if (!lane) lanes.set(laneOf[gi]!, (lane = { list: [], head: 0 }));
    lane.list.push(gi);
  }
  const progress = (m: number) => laneStarted[m]! / Math.max(1, laneHosts[m]!);
  /** Groups in flight per lane: a lane with none gains no upgraded capacity by waiting (VMs stay in it). */
  const laneInflight = new Int32Array(state.migration.names.length);

  /**
   * Start what can start at `now`: the groups of the first key (tier + class) still pending, lane by lane;
   * the next key only once every group of this one has started. Returns how many started.
   */
  const startWhatFits = (): number => {
    const wave = out.waves.length;
    state.currentWave = wave;
    const started: number[] = [];
    let closedBy = '';
    for (let first = firstPending(); first !== -1; first = firstPending()) {
      const lanes = lanesOfKey.get(keyOf[first]!)!;
      for (const lane of lanes.values()) while (lane.head < lane.list.length && !isPending[lane.list[lane.head]!]) lane.head++;
      const cursor = new Map<number, number>([...lanes].map(([m, l]) => [m, l.head]));
      /** Lanes done for this instant: too many failed attempts, or a group left behind in them. */
      const exhausted = new Set<number>();
      const leftBehind = new Set<number>();
      const failedIn = new Map<number, number>();
      const skippedIn = new Map<number, number>();
      let blocked = false;
      let stop = false;
      /** Per lane, its first group that waits for upgraded capacity. */
      const parkable = new Map<number, number>();
      while (!stop) {
        const full = concurrencyWait(policy);
        if (full) {
          closedBy ||= full.why;
          break;
        }
        let lane = -1;
        for (const [m, l] of lanes) {
          if (exhausted.has(m) || cursor.get(m)! >= l.list.length) continue;
          if (lane === -1 || progress(m) < progress(lane)) lane = m;
        }
        if (lane === -1) break;
        const at = cursor.get(lane)!;
        cursor.set(lane, at + 1);
        const gi = lanes.get(lane)!.list[at]!;
        if (!isPending[gi]) continue;
        const g = groups[gi]!;
        let why: string | null = null;
        let capacityWait = false;
        if (strategy !== 'naive' && !roomOnUpgraded(gi)) {
          why = `waiting for upgraded hosts with room for all VMs of ${g.name} (move-once)`;
          capacityWait = true;
        } else {
          const limit = limitReached(gi);
          if (limit) ({ why, stop } = limit);
        }
        if (capacityWait && !parkable.has(lane)) parkable.set(lane, gi);
        if (why === null) {
          const result = attempt(gi, strategy === 'naive');
          if (result.ok) {
            if (leftBehind.has(lane)) out.broughtForward[gi] = 1;
            start(gi, result, wave);
            started.push(gi);
            unpend(gi);
            laneStarted[lane]! += g.hosts.length;
            continue;
          }
          why = result.why;
          failedIn.set(lane, (failedIn.get(lane) ?? 0) + 1);
          if (failedIn.get(lane)! >= LOOKAHEAD) exhausted.add(lane);
        } else if (capacityWait) {
          skippedIn.set(lane, (skippedIn.get(lane) ?? 0) + 1);
          if (skippedIn.get(lane)! >= LOOKAHEAD * 8) exhausted.add(lane);
        }
        blocked = true;
        leftBehind.add(lane);
        closedBy ||= why;
      }
      // A lane with nothing in flight gains no upgraded capacity by waiting (its VMs never leave it): its first
      // group that waits parks VMs on hosts not yet upgraded (they move again later), as few as placement allows.
      for (const [lane, gi] of parkable) {
        if (stop || laneInflight[lane]! > 0 || limitReached(gi) !== null) continue;
        const result = attempt(gi, true);
        if (!result.ok) continue;
        if (leftBehind.has(lane) && lanes.get(lane)!.list[lanes.get(lane)!.head] !== gi) out.broughtForward[gi] = 1;
        start(gi, result, wave);
        started.push(gi);
        unpend(gi);
        laneStarted[lane]! += groups[gi]!.hosts.length;
        if (result.moves.some((m) => !state.upgraded[m.to])) closedBy = `no upgraded host had room for all VMs of ${groups[gi]!.name}: some move twice`;
      }
      if (blocked || stop || concurrencyWait(policy) !== null) break;
    }
    if (started.length > 0) {
      out.waves.push({ groups: started, startSeconds: now, closedBy: closedBy || (pendingCount === 0 ? 'end of campaign' : 'no other group can start yet') });
    }
    return started.length;
  };

  /** Nothing runs and nothing fits move-once: the head group parks VMs on old hosts, or cannot run at all. */
  const forceHead = () => {
    const gi = firstPending();
    const g = groups[gi]!;
    const result = attempt(gi, true);
    unpend(gi);
    if (!result.ok) return giveUp(gi, result.problems);
    const wave = out.waves.length;
    start(gi, result, wave);
    out.waves.push({ groups: [gi], startSeconds: now, closedBy: `no upgraded host had room for all VMs of ${g.name}: some move twice` });
  };

  while (pendingCount > 0 || inflight.length > 0) {
    const started = pendingCount > 0 ? startWhatFits() : 0;
    if (inflight.length === 0) {
      if (started === 0 && pendingCount > 0) forceHead();
      continue;
    }
    // Jump to the next end: every group ending then is upgraded and back in service.
    let next = Infinity;
    for (const gi of inflight) next = Math.min(next, out.endSeconds[gi]!);
    now = next;
    for (let i = inflight.length - 1; i >= 0; i--) {
      const gi = inflight[i]!;
      if (out.endSeconds[gi]! <= now + EPS) {
        inflight.splice(i, 1);
        finish(gi);
      }
    }
  }
  // Groups with no host to drain (all skipped by policy) never run: they close the order.
  groups.forEach((g, gi) => {
    if (g.hosts.length === 0) out.order.push(gi);
  });
  out.after = out.after.map((deps) => deps.sort((a, b) => out.startSeconds[a]! - out.startSeconds[b]! || a - b));
  return out;
}
