// The admission policy: may this group start now? One set of rules for the planner's timeline
// (src/planner/schedule.ts) and the live engine (src/engine/admission.ts), so the plan's promise and the run's
// behaviour cannot drift apart. Checked in this order, the first that holds says why the group waits:
//   concurrency  concurrency.groups groups out of service at once
//   order        tier barriers (tier-barrier.ts)
//   class        the class's maxConcurrentGroups
//   domain       concurrency.groupsPerDomain, in each of its failure domains
//   deps         every group it waits for is done
//   headroom     its failure domains keep their headroom with it out of service too
// Counting is by what is out of service (out-of-service.ts): a running group, and a failed or aborted group's
// hosts left out of the pool until they are back.
//
// What legitimately differs between the two callers stays with them, behind `Headroom` and `waitsFor`:
//   - headroom: the planner knows the exact fleet state and places every VM, so it checks a domain's headroom
//     on that state once the group is drained and its VMs placed (schedule.ts, as part of the placement
//     attempt); the engine knows only the plan's maintenanceBudget, so it checks capacity out of service
//     against it (budget-headroom.ts).
//   - dependencies: the planner waits for the groups that parked VMs on the group's hosts (it is building
//     `after`); the engine waits for the plan's `after`, as groups really end.
// Pure: no I/O, no clock; imports only the model.

import type { GroupTier } from '../model/plan.ts';
import type { Id, OutOfService } from './out-of-service.ts';
import type { TierBarrier } from './tier-barrier.ts';

export interface AdmissionLimits {
  /** concurrency.groups. */
  groups: number;
  /** The class's maxConcurrentGroups, when it sets one. */
  classMax(klass: Id): number | undefined;
  /** concurrency.groupsPerDomain (null: none). */
  groupsPerDomain: number | null;
}

/** A group that waits to start. */
export interface Candidate {
  name: string;
  tier: GroupTier;
  klass: Id;
  className: string;
  /** Its failure domains, each once. */
  domains: readonly Id[];
  /** Groups that must be done before it starts. */
  waitsFor: readonly Id[];
}

/** The caller's headroom rule: why `g` would take a failure domain below its headroom now, or null. */
export type Headroom = (g: Candidate, out: OutOfService) => string | null;

export interface AdmissionState {
  limits: AdmissionLimits;
  out: OutOfService;
  tiers: TierBarrier;
  isDone(group: Id): boolean;
  domainName(domain: Id): string;
  /** Why `g` waits for `dep`, in words. */
  dependencyWhy(g: Candidate, dep: Id): string;
  /** null: the caller checks the headroom elsewhere (the planner, on its exact fleet state). */
  headroom: Headroom | null;
}

export type WaitKind = 'concurrency' | 'order' | 'class' | 'domain' | 'deps' | 'headroom';

export interface Wait {
  kind: WaitKind;
  why: string;
  /** No group after this one in the order can start either (the scan may stop here). */
  stop: boolean;
}

/** concurrency.groups is reached: nothing more can start. */
export function concurrencyWait(s: Pick<AdmissionState, 'limits' | 'out'>): Wait | null {
  return s.out.groups >= s.limits.groups ? { kind: 'concurrency', why: `concurrency.groups = ${s.limits.groups}`, stop: true } : null;
}

/** Why `g` must wait now, or null when it may start. */
export function admissionWait(g: Candidate, s: AdmissionState): Wait | null {
  const full = concurrencyWait(s);
  if (full) return full;
  const barrier = s.tiers.closedBy(g.tier);
  if (barrier !== null) return { kind: 'order', why: `order: ${barrier} groups finish before ${g.tier} groups start`, stop: true };
  const max = s.limits.classMax(g.klass);
  if (max !== undefined && s.out.inClass(g.klass) >= max) return { kind: 'class', why: `class ${g.className} allows ${max} group(s) at once`, stop: true };
  const perDomain = s.limits.groupsPerDomain;
  if (perDomain !== null) {
    for (const d of g.domains) {
      if (s.out.inDomain(d) >= perDomain) return { kind: 'domain', why: `concurrency.groupsPerDomain = ${perDomain} (${s.domainName(d)})`, stop: false };
    }
  }
  for (const dep of g.waitsFor) if (!s.isDone(dep)) return { kind: 'deps', why: s.dependencyWhy(g, dep), stop: false };
  const room = s.headroom?.(g, s.out) ?? null;
  if (room !== null) return { kind: 'headroom', why: room, stop: false };
  return null;
}
