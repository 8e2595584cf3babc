// An independent checker: replays a plan on the inventory along its estimated timeline (groups start and end
// at their estimates; at equal times ends come first) and reports every rule it breaks. It also checks the
// dependencies that make the plan safe in ANY order `run` may start groups in (durations differ from the
// estimates): every move's target is either upgraded by a group the mover waits for, or drained later by a
// group that waits for the mover. It knows nothing of the planner's internals, only the Inventory and the
// Plan JSON.

import type { Inventory } from '../../src/model/inventory.ts';
import type { Plan, PlannedGroup } from '../../src/model/plan.ts';

function matches(labels: Record<string, string>, match: Record<string, string | string[]>): boolean {
  return Object.entries(match).every(([k, want]) => labels[k] !== undefined && (Array.isArray(want) ? want.includes(labels[k]!) : want === labels[k]));
}

export interface Replay {
  violations: string[];
  moveCount: Map<string, number>;
  finalHost: Map<string, string>;
  /** Most groups and hosts in flight at once along the timeline. */
  peakGroups: number;
  peakHosts: number;
}

const TIER_POS: Record<string, number> = { spare: 0, first: 1, normal: 2, last: 3 };

export function replay(inv: Inventory, plan: Plan): Replay {
  const violations: string[] = [];
  const hostOf = new Map(inv.vms.map((v) => [v.name, v.host]));
  const vmByName = new Map(inv.vms.map((v) => [v.name, v]));
  const hostByName = new Map(inv.hosts.map((h) => [h.name, h]));
  const moveCount = new Map<string, number>();
  const oc = inv.rules.cpuOvercommit;
  const failureLabel = plan.settings.failureDomain;
  const migrationLabel = plan.settings.migrationDomain;
  const fd = (h: string) => (failureLabel ? hostByName.get(h)!.labels[failureLabel] ?? '(none)' : 'fleet');
  const md = (h: string) => (migrationLabel ? hostByName.get(h)!.labels[migrationLabel] ?? '(none)' : 'fleet');
  const ruleMembers = inv.rules.antiAffinity.map((r) => new Set(inv.vms.filter((v) => matches(v.labels, r.match)).map((v) => v.name)));
  const running = plan.groups.filter((g) => g.wave >= 0);
  const groupOfHost = new Map<string, PlannedGroup>();
  for (const g of running) for (const h of g.hosts) groupOfHost.set(h, g);
  const byName = new Map(plan.groups.map((g) => [g.name, g]));

  // Dependencies that hold whatever the real durations.
  for (const g of running) {
    for (const d of g.after) {
      const dep = byName.get(d);
      if (!dep || dep.wave < 0) violations.push(`${g.name} waits for ${d}, which does not run`);
      else if (dep.estimate.endSeconds > g.estimate.startSeconds + 1e-6) violations.push(`${g.name} starts at ${g.estimate.startSeconds} before ${d} ends at ${dep.estimate.endSeconds}`);
    }
    for (const m of g.moves) {
      const owner = groupOfHost.get(m.to);
      if (!owner) continue;
      if (owner === g) violations.push(`${g.name} moves ${m.vm} onto its own host ${m.to}`);
      else if (!g.after.includes(owner.name) && !owner.after.includes(g.name)) {
        violations.push(`${g.name} moves ${m.vm} to ${m.to} but neither waits for the other's group ${owner.name}`);
      }
    }
  }

  type Ev = { at: number; end: boolean; g: PlannedGroup };
  const events: Ev[] = running.flatMap((g) => [
    { at: g.estimate.startSeconds, end: false, g },
    { at: g.estimate.endSeconds, end: true, g },
  ]);
  events.sort((a, b) => a.at - b.at || Number(b.end) - Number(a.end) || a.g.index - b.g.index);
  const inFlight = new Set<PlannedGroup>();
  const ended = new Set<string>();
  const draining = new Set<string>();
  const upgraded = new Set<string>();
  let peakGroups = 0;
  let peakHosts = 0;
  const classMax = new Map(inv.rules.sensitivity.map((c) => [c.class, c.maxConcurrentGroups]));

  for (const { at, end, g } of events) {
    if (end) {
      inFlight.delete(g);
      ended.add(g.name);
      for (const h of g.hosts) {
        draining.delete(h);
        upgraded.add(h);
      }
      continue;
    }
    const where = `${g.name} at ${at}`;
    inFlight.add(g);
    peakGroups = Math.max(peakGroups, inFlight.size);
    if (inFlight.size > inv.rules.concurrency.groups) violations.push(`${where}: ${inFlight.size} groups > concurrency.groups`);
    const max = classMax.get(g.class);
    if (max !== undefined && [...inFlight].filter((x) => x.class === g.class).length > max) violations.push(`${where}: class ${g.class} over maxConcurrentGroups`);
    for (const other of running) {
      // Tiers are barriers: every canary group has ended before a normal one starts, every normal before a critical.
      const pos = TIER_POS[other.tier]!;
      if ((other.tier === 'first' || other.tier === 'normal') && pos < TIER_POS[g.tier]! && !ended.has(other.name)) violations.push(`${where}: ${other.tier} group ${other.name} has not ended`);
    }
    for (const h of g.hosts) {
      if (upgraded.has(h) || draining.has(h)) violations.push(`host ${h} drained twice`);
      draining.add(h);
    }
    peakHosts = Math.max(peakHosts, draining.size);
    const stays = new Set(g.nonMigratable.map((n) => n.vm));
    const moving = new Set(g.moves.map((m) => m.vm));
    const hosts = new Set(g.hosts);
    for (const [vmName, h] of hostOf) {
      if (hosts.has(h) && !moving.has(vmName) && !stays.has(vmName)) violations.push(`${where}: VM ${vmName} left on draining host ${h}`);
    }
    for (const m of g.moves) {
      if (hostOf.get(m.vm) !== m.from) violations.push(`move of ${m.vm} says from ${m.from} but it is on ${hostOf.get(m.vm)}`);
      if (draining.has(m.to)) violations.push(`${where}: ${m.vm} moved onto ${m.to}, which is being drained`);
      if (md(m.to) !== md(m.from)) violations.push(`${m.vm} leaves its migration domain ${md(m.from)} for ${md(m.to)}`);
      if (m.repeat !== (moveCount.get(m.vm) ?? 0) > 0) violations.push(`${m.vm}: repeat flag wrong`);
      hostOf.set(m.vm, m.to);
      moveCount.set(m.vm, (moveCount.get(m.vm) ?? 0) + 1);
    }
    // State once this group's VMs are on their targets: capacity and anti-affinity per target host, headroom
    // per failure domain with every group in flight out of service.
    const used = new Map<string, { mem: number; cpu: number; vms: string[] }>();
    for (const [vmName, h] of hostOf) {
      const u = used.get(h) ?? { mem: 0, cpu: 0, vms: [] };
      const v = vmByName.get(vmName)!;
      u.mem += v.memoryMiB;
      u.cpu += v.vcpus;
      u.vms.push(vmName);
      used.set(h, u);
    }
    const initiallyOver = (h: string) => {
      const host = hostByName.get(h)!;
      const vms = inv.vms.filter((v) => v.host === h);
      return vms.reduce((s, v) => s + v.memoryMiB, 0) > host.capacity.memoryMiB || vms.reduce((s, v) => s + v.vcpus, 0) > host.capacity.vcpus * oc;
    };
    const received = new Set(g.moves.map((m) => m.to));
    for (const h of received) {
      const host = hostByName.get(h)!;
      const u = used.get(h)!;
      if (u.mem > host.capacity.memoryMiB || u.cpu > host.capacity.vcpus * oc + 1e-9) {
        if (!initiallyOver(h)) violations.push(`${where}: host ${h} over capacity (${u.mem} MiB, ${u.cpu} vCPU)`);
      }
      ruleMembers.forEach((members, r) => {
        const n = u.vms.filter((v) => members.has(v)).length;
        if (n > 1) violations.push(`${where}: host ${h} holds ${n} VMs of anti-affinity rule ${inv.rules.antiAffinity[r]!.name}`);
      });
    }
    const { memoryPercent, vcpuPercent } = inv.rules.headroom;
    if (memoryPercent > 0 || vcpuPercent > 0) {
      const dom = new Map<string, { cap: number; capCpu: number; load: number; loadCpu: number }>();
      for (const h of inv.hosts) {
        if (draining.has(h.name)) continue;
        const d = dom.get(fd(h.name)) ?? { cap: 0, capCpu: 0, load: 0, loadCpu: 0 };
        d.cap += h.capacity.memoryMiB;
        d.capCpu += h.capacity.vcpus * oc;
        d.load += used.get(h.name)?.mem ?? 0;
        d.loadCpu += used.get(h.name)?.cpu ?? 0;
        dom.set(fd(h.name), d);
      }
      const targets = new Set([...received, ...g.hosts].map(fd));
      for (const name of targets) {
        const d = dom.get(name);
        if (!d) continue; // every host of the domain is drained: nothing left to keep free
        if (d.load > (1 - memoryPercent / 100) * d.cap + 1e-6 || d.loadCpu > (1 - vcpuPercent / 100) * d.capCpu + 1e-6) {
          violations.push(`${where}: failure domain ${name} below its headroom`);
        }
      }
    }
  }
  return { violations, moveCount, finalHost: hostOf, peakGroups, peakHosts };
}
