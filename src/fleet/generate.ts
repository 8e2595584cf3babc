// A synthetic but realistic fleet for benchmarks, scale tests and demos. Pure and deterministic: the same
// options give the same inventory, byte for byte.
//
// Shape: hosts of 64 vCPU / 512 GiB in racks within AZs; a few dedicated database hosts per rack carry the
// db tier in 3-replica clusters (one anti-affinity rule per cluster); the rest carry web and batch VMs; a few
// hosts hold a canary VM; some hosts are left empty as spares. VM sizes are drawn from a flavour catalogue
// so that memory use matches the requested utilisation.

import { DEFAULT_RULES, type Host, type Inventory, type Rules, type Vm } from '../model/inventory.ts';
import { mulberry32, pick } from './random.ts';

export interface VmSize {
  vcpus: number;
  memoryMiB: number;
}

export interface FleetOptions {
  hosts: number;
  /** Average VMs per host over the whole fleet (spares included): total VMs = hosts × vmsPerHost. */
  vmsPerHost: number;
  /** Share of the fleet's memory used by VMs, 0..1. */
  utilisation: number;
  seed: number;
  azs?: number;
  racksPerAz?: number;
  /** Empty hosts; default 1 % of the fleet (at least 1). */
  spareHosts?: number;
  vmSizes?: VmSize[];
}

const GiB = 1024;
const HOST: VmSize = { vcpus: 64, memoryMiB: 512 * GiB };
const CPU_OVERCOMMIT = 4;
const HOSTS_PER_RACK = 20;
const REPLICAS = 3;
/** One host in eight is a database host (dedicated aggregate). */
const DB_HOST_EVERY = 8;

/** Flavours 1–16 vCPU, 2–64 GiB, like a typical cloud catalogue. */
export const DEFAULT_VM_SIZES: VmSize[] = [
  { vcpus: 1, memoryMiB: 2 * GiB },
  { vcpus: 2, memoryMiB: 4 * GiB },
  { vcpus: 2, memoryMiB: 8 * GiB },
  { vcpus: 4, memoryMiB: 8 * GiB },
  { vcpus: 4, memoryMiB: 16 * GiB },
  { vcpus: 8, memoryMiB: 16 * GiB },
  { vcpus: 8, memoryMiB: 32 * GiB },
  { vcpus: 16, memoryMiB: 32 * GiB },
  { vcpus: 16, memoryMiB: 64 * GiB },
];

