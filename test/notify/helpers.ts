// Shared bits for notifier tests: a capturing logger, a notifier with fast retries, sample events.
import type { EngineEvent } from '../../src/model/events.ts';
import { createLogger } from '../../src/log/logger.ts';
import type { NotificationTarget } from '../../src/model/inventory.ts';
import type { ResolvedTarget } from '../../src/notify/config.ts';
import { Notifier, type NotifierOptions } from '../../src/notify/notifier.ts';
import type { NotificationRecord } from '../../src/model/campaign.ts';

export function capturingLogger() {
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', destination: { write: (s: string) => void lines.push(s) } });
  return { log, lines, text: () => lines.join('') };
}

export function target(name: string, type: NotificationTarget['type'], url: string, extra: Partial<ResolvedTarget> = {}): ResolvedTarget {
  return { name, type, url, events: ['*'], minSeverity: 'info', source: 'inline', ...extra };
}

export function notifier(targets: ResolvedTarget[], o: Partial<NotifierOptions> = {}) {
  const records: NotificationRecord[] = [];
  const cap = capturingLogger();
  const n = new Notifier({
    campaignId: 'c1',
    targets,
    log: cap.log,
    record: (r) => {
      records.push(r);
      return Promise.resolve();
    },
    windowMs: 30,
    retry: { backoffMs: 50, maxBackoffMs: 400, timeoutMs: 500, maxAttempts: 4, maxRetryAfterMs: 5000 },
    ...o,
  });
  return { n, records, logs: cap };
}

export const stepFailed: EngineEvent = {
  type: 'step.failed',
  group: 'r1/2',
  step: 'migrate',
  host: 'hv-03',
  exitCode: 1,
  outputTail: 'line 1\nline 2\nerror: migration of db-7 failed: cannot reach target',
  error: 'migrate on hv-03 (VM db-7): `virsh migrate` exited 1',
};

export function groupDone(i: number): EngineEvent {
  return { type: 'group.finished', group: `g-${i}`, state: i % 10 === 9 ? 'failed' : 'done', outOfPool: [], durationMs: 60_000 + i * 1000 };
}

export async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
