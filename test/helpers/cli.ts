// The hvroll CLI run from source as a child process, as an operator runs it: exit code and both streams.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** A line of a JavaScript stack trace: an operator's mistake must never print one. */
export const STACK_FRAME = /^\s+at .+[:(]/m;

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function hvrollCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: root, env: { ...process.env, NO_COLOR: '', HVROLL_DEBUG: '', ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
      },
    );
  });
}
