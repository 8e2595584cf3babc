// When a VM has no target: say exactly which constraints ruled out which hosts, so the operator can act.

import type { PlanProblem } from '../model/plan.ts';
import type { FleetState } from './fleet-state.ts';

type Rejection = NonNullable<ReturnType<FleetState['rejection']>>;

export function diagnoseNoTarget(state: FleetState, vm: number, group: string): PlanProblem {
  const v = state.inv.vms[vm]!;
  const source = state.vmHost[vm]!;
  const m = state.migration.ofHost[source]!;
  const counts: Record<Rejection, number> = { drained: 0, memory: 0, vcpu: 0, 'anti-affinity': 0, headroom: 0 };
  let largestFreeMem = 0;
  let largestFreeVcpu = 0;
  const rules = new Set<string>();
  const fullDomains = new Set<string>();
  let candidates = 0;
  for (let h = 0; h < state.hostCount; h++) {
    if (h === source || state.migration.ofHost[h] !== m) continue;
    candidates++;
    const why = state.rejection(vm, h);
    if (why === null) continue;
    counts[why]++;
    if (why === 'drained') continue;
    largestFreeMem = Math.max(largestFreeMem, state.freeMem[h]!);
    largestFreeVcpu = Math.max(largestFreeVcpu, state.freeVcpu[h]!);
    if (why === 'anti-affinity') rules.add(state.ruleNames[state.ruleConflict(vm, h)]!);
    if (why === 'headroom') fullDomains.add(state.failure.names[state.failure.ofHost[h]!]!);
  }
  const where = state.migration.label === null ? 'the fleet' : `migration domain ${state.migration.names[m]}`;
  const parts: string[] = [];
  if (counts.drained) parts.push(`${counts.drained} drained in the same wave or out of the campaign`);
  if (counts.memory) parts.push(`${counts.memory} lack memory (needs ${v.memoryMiB} MiB, most free ${Math.max(0, largestFreeMem)} MiB)`);
  if (counts.vcpu) parts.push(`${counts.vcpu} lack vCPUs (needs ${v.vcpus}, most free ${Math.max(0, largestFreeVcpu)})`);
  if (counts['anti-affinity']) parts.push(`${counts['anti-affinity']} already hold a VM of anti-affinity rule ${[...rules].join(', ')}`);
  if (counts.headroom) parts.push(`${counts.headroom} would break the headroom of ${[...fullDomains].join(', ')}`);
  const dominant = (Object.entries(counts) as [Rejection, number][])
    .filter(([k]) => k !== 'drained')
    .sort((a, b) => b[1] - a[1])[0];
  const constraint =
    candidates === 0
      ? 'migration-domain'
      : !dominant || dominant[1] === 0
        ? 'wave'
        : dominant[0] === 'anti-affinity'
          ? `anti-affinity:${[...rules].join(',')}`
          : dominant[0] === 'headroom'
            ? `headroom:${[...fullDomains].join(',')}`
            : dominant[0] === 'memory' || dominant[0] === 'vcpu'
              ? 'capacity'
              : dominant[0];
  const message =
    candidates === 0
      ? `no host can take VM ${v.name} (${v.memoryMiB} MiB, ${v.vcpus} vCPU) from group ${group}: it is the only host in ${where}`
      : `no host can take VM ${v.name} (${v.memoryMiB} MiB, ${v.vcpus} vCPU) from group ${group}: of ${candidates} hosts in ${where}, ${parts.join('; ')}`;
  const fix =
    candidates === 0
      ? `add hosts to ${where}, or set rules.migrationDomain to a wider label`
      : constraint.startsWith('anti-affinity')
        ? 'add hosts, or narrow the anti-affinity rule so its VMs can spread'
        : constraint.startsWith('headroom')
          ? 'lower rules.headroom, add capacity, or drain fewer hosts at once (rules.grouping.maxHostsPerGroup)'
          : 'add capacity, raise rules.cpuOvercommit if vCPUs are the limit, or drain fewer hosts at once (rules.grouping.maxHostsPerGroup)';
  return { kind: 'no-target', group, vm: v.name, constraint, message, fix };
}
