// Live migrations in flight are bounded globally, per source host and per target host. A migration starts
// only when all three have a free slot, taken at once: waiting migrations never hold a slot, so none can
// deadlock, and a migration blocked on a busy host does not keep a global slot from one that could run
// (holding the global slot while queueing for a host left most of the global limit idle — seen in
// `hvroll simulate`). Waiting migrations start in arrival order among those that can run.

interface Waiting {
  source: string;
  target: string;
  start: () => void;
}

export class MigrationLimiter {
  private inFlight = 0;
  private readonly outgoing = new Map<string, number>();
  private readonly incoming = new Map<string, number>();
  private readonly waiting: Waiting[] = [];

  constructor(
    private readonly globalLimit: number,
    private readonly perHost: number,
  ) {}

  private canStart(source: string, target: string): boolean {
    return this.inFlight < this.globalLimit && (this.outgoing.get(source) ?? 0) < this.perHost && (this.incoming.get(target) ?? 0) < this.perHost;
  }

  private take(source: string, target: string): void {
    this.inFlight++;
    this.outgoing.set(source, (this.outgoing.get(source) ?? 0) + 1);
    this.incoming.set(target, (this.incoming.get(target) ?? 0) + 1);
  }

  private release(source: string, target: string): void {
    this.inFlight--;
    const out = this.outgoing.get(source)! - 1;
    if (out === 0) this.outgoing.delete(source);
    else this.outgoing.set(source, out);
    const inc = this.incoming.get(target)! - 1;
    if (inc === 0) this.incoming.delete(target);
    else this.incoming.set(target, inc);
    for (let i = 0; i < this.waiting.length && this.inFlight < this.globalLimit; ) {
      const w = this.waiting[i]!;
      if (this.canStart(w.source, w.target)) {
        this.waiting.splice(i, 1);
        this.take(w.source, w.target);
        w.start();
      } else i++;
    }
  }

  run<T>(source: string, target: string, task: () => Promise<T>): Promise<T> {
    const go = async (): Promise<T> => {
      try {
        return await task();
      } finally {
        this.release(source, target);
      }
    };
    if (this.canStart(source, target)) {
      this.take(source, target);
      return go();
    }
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ source, target, start: () => void go().then(resolve, reject) });
    });
  }

  /** Migrations running right now (for progress and tests). */
  get running(): number {
    return this.inFlight;
  }
}
