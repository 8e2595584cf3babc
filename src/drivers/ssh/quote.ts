// argv → the one string an SSH `exec` request carries. sshd hands that string to the user's login shell
// (`$SHELL -c <string>`), so it is shell source, not an argument vector: every argument is single-quoted,
// which in a POSIX shell makes every byte literal except `'` itself, written as `'\''`.
// Assumes a POSIX login shell (sh, bash, dash, zsh, ksh). csh/tcsh and fish quote differently: hosts
// managed by hvroll must give the runbook user a POSIX shell.
import { HvrollError } from '../../model/errors.ts';

/** Quotes one argument for a POSIX shell. Rejects NUL, which no argv element can carry. */
export function quoteArg(arg: string): string {
  if (arg.includes('\0')) {
    throw new HvrollError('invalid-input', `Command argument contains a NUL byte, which cannot be passed to a remote command: ${JSON.stringify(arg.slice(0, 80))}`, {
      details: { reason: 'nul-in-argument' },
    });
  }
  return `'${arg.replaceAll("'", "'\\''")}'`;
}

/** Joins argv into one exec string in which each element is exactly one word; argv must not be empty. */
export function quoteArgv(argv: readonly string[]): string {
  if (argv.length === 0) throw new HvrollError('internal', 'Cannot run an empty command (argv has no elements)');
  return argv.map(quoteArg).join(' ');
}
