// The process as the CLI sees it: its output streams (guarded: see cli/io.ts) and its environment. Built once,
// by the entry point: the CLI reads process.env nowhere else.

import { guardedOutput, type CliIo } from '../cli/io.ts';

export function processIo(): CliIo {
  return { stdout: guardedOutput(process.stdout, 'stdout'), stderr: guardedOutput(process.stderr, 'stderr'), stdoutIsTTY: process.stdout.isTTY === true, env: process.env };
}
