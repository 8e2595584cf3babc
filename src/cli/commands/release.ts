// `hvroll release <campaign> <host>`: put a host the campaign left out of the pool back in it, once an operator
// has looked at it. The runbook's verify step runs on it, and its enable step only if verify passes; audited
// either way. A runner that holds the campaign does it (a control request, like approve/pause/abort: it holds
// the store's lock) and this command waits for its answer; with no runner, this command opens the store for
// writing and does it itself over SSH. The host's group then no longer holds a slot: waiting groups can start.

import { Command } from 'commander';
import { takeControlResult, withdrawControlRequest, writeControlRequest, type ControlResult } from '../../engine/control.ts';
import { hostsOutOfPool } from '../../engine/out-of-pool.ts';
import { releasable, releaseHost } from '../../engine/release.ts';
import { resumeCampaign } from '../../app/session.ts';
import { processLogger } from '../../app/logging.ts';
import { HvrollError } from '../../model/errors.ts';
import { campaignDir } from '../../store/paths.ts';
import { CampaignStore, listCampaigns } from '../../store/store.ts';
import { operatorOf, stateRoot, withCampaignFlags, type CampaignFlags } from '../campaign-flags.ts';
import type { CliIo } from '../io.ts';
import { sshSessionOptions, withSshOptions, type SshOptionFlags } from '../ssh-flags.ts';

interface ReleaseFlags extends CampaignFlags, SshOptionFlags {
  comment?: string;
  runbook?: string;
  logFile?: string;
}

/** How often the answer of a live runner, and whether it is still alive, are looked for. */
const POLL_MS = 200;
const LOCK_CHECK_EVERY = 5;

async function runnerState(root: string, id: string): Promise<'alive' | 'none'> {
  const c = (await listCampaigns(root)).find((x) => x.id === id);
  if (!c) throw new HvrollError('usage', `no campaign ${id} in ${root} (see hvroll list)`);
  return c.lock?.state === 'alive' || c.lock?.state === 'remote' ? 'alive' : 'none';
}

/** Refuses, before anything runs anywhere, a host the campaign did not leave out of the pool. */
async function checkReleasable(dir: string, id: string, host: string): Promise<void> {
  const store = await CampaignStore.open(dir, { readOnly: true });
  try {
    releasable(store, store.plan(), id, host);
  } finally {
    await store.close();
  }
}

/**
 * Hands the release to the live runner and waits for its answer. Null when the runner went away before taking
 * the request (it is withdrawn: the caller does the release itself).
 */
async function throughRunner(io: CliIo, root: string, dir: string, id: string, req: { host: string; operator: string; comment?: string }): Promise<ControlResult | null> {
  const requestId = await writeControlRequest(dir, { action: 'release', at: new Date().toISOString(), ...req });
  io.stderr.write(`release of ${req.host} sent to the runner of campaign ${id}: verifying, then enabling it…\n`);
  for (let i = 1; ; i++) {
    const answer = await takeControlResult(dir, requestId);
    if (answer) return answer;
    if (i % LOCK_CHECK_EVERY === 0 && (await runnerState(root, id)) === 'none') {
      // Gone: a request still queued is taken back; one it had taken was answered before it exited, unless killed.
      const answered = await takeControlResult(dir, requestId);
      if (answered) return answered;
      if (await withdrawControlRequest(dir, requestId)) return null;
      return afterDeadRunner(dir, id, req.host);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** The runner took the request and died without answering: the store says whether the release took. */
async function afterDeadRunner(dir: string, id: string, host: string): Promise<ControlResult> {
  const store = await CampaignStore.open(dir, { readOnly: true });
  try {
    const released = store.releases().find((r) => r.host === host);
    if (released) return { result: 'released', message: `host ${host} released by ${released.operator} at ${released.at} (the runner stopped after recording it)` };
    const still = hostsOutOfPool(store, store.plan()).some((o) => o.host === host);
    return { result: 'error', kind: 'remote', message: `the runner of campaign ${id} stopped before it answered the release of ${host}; ${host} is ${still ? 'still out of the pool' : 'no longer listed out of the pool'}. See hvroll audit ${id}, then run hvroll release again if needed` };
  } finally {
    await store.close();
  }
}

/** With no runner: open the campaign for writing (its lock), and verify and enable the host from here. */
async function itself(io: CliIo, flags: ReleaseFlags, root: string, id: string, req: { host: string; operator: string; comment?: string }): Promise<ControlResult> {
  const log = processLogger({ console: false, ...(flags.logFile ? { file: flags.logFile } : {}) });
  const session = await resumeCampaign({
    stateRoot: root,
    operator: req.operator,
    log,
    campaignId: id,
    auditResume: false,
    ...(flags.runbook ? { runbookPath: flags.runbook } : {}),
    ...sshSessionOptions(flags, io),
  });
  try {
    io.stderr.write(`campaign ${id} is not running: verifying ${req.host}, then enabling it…\n`);
    return await releaseHost(session.deps, req);
  } finally {
    await session.close();
  }
}

async function release(io: CliIo, flags: ReleaseFlags, id: string, host: string): Promise<void> {
  const root = stateRoot(flags, io);
  const dir = campaignDir(root, id);
  const req = { host, operator: operatorOf(flags, io), ...(flags.comment ? { comment: flags.comment } : {}) };
  const running = (await runnerState(root, id)) === 'alive';
  await checkReleasable(dir, id, host);
  let answer: ControlResult | null = null;
  if (running) answer = await throughRunner(io, root, dir, id, req);
  answer ??= await itself(io, flags, root, id, req);
  if (answer.result === 'released') {
    io.stderr.write(`${answer.message}\n`);
    return;
  }
  if (answer.result === 'verify-failed' || answer.result === 'enable-failed') throw new HvrollError('remote', answer.message);
  throw new HvrollError(answer.kind ?? 'internal', answer.message);
}

export function releaseCommand(io: CliIo): Command {
  return withSshOptions(withCampaignFlags(new Command('release')))
    .description("Put a host the campaign left out of the pool back in it: run the runbook's verify step on it, and its enable step only if verify passes (audited). Its group's slot is freed: waiting groups can start")
    .argument('<campaign>', 'campaign id (see hvroll list)')
    .argument('<host>', 'a host the campaign left out of the pool (see hvroll status)')
    .option('--comment <text>', 'what was wrong and what you did, for the audit trail')
    .option('--runbook <file>', 'path of the runbook if it moved (its content must be unchanged)')
    .option('--log-file <file>', 'also write JSON logs to this file')
    .action((id: string, host: string, flags: ReleaseFlags) => release(io, flags, id, host));
}
