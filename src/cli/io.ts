// What a command may touch of the process: its output streams and environment. Passed in, so tests and
// later commands (status --watch, chat-ops) can substitute them.

export interface Output {
  write(chunk: string): unknown;
}

export interface CliIo {
  stdout: Output;
  stderr: Output;
  /** Whether stdout is a terminal (colour, tables sized for people). */
  stdoutIsTTY: boolean;
  env: Readonly<Record<string, string | undefined>>;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdoutIsTTY: process.stdout.isTTY === true, env: process.env };
}

/** Colour on a terminal only, and never when the operator said no (`--no-color`, NO_COLOR: no-color.org). */
export function useColor(io: CliIo, flag: boolean | undefined): boolean {
  return io.stdoutIsTTY && flag !== false && !io.env.NO_COLOR && io.env.TERM !== 'dumb';
}
