// `hvroll plan`: make the plan (app/plan.ts: load, plan, write with --out), and show it. Nothing is run.

import { Command, Option } from 'commander';
import { makePlan, savePlan, type PlanRequest } from '../../app/plan.ts';
import { formatIssue, HvrollError } from '../../model/errors.ts';
import type { PlacementStrategy } from '../../model/plan.ts';
import { serialisePlanFile } from '../../plan-file/plan-file.ts';
import { useColor, type CliIo } from '../io.ts';
import { positiveNumber } from '../options.ts';
import { renderPlanText } from '../render/plan-text.ts';
import { createStyle } from '../render/style.ts';

export const DEFAULT_INVENTORY = 'inventory/example.yaml';

interface PlanFlags {
  ansible?: string;
  runbook?: string;
  json?: boolean;
  out?: string;
  strategy?: PlacementStrategy;
  bandwidth?: number;
  upgradeTime?: number;
  rebootTime?: number;
  color?: boolean;
  all?: boolean;
}

export function planCommand(io: CliIo): Command {
  return new Command('plan')
    .description('Plan a campaign: host groups in order, waves, and a target for every VM that must move. Nothing is run.')
    .argument('[inventory...]', `inventory files or directories (YAML/JSON), merged in order`, [DEFAULT_INVENTORY])
    .option('--ansible <file>', 'take the host list from an Ansible YAML inventory')
    .option('--runbook <file>', 'the runbook `hvroll run` will use (runbooks/libvirt.yaml, openstack.yaml, proxmox.yaml): its durations feed the estimate, and the plan is bound to it')
    .option('--json', 'print the plan as JSON on stdout (nothing else goes to stdout)')
    .option('--out <file>', 'also write the plan, with the fingerprint of its inputs, to this file (for `hvroll run`)')
    .addOption(new Option('--strategy <name>', 'placement strategy').choices(['upgrade-aware', 'naive']).default('upgrade-aware'))
    .option('--bandwidth <MiB/s>', 'live-migration bandwidth per stream (overrides rules.estimates)', positiveNumber)
    .option('--upgrade-time <s>', 'seconds to upgrade one host (overrides rules.estimates)', positiveNumber)
    .option('--reboot-time <s>', 'seconds for a host to reboot and answer SSH again (overrides rules.estimates)', positiveNumber)
    .option('--all', 'show every wave, group, problem and warning (default: the first 20 and last 5 waves)')
    .option('--no-color', 'no colour, even on a terminal (NO_COLOR is honoured too)')
    .action(async (paths: string[], flags: PlanFlags) => runPlan(paths, flags, io));
}

async function runPlan(paths: string[], flags: PlanFlags, io: CliIo): Promise<void> {
  const estimates: PlanRequest['estimates'] = {};
  if (flags.bandwidth !== undefined) estimates.migrationBandwidthMiBps = flags.bandwidth;
  if (flags.upgradeTime !== undefined) estimates.upgradeSeconds = flags.upgradeTime;
  if (flags.rebootTime !== undefined) estimates.rebootSeconds = flags.rebootTime;
  const file = await makePlan(
    {
      inventory: paths,
      ...(flags.ansible === undefined ? {} : { ansible: flags.ansible }),
      ...(flags.runbook === undefined ? {} : { runbook: flags.runbook }),
      strategy: flags.strategy ?? 'upgrade-aware',
      estimates,
    },
    (w) => io.stderr.write(`warning: ${formatIssue(w)}\n`),
  );
  // Written even when it cannot run: the operator (and a reviewer) can see why.
  if (flags.out !== undefined) await savePlan(flags.out, file);

  if (flags.json) {
    io.stdout.write(serialisePlanFile(file));
    if (flags.out !== undefined) io.stderr.write(`plan written to ${flags.out}\n`);
  } else {
    const text = renderPlanText(file, { style: createStyle(useColor(io, flags.color)), all: flags.all === true, ...(flags.out === undefined ? {} : { writtenTo: flags.out }) });
    io.stdout.write(text);
  }

  if (!file.summary.runnable) {
    const n = file.problems.length;
    throw new HvrollError('infeasible-plan', `the plan cannot run: ${n} problem${n === 1 ? '' : 's'} (${flags.json ? 'see .problems in the JSON' : 'listed at the top'})`, {
      details: { fix: 'apply the fix given for each problem and plan again' },
    });
  }
}
