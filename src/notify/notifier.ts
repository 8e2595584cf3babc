// The notifier: engine events in, chat messages out, without ever holding the campaign up. The listener
// only filters and queues (synchronously, bounded); per target, notices gathered during a short window are
// coalesced and posted in order by a background loop with retries. Every send and its result is recorded
// under the target's name — never its URL. close() flushes within a deadline, then gives up and says so.

import type { Logger } from 'pino';
import type { EngineEvent, EngineListener } from '../model/events.ts';
import type { NotificationRecord } from '../model/campaign.ts';
import { coalesce, type Message } from './coalesce.ts';
import type { ResolvedTarget } from './config.ts';
import { deliver, type RetryPolicy } from './deliver.ts';
import { payloadFor } from './format.ts';
import { kindMatches, severityRank } from '../model/notice-kinds.ts';
import { toNotice, type Notice } from './notice.ts';

export interface NotifierOptions {
  campaignId: string;
  targets: readonly ResolvedTarget[];
  log: Logger;
  /** Where each send's result goes (the campaign store's notification log). */
  record?: (r: NotificationRecord) => Promise<void>;
  /** The command that approves a group, as the operator should type it. */
  approveCommand?: (group: string) => string;
  /** Notices arriving within this window after the first are merged. */
  windowMs?: number;
  /** Most notices (or messages) waiting per target; beyond it the oldest, least severe are dropped. */
  maxQueue?: number;
  retry?: Partial<RetryPolicy>;
  now?: () => number;
}

export interface NotifierStats {
  sent: number;
  failed: number;
  dropped: number;
}

const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, timeoutMs: 5000, backoffMs: 1000, maxBackoffMs: 30_000, maxRetryAfterMs: 60_000 };

class Channel {
  pending: Notice[] = [];
  outbox: Message[] = [];
  timer: NodeJS.Timeout | null = null;
  pumping: Promise<void> | null = null;
  droppedSinceRecord = 0;

  constructor(
    readonly target: ResolvedTarget,
    private readonly n: Notifier,
  ) {}

  wants(x: Notice): boolean {
    return severityRank(x.severity) >= severityRank(this.target.minSeverity) && this.target.events.some((p) => kindMatches(p, x.kind));
  }

  push(x: Notice): void {
    if (this.pending.length >= this.n.maxQueue) this.drop(this.pending);
    this.pending.push(x);
    if (this.timer === null) {
      this.timer = setTimeout(() => this.flushWindow(), this.n.windowMs);
      this.timer.unref();
    }
  }

  /** Drops the oldest of the least severe entries (a slow endpoint loses chatter before failures). */
  drop<T extends { severity: Notice['severity']; count?: number }>(list: T[]): void {
    const least = Math.min(...list.map((x) => severityRank(x.severity)));
    const i = list.findIndex((x) => severityRank(x.severity) === least);
    const [gone] = list.splice(i, 1);
    this.droppedSinceRecord += gone?.count ?? 1;
    this.n.stats.dropped += gone?.count ?? 1;
  }

  flushWindow(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length === 0) return;
    for (const m of coalesce(this.pending)) {
      if (this.outbox.length >= this.n.maxQueue) this.drop(this.outbox);
      this.outbox.push(m);
    }
    this.pending = [];
    this.pump();
  }

  pump(): void {
    if (this.pumping !== null) return;
    this.pumping = (async () => {
      while (this.outbox.length > 0) {
        if (this.droppedSinceRecord > 0) {
          this.n.recordResult(this.target, 'dropped', { ok: false, attempts: 0, detail: `${this.droppedSinceRecord} notice(s) dropped: queue full (the endpoint is too slow)` }, 1);
          this.droppedSinceRecord = 0;
        }
        const m = this.outbox[0]!;
        const d = await deliver(this.target.url, payloadFor(this.target.type, m), this.n.retry, this.n.abort.signal);
        this.outbox.shift();
        this.n.recordResult(this.target, m.kind, d, m.count);
      }
    })()
      .catch((e: unknown) => this.n.log.warn({ channel: this.target.name, errKind: e instanceof Error ? e.name : typeof e }, 'notifier loop stopped'))
      .finally(() => {
        this.pumping = null;
      });
  }

  async idle(): Promise<void> {
    while (this.pumping !== null) await this.pumping;
  }
}

