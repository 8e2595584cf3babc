// Planner benchmark: 2k, 5k and 20k hosts × 20 VMs at 80 % memory use. Each size runs in a child process so
// its peak RSS is its own. Targets (the issue): 20,000 hosts / 400,000 VMs in ≤ 5 s and ≤ 1 GB, time growing
// close to linearly. Also: loadInventory of a 20k-host JSON and YAML file, and the naive strategy for comparison.
//
// Run: npm run bench -- --only plan   (writes bench/results/plan.json)

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateFleet } from '../src/fleet/generate.ts';
import { dump } from 'js-yaml';
import { loadInventory } from '../src/inventory/load.ts';
import type { Inventory } from '../src/model/inventory.ts';
import type { PlacementStrategy } from '../src/model/plan.ts';
import { buildPlan } from '../src/planner/plan.ts';

export const PLAN_SIZES = [2000, 5000, 20000];
const VMS_PER_HOST = 20;
const UTILISATION = 0.8;
const SEED = 20;

export interface SizeResult {
  hosts: number;
  vms: number;
  generateMs: number;
  /** Median wall time of buildPlan (upgrade-aware). */
  planMs: number;
  planRuns: number[];
  naiveMs: number;
  /** Peak RSS of the child process (inventory + plans), MiB. */
  peakRssMiB: number;
  /** Heap held by one plan while it is alive, MiB. */
  planHeapMiB: number;
  groups: number;
  waves: number;
  migrations: number;
  lowerBound: number;
  excessPercent: number;
  movedMoreThanOnce: number;
  runnable: boolean;
  naiveMigrations: number;
  naiveExcessPercent: number;
  naiveMovedMoreThanOnce: number;
}

export interface LoadResult {
  hosts: number;
  vms: number;
  fileMiB: number;
  loadMs: number;
  planMs: number;
  /** Peak RSS of a process that loads the file and plans it: what `hvroll plan` on that file costs. */
  peakRssMiB: number;
}

export interface PlanBenchResult {
  machine: { node: string; cpus: number; platform: string };
  sizes: SizeResult[];
  /** t(larger)/t(smaller) against hosts(larger)/hosts(smaller): ~equal means linear. */
  scaling: { from: number; to: number; hostRatio: number; timeRatio: number }[];
  load: LoadResult;
  loadYaml: LoadResult;
}

const MiB = 1024 * 1024;
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const peakRssMiB = (): number => Math.round((process.resourceUsage().maxRSS * 1024) / MiB);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;
const excess = (n: number, lb: number): number => (lb === 0 ? 0 : round(((n - lb) / lb) * 100, 2));

function fleet(hosts: number): Inventory {
  return generateFleet({ hosts, vmsPerHost: VMS_PER_HOST, utilisation: UTILISATION, seed: SEED });
}

function timed<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const out = fn();
  return [out, performance.now() - t0];
}

/** In the child: one size. */
function measureSize(hosts: number): SizeResult {
  const [inv, generateMs] = timed(() => fleet(hosts));
  const runs = hosts <= 5000 ? 5 : 1;
  const planRuns: number[] = [];
  let heap = 0;
  let plan = buildPlan(inv);
  for (let i = 0; i < runs; i++) {
    gc();
    const before = process.memoryUsage().heapUsed;
    const [p, ms] = timed(() => buildPlan(inv, { strategy: 'upgrade-aware' }));
    heap = Math.max(heap, process.memoryUsage().heapUsed - before);
    planRuns.push(round(ms));
    plan = p;
  }
  gc();
  const naive = (strategy: PlacementStrategy) => timed(() => buildPlan(inv, { strategy }));
  const [np, naiveMs] = naive('naive');
  const s = plan.summary;
  return {
    hosts,
    vms: inv.vms.length,
    generateMs: round(generateMs),
    planMs: median(planRuns),
    planRuns,
    naiveMs: round(naiveMs),
    peakRssMiB: peakRssMiB(),
    planHeapMiB: round(heap / MiB),
    groups: s.groups,
    waves: s.waves,
    migrations: s.migrations,
    lowerBound: s.migrationsLowerBound,
    excessPercent: excess(s.migrations, s.migrationsLowerBound),
    movedMoreThanOnce: s.movedMoreThanOnce.length,
    runnable: s.runnable,
    naiveMigrations: np.summary.migrations,
    naiveExcessPercent: excess(np.summary.migrations, np.summary.migrationsLowerBound),
    naiveMovedMoreThanOnce: np.summary.movedMoreThanOnce.length,
  };
}

/** In the child: load a JSON inventory file and plan it, as `hvroll plan <file>` does. */
async function measureLoad(file: string): Promise<Omit<LoadResult, 'fileMiB'>> {
  const t0 = performance.now();
  const { inventory } = await loadInventory([file]);
  const loadMs = performance.now() - t0;
  const [, planMs] = timed(() => buildPlan(inventory));
  return { hosts: inventory.hosts.length, vms: inventory.vms.length, loadMs: round(loadMs), planMs: round(planMs), peakRssMiB: peakRssMiB() };
}

