// One remote command, journalled: intent before it runs, outcome after, whatever happens in between. The
// entry says what it is (model/journal.ts: its step, which part of it, whether it changes the host), and a
// probe's outcome says whether its expectation held — judged here, before the outcome is written.

import type { CommandResult, HostRef } from '../executor/executor.ts';
import { HvrollError } from '../model/errors.ts';
import { journalStepName, type JournalStep } from '../model/journal.ts';
import { stepKey } from '../store/store.ts';
import type { EngineDeps } from './deps.ts';
import { sudoError, sudoRefusal } from './step-errors.ts';

export interface RemoteCall {
  group: string;
  /** What it is: e.g. `journalStep('migrate')`, or `journalStep('migrate', 'check')`. */
  step: JournalStep;
  host: HostRef;
  vm?: string;
  argv: string[];
  timeoutMs: number;
  signal?: AbortSignal;
}

/** A probe's expectation, applied to its result: null when it holds, else what does not, in words. */
export type Judge = (result: CommandResult) => string | null;

const tail = (r: Pick<CommandResult, 'stdoutTail' | 'stderrTail'>) => [r.stdoutTail, r.stderrTail].filter(Boolean).join('\n--- stderr ---\n');

/** Hosts whose refused key is already in the audit trail, per store: once per host and run is enough. */
const keyRefusalsAudited = new WeakMap<object, Set<string>>();

/**
 * An unknown, changed or revoked host key is a security event, not just a failed step: it goes to the audit
 * trail with the fingerprint offered and the fix (the error message says how to add or replace the key).
 */
async function auditKeyRefusal(deps: EngineDeps, error: HvrollError): Promise<void> {
  const d = error.kind === 'remote' ? error.details : undefined;
  if (!d?.reason?.startsWith('host-key-') || d.host === undefined) return;
  let seen = keyRefusalsAudited.get(deps.store);
  if (!seen) keyRefusalsAudited.set(deps.store, (seen = new Set()));
  if (seen.has(d.host)) return;
  seen.add(d.host);
  await deps.store.recordAudit({
    at: new Date(deps.clock.now()).toISOString(),
    operator: deps.operator,
    action: 'host-key-refused',
    details: { host: d.host, address: d.address, port: d.port, reason: d.reason, fingerprint: d.fingerprint ?? null, message: error.message },
  });
  deps.log.error({ host: d.host, reason: d.reason }, error.message);
}

/** Runs the command, journalled; the result whatever its exit code (a remote error when it never gave one). */
export async function runRemote(deps: EngineDeps, call: RemoteCall): Promise<CommandResult> {
  return (await journalled(deps, call)).result;
}

/** Runs a probe, journalled with its verdict; `problem` is null when its expectation holds. */
export function probeRemote(deps: EngineDeps, call: RemoteCall, judge: Judge): Promise<{ result: CommandResult; problem: string | null }> {
  return journalled(deps, call, judge);
}

async function journalled(deps: EngineDeps, call: RemoteCall, judge?: Judge): Promise<{ result: CommandResult; problem: string | null }> {
  const { effect } = call.step;
  const step = journalStepName(call.step);
  const id = await deps.store.journalIntent({
    key: stepKey(deps.campaignId, call.group, step, call.vm ?? call.host.name),
    group: call.group,
    step,
    host: call.host.name,
    ...(call.vm === undefined ? {} : { vm: call.vm }),
    argv: call.argv,
    startedAt: new Date(deps.clock.now()).toISOString(),
    operator: deps.operator,
    ...(call.step.probe === undefined ? {} : { probe: call.step.probe }),
    effect,
  });
  deps.checkpoint?.('intent');
  if (effect) deps.checkpoint?.('before-effect');
  let result: CommandResult;
  let problem: string | null = null;
  try {
    result = await deps.executor.run(call.host, { argv: call.argv, timeoutMs: call.timeoutMs, ...(call.signal ? { signal: call.signal } : {}) });
    // The host has acted; the journal does not know yet: the hardest moment to die in.
    if (effect) deps.checkpoint?.('after-effect');
    problem = judge?.(result) ?? null;
    await deps.store.journalOutcome(id, {
      exitCode: result.exitCode,
      outputTail: tail(result),
      endedAt: new Date(deps.clock.now()).toISOString(),
      ...(judge ? { held: problem === null } : {}),
    });
    deps.checkpoint?.('outcome');
  } catch (e) {
    const error = e instanceof HvrollError ? e : new HvrollError('internal', e instanceof Error ? e.message : String(e), { cause: e });
    const partial = error.kind === 'remote' ? error.details?.result : undefined;
    if (effect) deps.checkpoint?.('after-effect');
    await deps.store.journalOutcome(id, {
      exitCode: partial?.exitCode ?? null,
      outputTail: partial ? tail(partial) : '',
      endedAt: new Date(deps.clock.now()).toISOString(),
      error: error.toRecord(),
    });
    await auditKeyRefusal(deps, error);
    throw error;
  }
  // sudo answering for the command (a password wanted, the user not allowed) is not the command's answer.
  const refused = sudoRefusal(call.argv, result);
  if (refused !== null) throw sudoError(call.host, call.argv, refused);
  return { result, problem };
}
