// Which hosts the campaign has left out of the pool right now: every host a failed or aborted group named in
// its `outOfPool` (not verified after its upgrade, or not re-enabled by its rollback), minus those an operator
// has released since (`hvroll release`, recorded in the store). The runner restores its held slots from it,
// `status` and the report show it, and `release` accepts only these hosts.

import type { PlanFile } from '../model/plan.ts';
import type { HostRelease } from '../store/doc.ts';

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

interface SnapshotLike {
  value?: unknown;
  context?: { outOfPool?: { host: string; why: string }[] };
}

/** The hosts a group's saved snapshot names out of the pool (empty while it runs, or when none were left out). */
export function leftOutBy(source: OutOfPoolSource, group: string): { host: string; why: string }[] {
  const snap = source.groupSnapshot(group)?.snapshot as SnapshotLike | undefined;
  return snap?.context?.outOfPool ?? [];
}

/** Hosts out of the pool now, in plan order. */
export function hostsOutOfPool(source: OutOfPoolSource, plan: Pick<PlanFile, 'groups'>): OutOfPoolHost[] {
  const released = new Set(source.releases().map((r) => r.host));
  const out: OutOfPoolHost[] = [];
  for (const g of plan.groups) {
    for (const o of leftOutBy(source, g.name)) if (!released.has(o.host)) out.push({ host: o.host, group: g.name, why: o.why });
  }
  return out;
}