/** The inventory as an operator would write it (the file format, not the model: grouping has no `kind`). */
export function toInventoryDocument(inv: Inventory): unknown {
  const { grouping, ...rules } = inv.rules;
  const doc =
    grouping.kind === 'by-label'
      ? { by: grouping.by, ...(grouping.maxHostsPerGroup === undefined ? {} : { maxHostsPerGroup: grouping.maxHostsPerGroup }) }
      : grouping.kind === 'explicit'
        ? { groups: grouping.groups }
        : undefined;
  return { hosts: inv.hosts, vms: inv.vms, rules: { ...rules, ...(doc ? { grouping: doc } : {}) } };
}

const self = fileURLToPath(import.meta.url);

function child<T>(args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', '--expose-gc', self, ...args], { maxBuffer: 16 * MiB }, (error, stdout, stderr) => {
      if (error) reject(new Error(`bench child ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(JSON.parse(stdout) as T);
    });
  });
}

export async function benchPlan(log: (line: string) => void = () => undefined): Promise<PlanBenchResult> {
  const sizes: SizeResult[] = [];
  for (const hosts of PLAN_SIZES) {
    log(`plan: ${hosts} hosts …`);
    sizes.push(await child<SizeResult>(['--size', String(hosts)]));
  }
  const scaling = sizes.slice(1).map((s, i) => {
    const prev = sizes[i]!;
    return { from: prev.hosts, to: s.hosts, hostRatio: round(s.hosts / prev.hosts, 2), timeRatio: round(s.planMs / prev.planMs, 2) };
  });

  const hosts = PLAN_SIZES[PLAN_SIZES.length - 1]!;
  log(`load: ${hosts}-host JSON inventory …`);
  const dir = await mkdtemp(join(tmpdir(), 'hvroll-bench-'));
  let load: LoadResult;
  let loadYaml: LoadResult;
  try {
    const doc = toInventoryDocument(fleet(hosts));
    const measure = async (name: string, text: string): Promise<LoadResult> => {
      const file = join(dir, name);
      await writeFile(file, text);
      return { ...(await child<Omit<LoadResult, 'fileMiB'>>(['--load', file])), fileMiB: round(Buffer.byteLength(text) / MiB) };
    };
    load = await measure('fleet.json', JSON.stringify(doc));
    log(`load: ${hosts}-host YAML inventory …`);
    loadYaml = await measure('fleet.yaml', dump(doc, { noRefs: true }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { machine: { node: process.version, cpus: (await import('node:os')).cpus().length, platform: process.platform }, sizes, scaling, load, loadYaml };
}

export function formatPlanBench(r: PlanBenchResult): string {
  const header = ['hosts', 'VMs', 'plan ms', 'runs', 'naive ms', 'peak RSS MiB', 'plan heap MiB', 'waves', 'migrations / LB', 'moved >1', 'naive migr. / LB', 'naive >1'];
  const rows = r.sizes.map((s) => [
    s.hosts,
    s.vms,
    s.planMs,
    s.planRuns.join('/'),
    s.naiveMs,
    s.peakRssMiB,
    s.planHeapMiB,
    s.waves,
    `${s.migrations}/${s.lowerBound} (+${s.excessPercent} %)`,
    s.movedMoreThanOnce,
    `${s.naiveMigrations}/${s.lowerBound} (+${s.naiveExcessPercent} %)`,
    s.naiveMovedMoreThanOnce,
  ].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  return [
    line(header),
    ...rows.map(line),
    '',
    ...r.scaling.map((s) => `scaling ${s.from} → ${s.to} hosts: ×${s.hostRatio} hosts, ×${s.timeRatio} time`),
    `load ${r.load.hosts} hosts / ${r.load.vms} VMs from JSON (${r.load.fileMiB} MiB): load ${r.load.loadMs} ms + plan ${r.load.planMs} ms, peak RSS ${r.load.peakRssMiB} MiB`,
    `load ${r.loadYaml.hosts} hosts / ${r.loadYaml.vms} VMs from YAML (${r.loadYaml.fileMiB} MiB): load ${r.loadYaml.loadMs} ms + plan ${r.loadYaml.planMs} ms, peak RSS ${r.loadYaml.peakRssMiB} MiB`,
  ].join('\n');
}

// Child mode: `bench/plan.ts --size N` or `--load FILE`, one JSON result on stdout.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [flag, value] = process.argv.slice(2);
  if (flag === '--size') process.stdout.write(JSON.stringify(measureSize(Number(value))));
  else if (flag === '--load' && value) process.stdout.write(JSON.stringify(await measureLoad(value)));
  else process.stderr.write('usage: bench/plan.ts --size <hosts> | --load <file> (or run all through bench/run.ts)\n');
}
