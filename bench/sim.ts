// Simulated campaigns (bench --only sim): the real engine against generated fleets of 1k, 5k and 20k hosts
// (20 VMs each, utilisation 0.8) in virtual time, each size in its own child process (clean peak RSS).
// Checks the issue's targets and prints PASS/MISS with the ratio. Heavy: run it once, not in a loop.

import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateFleet } from '../src/fleet/generate.ts';
import { loadRunbook } from '../src/runbook/load.ts';
import { simulateOnce, type SimRunReport } from '../src/app/simulate.ts';

export const SIM_SIZES = [1000, 5000, 20000];

/** `--sizes 20000` (comma-separated) runs only those fleet sizes, e.g. for a final confirmation at 20k. */
function sizes(argv: string[] = process.argv): number[] {
  const at = argv.indexOf('--sizes');
  if (at === -1) return SIM_SIZES;
  const picked = (argv[at + 1] ?? '').split(',').map(Number);
  if (picked.length === 0 || picked.some((n) => !SIM_SIZES.includes(n))) throw new Error(`--sizes takes some of ${SIM_SIZES.join(',')} (got "${argv[at + 1] ?? ''}")`);
  return picked;
}
const SEED = 20;

interface Case {
  hosts: number;
  strategy: 'upgrade-aware' | 'naive';
  spread: number;
  resume: boolean;
}

interface CaseResult extends Case {
  report: SimRunReport;
  peakRssMiB: number;
  /** CPU ms of the fresh resume processes (their wall time is in report.orchestrator). */
  resumeCpu?: { restoreCpuMs: number | null; tailCpuMs: number | null };
}

function cases(): Case[] {
  return [
    { hosts: 1000, strategy: 'upgrade-aware', spread: 0, resume: true },
    { hosts: 1000, strategy: 'naive', spread: 0, resume: false },
    { hosts: 1000, strategy: 'upgrade-aware', spread: 0.3, resume: false },
    { hosts: 5000, strategy: 'upgrade-aware', spread: 0, resume: true },
    { hosts: 20000, strategy: 'upgrade-aware', spread: 0, resume: true },
  ].filter((c) => sizes().includes(c.hosts)) as Case[];
}

const RUNBOOK = 'runbooks/libvirt.yaml';

/** Runs bench/resume-probe.ts in a fresh process (as `hvroll resume` would start) and returns its JSON line. */
function probe(args: string[]): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./resume-probe.ts', import.meta.url)), ...args], (err, stdout, stderr) => {
      if (err) return reject(new Error(`resume probe ${args[0]}: ${stderr.trim().split('\n').slice(-3).join(' | ') || err.message}`));
      resolve(JSON.parse(stdout) as Record<string, number>);
    });
  });
}

async function runCase(c: Case): Promise<CaseResult> {
  const inventory = generateFleet({ hosts: c.hosts, vmsPerHost: 20, utilisation: 0.8, seed: SEED });
  const runbook = await loadRunbook(RUNBOOK);
  // A kept (but not fsynced) store, so fresh processes can resume it: before the clean close as kill -9
  // leaves it, and after it.
  const root = await mkdtemp(join(tmpdir(), 'hvroll-bench-sim-'));
  try {
    let tail: Record<string, number> | null = null;
    const report = await simulateOnce(
      {
        inventory,
        runbook,
        seed: SEED,
        spread: c.spread,
        storeRoot: root,
        durable: false,
        ...(c.resume ? { beforeClose: async (dir: string) => void (tail = await probe(['tail', dir])) } : {}),
      },
      c.strategy,
    );
    if (c.resume) {
      const resumed = await probe(['resume', join(root, `sim-${c.strategy}-${SEED}`), RUNBOOK]);
      report.orchestrator.resumeOpenMs = resumed.openMs ?? null;
      report.orchestrator.resumeRestoreMs = resumed.restoreMs ?? null;
      report.orchestrator.tailOpenMs = (tail as Record<string, number> | null)?.openMs ?? null;
      const resumeCpu = { restoreCpuMs: resumed.restoreCpuMs ?? null, tailCpuMs: (tail as Record<string, number> | null)?.openCpuMs ?? null };
      return { ...c, report, resumeCpu, peakRssMiB: Math.round((process.resourceUsage().maxRSS * 1024) / 2 ** 20) };
    }
    return { ...c, report, peakRssMiB: Math.round((process.resourceUsage().maxRSS * 1024) / 2 ** 20) };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

function inChild(c: Case, log: (l: string) => void): Promise<CaseResult> {
  log(`   ${c.hosts} hosts, ${c.strategy}, spread ${c.spread} …`);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', '--max-old-space-size=6144', fileURLToPath(import.meta.url), '--child', JSON.stringify(c)], { maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${c.hosts} hosts (${c.strategy}): ${stderr.trim().split('\n').slice(-3).join(' | ') || err.message}`));
      resolve(JSON.parse(stdout) as CaseResult);
    });
  });
}