export function generateFleet(options: FleetOptions): Inventory {
  const { hosts: hostCount, vmsPerHost, utilisation, seed } = options;
  if (!(hostCount >= 1) || !(vmsPerHost >= 0) || !(utilisation >= 0 && utilisation < 1)) {
    throw new RangeError('generateFleet: hosts >= 1, vmsPerHost >= 0 and 0 <= utilisation < 1 are required');
  }
  const random = mulberry32(seed);
  // Small fleets get one AZ by default: VMs never leave their AZ, and a tiny AZ has nowhere to put them.
  const azs = Math.max(1, Math.min(options.azs ?? (hostCount >= 60 ? 3 : 1), hostCount));
  const racksPerAz = Math.max(1, options.racksPerAz ?? Math.ceil(hostCount / azs / HOSTS_PER_RACK));
  const rackSize = Math.ceil(hostCount / azs / racksPerAz);
  const spareCount = Math.min(hostCount - 1, options.spareHosts ?? Math.max(1, Math.round(hostCount / 100)));
  const sizes = [...(options.vmSizes ?? DEFAULT_VM_SIZES)].sort((a, b) => a.memoryMiB - b.memoryMiB || a.vcpus - b.vcpus);
  if (sizes.length === 0 || sizes.some((s) => s.memoryMiB > HOST.memoryMiB || s.vcpus > HOST.vcpus)) {
    throw new RangeError('generateFleet: every VM size must fit a 64 vCPU / 512 GiB host');
  }

  const hosts = layoutHosts(hostCount, azs, racksPerAz);
  const spare = chooseSpares(hostCount, spareCount);
  const loaded = hosts.map((_, i) => i).filter((i) => !spare.has(i));

  // Spread the VM count and the memory over the loaded hosts so the fleet-wide figures come out exact.
  const totalVms = Math.round(hostCount * vmsPerHost);
  const memoryPerHost = (utilisation * hostCount * HOST.memoryMiB) / loaded.length;
  const vms: Vm[] = [];
  const dbByHost: number[][] = [];
  let canariesLeft = Math.max(1, Math.round(hostCount / 200));
  const canaryStride = Math.max(1, Math.floor(loaded.length / canariesLeft));
  loaded.forEach((h, k) => {
    const host = hosts[h]!;
    const count = Math.floor(totalVms / loaded.length) + (k < totalVms % loaded.length ? 1 : 0);
    const isDb = k % DB_HOST_EVERY === DB_HOST_EVERY - 1;
    const wantsCanary = !isDb && canariesLeft > 0 && k % canaryStride === 0;
    const drawn = drawSizes(random, sizes, count, Math.min(memoryPerHost, HOST.memoryMiB), HOST.vcpus * CPU_OVERCOMMIT);
    const dbVms: number[] = [];
    drawn.forEach((size, slot) => {
      const tier = isDb ? 'db' : random() < 0.45 ? 'web' : 'batch';
      const labels: Record<string, string> = { tier, app: appName(tier, random) };
      if (wantsCanary && slot === 0) {
        labels.canary = 'true';
        labels.tier = 'web';
        canariesLeft--;
      }
      if (isDb) dbVms.push(vms.length);
      vms.push({ name: `${labels.tier}-${String(vms.length + 1).padStart(6, '0')}`, host: host.name, vcpus: size.vcpus, memoryMiB: size.memoryMiB, labels, migratable: true });
    });
    if (isDb) dbByHost.push(dbVms);
  });

  const clusters = formDbClusters(vms, dbByHost);
  return {
    hosts,
    vms,
    rules: fleetRules(clusters, Math.max(1, Math.min(4, Math.floor(rackSize / 4)))),
    sources: [`generated:hosts=${hostCount},vmsPerHost=${vmsPerHost},utilisation=${utilisation},seed=${seed}`],
  };
}

/** Hosts named az<a>-r<rr>-h<nn>, AZs of equal size, racks of equal size within an AZ. */
function layoutHosts(count: number, azs: number, racksPerAz: number): Host[] {
  const hosts: Host[] = [];
  for (let i = 0; i < count; i++) {
    const az = Math.floor((i * azs) / count);
    const azStart = Math.ceil((az * count) / azs);
    const azSize = Math.ceil(((az + 1) * count) / azs) - azStart;
    const inAz = i - azStart;
    const rack = Math.min(racksPerAz - 1, Math.floor((inAz * racksPerAz) / azSize));
    const rackStart = Math.ceil((rack * azSize) / racksPerAz);
    const name = `az${az + 1}-r${String(rack + 1).padStart(2, '0')}-h${String(inAz - rackStart + 1).padStart(2, '0')}`;
    hosts.push({
      name,
      address: `${name}.mgmt.example.net`,
      labels: { az: `az${az + 1}`, rack: `az${az + 1}-r${String(rack + 1).padStart(2, '0')}` },
      capacity: { ...HOST },
    });
  }
  return hosts;
}

/** Spares spread evenly over the fleet (the last host of evenly spaced stretches). */
function chooseSpares(count: number, spares: number): Set<number> {
  const out = new Set<number>();
  for (let s = 0; s < spares; s++) out.add(Math.min(count - 1, Math.floor(((s + 1) * count) / spares) - 1));
  return out;
}

/**
 * `count` sizes whose memory sums close to `memory` without passing `vcpuLimit`. Each draw takes the better of
 * two random feasible sizes (the one nearer the average still needed): a varied mix that lands on target.
 */
