// Which hosts the campaign has left out of the pool right now: every host a failed or aborted group named in
// its `outOfPool` (not verified after its upgrade, or not re-enabled by its rollback), minus those an operator
// has released since (`hvroll release`, recorded in the store). The runner restores its held slots from it,
// `status` and the report show it, and `release` accepts only these hosts.

import type { PlanFile } from './plan.ts';
import type { HostRelease } from './campaign.ts';

export interface OutOfPoolHost {
  host: string;
  /** The group that left it out of the pool. */
  group: string;
  why: string;
}

/** What this needs of a campaign store (read-only is enough). */
export interface OutOfPoolSource {
  groupSnapshot(group: string): { snapshot: unknown } | undefined;
  releases(): HostRelease[];
}

/** A group's saved snapshot names its hosts left out of the pool once it has failed or been aborted. */
interface SnapshotLike {
  context?: { outOfPool?: { host: string; why: string }[] };
}

/** Of what `group`'s snapshot names out of the pool, the hosts not released since. */
export function stillOut(group: string, snapshot: unknown, released: ReadonlySet<string>): OutOfPoolHost[] {
  const named = (snapshot as SnapshotLike | undefined)?.context?.outOfPool ?? [];
  return named.filter((o) => !released.has(o.host)).map((o) => ({ host: o.host, group, why: o.why }));
}

/** Hosts out of the pool now, in plan order. */
export function hostsOutOfPool(source: OutOfPoolSource, plan: Pick<PlanFile, 'groups'>): OutOfPoolHost[] {
  const released = new Set(source.releases().map((r) => r.host));
  return plan.groups.flatMap((g) => stillOut(g.name, source.groupSnapshot(g.name)?.snapshot, released));
}
