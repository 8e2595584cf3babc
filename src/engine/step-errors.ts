// The errors of a step's guards, in words an operator can act on: a requirement that does not hold (what,
// where, what was seen, and the fix), and sudo refusing to run a command without a password. Pure.

import type { CommandResult } from '../executor/executor.ts';
import { HvrollError } from '../model/errors.ts';

/** What a command printed, short and quoted, for a message: stdout, else stderr. */
export function seenText(result: Pick<CommandResult, 'stdoutTail' | 'stderrTail'>): string {
  const text = (result.stdoutTail.trim() || result.stderrTail.trim()).replace(/\s*\n\s*/g, ', ');
  return text === '' ? '(no output)' : JSON.stringify(text.length > 300 ? `${text.slice(0, 300)}…` : text);
}

/** Another hvroll campaign's disable reason (`hvroll:<campaign>:<group>`) in what a probe printed, if any. */
export function otherCampaign(text: string, ours: string): { campaign: string; group: string } | null {
  for (const m of text.matchAll(/(?:^|[\s"])hvroll:([A-Za-z0-9][A-Za-z0-9._-]*):([^\n"]*)/g)) {
    if (m[1] !== ours) return { campaign: m[1]!, group: m[2]!.trim() };
  }
  return null;
}

export interface Unmet {
  campaignId: string;
  step: string;
  host: string;
  vm?: string;
  requirement: string;
  /** The unmet expectation, in words (expect.ts). */
  problem: string;
  result: CommandResult;
}

/** A requirement that does not hold: fail the step now, without retry, and say what was seen. */
export function requirementError(u: Unmet): HvrollError {
  const seen = seenText(u.result);
  const other = otherCampaign(`${u.result.stdoutTail}\n${u.result.stderrTail}`, u.campaignId);
  const what = `${u.step} on ${u.host}${u.vm === undefined ? '' : ` (VM ${u.vm})`}`;
  const taken = other ? ` ${u.host} is disabled by hvroll campaign ${other.campaign} (group ${other.group}); it is not taken over.` : '';
  const fix = other
    ? `let campaign ${other.campaign} finish, or abort it (hvroll abort ${other.campaign}, with its --state) so that it re-enables ${u.host}; then plan and run these hosts again`
    : `look at ${u.host}: make "${u.requirement}" hold (steps.${u.step}.require in the runbook says how it is checked), then plan and run these hosts again`;
  return new HvrollError('remote', `${what}: requirement "${u.requirement}" does not hold (${u.problem}); seen: ${seen}.${taken} Nothing of this step was run there and it is not retried. Fix: ${fix}`, {
    retryable: false,
    details: { host: u.host, step: u.step, vm: u.vm, reason: 'requirement', requirement: u.requirement, seen, exitCode: u.result.exitCode, ...(other ? { otherCampaign: other.campaign } : {}), fix },
  });
}

const SUDO_REFUSALS = [/^sudo: a password is required/, /^sudo: a terminal is required/, /^sudo: sorry, you must have a tty/, /is not in the sudoers file/, /is not allowed to (execute|run sudo)/];

/** sudo's own refusal line when `argv` went through `sudo` and sudo would not run it, else null. */
export function sudoRefusal(argv: readonly string[], result: Pick<CommandResult, 'exitCode' | 'stderrTail'>): string | null {
  if (argv[0] !== 'sudo' || result.exitCode !== 1) return null;
  const line = result.stderrTail.split('\n').find((l) => SUDO_REFUSALS.some((r) => r.test(l.trim())));
  return line === undefined ? null : line.trim();
}

/** sudo wants a password (or refuses the user): trying again cannot help, and hvroll never types one. */
export function sudoError(host: { name: string; user?: string }, argv: readonly string[], said: string): HvrollError {
  const user = host.user ?? 'the SSH user';
  const fix = `give ${user} a NOPASSWD sudoers entry for the runbook's host commands (docs/getting-started.md lists them), or log in as root and remove become from the runbook`;
  return new HvrollError('remote', `${host.name}: sudo refused to run \`${argv.join(' ')}\`: "${said}". The runbook says become: sudo, and hvroll runs sudo -n: it never types a password. Fix: ${fix}`, {
    retryable: false,
    details: { host: host.name, reason: 'sudo', argv: [...argv], fix },
  });
}
