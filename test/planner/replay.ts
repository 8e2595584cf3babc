// An independent checker: replays a plan wave by wave on the inventory and reports every rule it breaks.
// It knows nothing of the planner's internals, only the Inventory and the Plan JSON.

import type { Inventory } from '../../src/model/inventory.ts';
import type { Plan } from '../../src/model/plan.ts';

function matches(labels: Record<string, string>, match: Record<string, string | string[]>): boolean {
  return Object.entries(match).every(([k, want]) => labels[k] !== undefined && (Array.isArray(want) ? want.includes(labels[k]!) : want === labels[k]));
}

export interface Replay {
  violations: string[];
  moveCount: Map<string, number>;
  finalHost: Map<string, string>;
}

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
  const upgraded = new Set<string>();
  const groupByName = new Map(plan.groups.map((g) => [g.name, g]));
  const ruleMembers = inv.rules.antiAffinity.map((r) => new Set(inv.vms.filter((v) => matches(v.labels, r.match)).map((v) => v.name)));

  for (const wave of plan.waves) {
    const groups = wave.groups.map((n) => groupByName.get(n)!);
    if (groups.length > inv.rules.concurrency.groups) violations.push(`wave ${wave.index}: ${groups.length} groups > concurrency.groups`);
    const classCount = new Map<string, number>();
    for (const g of groups) classCount.set(g.class, (classCount.get(g.class) ?? 0) + 1);
    for (const c of inv.rules.sensitivity) {
      if (c.maxConcurrentGroups !== undefined && (classCount.get(c.class) ?? 0) > c.maxConcurrentGroups) violations.push(`wave ${wave.index}: class ${c.class} over maxConcurrentGroups`);
    }
    const draining = new Set(groups.flatMap((g) => g.hosts));
    const stays = new Set(groups.flatMap((g) => g.nonMigratable.map((n) => n.vm)));
    const moving = new Set(groups.flatMap((g) => g.moves.map((m) => m.vm)));
    // Every VM on a draining host must either move or be a declared non-migratable that stays.
    for (const [vmName, h] of hostOf) {
      if (draining.has(h) && !moving.has(vmName) && !stays.has(vmName)) violations.push(`wave ${wave.index}: VM ${vmName} left on draining host ${h}`);
    }
    for (const g of groups) {
      for (const m of g.moves) {
        if (hostOf.get(m.vm) !== m.from) violations.push(`move of ${m.vm} says from ${m.from} but it is on ${hostOf.get(m.vm)}`);
        if (draining.has(m.to)) violations.push(`wave ${wave.index}: ${m.vm} moved onto ${m.to}, drained in the same wave`);
        if (md(m.to) !== md(m.from)) violations.push(`${m.vm} leaves its migration domain ${md(m.from)} for ${md(m.to)}`);
        if (m.repeat !== (moveCount.get(m.vm) ?? 0) > 0) violations.push(`${m.vm}: repeat flag wrong`);
        hostOf.set(m.vm, m.to);
        moveCount.set(m.vm, (moveCount.get(m.vm) ?? 0) + 1);
      }
    }
    // State after the wave's drain: capacity per host, anti-affinity per host, headroom per failure domain.
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
    const received = new Set(groups.flatMap((g) => g.moves.map((m) => m.to)));
    for (const h of received) {
      const host = hostByName.get(h)!;
      const u = used.get(h)!;
      if (u.mem > host.capacity.memoryMiB || u.cpu > host.capacity.vcpus * oc + 1e-9) {
        if (!initiallyOver(h)) violations.push(`wave ${wave.index}: host ${h} over capacity (${u.mem} MiB, ${u.cpu} vCPU)`);
      }
      ruleMembers.forEach((members, r) => {
        const n = u.vms.filter((v) => members.has(v)).length;
        if (n > 1) violations.push(`wave ${wave.index}: host ${h} holds ${n} VMs of anti-affinity rule ${inv.rules.antiAffinity[r]!.name}`);
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
      const targets = new Set([...received, ...draining].map(fd));
      for (const name of targets) {
        const d = dom.get(name);
        if (!d) continue; // every host of the domain is drained: nothing left to keep free
        if (d.load > (1 - memoryPercent / 100) * d.cap + 1e-6 || d.loadCpu > (1 - vcpuPercent / 100) * d.capCpu + 1e-6) {
          violations.push(`wave ${wave.index}: failure domain ${name} below its headroom`);
        }
      }
    }
    for (const h of draining) {
      if (upgraded.has(h)) violations.push(`host ${h} drained twice`);
      upgraded.add(h);
    }
  }
  return { violations, moveCount, finalHost: hostOf };
}
