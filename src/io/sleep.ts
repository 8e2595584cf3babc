// The one abortable sleep. It rejects with the signal's reason when the signal aborts (before or during the
// wait), as every AbortSignal-aware API does; a caller that only wants to stop waiting catches that.

export interface SleepOptions {
  /** Do not keep the process alive for this timer alone (a notifier's backoff). */
  unref?: boolean;
}

export function sleep(ms: number, signal?: AbortSignal, o: SleepOptions = {}): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    if (o.unref === true) timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
