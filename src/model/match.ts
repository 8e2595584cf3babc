// Label matching: which hosts and VMs a rule's `match` selects. The planner (classes, anti-affinity, migration
// domains) and the inventory's validation use it alike.

import type { Labels, Match } from './inventory.ts';

/** Every key must match; a list matches any of its values; `{}` matches everything. */
export function matches(labels: Labels, match: Match): boolean {
  for (const key in match) {
    const want = match[key];
    const have = labels[key];
    if (have === undefined) return false;
    if (Array.isArray(want) ? !want.includes(have) : want !== have) return false;
  }
  return true;
}

/**
 * Indices of the items whose labels match. Uses the first key's value to narrow the scan when an index is
 * given, so thousands of small rules (one per database cluster) stay linear in the fleet.
 */
export function matchingIndices(items: readonly { labels: Labels }[], match: Match, index?: LabelIndex): number[] {
  const keys = Object.keys(match);
  if (index && keys.length > 0) {
    const first = keys[0]!;
    const want = match[first]!;
    const candidates = (Array.isArray(want) ? want : [want]).flatMap((v) => index.lookup(first, v));
    candidates.sort((a, b) => a - b);
    return candidates.filter((i, k) => (k === 0 || candidates[k - 1] !== i) && matches(items[i]!.labels, match));
  }
  const out: number[] = [];
  for (let i = 0; i < items.length; i++) if (matches(items[i]!.labels, match)) out.push(i);
  return out;
}

/** label key -> value -> item indices, built on first use of a key. */
export class LabelIndex {
  private readonly byKey = new Map<string, Map<string, number[]>>();
  constructor(private readonly items: readonly { labels: Labels }[]) {}

  lookup(key: string, value: string): number[] {
    let byValue = this.byKey.get(key);
    if (!byValue) {
      byValue = new Map();
      for (let i = 0; i < this.items.length; i++) {
        const v = this.items[i]!.labels[key];
        if (v === undefined) continue;
        let list = byValue.get(v);
        if (!list) byValue.set(v, (list = []));
        list.push(i);
      }
      this.byKey.set(key, byValue);
    }
    return byValue.get(value) ?? [];
  }
}
