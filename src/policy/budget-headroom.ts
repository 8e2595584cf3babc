// The run's headroom rule. The plan's maintenanceBudget says, per failure domain, how much host capacity may
// be out of service at once and still keep the headroom for the domain's largest load over the campaign. A
// group may start when, in each of its domains, the capacity already out (running groups, and hosts left out
// of the pool) plus its own hosts there stays within the budget — except in a domain where nothing else is
// out: the planner checked every group alone against the headroom, and a budget computed for the largest
// load may be smaller than one group (then that domain's groups run one at a time).

import type { Candidate, Headroom } from './admission-policy.ts';
import type { Id, OutOfService } from './out-of-service.ts';

export type Capacity = { memoryMiB: number; vcpus: number };

/**
 * `budget`: the plan's maintenanceBudget; `capacityIn(g, d)`: what `g`'s hosts in domain `d` take out of
 * service. Domains without a budget are not limited.
 */
export function budgetHeadroom(budget: Readonly<Record<string, Capacity>>, capacityIn: (g: Candidate, domain: Id) => Capacity): Headroom {
  return (g: Candidate, out: OutOfService): string | null => {
    for (const d of g.domains) {
      const b = budget[String(d)];
      if (!b || out.inDomain(d) === 0) continue;
      const now = out.capacityOut(d);
      const mine = capacityIn(g, d);
      if (now.memoryMiB + mine.memoryMiB > b.memoryMiB || now.vcpus + mine.vcpus > b.vcpus) {
        return `headroom of ${String(d)}: ${now.memoryMiB} MiB / ${now.vcpus} vCPUs already out of service, ${mine.memoryMiB} MiB / ${mine.vcpus} more would pass its maintenance budget (${b.memoryMiB} MiB / ${b.vcpus} vCPUs)`;
      }
    }
    return null;
  };
}
