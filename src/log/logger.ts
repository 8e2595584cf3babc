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
  destination?: DestinationStream | string;
}

export function createLogger(o: LoggerOptions = {}): Logger {
  const dest = typeof o.destination === 'string' ? pino.destination({ dest: o.destination, sync: true, mkdir: true }) : o.destination;
  return pino(
    {
      level: o.level ?? 'info',
      base: { app: 'hvroll' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    dest ?? pino.destination({ dest: 1, sync: true }),
  );
}
