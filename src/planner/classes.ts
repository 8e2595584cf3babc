// Sensitivity: which class a VM belongs to, which class a group gets, and how classes rank.
//
// Campaign order runs first -> normal -> last, so sensitivity grows the same way: a `last` class (critical)
// is more sensitive than any `normal` one, which is more sensitive than any `first` one (canaries). Within a
// tier, a class listed earlier is more sensitive. VMs matching no class get the implicit `default` class, the
// least sensitive of the normal tier. A VM takes the FIRST listed class whose match fits it (so an operator
// decides precedence by order, e.g. canary before web); a group takes the most sensitive class of its VMs.

import type { OrderTier, SensitivityClass, Vm } from '../model/inventory.ts';
import { TIER_POSITION } from '../model/tiers.ts';
import { LabelIndex, matchingIndices } from '../model/match.ts';

export const DEFAULT_CLASS = 'default';

export interface ClassInfo {
  name: string;
  tier: OrderTier;
  /** Higher is more sensitive. */
  rank: number;
  approval: boolean;
  maxConcurrentGroups: number;
  /** Position in rules.sensitivity, -1 for the implicit default. */
  listIndex: number;
}

export interface Classification {
  /** Index 0 is the implicit default class. */
  classes: ClassInfo[];
  /** Class index per VM. */
  vmClass: Uint16Array;
}

export function classify(vms: readonly Vm[], sensitivity: readonly SensitivityClass[], index?: LabelIndex): Classification {
  const n = sensitivity.length;
  const classes: ClassInfo[] = [
    { name: DEFAULT_CLASS, tier: 'normal', rank: TIER_POSITION.normal * (n + 1), approval: false, maxConcurrentGroups: Infinity, listIndex: -1 },
  ];
  sensitivity.forEach((c, i) => {
    classes.push({
      name: c.class,
      tier: c.order,
      rank: TIER_POSITION[c.order] * (n + 1) + (n - i),
      approval: c.approval,
      maxConcurrentGroups: c.maxConcurrentGroups ?? Infinity,
      listIndex: i,
    });
  });
  const vmClass = new Uint16Array(vms.length);
  const labelIndex = index ?? new LabelIndex(vms);
  sensitivity.forEach((c, i) => {
    for (const v of matchingIndices(vms, c.match, labelIndex)) if (vmClass[v] === 0) vmClass[v] = i + 1;
  });
  return { classes, vmClass };
}

/** The more sensitive of two class indices. */
export function moreSensitive(classes: readonly ClassInfo[], a: number, b: number): number {
  return classes[b]!.rank > classes[a]!.rank ? b : a;
}
