// Lower bounds a campaign cannot beat, from the plan and the simulator's nominal durations:
//   work      Σ per-host time / k: a host is busy from its drain to its rejoin (drain = its outgoing
//             migrations over its migration streams, then upgrade + reboot + verify), and at most k_conc
//             hosts are in maintenance at once; of that time, the part a host spends empty (maintenance)
//             is further limited by k_eff = min(k_conc, k_cap), the hosts that can be empty at once.
//   longest   the longest single host.
//   migration Σ migration seconds / global migration streams (= total migrated memory over the campaign's
//             migration bandwidth, at the pre-copy model's effective rate).
// T_LB = max of the three. k_cap: per migration domain, the spare capacity (after headroom) in units of the
// smallest host there (so k_cap never undercounts), memory and vCPU, summed over domains.

import type { Inventory } from '../model/inventory.ts';
import type { Plan } from '../model/plan.ts';
import type { SimTiming } from './timing.ts';

export interface LowerBound {
  seconds: number;
  workSeconds: number;
  longestHostSeconds: number;
  migrationSeconds: number;
  migratedMiB: number;
  kEff: number;
  kConcurrency: number;
  kCapacity: number;
}

export function lowerBound(plan: Plan, inventory: Inventory, timing: SimTiming): LowerBound {
  const c = plan.settings.concurrency;
  const vmByName = new Map(inventory.vms.map((v) => [v.name, v]));
  const drain = new Map<string, number>();
  let migrationTotal = 0;
  let migratedMiB = 0;
  let largestGroup = 0;
  for (const g of plan.groups) {
    if (g.status !== 'ready') continue;
    largestGroup = Math.max(largestGroup, g.hosts.length);
    for (const h of g.hosts) drain.set(h, drain.get(h) ?? 0);
    for (const m of g.moves) {
      const s = timing.migrationSeconds(m.memoryMiB, vmByName.get(m.vm)?.labels ?? {});
      drain.set(m.from, (drain.get(m.from) ?? 0) + s / c.migrationsPerHost);
      migrationTotal += s;
      migratedMiB += m.memoryMiB;
    }
  }
  const maintenance = timing.maintenanceSeconds();
  let sumHost = 0;
  let longest = 0;
  for (const d of drain.values()) {
    sumHost += d + maintenance;
    longest = Math.max(longest, d + maintenance);
  }
  const kConcurrency = Math.max(1, c.groups * largestGroup);
  const kCapacity = Math.max(1, capacityHosts(inventory, plan.settings.migrationDomain));
  const kEff = Math.min(kConcurrency, kCapacity);
  const workSeconds = Math.max(sumHost / kConcurrency, (drain.size * maintenance) / kEff);
  const migrationSeconds = migrationTotal / Math.max(1, c.migrations);
  return {
    seconds: Math.max(workSeconds, longest, migrationSeconds),
    workSeconds,
    longestHostSeconds: longest,
    migrationSeconds,
    migratedMiB,
    kEff,
    kConcurrency,
    kCapacity,
  };
}

function capacityHosts(inventory: Inventory, domainLabel: string | null): number {
  const { headroom, cpuOvercommit } = inventory.rules;
  const domains = new Map<string, { mem: number; cpu: number; usedMem: number; usedCpu: number; minMem: number; minCpu: number }>();
  const domainOf = new Map<string, string>();
  for (const h of inventory.hosts) {
    const d = domainLabel === null ? '' : (h.labels[domainLabel] ?? '');
    domainOf.set(h.name, d);
    const e = domains.get(d) ?? { mem: 0, cpu: 0, usedMem: 0, usedCpu: 0, minMem: Infinity, minCpu: Infinity };
    e.mem += h.capacity.memoryMiB * (1 - headroom.memoryPercent / 100);
    e.cpu += h.capacity.vcpus * cpuOvercommit * (1 - headroom.vcpuPercent / 100);
    e.minMem = Math.min(e.minMem, h.capacity.memoryMiB);
    e.minCpu = Math.min(e.minCpu, h.capacity.vcpus * cpuOvercommit);
    domains.set(d, e);
  }
  for (const v of inventory.vms) {
    const e = domains.get(domainOf.get(v.host) ?? '');
    if (!e) continue;
    e.usedMem += v.memoryMiB;
    e.usedCpu += v.vcpus;
  }
  let k = 0;
  for (const e of domains.values()) {
    k += Math.max(0, Math.min(Math.floor((e.mem - e.usedMem) / e.minMem), Math.floor((e.cpu - e.usedCpu) / e.minCpu)));
  }
  return k;
}
