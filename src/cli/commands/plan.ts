// `hvroll plan`: load the inventory, build the plan (pure), show it, optionally write it. Nothing is run.

import { Command, Option } from 'commander';
import { loadInventory } from '../../inventory/load.ts';
import { formatIssue, HvrollError } from '../../model/errors.ts';
import type { PlacementStrategy } from '../../model/plan.ts';
import { planFingerprint } from '../../plan/fingerprint.ts';
import { loadRunbook } from '../../runbook/load.ts';
import type { Runbook } from '../../runbook/model.ts';
import { serialisePlanFile, toPlanFile, writePlanFile } from '../../plan/plan-file.ts';
import { buildPlan, type PlanOptions } from '../../planner/plan.ts';
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
  const { inventory, warnings } = await loadInventory(paths, flags.ansible === undefined ? {} : { ansible: flags.ansible });
  for (const w of warnings) io.stderr.write(`warning: ${formatIssue(w)}\n`);

  const runbook = flags.runbook === undefined ? null : await loadRunbook(flags.runbook);
  const options: PlanOptions = { strategy: flags.strategy ?? 'upgrade-aware', estimates: estimateOverrides(flags, runbook) };
  const plan = buildPlan(inventory, options);
  const file = toPlanFile(plan, {
    // From what the plan records of its settings, so `hvroll run` can recompute it from the inputs alone.
    fingerprint: planFingerprint(inventory, plan.settings, runbook?.text ?? null),
    inputs: { inventory: inventory.sources, ansible: flags.ansible ?? null, runbook: flags.runbook ?? null },
  });

  // Written even when it cannot run: the operator (and a reviewer) can see why.
  if (flags.out !== undefined) await writePlanFile(flags.out, file);

  if (flags.json) {
    io.stdout.write(serialisePlanFile(file));
    if (flags.out !== undefined) io.stderr.write(`plan written to ${flags.out}\n`);
  } else {
    const text = renderPlanText(file, { style: createStyle(useColor(io, flags.color)), all: flags.all === true, ...(flags.out === undefined ? {} : { writtenTo: flags.out }) });
    io.stdout.write(text);
  }

  if (!plan.summary.runnable) {
    const n = plan.problems.length;
    throw new HvrollError('infeasible-plan', `the plan cannot run: ${n} problem${n === 1 ? '' : 's'} (${flags.json ? 'see .problems in the JSON' : 'listed at the top'})`, {
      details: { fix: 'apply the fix given for each problem and plan again' },
    });
  }
}

/** The runbook's durations, then the command line's, over the inventory's rules.estimates. */
function estimateOverrides(flags: PlanFlags, runbook: Runbook | null): NonNullable<PlanOptions['estimates']> {
  const out: NonNullable<PlanOptions['estimates']> = { ...runbook?.durations };
  if (flags.bandwidth !== undefined) out.migrationBandwidthMiBps = flags.bandwidth;
  if (flags.upgradeTime !== undefined) out.upgradeSeconds = flags.upgradeTime;
  if (flags.rebootTime !== undefined) out.rebootSeconds = flags.rebootTime;
  return out;
}
