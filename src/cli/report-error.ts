// The one place where errors become messages and exit codes (STYLE.md §7). Operator mistakes get a clean
// message and a fix; only a bug in hvroll mentions a stack, and prints it only with HVROLL_DEBUG=1.

import { CommanderError } from 'commander';
import { EXIT_CODE, fixOf, formatIssue, HvrollError, InputError } from '../model/errors.ts';
import type { CliIo } from './io.ts';

const FS_INPUT_ERRORS = new Set(['ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR']);
const FS_REASON: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
};

export function reportError(err: unknown, io: CliIo): number {
  const debug = io.env.HVROLL_DEBUG === '1';
  const say = (line: string) => io.stderr.write(`${line}\n`);

  // commander has already printed its message (or the help); only the code is ours to decide.
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_CODE.ok : EXIT_CODE.usage;

  if (err instanceof InputError) {
    say(`error: ${err.message}`);
    for (const issue of err.issues) say(`  ${formatIssue(issue).replace(/\n/g, '\n  ')}`);
    if (debug && err.stack) say(err.stack);
    return EXIT_CODE['invalid-input'];
  }

  if (err instanceof HvrollError) {
    say(`error: ${err.message}`);
    const fix = fixOf(err);
    if (fix) say(`  fix: ${fix}`);
    if ((debug || err.kind === 'internal') && err.stack) say(debug ? err.stack : 'set HVROLL_DEBUG=1 to see where it happened');
    return EXIT_CODE[err.kind];
  }

  // A path the operator gave (--state, --out, …) cannot be used: an input problem, not a bug. Which option
  // it came from is not known here, so the message names the path and what is wrong with it.
  const errno = err as NodeJS.ErrnoException | undefined;
  if (errno && typeof errno.code === 'string' && FS_INPUT_ERRORS.has(errno.code) && typeof errno.path === 'string') {
    say(`error: cannot use ${errno.path}: ${FS_REASON[errno.code] ?? errno.code}`);
    say('  fix: check the path and its permissions (--state takes a directory; inventories, plans and runbooks are files)');
    return EXIT_CODE['invalid-input'];
  }

  say(`internal error: ${err instanceof Error ? err.message : String(err)}`);
  if (debug && err instanceof Error && err.stack) say(err.stack);
  else say('this is a bug in hvroll; run again with HVROLL_DEBUG=1 for the stack trace and report it');
  return EXIT_CODE.internal;
}
