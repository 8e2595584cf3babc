// Campaign order: spares (empty groups) first, so evacuated VMs land on upgraded hosts; then canary classes
// (order: first), then normal, then critical (order: last). Within a tier, less sensitive classes go first;
// ties by name.

import type { Inventory } from '../model/inventory.ts';
import type { GroupTier } from '../model/plan.ts';
import { TIER_POSITION } from '../model/tiers.ts';
import type { Classification } from './classes.ts';
import type { FormedGroup } from './groups.ts';
import { naturalCompare } from './natural.ts';

export interface OrderedGroup extends FormedGroup {
  tier: GroupTier;
  className: string;
  approval: boolean;
  reason: string;
}

function tierOf(g: FormedGroup, cls: Classification): GroupTier {
  return g.klass === -1 ? 'spare' : cls.classes[g.klass]!.tier;
}

function describeLabels(labels: Record<string, string>): string {
  const entries = Object.entries(labels).slice(0, 3);
  return entries.length === 0 ? '' : ` (${entries.map(([k, v]) => `${k}=${v}`).join(', ')})`;
}

function reasonFor(g: FormedGroup, tier: GroupTier, inv: Inventory, cls: Classification): string {
  if (tier === 'spare') return 'holds no VMs: upgraded first, so VMs evacuated later land on upgraded hosts and move once';
  const c = cls.classes[g.klass]!;
  const vm = inv.vms[g.classVm]!;
  const why = c.listIndex === -1
    ? `class ${c.name}: no VM on it matches a sensitivity class`
    : `class ${c.name} (order: ${c.tier}) from VM ${vm.name}${describeLabels(vm.labels)}`;
  const where = tier === 'first' ? 'canary classes go before the rest' : tier === 'last' ? 'most sensitive classes go last' : 'normal order';
  return `${why}; ${where}${c.approval ? '; needs approval before draining' : ''}`;
}

export function orderGroups(groups: FormedGroup[], inv: Inventory, cls: Classification): OrderedGroup[] {
  return groups
    .map((g) => {
      const tier = tierOf(g, cls);
      const c = g.klass === -1 ? undefined : cls.classes[g.klass];
      return {
        ...g,
        tier,
        className: c?.name ?? 'spare',
        approval: c?.approval ?? false,
        reason: reasonFor(g, tier, inv, cls),
      };
    })
    .sort((a, b) => {
      const t = TIER_POSITION[a.tier] - TIER_POSITION[b.tier];
      if (t !== 0) return t;
      const ra = a.klass === -1 ? -1 : cls.classes[a.klass]!.rank;
      const rb = b.klass === -1 ? -1 : cls.classes[b.klass]!.rank;
      return ra - rb || naturalCompare(a.name, b.name);
    });
}
