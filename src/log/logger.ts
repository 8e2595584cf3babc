// One root logger for a process. Redaction paths are fixed here (never from user input): keys, passphrases,
// passwords, tokens and webhook URLs never reach a log line, at any level, in any child logger.

import { pino, type DestinationStream, type Logger } from 'pino';

export const REDACT_PATHS = [
  'passphrase',
  'password',
  'privateKey',
  'token',
  'webhook',
  'webhookUrl',
  'url',
  '*.passphrase',
  '*.password',
  '*.privateKey',
  '*.token',
  '*.webhook',
  '*.webhookUrl',
  '*.url',
  'err.details.passphrase',
  'err.details.url',
  // Chat targets: the webhook URL is the credential.
  'targets[*].url',
  '*.targets[*].url',
  'notifications[*].url',
  '*.notifications[*].url',
  'rules.notifications[*].url',
];

export interface LoggerOptions {
  level?: string;
  /** Where JSON lines go; default stdout. */
  destination?: DestinationStream;
  /** A file that gets every line too (appended; its directory must exist — a typo must not create directories). */
  file?: string;
  /** Whether lines go to `destination`/stdout at all (false: only to `file`, e.g. under a live view). */
  console?: boolean;
}

export function createLogger(o: LoggerOptions = {}): Logger {
  const options = {
    level: o.level ?? 'info',
    base: { app: 'hvroll' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const streams: DestinationStream[] = [];
  if (o.console !== false) streams.push(o.destination ?? pino.destination({ dest: 1, sync: true }));
  if (o.file !== undefined) streams.push(pino.destination({ dest: o.file, sync: true, mkdir: false, append: true }));
  if (streams.length === 0) return pino({ ...options, level: 'silent' });
  if (streams.length === 1) return pino(options, streams[0]);
  // multistream filters by each stream's own level (default info): give both the logger's level.
  return pino(options, pino.multistream(streams.map((stream) => ({ stream, level: options.level as pino.Level }))));
}