function drawSizes(random: () => number, sizes: readonly VmSize[], count: number, memory: number, vcpuLimit: number): VmSize[] {
  const smallest = sizes[0]!;
  const largest = sizes[sizes.length - 1]!;
  const out: VmSize[] = [];
  let memLeft = memory;
  let cpuLeft = vcpuLimit;
  for (let left = count; left > 0; left--) {
    const after = left - 1;
    const feasible = sizes.filter(
      (s) =>
        s.memoryMiB <= memLeft - after * smallest.memoryMiB &&
        memLeft - s.memoryMiB <= after * largest.memoryMiB &&
        s.vcpus <= cpuLeft - after * smallest.vcpus,
    );
    const target = memLeft / left;
    // Nothing lands exactly (last draw, odd remainder): take the size nearest the average still needed.
    const pool = feasible.length > 0 ? feasible : [nearest(sizes, target, cpuLeft)];
    const a = pool[pick(random, pool.length)]!;
    const b = pool[pick(random, pool.length)]!;
    const size = Math.abs(a.memoryMiB - target) <= Math.abs(b.memoryMiB - target) ? a : b;
    out.push(size);
    memLeft -= size.memoryMiB;
    cpuLeft -= size.vcpus;
  }
  return out;
}

function nearest(sizes: readonly VmSize[], memory: number, cpuLeft: number): VmSize {
  let best = sizes[0]!;
  for (const s of sizes) if (s.vcpus <= cpuLeft && Math.abs(s.memoryMiB - memory) < Math.abs(best.memoryMiB - memory)) best = s;
  return best;
}

const APPS: Record<string, string[]> = {
  db: ['orders-pg', 'billing-pg', 'catalog-mysql', 'sessions-redis'],
  web: ['storefront', 'api-gateway', 'checkout', 'search-ui'],
  batch: ['etl', 'reports', 'thumbnails', 'ml-train'],
};

function appName(tier: string, random: () => number): string {
  const apps = APPS[tier]!;
  return apps[pick(random, apps.length)]!;
}

/**
 * Database replicas in clusters of 3, each replica on a different db host: walk slot by slot across the db
 * hosts, so consecutive members sit on consecutive (distinct) hosts. A member that would share a host with
 * its cluster (uneven slot counts) is left out of the cluster, so the initial state respects every rule.
 */
function formDbClusters(vms: Vm[], dbByHost: readonly number[][]): number {
  const order: number[] = [];
  const maxSlots = dbByHost.reduce((m, list) => Math.max(m, list.length), 0);
  for (let slot = 0; slot < maxSlots; slot++) for (const list of dbByHost) if (slot < list.length) order.push(list[slot]!);
  const replicas = Math.min(REPLICAS, dbByHost.length);
  if (replicas < 2) return 0;
  let clusters = 0;
  for (let i = 0; i + replicas <= order.length; i += replicas) {
    const members = order.slice(i, i + replicas);
    const hostsOf = new Set(members.map((v) => vms[v]!.host));
    if (hostsOf.size !== members.length) continue;
    const cluster = `db-${String(clusters + 1).padStart(5, '0')}`;
    for (const v of members) vms[v]!.labels.cluster = cluster;
    clusters++;
  }
  return clusters;
}

function fleetRules(clusters: number, maxHostsPerGroup: number): Rules {
  return {
    ...DEFAULT_RULES,
    grouping: { kind: 'by-label', by: 'rack', maxHostsPerGroup },
    sensitivity: [
      { class: 'db-critical', match: { tier: 'db' }, order: 'last', approval: true, maxConcurrentGroups: 1 },
      { class: 'canary', match: { canary: 'true' }, order: 'first', approval: false },
      { class: 'standard', match: {}, order: 'normal', approval: false },
    ],
    antiAffinity: Array.from({ length: clusters }, (_, c) => {
      const cluster = `db-${String(c + 1).padStart(5, '0')}`;
      return { name: `${cluster}-spread`, match: { cluster } };
    }),
    headroom: { memoryPercent: 10, vcpuPercent: 10, domain: 'az' },
    concurrency: { groups: 8, migrations: 64, migrationsPerHost: 2 },
    failureBudget: 1,
    cpuOvercommit: CPU_OVERCOMMIT,
    migrationDomain: 'az',
    nonMigratable: { policy: 'block', groups: {} },
    estimates: { ...DEFAULT_RULES.estimates },
  };
}
