// Small inventories built in code, and a seeded random fleet for property tests.
import { mulberry32 as rng } from '../../src/fleet/random.ts';
import { DEFAULT_RULES, type Host, type Inventory, type Rules, type Vm } from '../../src/model/inventory.ts';

export type RulesPatch = Partial<Omit<Rules, 'headroom' | 'concurrency' | 'nonMigratable' | 'estimates'>> & {
  headroom?: Partial<Rules['headroom']>;
  concurrency?: Partial<Rules['concurrency']>;
  nonMigratable?: Partial<Rules['nonMigratable']>;
  estimates?: Partial<Rules['estimates']>;
};

export function host(name: string, labels: Record<string, string> = {}, vcpus = 32, memoryMiB = 65536): Host {
  return { name, address: `${name}.example`, labels, capacity: { vcpus, memoryMiB } };
}

export function vm(name: string, hostName: string, memoryMiB = 4096, vcpus = 2, labels: Record<string, string> = {}, migratable = true): Vm {
  return { name, host: hostName, vcpus, memoryMiB, labels, migratable };
}

export function inventory(hosts: Host[], vms: Vm[], patch: RulesPatch = {}): Inventory {
  const rules: Rules = {
    ...DEFAULT_RULES,
    ...patch,
    headroom: { ...DEFAULT_RULES.headroom, ...patch.headroom },
    concurrency: { ...DEFAULT_RULES.concurrency, ...patch.concurrency },
    nonMigratable: { ...DEFAULT_RULES.nonMigratable, ...patch.nonMigratable },
    estimates: { ...DEFAULT_RULES.estimates, ...patch.estimates },
  };
  return { hosts, vms, rules, sources: ['<test>'] };
}

export interface RandomFleetOptions {
  hosts: number;
  utilisation: number;
  spare: number;
  seed: number;
  azs?: number;
  racks?: number;
  groupSize?: number;
  groups?: number;
  headroom?: number;
  antiAffinityClusters?: number;
  overcommit?: number;
}

const SIZES = [1024, 2048, 4096, 4096, 8192, 8192, 16384, 32768];

/** A random fleet: hosts of a few shapes in racks and AZs, VMs packed to a utilisation, some spare hosts. */
export function randomFleet(o: RandomFleetOptions): Inventory {
  const r = rng(o.seed);
  const azs = o.azs ?? 1;
  const racks = o.racks ?? 3;
  const hosts: Host[] = [];
  const vms: Vm[] = [];
  for (let i = 0; i < o.hosts; i++) {
    const big = i < o.spare || r() < 0.3; // a spare can take the load of any host
    hosts.push(host(`hv-${String(i).padStart(4, '0')}`, { az: `az${i % azs}`, rack: `r${Math.floor(i / Math.ceil(o.hosts / racks))}` }, big ? 64 : 48, big ? 262144 : 196608));
  }
  const overcommit = o.overcommit ?? 2;
  let n = 0;
  const clusters = o.antiAffinityClusters ?? 0;
  for (let i = o.spare; i < o.hosts; i++) {
    const h = hosts[i]!;
    let free = h.capacity.memoryMiB * o.utilisation;
    let freeCpu = h.capacity.vcpus * overcommit * o.utilisation;
    for (let tries = 0; tries < 200 && free >= 1024; tries++) {
      const mem = SIZES[Math.floor(r() * SIZES.length)]!;
      const cpu = Math.max(1, mem / 4096);
      if (mem > free || cpu > freeCpu) continue;
      free -= mem;
      freeCpu -= cpu;
      const labels: Record<string, string> = { tier: r() < 0.2 ? 'db' : r() < 0.5 ? 'web' : 'batch' };
      if (r() < 0.05) labels.canary = 'true';
      if (clusters > 0 && labels.tier === 'db') labels.cluster = `c${n % clusters}`;
      vms.push(vm(`vm-${String(n++).padStart(5, '0')}`, h.name, mem, cpu, labels));
    }
  }
  // Anti-affinity over clusters is only meaningful when the start state respects it.
  const clusterHosts = new Map<string, Set<string>>();
  for (const v of vms) {
    const c = v.labels.cluster;
    if (!c) continue;
    const set = clusterHosts.get(c) ?? new Set();
    if (set.has(v.host)) delete v.labels.cluster;
    else set.add(v.host);
    clusterHosts.set(c, set);
  }
  return inventory(hosts, vms, {
    grouping: o.groupSize ? { kind: 'by-label', by: 'rack', maxHostsPerGroup: o.groupSize } : { kind: 'per-host' },
    sensitivity: [
      { class: 'critical', match: { tier: 'db' }, order: 'last', approval: true, maxConcurrentGroups: 1 },
      { class: 'canary', match: { canary: 'true' }, order: 'first', approval: false },
    ],
    antiAffinity: Array.from({ length: clusters }, (_, c) => ({ name: `db-c${c}`, match: { cluster: `c${c}` } })),
    headroom: { memoryPercent: o.headroom ?? 0, vcpuPercent: 0 },
    concurrency: { groups: o.groups ?? 3, migrations: 8, migrationsPerHost: 2 },
    cpuOvercommit: overcommit,
    migrationDomain: azs > 1 ? 'az' : undefined,
  });
}
