// `hvroll run` and `hvroll resume`: open the campaign (app/session.ts: every check, the store, the SSH
// executor), then run it to its end — the chat notifier (the inventory's targets and a --notify file's, URLs
// resolved before any host is touched), every event to the notifier and to a live view or the log, Ctrl-C
// asking for a pause, and a bounded flush of the chat queue at the end.

import { runCampaign, type CampaignOutcome } from '../engine/campaign-runner.ts';
import { writeControlRequest } from '../engine/control.ts';
import type { HostRef } from '../executor/executor.ts';
import type { EngineEvent } from '../model/events.ts';
import type { NotificationTarget } from '../model/inventory.ts';
import { combineTargets, loadNotifyFile, resolveTargets } from '../notify/config.ts';
import { Notifier } from '../notify/notifier.ts';
import type { Env } from './env.ts';
import { processLogger } from './logging.ts';
import { resumeCampaign, startCampaign, type Session, type SessionOptions } from './session.ts';
import type { SshSettings } from './ssh.ts';

/** What `run` and `resume` share: where, who, how to reach the hosts, where logs and chat go. */
export interface RunContext {
  stateRoot: string;
  operator: string;
  env: Env;
  ssh: SshSettings;
  controller: HostRef | null;
  /** JSON log lines on stdout (false: a live view owns the terminal). */
  logToConsole: boolean;
  logFile?: string;
  /** A file with a `notifications:` list: chat targets besides the inventory's. */
  notify?: string;
}

/** A live view of the run (a terminal's progress view). */
export interface LiveView {
  start(): void;
  stop(): void;
  onEvent(e: EngineEvent): void;
}

export interface RunHooks {
  /** The exact command an approver types, for chat. */
  approveCommand(group: string): string;
  /** Without one, every event is logged. */
  view?: LiveView;
  /** Told when Ctrl-C asked for a pause. */
  onInterrupt?(): void;
}

/** A campaign opened for running: its session, and how to run it to its end (which closes it). */
export interface OpenRun {
  session: Session;
  run(hooks: RunHooks): Promise<CampaignOutcome>;
}

export async function startRun(c: RunContext, r: { planPath: string; runbookPath?: string; sets: Record<string, string>; campaignId?: string }): Promise<OpenRun> {
  const notify = notifyCheck(c);
  // A bad --notify file or an unset env: webhook variable is refused before the campaign store exists.
  const session = await startCampaign({ ...sessionOptions(c), checkNotifications: notify.check, planPath: r.planPath, sets: r.sets, ...(r.runbookPath ? { runbookPath: r.runbookPath } : {}), ...(r.campaignId ? { campaignId: r.campaignId } : {}) });
  return opened(session, c, notify.fromFile());
}

export async function resumeRun(c: RunContext, r: { campaignId: string; runbookPath?: string }): Promise<OpenRun> {
  const notify = notifyCheck(c);
  const session = await resumeCampaign({ ...sessionOptions(c), checkNotifications: notify.check, campaignId: r.campaignId, ...(r.runbookPath ? { runbookPath: r.runbookPath } : {}) });
  return opened(session, c, notify.fromFile());
}

function sessionOptions(c: RunContext): SessionOptions {
  return {
    stateRoot: c.stateRoot,
    operator: c.operator,
    // JSON lines on stdout unless the live view owns the terminal; --log-file gets them as well.
    log: processLogger({ console: c.logToConsole, ...(c.logFile ? { file: c.logFile } : {}) }),
    ssh: c.ssh,
    controller: c.controller,
    env: c.env,
  };
}

/**
 * Loads the --notify file and resolves every target's URL while the session checks its inputs, so a failure
 * there is a refused run/resume (audited, nothing created); the loaded targets then feed the notifier.
 */
function notifyCheck(c: RunContext): { check: (inventoryTargets: NotificationTarget[]) => Promise<void>; fromFile: () => NotificationTarget[] } {
  let fromFile: NotificationTarget[] = [];
  return {
    check: async (inventoryTargets) => {
      fromFile = c.notify ? await loadNotifyFile(c.notify) : [];
      resolveTargets(combineTargets(inventoryTargets, fromFile), c.env);
    },
    fromFile: () => fromFile,
  };
}

/** Bounded: a dead endpoint costs at most this, and every unsent message is recorded as such. */
const NOTIFY_FLUSH_MS = 5000;

function opened(session: Session, c: RunContext, notifyFromFile: NotificationTarget[]): OpenRun {
  return { session, run: (hooks) => runToEnd(session, c, notifyFromFile, hooks) };
}

async function runToEnd(session: Session, c: RunContext, notifyFromFile: NotificationTarget[], hooks: RunHooks): Promise<CampaignOutcome> {
  const { deps } = session;
  let notifier: Notifier | null;
  try {
    notifier = startNotifier(session, notifyFromFile, c.env, hooks.approveCommand);
  } catch (e) {
    await session.close();
    throw e;
  }
  const listener = (e: EngineEvent) => {
    // Queues and returns: a slow chat endpoint never holds the engine up.
    notifier?.listener(e);
    if (hooks.view) hooks.view.onEvent(e);
    else deps.log.info({ event: e }, e.type);
  };
  // Ctrl-C asks for a pause: groups stop at their next step boundary, nothing is cut mid-command.
  const onSigint = () => {
    hooks.onInterrupt?.();
    process.off('SIGINT', onSigint);
    void writeControlRequest(deps.store.dir, { action: 'pause', operator: deps.operator, at: new Date().toISOString() });
  };
  process.on('SIGINT', onSigint);
  hooks.view?.start();
  try {
    return await runCampaign(deps, { listener });
  } finally {
    hooks.view?.stop();
    process.off('SIGINT', onSigint);
    if (notifier) await notifier.close(NOTIFY_FLUSH_MS);
    await session.close();
  }
}

/** The notifier for this run, or null without targets. Resolving `env:` URLs fails before any host is touched. */
function startNotifier(session: Session, fromFile: NotificationTarget[], env: Env, approveCommand: (group: string) => string): Notifier | null {
  const targets = resolveTargets(combineTargets(session.notifications, fromFile), env);
  if (targets.length === 0) return null;
  const { deps } = session;
  return new Notifier({
    campaignId: deps.campaignId,
    targets,
    log: deps.log,
    record: (r) => deps.store.recordNotification(r),
    approveCommand,
  });
}
