// The process's logger: JSON lines (pino, with its fixed redaction) on stdout unless a live view owns the
// terminal, and in a --log-file as well. Only the composition root sets logging up; everything else is given
// a logger.

import type { Logger } from 'pino';
import { createLogger } from '../log/logger.ts';

export interface LogSettings {
  /** JSON lines on stdout (false: a live view owns the terminal, or stdout is for data). */
  console: boolean;
  /** A file that gets every line too (appended; its directory must exist). */
  file?: string;
}

export function processLogger(s: LogSettings): Logger {
  return createLogger({ console: s.console, ...(s.file === undefined ? {} : { file: s.file }) });
}

/** For a command whose output is data (notify test): nothing is logged. */
export function silentLogger(): Logger {
  return createLogger({ level: 'silent' });
}
