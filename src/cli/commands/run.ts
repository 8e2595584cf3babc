// `hvroll run` starts a campaign from a reviewed plan; `hvroll resume` continues one that stopped (killed,
// paused, crashed). Both show a live view on a terminal and JSON logs otherwise.

import { Command } from 'commander';
import { runCampaign, type CampaignOutcome } from '../../engine/campaign-runner.ts';
import type { EngineEvent } from '../../model/events.ts';
import { resumeCampaign, startCampaign, type Session, type SessionOptions } from '../../app/session.ts';
import { HvrollError } from '../../model/errors.ts';
import { processLogger } from '../../app/logging.ts';
import type { NotificationTarget } from '../../model/inventory.ts';
import { combineTargets, loadNotifyFile, resolveTargets } from '../../notify/config.ts';
import { Notifier } from '../../notify/notifier.ts';
import { collectSet, operatorOf, stateRoot, withCampaignFlags, type CampaignFlags } from '../campaign-flags.ts';
import type { CliIo } from '../io.ts';
import { ProgressView } from '../render/progress.ts';
import { sshSessionOptions, withSshOptions, type SshOptionFlags } from '../ssh-flags.ts';

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

function sessionOptions(flags: SshFlags, io: CliIo, live: boolean): SessionOptions {
  // JSON lines on stdout unless the live view owns the terminal; --log-file gets them as well.
  const log = processLogger({ console: !live, ...(flags.logFile ? { file: flags.logFile } : {}) });
  return {
    stateRoot: stateRoot(flags, io),
    operator: operatorOf(flags, io),
    log,
    ...sshSessionOptions(flags, io),
  };
}

/**
 * Loads the --notify file and resolves every target's URL while the session checks its inputs, so a failure
 * there is a refused run/resume (audited, nothing created); the loaded targets then feed the notifier.
 */
function notifyCheck(flags: SshFlags, io: CliIo): { check: (inventoryTargets: NotificationTarget[]) => Promise<void>; fromFile: () => NotificationTarget[] } {
  let fromFile: NotificationTarget[] = [];
  return {
    check: async (inventoryTargets) => {
      fromFile = flags.notify ? await loadNotifyFile(flags.notify) : [];
      resolveTargets(combineTargets(inventoryTargets, fromFile), io.env);
    },
    fromFile: () => fromFile,
  };
}

/** The notifier for this run, or null without targets. Resolving `env:` URLs fails before any host is touched. */
function startNotifier(session: Session, fromFile: NotificationTarget[], flags: SshFlags, io: CliIo): Notifier | null {
  const targets = resolveTargets(combineTargets(session.notifications, fromFile), io.env);
  if (targets.length === 0) return null;
  const { deps } = session;
  return new Notifier({
    campaignId: deps.campaignId,
    targets,
    log: deps.log,
    record: (r) => deps.store.recordNotification(r),
    approveCommand: approveCommand(session, flags),
  });
}

/** The exact command an approver types, for chat and the live view. */
function approveCommand(session: Session, flags: SshFlags): (group: string) => string {
  const state = flags.state ? ` --state ${quoteArg(flags.state)}` : '';
  return (group) => `hvroll approve ${quoteArg(session.deps.campaignId)} ${quoteArg(group)}${state}`;
}

async function execute(session: Session, io: CliIo, live: boolean, notifyFile: NotificationTarget[], flags: SshFlags): Promise<void> {
  const { deps } = session;
  let notifier: Notifier | null;
  try {
    notifier = startNotifier(session, notifyFile, flags, io);
  } catch (e) {
    await session.close();
    throw e;
  }
  const view = live ? new ProgressView(deps.plan.groups.length, deps.plan.waves.length, Date.now, { approveCommand: approveCommand(session, flags) }) : null;
  const listener = (e: EngineEvent) => {
    // Queues and returns: a slow chat endpoint never holds the engine up.
    notifier?.listener(e);
    if (view) view.onEvent(e);
    else deps.log.info({ event: e }, e.type);
  };
  // Ctrl-C asks for a pause: groups stop at their next step boundary, nothing is cut mid-command.
  const onSigint = () => {
    io.stderr.write('\npausing: groups stop after their current step (Ctrl-C again to kill; resume continues safely)\n');
    process.off('SIGINT', onSigint);
    void import('../../engine/control.ts').then((c) => c.writeControlRequest(deps.store.dir, { action: 'pause', operator: deps.operator, at: new Date().toISOString() }));
  };
  process.on('SIGINT', onSigint);
  view?.start();
  let outcome: CampaignOutcome;
  try {
    outcome = await runCampaign(deps, { listener });
  } finally {
    view?.stop();
    process.off('SIGINT', onSigint);
    // Bounded: a dead endpoint costs at most the deadline, and every unsent message is recorded as such.
    if (notifier) await notifier.close(NOTIFY_FLUSH_MS);
    await session.close();
  }
  report(outcome, deps.campaignId, io, deps.plan.settings.failureBudget);
}

const NOTIFY_FLUSH_MS = 5000;

/** Shell-quotes an argument shown in a command to copy (group names may hold `/`, never spaces). */
function quoteArg(s: string): string {
  return /^[A-Za-z0-9_./:=@-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

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
      const notify = notifyCheck(flags, io);
      const session = await startCampaign({
        ...sessionOptions(flags, io, live),
        // A bad --notify file or an unset env: webhook variable is refused before the campaign store exists.
        checkNotifications: notify.check,
        planPath: flags.plan,
        ...(flags.runbook ? { runbookPath: flags.runbook } : {}),
        sets: flags.set ?? {},
        ...(flags.campaign ? { campaignId: flags.campaign } : {}),
      });
      io.stderr.write(`campaign ${session.deps.campaignId} started (state in ${session.deps.store.dir})\n`);
      await execute(session, io, live, notify.fromFile(), flags);
    });
}

export function resumeCommand(io: CliIo): Command {
  return withSshFlags(new Command('resume'))
    .description('Continue a campaign that stopped (killed, paused, crashed): every step re-checks the hosts before acting')
    .argument('<campaign>', 'campaign id (see hvroll list)')
    .option('--runbook <file>', 'path of the runbook if it moved (its content must be unchanged)')
    .action(async (campaign: string, flags: SshFlags & { runbook?: string }) => {
      const live = io.stdoutIsTTY && flags.progress !== false;
      const notify = notifyCheck(flags, io);
      const session = await resumeCampaign({
        ...sessionOptions(flags, io, live),
        checkNotifications: notify.check,
        campaignId: campaign,
        ...(flags.runbook ? { runbookPath: flags.runbook } : {}),
      });
      await execute(session, io, live, notify.fromFile(), flags);
    });
}
