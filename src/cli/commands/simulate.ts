// `hvroll simulate`: run the campaign engine against a simulated fleet in virtual time and report how long
// it takes, what it moves, and whether any safety rule broke at any instant — for our placement and, side by
// side, the naive one. Nothing touches a host.

import { Command, InvalidArgumentError, Option } from 'commander';
import { formatIssue, HvrollError } from '../../model/errors.ts';
import { simulateFiles, type SimulateOptions, type StrategyChoice } from '../../app/simulate.ts';
import type { DirtyRateRule } from '../../sim/timing.ts';
import type { CliIo } from '../io.ts';
import { positiveNumber } from '../options.ts';
import { renderSimReport } from '../render/sim-text.ts';
import { DEFAULT_INVENTORY } from './plan.ts';

interface SimulateFlags {
  inventory?: string[];
  runbook: string;
  seed: number;
  failRate?: FailRates;
  spread: number;
  bandwidth?: number;
  dirtyRate?: { base?: number; rules: DirtyRateRule[] };
  upgradeTime?: number;
  rebootTime?: number;
  strategy: StrategyChoice;
  state?: string;
  json?: boolean;
}

function share(value: string, what: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n >= 1) throw new InvalidArgumentError(`${what}: expected a share in [0, 1), got "${value}"`);
  return n;
}

interface FailRates {
  migration: number;
  verify: number;
  upgrade: number;
}

/** `0.05` (migrations and verifications alike) or `migration=0.05,verify=0.01,upgrade=0.02`. */
export function parseFailRate(value: string): FailRates {
  if (!value.includes('=')) {
    const n = share(value, '--fail-rate');
    return { migration: n, verify: n, upgrade: 0 };
  }
  const out = { migration: 0, verify: 0, upgrade: 0 };
  for (const part of value.split(',')) {
    const [k, v] = part.split('=');
    if (k !== 'migration' && k !== 'verify' && k !== 'upgrade') throw new InvalidArgumentError(`--fail-rate: "${k}" is not migration, verify or upgrade (e.g. migration=0.05,verify=0.01,upgrade=0.02)`);
    out[k] = share(v ?? '', `--fail-rate ${k}`);
  }
  return out;
}

/** `30` (every VM) and/or `tier=db:200` (VMs with that label), comma-separated, MiB/s. */
export function parseDirtyRate(value: string): { base?: number; rules: DirtyRateRule[] } {
  const out: { base?: number; rules: DirtyRateRule[] } = { rules: [] };
  for (const part of value.split(',')) {
    const m = /^([^=:]+)=([^:]+):(.+)$/.exec(part.trim());
    const rate = Number(m ? m[3] : part);
    if (!Number.isFinite(rate) || rate < 0) throw new InvalidArgumentError(`--dirty-rate: expected MiB/s or label=value:MiB/s (e.g. 20,tier=db:200), got "${part}"`);
    if (m) out.rules.push({ label: m[1]!, value: m[2]!, dirtyRateMiBps: rate });
    else out.base = rate;
  }
  return out;
}

function nonNegative(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a whole number ≥ 0, got "${value}"`);
  return n;
}

export function simulateCommand(io: CliIo): Command {
  return new Command('simulate')
    .description('Run the campaign engine against a simulated fleet in virtual time: makespan and its lower bound, migrations, safety checks, naive placement side by side. Nothing touches a host.')
    .option('--inventory <paths...>', `inventory files or directories (default ${DEFAULT_INVENTORY})`)
    .option('--runbook <file>', 'the runbook whose commands the simulated hosts answer (libvirt)', 'runbooks/libvirt.yaml')
    .option('--seed <n>', 'seed for durations and injected failures (same seed, same run)', nonNegative, 1)
    .option('--fail-rate <share>', 'injected failures: a share of migration attempts and of host verifications (0.05), or migration=0.05,verify=0.01,upgrade=0.02 (upgrade: apt-get exits 100, the package left half-configured)', parseFailRate)
    .option('--spread <share>', 'random spread of every duration: 0.3 draws each in [0.7, 1.3] × nominal', (v) => share(v, '--spread'), 0)
    .option('--bandwidth <MiB/s>', 'live-migration bandwidth per stream', positiveNumber)
    .option('--dirty-rate <MiB/s>', 'guest page dirty rate for the pre-copy model: 20, or per class: 20,tier=db:200', parseDirtyRate)
    .option('--upgrade-time <s>', 'seconds to upgrade one host (default: the runbook\'s durations)', positiveNumber)
    .option('--reboot-time <s>', 'seconds for a host to reboot (default: the runbook\'s durations)', positiveNumber)
    .addOption(new Option('--strategy <name>', 'placement to simulate').choices(['both', 'upgrade-aware', 'naive']).default('both'))
    .option('--state <dir>', 'keep the simulated campaign stores here (one per strategy; default: a temp dir, removed)')
    .option('--json', 'print the report as JSON on stdout')
    .action(async (flags: SimulateFlags) => runSimulate(flags, io));
}

async function runSimulate(flags: SimulateFlags, io: CliIo): Promise<void> {
  const estimates: SimulateOptions['estimates'] = {};
  if (flags.bandwidth !== undefined) estimates.migrationBandwidthMiBps = flags.bandwidth;
  if (flags.dirtyRate?.base !== undefined) estimates.dirtyRateMiBps = flags.dirtyRate.base;
  if (flags.upgradeTime !== undefined) estimates.upgradeSeconds = flags.upgradeTime;
  if (flags.rebootTime !== undefined) estimates.rebootSeconds = flags.rebootTime;
  const report = await simulateFiles(
    { inventory: flags.inventory ?? [DEFAULT_INVENTORY], runbook: flags.runbook },
    {
      seed: flags.seed,
      spread: flags.spread,
      migrationFailRate: flags.failRate?.migration ?? 0,
      verifyFailRate: flags.failRate?.verify ?? 0,
      upgradeFailRate: flags.failRate?.upgrade ?? 0,
      estimates,
      ...(flags.dirtyRate ? { dirtyRates: flags.dirtyRate.rules } : {}),
      ...(flags.state === undefined ? {} : { storeRoot: flags.state }),
    },
    flags.strategy,
    (w) => io.stderr.write(`warning: ${formatIssue(w)}\n`),
  );
  io.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : renderSimReport(report));
  const broken = report.runs.reduce((n, r) => n + r.violations.total, 0);
  if (broken > 0) throw new HvrollError('internal', `the simulated campaign broke a safety rule ${broken} time(s) (see violations): this is a bug in hvroll's plan or engine`);
  const failed = report.runs.filter((r) => r.outcome !== 'done');
  if (failed.length > 0) {
    throw new HvrollError('campaign-failed', `the simulated campaign did not finish (${failed.map((r) => `${r.strategy}: ${r.outcome}, ${r.failedGroups.length} group(s) failed`).join('; ')})`);
  }
}
