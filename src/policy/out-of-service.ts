// What is out of service right now, and who holds it: the hosts of every running group, and the hosts a
// failed or aborted group left out of the pool. Every limit counts from here — groups at once, per class, per
// failure domain, and the capacity each domain has out — so a host out of the pool keeps counting until it is
// back (re-enabled by a rollback, or released by an operator), whether its group still runs or not.
//
// A holder is a group. It counts as one group (for concurrency.groups, its class's maxConcurrentGroups and
// groupsPerDomain in each domain where it holds a host) as long as it holds at least one host; capacity counts
// per host. Keys are names for the engine and indices for the planner: both are `Id`.

export type Id = string | number;

/** One host out of service: its failure domain and the capacity it takes away (vCPUs × overcommit). */
export interface ServiceHost {
  host: Id;
  domain: Id;
  memoryMiB: number;
  vcpus: number;
}

interface Holder {
  klass: Id;
  hosts: Map<Id, ServiceHost>;
  /** Hosts held per failure domain. */
  perDomain: Map<Id, number>;
}

const bump = (m: Map<Id, number>, k: Id, by: number) => {
  const n = (m.get(k) ?? 0) + by;
  if (n === 0) m.delete(k);
  else m.set(k, n);
};

export class OutOfService {
  private readonly holders = new Map<Id, Holder>();
  private readonly holderOf = new Map<Id, Id>();
  private readonly byClass = new Map<Id, number>();
  /** Holders with at least one host in the domain. */
  private readonly byDomain = new Map<Id, number>();
  private readonly memory = new Map<Id, number>();
  private readonly vcpuCount = new Map<Id, number>();

  /** `holder` (of class `klass`) now keeps exactly `hosts` out of service: all of them while it runs, those it left out after. */
  hold(holder: Id, klass: Id, hosts: readonly ServiceHost[]): void {
    for (const s of hosts) {
      const other = this.holderOf.get(s.host);
      if (other !== undefined && other !== holder) throw new Error(`host ${String(s.host)} is held by ${String(other)} already`);
    }
    this.free(holder);
    if (hosts.length === 0) return;
    const h: Holder = { klass, hosts: new Map(), perDomain: new Map() };
    this.holders.set(holder, h);
    bump(this.byClass, klass, 1);
    for (const s of hosts) {
      h.hosts.set(s.host, s);
      this.holderOf.set(s.host, holder);
      if (!h.perDomain.has(s.domain)) bump(this.byDomain, s.domain, 1);
      bump(h.perDomain, s.domain, 1);
      bump(this.memory, s.domain, s.memoryMiB);
      bump(this.vcpuCount, s.domain, s.vcpus);
    }
  }

  /** `host` is back in service; its holder stops counting once it holds nothing. False when it was not held. */
  back(host: Id): boolean {
    const holder = this.holderOf.get(host);
    if (holder === undefined) return false;
    const h = this.holders.get(holder)!;
    const s = h.hosts.get(host)!;
    h.hosts.delete(host);
    this.holderOf.delete(host);
    bump(h.perDomain, s.domain, -1);
    if (!h.perDomain.has(s.domain)) bump(this.byDomain, s.domain, -1);
    bump(this.memory, s.domain, -s.memoryMiB);
    bump(this.vcpuCount, s.domain, -s.vcpus);
    if (h.hosts.size === 0) {
      this.holders.delete(holder);
      bump(this.byClass, h.klass, -1);
    }
    return true;
  }

  /** Everything `holder` held is back in service. */
  free(holder: Id): void {
    const h = this.holders.get(holder);
    if (!h) return;
    for (const host of [...h.hosts.keys()]) this.back(host);
  }

  /** Groups holding hosts out of service (running, or ended with hosts left out). */
  get groups(): number {
    return this.holders.size;
  }

  inClass(klass: Id): number {
    return this.byClass.get(klass) ?? 0;
  }

  /** Groups holding at least one host in `domain`. */
  inDomain(domain: Id): number {
    return this.byDomain.get(domain) ?? 0;
  }

  /** Capacity out of service in `domain` (memory MiB, vCPUs × overcommit). */
  capacityOut(domain: Id): { memoryMiB: number; vcpus: number } {
    return { memoryMiB: this.memory.get(domain) ?? 0, vcpus: this.vcpuCount.get(domain) ?? 0 };
  }

  get hostCount(): number {
    return this.holderOf.size;
  }

  holds(holder: Id): boolean {
    return this.holders.has(holder);
  }

  /** The hosts `holder` keeps out of service. */
  hostsOf(holder: Id): Id[] {
    return [...(this.holders.get(holder)?.hosts.keys() ?? [])];
  }

  /** Who holds `host`, if anyone. */
  holderOfHost(host: Id): Id | undefined {
    return this.holderOf.get(host);
  }
}
