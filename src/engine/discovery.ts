// What really runs on a host, from the runbook's discover command, and how it compares with the plan.

import { HvrollError } from '../model/errors.ts';
import type { Discover } from '../runbook/model.ts';

export function parseDiscovery(d: Discover, stdout: string, host: string): string[] {
  if (d.format === 'lines') return stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new HvrollError('remote', `discovery on ${host} did not print JSON`, { details: { host, output: stdout.slice(0, 200) } });
  }
  if (!Array.isArray(parsed)) throw new HvrollError('remote', `discovery on ${host} printed JSON that is not a list`, { details: { host } });
  return parsed.map((item) => {
    const v = (item as Record<string, unknown> | null)?.[d.field];
    if (typeof v !== 'string' && typeof v !== 'number') {
      throw new HvrollError('remote', `discovery on ${host}: an entry has no "${d.field}"`, { details: { host, item } });
    }
    return String(v);
  });
}

/** Parse `Key: value` lines (virsh dominfo) for memory (MiB) and vCPUs. */
export function parseInspect(text: string, memoryKey: string, unit: 'KiB' | 'MiB' | 'bytes', vcpusKey: string): { memoryMiB: number; vcpus: number } | null {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) fields.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  const mem = Number.parseFloat(fields.get(memoryKey) ?? '');
  const cpus = Number.parseInt(fields.get(vcpusKey) ?? '', 10);
  if (!Number.isFinite(mem) || !Number.isFinite(cpus)) return null;
  const memoryMiB = unit === 'KiB' ? mem / 1024 : unit === 'bytes' ? mem / 1048576 : mem;
  return { memoryMiB: Math.round(memoryMiB), vcpus: cpus };
}

export interface DiscoveryDiff {
  /** Running on the host, unknown to the plan: the group must stop. */
  unknown: string[];
}

/** VMs the plan expects may be on a host now: those it moves away and those that stay on it. */
export function compareWithPlan(found: readonly string[], expected: ReadonlySet<string>): DiscoveryDiff {
  return { unknown: found.filter((vm) => !expected.has(vm)) };
}
