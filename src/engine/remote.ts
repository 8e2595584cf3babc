// One remote command, journalled: intent before it runs, outcome after, whatever happens in between.

import type { CommandResult, HostRef } from '../executor/executor.ts';
import { HvrollError } from '../model/errors.ts';
import { stepKey } from '../store/store.ts';
import { crashPoint } from './crash-point.ts';
import type { EngineDeps } from './deps.ts';
import { sudoError, sudoRefusal } from './step-errors.ts';

export interface RemoteCall {
  group: string;
  /** Journal step name, e.g. `migrate` or `migrate:check`. */
  step: string;
  host: HostRef;
  vm?: string;
  argv: string[];
  timeoutMs: number;
  signal?: AbortSignal;
}

const tail = (r: Pick<CommandResult, 'stdoutTail' | 'stderrTail'>) => [r.stdoutTail, r.stderrTail].filter(Boolean).join('\n--- stderr ---\n');

/** Requirements, checks, confirms, boot-id reads and discovery (its listing and inspect) only read; every other
 * journal step (a runbook step's run, a leftover's removal, a migration abort) changes the host. */
function changesHost(step: string): boolean {
  return !/^discover(:|$)|:(require|check|confirm|boot-id)$/.test(step);
}

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

export async function runRemote(deps: EngineDeps, call: RemoteCall): Promise<CommandResult> {
  const effect = changesHost(call.step);
  const id = await deps.store.journalIntent({
    key: stepKey(deps.campaignId, call.group, call.step, call.vm ?? call.host.name),
    group: call.group,
    step: call.step,
    host: call.host.name,
    ...(call.vm === undefined ? {} : { vm: call.vm }),
    argv: call.argv,
    startedAt: new Date(deps.clock.now()).toISOString(),
    operator: deps.operator,
  });
  crashPoint('intent');
  if (effect) crashPoint('before-effect');
  let result: CommandResult;
  try {
    result = await deps.executor.run(call.host, { argv: call.argv, timeoutMs: call.timeoutMs, ...(call.signal ? { signal: call.signal } : {}) });
    // The host has acted; the journal does not know yet: the hardest moment to die in.
    if (effect) crashPoint('after-effect');
    await deps.store.journalOutcome(id, { exitCode: result.exitCode, outputTail: tail(result), endedAt: new Date(deps.clock.now()).toISOString() });
    crashPoint('outcome');
  } catch (e) {
    const error = e instanceof HvrollError ? e : new HvrollError('internal', e instanceof Error ? e.message : String(e), { cause: e });
    const partial = error.kind === 'remote' ? error.details?.result : undefined;
    if (effect) crashPoint('after-effect');
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
  return result;
}
