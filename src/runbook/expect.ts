// Does a command's result meet a check's expectation? Expectation strings may hold placeholders; inside
// `stdoutMatches` their values are literal text (regex-escaped), so a host or campaign name holding `.`, `+`
// or `(` matches itself and nothing else.
import type { Expect } from './model.ts';
import { escapeRegExp, render } from './template.ts';

export interface Observed {
  exitCode: number | null;
  stdout: string;
}

/** What the command printed, quoted, for a message: an operator reads what the host said, not only what was wanted. */
const printed = (out: string) => JSON.stringify(out.slice(0, 200));

/** The first unmet expectation, in words, or null when all hold. */
export function unmet(expect: Expect, result: Observed, values: Readonly<Record<string, string | undefined>>, where: string): string | null {
  const r = (s: string) => render([s], values, where)[0]!;
  const out = result.stdout.trim();
  if (expect.exitCode !== undefined && result.exitCode !== expect.exitCode) return `exit code ${result.exitCode ?? 'none'}, expected ${expect.exitCode}`;
  // Both sides trimmed: a value ending in a blank (a label, hence a group name) still matches what the host prints back.
  if (expect.stdout !== undefined && out !== r(expect.stdout).trim()) return `output ${printed(out)}, expected ${JSON.stringify(r(expect.stdout).trim())}`;
  if (expect.stdoutContains !== undefined && !out.includes(r(expect.stdoutContains))) return `output lacks ${JSON.stringify(r(expect.stdoutContains))}; it printed ${printed(out)}`;
  if (expect.stdoutLacks !== undefined && out.includes(r(expect.stdoutLacks))) return `output contains ${JSON.stringify(r(expect.stdoutLacks))}; it printed ${printed(out)}`;
  if (expect.stdoutMatches !== undefined) {
    const pattern = render([expect.stdoutMatches], values, where, escapeRegExp)[0]!;
    if (!new RegExp(pattern, 'm').test(out)) return `output does not match /${pattern}/; it printed ${printed(out)}`;
  }
  return null;
}
