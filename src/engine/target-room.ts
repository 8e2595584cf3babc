// Right before a group drains: is there still room on its targets for what the plan sends there? A campaign
// lasts weeks while tenants and the platform's scheduler keep placing VMs, so a target the plan filled may be
// full already. Each target's load is read now (the runbook's discover; VMs the inventory or plan knows at
// their planned size, others sized with discover.inspect) and held against the planner's capacity model
// (planner/fleet-state.ts: memory, and vCPUs × cpuOvercommit), counting what this group and every other group
// draining now still send there. A target without room stops the group before any VM moves, without retry:
// the fleet will not shrink by itself, the groups not yet started must be planned again.

import type { HostRef } from '../executor/executor.ts';
import { HvrollError } from '../model/errors.ts';
import type { PlanFile, PlannedGroup } from '../model/plan.ts';
import { showNames } from '../model/show-name.ts';
import { hostRef, type EngineDeps } from './deps.ts';
import { discoverVms, inspectVm, type Size } from './read-host.ts';

/** One target as it stands, and what is still on its way to it. */
export interface TargetLoad {
  host: string;
  /** Memory, and vCPUs × cpuOvercommit: what the planner lets a host hold. */
  capacity: Size;
  /** The host's vCPUs before overcommit and the ratio, for the message. */
  vcpus: number;
  cpuOvercommit: number;
  /** Every VM the host lists now, at its planned size (inspected when the plan does not know it). */
  used: Size;
  vms: number;
  /** Listed there, unknown to the plan: placed since it was made. */
  unplanned: string[];
  /** VMs planned to go there that are not there yet, by group (this group first). */
  incoming: { group: string; vms: number; size: Size }[];
}

/** Groups whose drain runs now, per campaign store: what they still send counts on their targets. */
const draining = new WeakMap<object, Map<string, PlannedGroup>>();

/** Runs `work` (a group's drain) with the group counted as draining: others' checks see what it still sends. */
export async function whileDraining<T>(deps: EngineDeps, g: PlannedGroup, work: () => Promise<T>): Promise<T> {
  let groups = draining.get(deps.store);
  if (!groups) draining.set(deps.store, (groups = new Map()));
  groups.set(g.name, g);
  try {
    return await work();
  } finally {
    groups.delete(g.name);
  }
}

/** Per plan: every VM it knows, with its size when it has one (a non-migratable VM's is not in the plan). */
const knownVms = new WeakMap<PlanFile, Map<string, Size | null>>();

function plannedSizes(plan: PlanFile): Map<string, Size | null> {
  let sizes = knownVms.get(plan);
  if (sizes) return sizes;
  sizes = new Map();
  for (const g of plan.groups) {
    for (const n of g.nonMigratable) if (!sizes.has(n.vm)) sizes.set(n.vm, null);
    for (const m of g.moves) sizes.set(m.vm, m);
  }
  knownVms.set(plan, sizes);
  return sizes;
}

const add = (a: Size, b: Size): Size => ({ memoryMiB: a.memoryMiB + b.memoryMiB, vcpus: a.vcpus + b.vcpus });
const ZERO: Size = { memoryMiB: 0, vcpus: 0 };

/** What would be on the target once everything arrives, or null when it fits (the planner's test: load ≤ capacity). */
export function overflow(load: TargetLoad): Size | null {
  const after = load.incoming.reduce((s, i) => add(s, i.size), load.used);
  const mem = after.memoryMiB - load.capacity.memoryMiB;
  const cpu = after.vcpus - load.capacity.vcpus;
  return mem > 1e-6 || cpu > 1e-6 ? after : null;
}

/** The numbers of a target without room, in one sentence. */
export function describeShortage(load: TargetLoad): string {
  const after = overflow(load) ?? load.used;
  const incoming = load.incoming.reduce((s, i) => add(s, i.size), ZERO);
  const over = [
    after.memoryMiB > load.capacity.memoryMiB ? `${after.memoryMiB - load.capacity.memoryMiB} MiB of memory` : '',
    after.vcpus > load.capacity.vcpus ? `${after.vcpus - load.capacity.vcpus} vCPUs` : '',
  ].filter(Boolean);
  const unplanned = load.unplanned.length > 0 ? `, ${load.unplanned.length} of them unknown to the plan (${showNames(load.unplanned, 5)})` : '';
  const from = load.incoming.map((i) => `${i.vms} from group ${i.group}`).join(', ');
  return (
    `${load.host}: capacity ${load.capacity.memoryMiB} MiB / ${load.capacity.vcpus} vCPUs (${load.vcpus} × cpuOvercommit ${load.cpuOvercommit}); ` +
    `used now ${load.used.memoryMiB} MiB / ${load.used.vcpus} vCPUs by ${load.vms} VM(s)${unplanned}; ` +
    `incoming ${incoming.memoryMiB} MiB / ${incoming.vcpus} vCPUs (${from}): ${over.join(' and ')} too many`
  );
}

