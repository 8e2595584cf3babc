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
//
// T_LB counts no sensitivity rule, so a fleet whose rules serialise work sits far above it whatever the
// scheduler does. The rules-aware bound adds what the rules impose on any schedule that obeys them: the order
// tiers run one after another (canaries before normal groups, `last` classes at the end), and within a tier
// a class limited to m groups at once needs at least Σ (its groups' durations) / m, a group lasting at least
// its longest host. T_rules = max(T_LB, Σ over tiers of that tier's own max(work / k, longest, class chains)).

import type { Inventory } from '../model/inventory.ts';
import type { Plan } from '../model/plan.ts';
import { CLASS_TIERS } from '../model/tiers.ts';
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
  /** The rules-aware bound (see above): ≥ seconds. */
  rulesSeconds: number;
  /** Per order tier (spare groups excluded: they may overlap anything): its own bound and the class chain that sets it. */
  tiers: { tier: string; seconds: number; groups: number; chain: { class: string; limit: number; seconds: number } | null }[];
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
  const seconds = Math.max(workSeconds, longest, migrationSeconds);
  const tiers = tierBounds(plan, drain, maintenance, kConcurrency);
  return {
    seconds,
    workSeconds,
    longestHostSeconds: longest,
    migrationSeconds,
    migratedMiB,
    kEff,
    kConcurrency,
    kCapacity,
    rulesSeconds: Math.max(seconds, tiers.reduce((a, t) => a + t.seconds, 0)),
    tiers,
  };
}

function tierBounds(plan: Plan, drain: ReadonlyMap<string, number>, maintenance: number, k: number): LowerBound['tiers'] {
  const limits = plan.settings.concurrency.classes ?? {};
  // Spare groups hold no VMs and may overlap anything; the class tiers run one after another.
  return CLASS_TIERS.map((tier) => {
    let work = 0;
    let longest = 0;
    let groups = 0;
    const perClass = new Map<string, number>();
    for (const g of plan.groups) {
      if (g.status !== 'ready' || g.tier !== tier) continue;
      groups++;
      let groupSeconds = 0;
      for (const h of g.hosts) {
        const t = (drain.get(h) ?? 0) + maintenance;
        work += t;
        groupSeconds = Math.max(groupSeconds, t);
      }
      longest = Math.max(longest, groupSeconds);
      perClass.set(g.class, (perClass.get(g.class) ?? 0) + groupSeconds);
    }
    let chain: LowerBound['tiers'][number]['chain'] = null;
    for (const [cls, total] of perClass) {
      const limit = limits[cls];
      if (limit === undefined) continue;
      const seconds = total / Math.max(1, limit);
      if (chain === null || seconds > chain.seconds) chain = { class: cls, limit, seconds };
    }
    return { tier, groups, chain, seconds: groups === 0 ? 0 : Math.max(work / k, longest, chain?.seconds ?? 0) };
  });
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
