// Watches a long-running command (a live migration) through the runbook's progress poll and aborts it when
// what is left to copy has not reached a new low for `stallSeconds`. A pre-copy migration whose guest dirties
// memory faster than the link copies it never converges: without this it would hold its migration slots and
// its group until the step timeout (30 min), then be retried to do the same again.
// Polls only read and are not journalled (one every 10 s per migration would double the journal); the abort
// changes the host and is journalled like every other command.

import type { CommandResult, HostRef } from '../executor/executor.ts';
import { HvrollError } from '../model/errors.ts';
import { journalStep } from '../model/journal.ts';
import type { Progress } from '../runbook/model.ts';
import { render } from '../runbook/template.ts';
import type { EngineDeps } from './deps.ts';
import { runRemote } from './remote.ts';

const MIB_PER: Record<string, number> = { b: 1 / 1048576, bytes: 1 / 1048576, kib: 1 / 1024, kb: 1 / 1024, mib: 1, mb: 1, gib: 1024, gb: 1024, tib: 1048576, tb: 1048576 };

/** `Memory remaining: 1.117 GiB` → 1143.8 (MiB); null when the key is absent (no job) or unreadable. */
export function remainingMiB(output: string, key: string): number | null {
  for (const line of output.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.slice(0, colon).trim() !== key) continue;
    const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(line.slice(colon + 1));
    const unit = m ? MIB_PER[(m[2] || 'B').toLowerCase()] : undefined;
    return m && unit !== undefined ? Number(m[1]) * unit : null;
  }
  return null;
}

export interface WatchTarget {
  file: string;
  group: string;
  /** Where the poll and the abort run (the migration source). */
  host: HostRef;
  vm?: string;
  values: Readonly<Record<string, string | undefined>>;
  signal?: AbortSignal;
}

/**
 * Runs `command` while polling its progress. When it stalled and was aborted, a failed result becomes a
 * non-retryable error that says what happened and what to do; a result that succeeded anyway (it finished
 * as the abort went out) is returned for the step's confirm to judge.
 */
export async function runWatched(deps: EngineDeps, progress: Progress, w: WatchTarget, command: () => Promise<CommandResult>): Promise<CommandResult> {
  const stop = new AbortController();
  const signal = w.signal ? AbortSignal.any([w.signal, stop.signal]) : stop.signal;
  const where = `${w.file}: steps.migrate.progress`;
  const pollArgv = render(progress.command.argv, w.values, where);
  const abortArgv = render(progress.abort.argv, w.values, where);
  let stall: { remainingMiB: number; seconds: number } | null = null;
  const watcher = (async () => {
    let best = Infinity;
    let bestAt = deps.clock.now();
    for (;;) {
      await deps.clock.sleep(progress.everySeconds * 1000, signal);
      const r = await deps.executor.run(w.host, { argv: pollArgv, timeoutMs: Math.max(5000, progress.everySeconds * 1000), signal }).catch(() => null);
      if (signal.aborted) return;
      const left = r && r.exitCode === 0 ? remainingMiB(r.stdout, progress.remainingKey) : null;
      // No job (not started yet, or just finished) or an unreadable answer: nothing to judge; the step
      // timeout still bounds the command.
      if (left === null) continue;
      const now = deps.clock.now();
      if (left < best) {
        best = left;
        bestAt = now;
        continue;
      }
      if (now - bestAt < progress.stallSeconds * 1000) continue;
      stall = { remainingMiB: Math.round(best), seconds: Math.round((now - bestAt) / 1000) };
      deps.log.warn({ group: w.group, host: w.host.name, vm: w.vm, remainingMiB: stall.remainingMiB }, `${w.vm ?? 'job'} on ${w.host.name}: no progress for ${stall.seconds} s; aborting it`);
      await runRemote(deps, {
        group: w.group,
        step: journalStep('migrate', 'abort'),
        host: w.host,
        ...(w.vm === undefined ? {} : { vm: w.vm }),
        argv: abortArgv,
        timeoutMs: 30_000,
        ...(w.signal ? { signal: w.signal } : {}),
      });
      return;
    }
  })().catch((e: unknown) => {
    if (!signal.aborted) deps.log.warn({ group: w.group, host: w.host.name, vm: w.vm, err: e }, 'progress watch stopped');
  });
  let result: CommandResult;
  try {
    result = await command();
  } finally {
    stop.abort();
    await watcher;
  }
  const s = stall as { remainingMiB: number; seconds: number } | null;
  if (s === null || result.exitCode === 0) return result;
  throw new HvrollError(
    'remote',
    `migration of VM ${w.vm ?? '?'} from ${w.host.name} made no progress for ${s.seconds} s (${s.remainingMiB} MiB still to copy): aborted with \`${abortArgv.join(' ')}\`, the VM keeps running on ${w.host.name}. ` +
      'Its guest dirties memory faster than the link copies it: migrate it at a quieter time, raise the migration bandwidth or enable auto-converge/post-copy, then resume the campaign',
    { retryable: false, details: { host: w.host.name, vm: w.vm, step: 'migrate', reason: 'no-progress', remainingMiB: s.remainingMiB, exitCode: result.exitCode } },
  );
}
