// What a command may touch of the process: its output streams and environment. Passed in (the process's are
// built by app/process-io.ts), so tests and later commands (status --watch, chat-ops) can substitute them.

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

interface ErrorEmitter {
  write(chunk: string): unknown;
  on(event: 'error', listener: (err: NodeJS.ErrnoException) => void): unknown;
}

/**
 * A reader that went away (`hvroll audit … | head`) is not an hvroll error: further output is dropped
 * quietly instead of an unhandled 'error' event killing the process with a stack trace. Any other write
 * error (a full disk behind `> file`) is said once on stderr and makes the exit code non-zero.
 */
export function guardedOutput(stream: ErrorEmitter, name: string, onOtherError = reportOnce(name)): Output {
  let closed = false;
  stream.on('error', (err) => {
    closed = true;
    if (err.code !== 'EPIPE') onOtherError(err);
  });
  return { write: (chunk: string) => (closed ? false : stream.write(chunk)) };
}

function reportOnce(name: string): (err: NodeJS.ErrnoException) => void {
  let said = false;
  return (err) => {
    if (!said && name !== 'stderr') process.stderr.write(`error: cannot write to ${name}: ${err.code ?? err.message}\n`);
    said = true;
    process.exitCode = 1;
  };
}

/** Colour on a terminal only, and never when the operator said no (`--no-color`, NO_COLOR: no-color.org). */
export function useColor(io: CliIo, flag: boolean | undefined): boolean {
  return io.stdoutIsTTY && flag !== false && !io.env.NO_COLOR && io.env.TERM !== 'dumb';
}
