// Failure domains (headroom is kept per domain) and migration domains (a VM never leaves its own).

import type { Host, Rules } from '../model/inventory.ts';

export interface DomainMap {
  label: string | null;
  names: string[];
  /** Domain index per host. */
  ofHost: Int32Array;
}

const NO_LABEL = '(none)';

export function everyHostHas(hosts: readonly Host[], label: string): boolean {
  return hosts.length > 0 && hosts.every((h) => h.labels[label] !== undefined);
}

export function failureDomainLabel(hosts: readonly Host[], rules: Rules): string | null {
  if (rules.headroom.domain) return rules.headroom.domain;
  if (everyHostHas(hosts, 'az')) return 'az';
  if (rules.grouping.kind === 'by-label') return rules.grouping.by;
  return null;
}

export function migrationDomainLabel(hosts: readonly Host[], rules: Rules): string | null {
  if (rules.migrationDomain) return rules.migrationDomain;
  return everyHostHas(hosts, 'az') ? 'az' : null;
}

export function domainMap(hosts: readonly Host[], label: string | null): DomainMap {
  const names: string[] = [];
  const byName = new Map<string, number>();
  const ofHost = new Int32Array(hosts.length);
  hosts.forEach((h, i) => {
    const name = label === null ? 'fleet' : `${label}=${h.labels[label] ?? NO_LABEL}`;
    let d = byName.get(name);
    if (d === undefined) {
      d = names.length;
      names.push(name);
      byName.set(name, d);
    }
    ofHost[i] = d;
  });
  return { label, names, ofHost };
}
