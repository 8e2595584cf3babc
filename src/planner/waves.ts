// Walks the ordered groups and cuts them into waves: groups drained at the same time. A group joins the
// wave being built when the limits allow it (concurrency, class limits, failure domains, headroom) and, for
// the upgrade-aware strategy, when every VM it holds fits on hosts already upgraded — otherwise a new wave
// starts, by which time this wave's hosts are upgraded and free. Only the first group of a wave may park VMs
// on hosts not yet upgraded (a second move, counted and reported).

import type { PlanProblem, PlacementStrategy } from '../model/plan.ts';
import type { Classification } from './classes.ts';
import { diagnoseNoTarget } from './diagnose.ts';
import type { FleetState } from './fleet-state.ts';
import type { OrderedGroup } from './order.ts';
import type { Placer } from './placement.ts';

export interface PlannedMove {
  vm: number;
  from: number;
  to: number;
  repeat: boolean;
}

export interface WaveCut {
  groups: number[];
  closedBy: string;
}

export interface WaveOutcome {
  waves: WaveCut[];
  /** Wave of each ordered group, -1 when it does not run. */
  groupWave: Int32Array;
  infeasible: Uint8Array;
  /** Groups run earlier than their name order because they fit on upgraded hosts. */
  broughtForward: Uint8Array;
  /** Final campaign order (indices into the ordered groups). */
  order: number[];
  moves: PlannedMove[][];
  problems: PlanProblem[];
}

const MAX_PROBLEMS_PER_GROUP = 5;
/** How far ahead (in groups) to look for one that moves its VMs once, before parking VMs on old hosts. */
const LOOKAHEAD = 32;

interface Attempt {
  ok: boolean;
  moves: PlannedMove[];
  /** Why the group could not join (for the wave's closedBy), when !ok. */
  why: string;
  problems: PlanProblem[];
}

export function cutWaves(
  groups: readonly OrderedGroup[],
  state: FleetState,
  placer: Placer,
  cls: Classification,
  strategy: PlacementStrategy,
): WaveOutcome {
  const inv = state.inv;
  const { concurrency } = inv.rules;
  const out: WaveOutcome = {
    waves: [],
    groupWave: new Int32Array(groups.length).fill(-1),
    infeasible: new Uint8Array(groups.length),
    broughtForward: new Uint8Array(groups.length),
    order: [],
    moves: groups.map(() => []),
    problems: [],
  };
  let current: number[] = [];
  const classCount = new Map<number, number>();
  const domainCount = new Map<number, number>();

  const domainsOf = (g: OrderedGroup) => [...new Set(g.hosts.map((h) => state.failure.ofHost[h]!))];

  const closeWave = (closedBy: string) => {
    if (current.length === 0) return;
    for (const gi of current) placer.rejoin(groups[gi]!.hosts);
    out.waves.push({ groups: current, closedBy });
    current = [];
    classCount.clear();
    domainCount.clear();
    state.currentWave = out.waves.length;
  };

  const limitReached = (g: OrderedGroup): string | null => {
    const first = groups[current[0]!]!;
    if (current.length >= concurrency.groups) return `concurrency.groups = ${concurrency.groups}`;
    if (first.tier !== g.tier) return `order boundary (${first.tier} -> ${g.tier})`;
    if (g.klass >= 0) {
      const max = cls.classes[g.klass]!.maxConcurrentGroups;
      if ((classCount.get(g.klass) ?? 0) >= max) return `class ${g.className} allows ${max} group(s) at once`;
    }
    const perDomain = concurrency.groupsPerDomain;
    if (perDomain !== undefined) {
      for (const d of domainsOf(g)) {
        if ((domainCount.get(d) ?? 0) >= perDomain) return `concurrency.groupsPerDomain = ${perDomain} (${state.failure.names[d]})`;
      }
    }
    if (g.hosts.some((h) => state.targetWave[h] === state.currentWave)) return `group ${g.name} received VMs in this wave`;
    return null;
  };

  const attempt = (g: OrderedGroup, allowOld: boolean): Attempt => {
    const wave = state.currentWave;
    state.begin();
    placer.drain(g.hosts, wave);
    for (const d of domainsOf(g)) {
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
      placer.place(vm, to, wave);
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
      return { ok: false, moves: [], why: `upgraded hosts have no room for all VMs of ${g.name} (move-once)`, problems };
    }
    state.commit();
    return { ok: true, moves, why: '', problems };
  };

  /**
   * A later group of the same tier and class whose VMs all fit on upgraded hosts (so they move once), to run
   * before the group at `i`, which would otherwise park VMs on hosts not yet upgraded. Joins it on success.
   */
  const bringForward = (i: number): number => {
    const g = groups[order[i]!]!;
    const end = Math.min(order.length, i + 1 + LOOKAHEAD);
    for (let j = i + 1; j < end; j++) {
      const cand = groups[order[j]!]!;
      if (cand.tier !== g.tier || cand.klass !== g.klass) break;
      if (cand.hosts.length === 0) continue;
      const result = attempt(cand, false);
      if (result.ok) {
        join(order[j]!, result);
        return j;
      }
    }
    return -1;
  };

  // Groups are taken in campaign order; `order` may change only by bringing a group of the same tier and
  // class forward (within a class, name order is just a tie-break).
  const order = groups.map((_, gi) => gi);
  const join = (gi: number, result: Attempt) => {
    const g = groups[gi]!;
    out.moves[gi] = result.moves;
    out.groupWave[gi] = state.currentWave;
    current.push(gi);
    if (g.klass >= 0) classCount.set(g.klass, (classCount.get(g.klass) ?? 0) + 1);
    for (const d of domainsOf(g)) domainCount.set(d, (domainCount.get(d) ?? 0) + 1);
  };
  for (let i = 0; i < order.length; ) {
    const gi = order[i]!;
    const g = groups[gi]!;
    if (g.hosts.length === 0) {
      i++;
      continue;
    }
    if (current.length > 0) {
      const limit = limitReached(g);
      if (limit) closeWave(limit);
    }
    let result = attempt(g, strategy === 'naive');
    if (!result.ok && current.length > 0) {
      closeWave(result.why); // the next wave has this wave's hosts upgraded and free: try again there
      continue;
    }
    if (!result.ok) {
      const ahead = bringForward(i);
      if (ahead !== -1) {
        const [moved] = order.splice(ahead, 1);
        order.splice(i, 0, moved!);
        out.broughtForward[moved!] = 1;
        i++;
        continue;
      }
      result = attempt(g, true);
    }
    if (!result.ok) {
      out.infeasible[gi] = 1;
      out.problems.push(...result.problems);
    } else {
      join(gi, result);
    }
    i++;
  }
  closeWave('end of campaign');
  out.order = order;
  return out;
}
