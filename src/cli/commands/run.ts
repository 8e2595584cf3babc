// `hvroll run` starts a campaign from a reviewed plan; `hvroll resume` continues one that stopped (killed,
// paused, crashed). Both show a live view on a terminal and JSON logs otherwise. The flags are parsed here,
// the campaign is opened and run by app/run.ts, and its outcome is said here (and becomes the exit code).

import { Command } from 'commander';
import { resumeRun, startRun, type OpenRun, type RunContext } from '../../app/run.ts';
import type { CampaignOutcome } from '../../engine/campaign-runner.ts';
import { HvrollError } from '../../model/errors.ts';
import { collectSet, operatorOf, stateRoot, withCampaignFlags, type CampaignFlags } from '../campaign-flags.ts';
import type { CliIo } from '../io.ts';
import { ProgressView } from '../render/progress.ts';
import { sshSettings, withSshOptions, type SshOptionFlags } from '../ssh-flags.ts';

interface SshFlags extends CampaignFlags, SshOptionFlags {
  logFile?: string;
  progress?: boolean;
  notify?: string;
}

interface RunFlags extends SshFlags {
  plan: string;
  runbook?: string;
  set?: Record<string, string>;
  campaign?: string;
}

function withSshFlags(cmd: Command): Command {
  return withSshOptions(withCampaignFlags(cmd))
    .option('--log-file <file>', 'also write JSON logs to this file')
    .option('--no-progress', 'no live view, even on a terminal')
    .option('--notify <file>', 'chat targets (a `notifications:` list, like rules.notifications) in addition to the inventory\'s; URLs may be env:NAME');
}

function runContext(flags: SshFlags, io: CliIo, live: boolean): RunContext {
  return {
    stateRoot: stateRoot(flags, io),
    operator: operatorOf(flags, io),
    env: io.env,
    ...sshSettings(flags),
    logToConsole: !live,
    ...(flags.logFile ? { logFile: flags.logFile } : {}),
    ...(flags.notify ? { notify: flags.notify } : {}),
  };
}

/** The exact command an approver types, for chat and the live view. */
function approveCommand(campaignId: string, flags: SshFlags): (group: string) => string {
  const state = flags.state ? ` --state ${quoteArg(flags.state)}` : '';
  return (group) => `hvroll approve ${quoteArg(campaignId)} ${quoteArg(group)}${state}`;
}

async function execute(opened: OpenRun, io: CliIo, live: boolean, flags: SshFlags): Promise<void> {
  const { deps } = opened.session;
  const approve = approveCommand(deps.campaignId, flags);
  const view = live ? new ProgressView(deps.plan.groups.length, deps.plan.waves.length, Date.now, { approveCommand: approve }) : undefined;
  const outcome = await opened.run({
    approveCommand: approve,
    ...(view ? { view } : {}),
    onInterrupt: () => io.stderr.write('\npausing: groups stop after their current step (Ctrl-C again to kill; resume continues safely)\n'),
  });
  report(outcome, deps.campaignId, io, deps.plan.settings.failureBudget);
}

/** Shell-quotes an argument shown in a command to copy (group names may hold `/`, never spaces). */
function quoteArg(s: string): string {
  return /^[A-Za-z0-9_./:=@-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The outcome, said on stderr; a campaign that did not finish cleanly is an error (its exit code). */
function report(outcome: CampaignOutcome, id: string, io: CliIo, failureBudget: number): void {
  const say = (s: string) => io.stderr.write(`${s}\n`);
  for (const o of outcome.outOfPool) say(`  host ${o.host} is OUT OF THE POOL: ${o.why}`);
  if (outcome.state === 'paused' && outcome.waitingForRelease) {
    const hosts = outcome.waitingForRelease.hosts.map((h) => h.host);
    throw new HvrollError('campaign-failed', `campaign ${id} paused: ${outcome.waitingForRelease.groups.length} group(s) wait for host(s) left out of the pool (${hosts.join(', ')}), which still hold their groups' slots. Check each, put it back with hvroll release ${id} <host>, then hvroll resume ${id}`);
  }
  if (outcome.state === 'paused') {
    say(`campaign ${id} paused. Continue with: hvroll resume ${id}`);
    return;
  }
  if (outcome.state === 'aborted') throw new HvrollError('campaign-aborted', `campaign ${id} aborted${outcome.aborted.length ? ` (${outcome.aborted.length} group(s) rolled back)` : ''}`);
  for (const b of outcome.blocked.slice(0, 10)) say(`  group ${b.group} did not start: ${b.why}`);
  if (outcome.state === 'stopped' && outcome.blocked.length > 0 && outcome.failed.length <= failureBudget) {
    throw new HvrollError('campaign-failed', `campaign ${id} stopped: ${outcome.blocked.length} group(s) cannot start because a group they wait for did not finish (${outcome.failed.join(', ') || 'see above'}). Fix it and plan the rest again. See hvroll status ${id}`);
  }
  if (outcome.state === 'stopped') {
    throw new HvrollError('campaign-failed', `campaign ${id} stopped: ${outcome.failed.length} group(s) failed, more than the failure budget allows (${outcome.failed.join(', ')}). See hvroll status ${id}`);
  }
  if (outcome.failed.length > 0) throw new HvrollError('campaign-failed', `campaign ${id} finished with ${outcome.failed.length} failed group(s): ${outcome.failed.join(', ')}`);
  say(`campaign ${id} done`);
}

export function runCommand(io: CliIo): Command {
  return withSshFlags(new Command('run'))
    .description('Run a planned campaign on the hosts: drain, upgrade, reboot, verify and rejoin each group, as soon as the groups it depends on are done')
    .requiredOption('--plan <file>', 'the plan written by `hvroll plan --out` (refused if its inputs changed since)')
    .option('--runbook <file>', 'the runbook the plan was made with (default: the one recorded in the plan)')
    .option('--set <name=value>', 'a runbook variable, e.g. --set version=10.0.0-1 (repeatable)', collectSet, {})
    .option('--campaign <id>', 'campaign id (default: date and plan fingerprint)')
    .action(async (flags: RunFlags) => {
      const live = io.stdoutIsTTY && flags.progress !== false;
      const opened = await startRun(runContext(flags, io, live), {
        planPath: flags.plan,
        ...(flags.runbook ? { runbookPath: flags.runbook } : {}),
        sets: flags.set ?? {},
        ...(flags.campaign ? { campaignId: flags.campaign } : {}),
      });
      io.stderr.write(`campaign ${opened.session.deps.campaignId} started (state in ${opened.session.deps.store.dir})\n`);
      await execute(opened, io, live, flags);
    });
}

export function resumeCommand(io: CliIo): Command {
  return withSshFlags(new Command('resume'))
    .description('Continue a campaign that stopped (killed, paused, crashed): every step re-checks the hosts before acting')
    .argument('<campaign>', 'campaign id (see hvroll list)')
    .option('--runbook <file>', 'path of the runbook if it moved (its content must be unchanged)')
    .action(async (campaign: string, flags: SshFlags & { runbook?: string }) => {
      const live = io.stdoutIsTTY && flags.progress !== false;
      const opened = await resumeRun(runContext(flags, io, live), { campaignId: campaign, ...(flags.runbook ? { runbookPath: flags.runbook } : {}) });
      await execute(opened, io, live, flags);
    });
}
