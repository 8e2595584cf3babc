// Host groups: the unit that is drained, upgraded and rejoined together.

import type { Inventory, NonMigratablePolicy } from '../model/inventory.ts';
import type { Classification } from './classes.ts';
import { naturalCompare } from './natural.ts';

export interface FormedGroup {
  name: string;
  /** Host indices drained by this group, in name order. */
  hosts: number[];
  /** Hosts left out of the campaign by the `skip` policy for non-migratable VMs. */
  skippedHosts: number[];
  /** Class index, or -1 when the group holds no VMs (a spare). */
  klass: number;
  /** The VM that gave the group its class (-1 for spares). */
  classVm: number;
  /** Non-migratable VMs on the drained hosts (they stay; policy says how). */
  nonMigratable: number[];
  policy: NonMigratablePolicy;
}

/** Sensitivity rank of each host: the rank of its most sensitive VM, -1 when empty. */
function hostRanks(hostVms: readonly number[][], cls: Classification): Int32Array {
  const ranks = new Int32Array(hostVms.length).fill(-1);
  hostVms.forEach((vms, h) => {
    for (const v of vms) ranks[h] = Math.max(ranks[h]!, cls.classes[cls.vmClass[v]!]!.rank);
  });
  return ranks;
}

/** Host sets per group, before policies apply. Names are unique. */
function hostSets(inv: Inventory, ranks: Int32Array): { name: string; base: string; hosts: number[] }[] {
  const { hosts, rules } = inv;
  const byName = (a: number, b: number) => naturalCompare(hosts[a]!.name, hosts[b]!.name);
  const grouping = rules.grouping;
  if (grouping.kind === 'per-host') {
    return hosts.map((h, i) => ({ name: h.name, base: h.name, hosts: [i] })).sort((a, b) => byName(a.hosts[0]!, b.hosts[0]!));
  }
  if (grouping.kind === 'explicit') {
    const index = new Map(hosts.map((h, i) => [h.name, i]));
    const taken = new Set<number>();
    const sets = grouping.groups.map((g) => {
      const members = g.hosts.map((n) => index.get(n)).filter((i): i is number => i !== undefined && !taken.has(i));
      members.forEach((i) => taken.add(i));
      return { name: g.name, base: g.name, hosts: members.sort(byName) };
    });
    const names = new Set(sets.map((s) => s.name));
    hosts.forEach((h, i) => {
      if (taken.has(i)) return;
      let name = h.name;
      for (let k = 2; names.has(name); k++) name = `${h.name}#${k}`;
      names.add(name);
      sets.push({ name, base: name, hosts: [i] });
    });
    return sets;
  }
  // by-label: hosts sharing a label value; a value with more hosts than maxHostsPerGroup is cut into chunks.
  // Within a value the most sensitive hosts are chunked together, so sensitive workloads sit in few groups
  // (fewer approvals, fewer groups held to the end) and empty hosts form spare groups of their own.
  const byValue = new Map<string, number[]>();
  hosts.forEach((h, i) => {
    const value = h.labels[grouping.by] ?? '(none)';
    let list = byValue.get(value);
    if (!list) byValue.set(value, (list = []));
    list.push(i);
  });
  const max = grouping.maxHostsPerGroup ?? Infinity;
  const sets: { name: string; base: string; hosts: number[] }[] = [];
  for (const value of [...byValue.keys()].sort(naturalCompare)) {
    const members = byValue.get(value)!.sort((a, b) => ranks[b]! - ranks[a]! || byName(a, b));
    if (members.length <= max) {
      sets.push({ name: value, base: value, hosts: members.sort(byName) });
      continue;
    }
    // Empty hosts chunk apart from loaded ones: a spare group is upgraded first and then receives VMs.
    const loaded = members.filter((h) => ranks[h]! >= 0);
    const empty = members.filter((h) => ranks[h]! < 0);
    const chunks = [...chunk(loaded, max), ...chunk(empty, max)];
    const width = String(chunks.length).length;
    chunks.forEach((hostsOfChunk, c) => {
      sets.push({ name: `${value}/${String(c + 1).padStart(width, '0')}`, base: value, hosts: hostsOfChunk.sort(byName) });
    });
  }
  return sets;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function formGroups(inv: Inventory, cls: Classification, hostVms: readonly number[][]): FormedGroup[] {
  const ranks = hostRanks(hostVms, cls);
  const nm = inv.rules.nonMigratable;
  return hostSets(inv, ranks).map(({ name, base, hosts }) => {
    const policy = nm.groups[name] ?? nm.groups[base] ?? nm.policy;
    const kept: number[] = [];
    const skippedHosts: number[] = [];
    const nonMigratable: number[] = [];
    for (const h of hosts) {
      const stuck = hostVms[h]!.filter((v) => !inv.vms[v]!.migratable);
      if (stuck.length > 0 && policy === 'skip') {
        skippedHosts.push(h);
        continue;
      }
      kept.push(h);
      nonMigratable.push(...stuck);
    }
    let klass = -1;
    let classVm = -1;
    for (const h of kept) {
      for (const v of hostVms[h]!) {
        const c = cls.vmClass[v]!;
        if (klass === -1 || cls.classes[c]!.rank > cls.classes[klass]!.rank) {
          klass = c;
          classVm = v;
        }
      }
    }
    return { name, hosts: kept, skippedHosts, klass, classVm, nonMigratable, policy };
  });
}