export class Notifier {
  readonly log: Logger;
  readonly windowMs: number;
  readonly maxQueue: number;
  readonly retry: RetryPolicy;
  readonly abort = new AbortController();
  readonly stats: NotifierStats = { sent: 0, failed: 0, dropped: 0 };
  private readonly channels: Channel[];
  private readonly records = new Set<Promise<void>>();
  private readonly now: () => number;
  private closed = false;

  constructor(private readonly o: NotifierOptions) {
    this.log = o.log.child({ component: 'notify' });
    this.windowMs = o.windowMs ?? 2000;
    this.maxQueue = o.maxQueue ?? 200;
    this.retry = { ...DEFAULT_RETRY, ...o.retry };
    this.now = o.now ?? Date.now;
    this.channels = o.targets.map((t) => new Channel(t, this));
  }

  /** For `runCampaign({ listener })`: filters and queues, returns at once, never throws. */
  readonly listener: EngineListener = (e: EngineEvent) => {
    try {
      const notice = toNotice(e, {
        campaignId: this.o.campaignId,
        at: new Date(this.now()).toISOString(),
        approveCommand: this.o.approveCommand ?? ((g) => `hvroll approve ${this.o.campaignId} ${g}`),
      });
      if (notice) this.notify(notice);
    } catch (err) {
      this.log.warn({ errKind: err instanceof Error ? err.name : typeof err, event: e.type }, 'could not turn an event into a notification');
    }
  };

  notify(notice: Notice): void {
    if (this.closed) return;
    for (const c of this.channels) if (c.wants(notice)) c.push(notice);
  }

  /** Ends the window now (tests, `notify test`). */
  flushNow(): void {
    for (const c of this.channels) c.flushWindow();
  }

  recordResult(target: ResolvedTarget, event: string, d: { ok: boolean; attempts: number; detail: string }, count: number): void {
    if (event !== 'dropped') {
      if (d.ok) this.stats.sent++;
      else this.stats.failed++;
    }
    const detail = `${count > 1 ? `${count} events coalesced; ` : ''}${d.detail}`;
    const fields = { channel: target.name, event, status: d.ok ? 'sent' : 'failed', attempts: d.attempts, detail };
    if (d.ok) this.log.info(fields, `notification to ${target.name} sent`);
    else this.log.warn(fields, `notification to ${target.name} failed`);
    if (!this.o.record) return;
    const p = this.o
      .record({ channel: target.name, event, at: new Date(this.now()).toISOString(), status: d.ok ? 'sent' : 'failed', attempts: d.attempts, detail })
      .catch((e: unknown) => this.log.warn({ channel: target.name, errKind: e instanceof Error ? e.name : typeof e }, 'could not record a notification in the campaign store'))
      .finally(() => this.records.delete(p));
    this.records.add(p);
  }

  /**
   * Sends what is queued, waiting at most `deadlineMs`; then cancels the rest (recorded as failed, never
   * silently lost). Never hangs: a dead endpoint costs the CLI at most the deadline.
   */
  async close(deadlineMs = 5000): Promise<NotifierStats> {
    if (this.closed) return this.stats;
    this.closed = true;
    this.flushNow();
    const idle = Promise.all(this.channels.map((c) => c.idle()));
    if (await lateBy(idle, deadlineMs)) {
      this.abort.abort();
      await lateBy(idle, 1000);
      for (const c of this.channels) {
        for (const m of c.outbox.splice(0)) this.recordResult(c.target, m.kind, { ok: false, attempts: 0, detail: `not sent: the flush deadline (${deadlineMs} ms) passed at the end of the campaign` }, m.count);
      }
    }
    await lateBy(Promise.allSettled([...this.records]), 2000);
    return this.stats;
  }
}

/**
 * Resolves to false when `p` settles first, true after `ms`. The timer is ref'd on purpose (close() is awaited
 * and the process must not exit under it before the store closes) and cleared as soon as `p` wins.
 */
async function lateBy(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), ms);
  });
  try {
    return await Promise.race([p.then(() => false), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
