// `hvroll release`: an operator has looked at a host the campaign left out of the pool and wants it back.
// The host is verified with the runbook's `verify` step and rejoined with its `enable` step — the same steps,
// journalled under the same group, that the group machine runs — and only if verify passes. Recorded either
// way in the audit trail (operator, host, group, comment, result); a release that took is also recorded as a
// release, so every reader of the store (the runner's admission, status, report) counts the host back in.
// Runs in the runner that holds the campaign (through a control request) or, with no runner, in the CLI.

import { createActor, toPromise, type AnyActorLogic } from 'xstate';
import type { ActiveStep, StepInput } from '../machines/group-machine.ts';
import { HvrollError } from '../model/errors.ts';
import { PRE_DISABLED } from '../model/journal.ts';
import type { PlanFile } from '../model/plan.ts';
import type { EngineDeps } from './deps.ts';
import { hostsOutOfPool, type OutOfPoolHost, type OutOfPoolSource } from '../model/out-of-pool.ts';
import { stepActors } from './steps/actors.ts';

export interface ReleaseRequest {
  host: string;
  operator: string;
  comment?: string;
}

export type ReleaseOutcome = 'released' | 'verify-failed' | 'enable-failed';

export interface ReleaseResult {
  result: ReleaseOutcome;
  host: string;
  group: string;
  message: string;
}

/**
 * The host's entry out of the pool; a usage error naming what is out when it is not (nothing is run then).
 * Needs only a store open for reading, so the CLI can refuse before it reaches a runner or a host.
 */
export function releasable(store: OutOfPoolSource, plan: PlanFile, campaignId: string, host: string): OutOfPoolHost {
  const out = hostsOutOfPool(store, plan);
  const held = out.find((o) => o.host === host);
  if (held) return held;
  const listed = out.length === 0 ? 'no host is out of the pool' : `hosts out of the pool: ${out.map((o) => o.host).join(', ')}`;
  const released = store.releases().find((r) => r.host === host);
  if (released) throw new HvrollError('usage', `host ${host} of campaign ${campaignId} was already released by ${released.operator} at ${released.at}; nothing to do (${listed})`);
  const group = plan.groups.find((g) => g.hosts.includes(host) || g.skippedHosts.includes(host));
  const where = group ? `its group ${group.name} did not leave it out of the pool` : `it is not a host of the campaign`;
  throw new HvrollError('usage', `host ${host} cannot be released from campaign ${campaignId}: ${where}. Only a host the campaign left out of the pool can be released (${listed}; see hvroll status ${campaignId})`);
}

/** Runs one of the group machine's step actors on its own, to the end. */
async function runStep(logic: AnyActorLogic, input: StepInput): Promise<void> {
  const actor = createActor(logic, { input });
  actor.start();
  await toPromise(actor);
}

const reason = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Verify, then enable, `req.host`; records the release and audits the attempt. Throws only for a host it may not touch, or the store. */
export async function releaseHost(deps: EngineDeps, req: ReleaseRequest): Promise<ReleaseResult> {
  const held = releasable(deps.store, deps.plan, deps.campaignId, req.host);
  if (!deps.runbook.steps.verify) {
    throw new HvrollError('usage', `${deps.runbook.file} has no verify step: hvroll cannot prove host ${req.host} is healthy, so it does not release it. Check the host and put it back by hand`);
  }
  // The releasing operator goes into every journal entry of the release.
  const as: EngineDeps = { ...deps, operator: req.operator };
  const actors = stepActors(as);
  const input = (step: ActiveStep): StepInput => ({ campaignId: deps.campaignId, group: held.group, hosts: [req.host], step, attempt: 0 });
  const at = () => new Date(deps.clock.now()).toISOString();
  const audit = (result: string) =>
    deps.store.recordAudit({ at: at(), operator: req.operator, action: 'release', details: { host: req.host, group: held.group, ...(req.comment ? { comment: req.comment } : {}), result } });

  try {
    await runStep(actors.verifyHosts, input('verifying'));
  } catch (e) {
    const message = `host ${req.host} failed verification, so it stays out of the pool: ${reason(e)}`;
    await audit(`verify failed: ${reason(e)}`);
    deps.log.warn({ host: req.host, group: held.group, operator: req.operator }, message);
    return { result: 'verify-failed', host: req.host, group: held.group, message };
  }
  try {
    await runStep(actors.rejoinHosts, input('rejoining'));
  } catch (e) {
    const message = `host ${req.host} passed verification but could not be enabled, so it stays out of the pool: ${reason(e)}`;
    await audit(`enable failed: ${reason(e)}`);
    deps.log.warn({ host: req.host, group: held.group, operator: req.operator }, message);
    return { result: 'enable-failed', host: req.host, group: held.group, message };
  }
  await deps.store.recordRelease({ host: req.host, group: held.group, operator: req.operator, at: at(), ...(req.comment ? { comment: req.comment } : {}) });
  await audit('released');
  // The enable step leaves a host disabled before the campaign as it found it (steps/pre-disabled.ts).
  const before = deps.store.liveJournal({ group: held.group, host: req.host, step: PRE_DISABLED }).length > 0;
  const message = before
    ? `host ${req.host} verified and released by ${req.operator}; left disabled, as it was before the campaign. Group ${held.group} no longer holds its slot`
    : `host ${req.host} verified and back in the pool (released by ${req.operator}); group ${held.group} no longer holds its slot`;
  deps.log.info({ host: req.host, group: held.group, operator: req.operator }, message);
  return { result: 'released', host: req.host, group: held.group, message };
}
