#!/usr/bin/env node
// Entry point: parse, run the command, map whatever it throws to an exit code. Commands never exit themselves.

import { processIo } from '../app/process-io.ts';
import type { CliIo } from './io.ts';
import { createProgram } from './program.ts';
import { reportError } from './report-error.ts';
import { EXIT_CODE } from '../model/errors.ts';

async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  try {
    await createProgram(io).parseAsync([...argv], { from: 'user' });
    return EXIT_CODE.ok;
  } catch (err) {
    return reportError(err, io);
  }
}

// Set the code rather than calling process.exit(): pending stdout (a large --json plan into a pipe) flushes.
// A failed write to stdout (see guardedOutput) may already have set a non-zero code: keep it.
const code = await main(process.argv.slice(2));
process.exitCode = code === EXIT_CODE.ok && typeof process.exitCode === 'number' ? process.exitCode : code;
