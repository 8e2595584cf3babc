// What really runs on a host, from the runbook's discover command, and how it compares with the plan.
// Names are taken exactly as the host prints them: libvirt accepts a domain named "vm-2 " beside "vm-2", and
// a name that differs from every planned one in any character (a blank, a tab, a zero-width space, NFD
// instead of NFC, a Cyrillic letter, letter case) is another VM, never the planned one.

import { HvrollError } from '../model/errors.ts';
import { lookalikeKey, showName } from '../model/show-name.ts';
import type { Discover } from '../runbook/model.ts';

/**
 * The names a discover command printed. Lines format: one name per line, exactly as printed; only empty lines
 * are dropped (virsh ends its list with one). Line ends are `\n` alone: libvirt refuses `\n` in a name, so a
 * `\r` is part of the name, not of the line end.
 */
export function parseDiscovery(d: Discover, stdout: string, host: string): string[] {
  if (d.format === 'lines') return stdout.split('\n').filter((line) => line !== '');
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

/** VMs the plan expects may be on a host now: those it moves away and those that stay on it. Exact names. */
export function compareWithPlan(found: readonly string[], expected: ReadonlySet<string>): DiscoveryDiff {
  return { unknown: found.filter((vm) => !expected.has(vm)) };
}

/**
 * An unknown name for a message: escaped, and when it looks like a planned name (same letters once blanks,
 * invisible characters, case, NFC/NFD and look-alike letters are set aside), which one, so the operator sees
 * at once that `"vm-2 "` is not `vm-2`.
 */
export function describeUnknown(name: string, expected: Iterable<string>): string {
  const key = lookalikeKey(name);
  for (const planned of expected) {
    if (planned !== name && lookalikeKey(planned) === key) return `${showName(name)} (looks like ${showName(planned)}, but is another VM)`;
  }
  return showName(name);
}
