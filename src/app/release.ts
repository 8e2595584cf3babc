// `hvroll release <campaign> <host>`: put a host the campaign left out of the pool back in it, once an operator
// has looked at it. The runbook's verify step runs on it, and its enable step only if verify passes; audited
// either way. A runner that holds the campaign does it (a control request, like approve/pause/abort: it holds
// the store's lock) and this waits for its answer; with no runner, the campaign is opened for writing here and
// the release done over SSH. The host's group then no longer holds a slot: waiting groups can start.

import { takeControlResult, withdrawControlRequest, writeControlRequest, type ControlResult } from '../engine/control.ts';
import { hostsOutOfPool } from '../model/out-of-pool.ts';
import { releasable, releaseHost } from '../engine/release.ts';
import type { HostRef } from '../executor/executor.ts';
import { sleep } from '../io/sleep.ts';
import { HvrollError } from '../model/errors.ts';
import { campaignDir } from '../store/paths.ts';
import { CampaignStore, listCampaigns } from '../store/store.ts';
import type { Env } from './env.ts';
import { processLogger } from './logging.ts';
import { resumeCampaign } from './session.ts';
import type { SshSettings } from './ssh.ts';

export interface ReleaseRequest {
  stateRoot: string;
  campaignId: string;
  host: string;
  operator: string;
  comment?: string;
  /** The runbook's path, if it moved (its content must be unchanged). */
  runbookPath?: string;
  ssh: SshSettings;
  controller: HostRef | null;
  env: Env;
  logFile?: string;
  /** What is happening, in a line an operator reads (the release waits on hosts). */
  say(line: string): void;
}

/** The release's answer: released, verify-failed, enable-failed, or error (refused or failed: `kind` says which). */
export async function releaseOutOfPool(r: ReleaseRequest): Promise<ControlResult> {
  const dir = campaignDir(r.stateRoot, r.campaignId);
  const req = { host: r.host, operator: r.operator, ...(r.comment ? { comment: r.comment } : {}) };
  const running = (await runnerState(r.stateRoot, r.campaignId)) === 'alive';
  await checkReleasable(dir, r.campaignId, r.host);
  let answer: ControlResult | null = null;
  if (running) answer = await throughRunner(r, dir, req);
  answer ??= await itself(r, req);
  return answer;
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
async function throughRunner(r: ReleaseRequest, dir: string, req: { host: string; operator: string; comment?: string }): Promise<ControlResult | null> {
  const id = r.campaignId;
  const requestId = await writeControlRequest(dir, { action: 'release', at: new Date().toISOString(), ...req });
  r.say(`release of ${req.host} sent to the runner of campaign ${id}: verifying, then enabling it…`);
  for (let i = 1; ; i++) {
    const answer = await takeControlResult(dir, requestId);
    if (answer) return answer;
    if (i % LOCK_CHECK_EVERY === 0 && (await runnerState(r.stateRoot, id)) === 'none') {
      // Gone: a request still queued is taken back; one it had taken was answered before it exited, unless killed.
      const answered = await takeControlResult(dir, requestId);
      if (answered) return answered;
      if (await withdrawControlRequest(dir, requestId)) return null;
      return afterDeadRunner(dir, id, req.host);
    }
    await sleep(POLL_MS);
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
async function itself(r: ReleaseRequest, req: { host: string; operator: string; comment?: string }): Promise<ControlResult> {
  const session = await resumeCampaign({
    stateRoot: r.stateRoot,
    operator: req.operator,
    log: processLogger({ console: false, ...(r.logFile ? { file: r.logFile } : {}) }),
    campaignId: r.campaignId,
    auditResume: false,
    ...(r.runbookPath ? { runbookPath: r.runbookPath } : {}),
    ssh: r.ssh,
    controller: r.controller,
    env: r.env,
  });
  try {
    r.say(`campaign ${r.campaignId} is not running: verifying ${req.host}, then enabling it…`);
    return await releaseHost(session.deps, req);
  } finally {
    await session.close();
  }
}
