// One webhook POST, and the retry loop around it. Results are described by status codes and error codes
// only — never by an error's message, which may quote the URL (and the URL is the secret).

import { sleep } from '../io/sleep.ts';

export interface Attempt {
  ok: boolean;
  /** HTTP status, when an answer came. */
  status?: number;
  /** Worth trying again (429, 5xx, 408, timeouts, dropped connections). */
  retry: boolean;
  /** What the endpoint asked for (Retry-After), ms. */
  retryAfterMs?: number;
  /** Short and URL-free: `HTTP 500`, `no answer in 5s`, `connection error ECONNRESET`. */
  reason: string;
}

/** Retry-After is either seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function errorCode(e: unknown): string {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur && typeof cur === 'object'; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]+$/.test(code)) return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return 'unknown';
}

export async function postOnce(url: string, body: string, timeoutMs: number, signal: AbortSignal): Promise<Attempt> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'hvroll' },
      body,
      signal: AbortSignal.any([signal, timeout]),
      redirect: 'error',
    });
    // The body is not needed (and may echo the request); release the connection.
    await res.body?.cancel().catch(() => undefined);
    const status = res.status;
    if (status >= 200 && status < 300) return { ok: true, status, retry: false, reason: `HTTP ${status}` };
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
    const retry = status === 429 || status === 408 || status >= 500;
    return { ok: false, status, retry, ...(retryAfterMs === undefined ? {} : { retryAfterMs }), reason: `HTTP ${status}` };
  } catch (e) {
    if (signal.aborted) return { ok: false, retry: false, reason: 'cancelled (notifier closed)' };
    if (timeout.aborted) return { ok: false, retry: true, reason: `no answer in ${Math.round(timeoutMs / 100) / 10}s` };
    // fetch never connects to a port on its blocklist (6000, 6667, 10080, …): retrying cannot help.
    if ((e as { cause?: { message?: unknown } }).cause?.message === 'bad port') return { ok: false, retry: false, reason: 'port blocked by fetch (bad port): give the endpoint another port' };
    return { ok: false, retry: true, reason: `connection error ${errorCode(e)}` };
  }
}

export interface RetryPolicy {
  maxAttempts: number;
  timeoutMs: number;
  /** First backoff; doubles each attempt, with jitter. */
  backoffMs: number;
  maxBackoffMs: number;
  /** A Retry-After longer than this gives up instead of waiting. */
  maxRetryAfterMs: number;
}

export interface Delivery {
  ok: boolean;
  attempts: number;
  /** Every attempt's reason, e.g. `HTTP 429 (retry after 1s) → HTTP 200`. */
  detail: string;
}

export async function deliver(url: string, payload: unknown, p: RetryPolicy, signal: AbortSignal, random = Math.random): Promise<Delivery> {
  const body = JSON.stringify(payload);
  const reasons: string[] = [];
  for (let attempt = 1; ; attempt++) {
    const a = await postOnce(url, body, p.timeoutMs, signal);
    if (a.ok) {
      reasons.push(a.reason);
      return { ok: true, attempts: attempt, detail: reasons.join(' → ') };
    }
    const exhausted = attempt >= p.maxAttempts || !a.retry || signal.aborted;
    if (exhausted) {
      reasons.push(a.reason);
      return { ok: false, attempts: attempt, detail: reasons.join(' → ') };
    }
    if (a.retryAfterMs !== undefined && a.retryAfterMs > p.maxRetryAfterMs) {
      reasons.push(`${a.reason} (asked to wait ${Math.round(a.retryAfterMs / 1000)}s: too long, given up)`);
      return { ok: false, attempts: attempt, detail: reasons.join(' → ') };
    }
    const backoff = Math.min(p.maxBackoffMs, p.backoffMs * 2 ** (attempt - 1)) * (0.5 + random() / 2);
    const wait = a.retryAfterMs ?? backoff;
    reasons.push(`${a.reason} (retry in ${wait < 1000 ? `${Math.round(wait)}ms` : `${Math.round(wait / 100) / 10}s`}${a.retryAfterMs !== undefined ? ', Retry-After' : ''})`);
    // A notifier never keeps the process alive on its own; an abort ends the wait (and the next attempt says so).
    await sleep(wait, signal, { unref: true }).catch(() => undefined);
  }
}