export interface Check {
  target: string;
  value: number;
  limit: number;
  /** value / limit (≤ 1 passes), or limit / value for "at least" targets. */
  ratio: number;
  pass: boolean;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;
const atMost = (target: string, value: number, limit: number): Check => ({ target, value: r3(value), limit, ratio: r3(value / limit), pass: value <= limit });

export async function benchSim(log: (line: string) => void) {
  const results: CaseResult[] = [];
  const errors: string[] = [];
  for (const c of cases()) {
    try {
      const r = await inChild(c, log);
      results.push(r);
      log(`     makespan ${r.report.makespanSeconds} s (${r.report.makespanRatio} × T_LB), ${r.report.orchestrator.wallSeconds} s wall, ${r.peakRssMiB} MiB`);
    } catch (e) {
      errors.push(e instanceof Error ? e.message : String(e));
      log(`     failed: ${errors.at(-1)}`);
    }
  }
  const findCase = (hosts: number, strategy: string, spread: number) => results.find((r) => r.hosts === hosts && r.strategy === strategy && r.spread === spread);
  const find = (hosts: number, strategy: string, spread: number) => findCase(hosts, strategy, spread)?.report;
  const checks: Check[] = [];
  for (const hosts of SIM_SIZES) {
    const r = find(hosts, 'upgrade-aware', 0);
    if (!r) continue;
    checks.push(atMost(`${hosts}: migrations / lower bound ≤ 1.02`, r.migrations.ratio, 1.02));
    checks.push(atMost(`${hosts}: VMs moved more than twice = 0`, r.migrations.movedMoreThanTwice, 0));
    checks.push(atMost(`${hosts}: safety violations = 0`, r.violations.total, 0));
    checks.push(atMost(`${hosts}: makespan / T_LB ≤ 1.15 (fixed durations)`, r.makespanRatio, 1.15));
    // T_LB counts no sensitivity rule; the same target against the bound that counts the fleet's own rules.
    if (r.makespanRatioRules !== undefined) checks.push(atMost(`${hosts}: makespan / rules-aware bound ≤ 1.15 (fixed durations)`, r.makespanRatioRules, 1.15));
    if (r.orchestrator.resumeRestoreMs !== null) checks.push(atMost(`${hosts}: resume (open the store, restore every group machine) ≤ 2000 ms`, r.orchestrator.resumeRestoreMs, 2000));
    if (r.orchestrator.tailOpenMs !== null) checks.push(atMost(`${hosts}: read the store as kill -9 leaves it (snapshot + journal tail) ≤ 2000 ms`, r.orchestrator.tailOpenMs, 2000));
    const cpu = findCase(hosts, 'upgrade-aware', 0)?.resumeCpu;
    // The same two in CPU time of the resuming process: what they cost without the machine's other load.
    if (cpu?.restoreCpuMs != null) checks.push(atMost(`${hosts}: resume CPU (open + restore machines) ≤ 2000 ms`, cpu.restoreCpuMs, 2000));
    if (cpu?.tailCpuMs != null) checks.push(atMost(`${hosts}: kill -9 store read, CPU ≤ 2000 ms`, cpu.tailCpuMs, 2000));
  }
  const spread = find(1000, 'upgrade-aware', 0.3);
  if (spread) checks.push(atMost('1000: makespan / T_LB ≤ 1.30 (spread 0.3)', spread.makespanRatio, 1.3));
  if (spread?.makespanRatioRules !== undefined) checks.push(atMost('1000: makespan / rules-aware bound ≤ 1.30 (spread 0.3)', spread.makespanRatioRules, 1.3));
  const ours = find(1000, 'upgrade-aware', 0);
  const naive = find(1000, 'naive', 0);
  if (ours && naive) {
    const fewer = 1 - ours.migrations.done / naive.migrations.done;
    checks.push({ target: '1000: ≥ 15 % fewer migrations than naive', value: r3(fewer), limit: 0.15, ratio: r3(fewer / 0.15), pass: fewer >= 0.15 });
  }
  const small = find(1000, 'upgrade-aware', 0);
  const big = find(20000, 'upgrade-aware', 0);
  if (small && big) {
    checks.push(atMost('checkpoint bytes per step, 20k / 1k ≤ 1.5', big.orchestrator.bytesPerCheckpoint / small.orchestrator.bytesPerCheckpoint, 1.5));
    checks.push(atMost('checkpoint store time per step, 20k / 1k ≤ 1.5', big.orchestrator.storeMsPerCheckpoint / small.orchestrator.storeMsPerCheckpoint, 1.5));
    checks.push(atMost('  of which appends (write + fdatasync), 20k / 1k ≤ 1.5', big.orchestrator.appendMsPerCheckpoint / small.orchestrator.appendMsPerCheckpoint, 1.5));
    checks.push(atMost('orchestrator CPU per step, 20k / 1k ≤ 1.5', big.orchestrator.cpuMsPerCheckpoint / small.orchestrator.cpuMsPerCheckpoint, 1.5));
  }
  if (big) checks.push(atMost('20000: simulated campaign wall time ≤ 600 s', big.orchestrator.wallSeconds, 600));
  return { machine: { node: process.version, cpus: (await import('node:os')).cpus().length }, results, checks, errors };
}

export function formatSimBench(r: Awaited<ReturnType<typeof benchSim>>): string {
  const lines = r.results.map(
    (c) =>
      `${String(c.hosts).padStart(6)} ${c.strategy.padEnd(13)} spread ${c.spread}: makespan ${c.report.makespanSeconds} s = ${c.report.makespanRatio} × T_LB (${c.report.lowerBound.seconds} s), plan est. ${c.report.plannedSeconds} s; ` +
      `migrations ${c.report.migrations.done}/${c.report.migrations.lowerBound}; wall ${c.report.orchestrator.wallSeconds} s, CPU ${c.report.orchestrator.cpuSeconds} s, ${c.peakRssMiB} MiB; ` +
      `${c.report.orchestrator.bytesPerCheckpoint} B and ${c.report.orchestrator.storeMsPerCheckpoint} ms store (${c.report.orchestrator.appendMsPerCheckpoint} appending) / ${c.report.orchestrator.cpuMsPerCheckpoint} ms CPU per checkpoint (${c.report.orchestrator.appends} appends); resume ${c.report.orchestrator.resumeOpenMs ?? '-'} ms open, ${c.report.orchestrator.resumeRestoreMs ?? '-'} ms with machines restored, ${c.report.orchestrator.tailOpenMs ?? '-'} ms from snapshot + journal tail${c.resumeCpu ? ` (CPU ${c.resumeCpu.restoreCpuMs} / ${c.resumeCpu.tailCpuMs} ms)` : ''}`,
  );
  const checks = r.checks.map((c) => `${c.pass ? 'PASS' : 'MISS'}  ${c.target}: ${c.value} (×${c.ratio} of the limit)`);
  return [...lines, '', ...checks, ...r.errors.map((e) => `ERROR ${e}`)].join('\n');
}

if (process.argv[2] === '--child') {
  const result = await runCase(JSON.parse(process.argv[3]!) as Case);
  process.stdout.write(JSON.stringify(result));
}
