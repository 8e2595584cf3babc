// Live migrations in flight are bounded globally, per source host and per target host. Separate queues for
// outgoing and incoming migrations, taken in a fixed order (global, source, target), cannot deadlock: a task
// waits on a target queue only while holding slots that target-queue holders never wait for.

import PQueue from 'p-queue';

export class MigrationLimiter {
  private readonly global: PQueue;
  private readonly outgoing = new Map<string, PQueue>();
  private readonly incoming = new Map<string, PQueue>();

  constructor(
    globalLimit: number,
    private readonly perHost: number,
  ) {
    this.global = new PQueue({ concurrency: globalLimit });
  }

  private queue(map: Map<string, PQueue>, host: string): PQueue {
    let q = map.get(host);
    if (!q) map.set(host, (q = new PQueue({ concurrency: this.perHost })));
    return q;
  }

  run<T>(source: string, target: string, task: () => Promise<T>): Promise<T> {
    const out = this.queue(this.outgoing, source);
    const inc = this.queue(this.incoming, target);
    return this.global.add(() => out.add(() => inc.add(task)));
  }

  /** Migrations running right now (for progress and tests). */
  get running(): number {
    return this.global.pending;
  }
}