async function readTargetLoad(deps: EngineDeps, g: PlannedGroup, target: string, others: readonly PlannedGroup[], signal: AbortSignal): Promise<TargetLoad> {
  const host = deps.hosts.get(target);
  if (!host) throw new HvrollError('internal', `target ${target} of group ${g.name} is not in the inventory`);
  const ref: HostRef = hostRef(deps, target);
  const names = await discoverVms(deps, g.name, ref, signal);
  const there = new Set(names);
  let used = ZERO;
  const unplanned: string[] = [];
  for (const name of names) {
    // The inventory's size; else the plan's (the plan alone is built only when the inventory's is not given).
    const size = deps.vmSizes?.get(name) ?? plannedSizes(deps.plan).get(name);
    if (size === undefined) unplanned.push(name);
    // Sequential: unknown VMs are few, and a host is not asked many questions at once.
    used = add(used, size ?? (await inspectVm(deps, g.name, ref, name, signal)));
  }
  const incoming: TargetLoad['incoming'] = [];
  for (const sender of [g, ...others]) {
    const coming = sender.moves.filter((m) => m.to === target && !there.has(m.vm));
    if (coming.length > 0 || sender === g) incoming.push({ group: sender.name, vms: coming.length, size: coming.reduce((s, m) => add(s, m), ZERO) });
  }
  const cpuOvercommit = deps.plan.settings.cpuOvercommit;
  return { host: target, capacity: { memoryMiB: host.capacity.memoryMiB, vcpus: host.capacity.vcpus * cpuOvercommit }, vcpus: host.capacity.vcpus, cpuOvercommit, used, vms: names.length, unplanned, incoming };
}

/**
 * Reads every target of `g` that still has VMs of this group to receive and stops the group when one has no
 * room. Unreadable targets fail the step (retryable: SSH or a VM that vanished between list and inspect).
 */
export async function checkTargetRoom(deps: EngineDeps, g: PlannedGroup, signal: AbortSignal): Promise<void> {
  const targets = [...new Set(g.moves.map((m) => m.to))];
  if (targets.length === 0) return;
  const others = [...(draining.get(deps.store)?.values() ?? [])].filter((o) => o.name !== g.name);
  const read = await Promise.allSettled(targets.map((t) => readTargetLoad(deps, g, t, others, signal)));
  const unreadable = read.flatMap((r, i) => (r.status === 'rejected' ? [{ host: targets[i]!, error: r.reason as unknown }] : []));
  if (unreadable.length > 0) {
    const retryable = unreadable.every((u) => u.error instanceof HvrollError && u.error.retryable);
    throw new HvrollError(
      'remote',
      `group ${g.name}: cannot read the load of its target(s) ${unreadable.map((u) => u.host).join(', ')}, so it cannot tell they still have room: ` +
        `${unreadable.map((u) => (u.error instanceof Error ? u.error.message : String(u.error))).join('; ')}. Nothing was migrated from this group.`,
      { retryable, details: { hosts: unreadable.map((u) => u.host) } },
    );
  }
  const loads = read.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  // A target that gets nothing more from this group is not this group's to judge.
  const short = loads.filter((l) => (l.incoming[0]?.vms ?? 0) > 0 && overflow(l) !== null);
  if (short.length === 0) return;
  const arrived = g.moves.length - loads.reduce((n, l) => n + (l.incoming[0]?.vms ?? 0), 0);
  const moved = arrived > 0 ? `${arrived} VM(s) of this group had moved in an earlier attempt and stay where they are; no other was migrated` : 'Nothing was migrated from this group';
  throw new HvrollError(
    'remote',
    `group ${g.name}: no room left on target(s) ${short.map((l) => l.host).join(', ')} for the VMs the plan sends there — the fleet changed since the plan was made. ` +
      `${short.map(describeShortage).join('. ')}. ${moved}. ` +
      'Re-plan the groups not yet started: let the running groups finish (or abort the campaign), refresh the inventory (hvroll discover --out …), plan it again (hvroll plan) and run the new plan.',
    {
      retryable: false,
      details: {
        host: short[0]!.host,
        targets: short.map((l) => ({ host: l.host, capacity: l.capacity, used: l.used, vms: l.vms, unplanned: l.unplanned, incoming: l.incoming })),
        fix: 'hvroll discover, then hvroll plan for the groups not yet started',
      },
    },
  );
}
