// Schema validation of one inventory document (one file), with paths relative to that file.

import type { z } from 'zod';
import type { Host, Vm } from '../model/inventory.ts';
import { describeZodIssue } from './describe.ts';
import { fastHost, fastVm } from './fast.ts';
import { error, warning } from './issue.ts';
import type { Issue, Segment } from './issue.ts';
import { RULE_KEYS, TOP_KEYS, describeValue, hostSchema, isPlainObject, ruleSchemas, vmSchema } from './schema.ts';
import type { RuleKey, RuleValues } from './schema.ts';
import { closest } from './suggest.ts';

export interface FileDoc {
  file: string;
  /** Valid entries, with their index in this file's list. */
  hosts: Host[];
  hostIndex: number[];
  vms: Vm[];
  vmIndex: number[];
  /** Names of host entries that failed the schema, with their index (still checked for duplicates, and
   * VMs on them are not also reported as on an "unknown host"). */
  invalidHosts: Map<string, number>;
  /** Rule keys defined in this file: the value, or null when it failed the schema. */
  rules: Map<RuleKey, RuleValues[RuleKey] | null>;
  issues: Issue[];
}

export function validateWith<T extends z.ZodType>(schema: T, file: string, base: Segment[], input: unknown, issues: Issue[]): z.output<T> | undefined {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  for (const zi of r.error.issues) issues.push(...describeZodIssue(file, base, input, zi));
  return undefined;
}

function list(file: string, key: 'hosts' | 'vms', value: unknown, issues: Issue[]): unknown[] {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value;
  const example = key === 'hosts' ? '- { name: hv-01, address: 10.0.0.1, capacity: { vcpus: 64, memoryMiB: 262144 } }' : '- { name: web-1, host: hv-01, vcpus: 2, memoryMiB: 4096 }';
  issues.push(error(file, [key], `${key} must be a list, not ${describeValue(value)}`, `write one entry per line starting with "- ", e.g. \`${example}\``));
  return [];
}

export function validateDocument(file: string, value: unknown): FileDoc {
  const doc: FileDoc = { file, hosts: [], hostIndex: [], vms: [], vmIndex: [], invalidHosts: new Map(), rules: new Map(), issues: [] };
  const { issues } = doc;
  if (value === null || value === undefined) {
    issues.push(warning(file, [], 'the file is empty', 'add hosts:, vms: or rules:, or remove the file'));
    return doc;
  }
  if (!isPlainObject(value)) {
    issues.push(error(file, [], `the file must hold a mapping with hosts:, vms: and rules:, not ${describeValue(value)}`, 'start the file with `hosts:`, `vms:` or `rules:` at the left margin'));
    return doc;
  }
  for (const key in value) {
    if ((TOP_KEYS as readonly string[]).includes(key)) continue;
    const guess = closest(key, [...TOP_KEYS, ...RULE_KEYS]);
    const isRule = guess !== undefined && (RULE_KEYS as readonly string[]).includes(guess);
    const fix = guess
      ? isRule
        ? `"${guess}" is a rule: move it under \`rules:\``
        : `did you mean "${guess}"? Allowed top-level keys: ${TOP_KEYS.join(', ')}`
      : `remove it; allowed top-level keys: ${TOP_KEYS.join(', ')}`;
    issues.push(error(file, [key], `unknown top-level key "${key}"`, fix, { atKey: true }));
  }

  list(file, 'hosts', value.hosts, issues).forEach((raw, i) => {
    const host = fastHost(raw) ?? validateWith(hostSchema, file, ['hosts', i], raw, issues);
    if (host) {
      doc.hosts.push(host);
      doc.hostIndex.push(i);
    } else if (isPlainObject(raw) && typeof raw.name === 'string' && !doc.invalidHosts.has(raw.name)) {
      doc.invalidHosts.set(raw.name, i);
    }
  });

  list(file, 'vms', value.vms, issues).forEach((raw, i) => {
    const vm = fastVm(raw) ?? validateWith(vmSchema, file, ['vms', i], raw, issues);
    if (vm) {
      doc.vms.push(vm);
      doc.vmIndex.push(i);
    }
  });

  const rules = value.rules;
  if (rules !== undefined && rules !== null) {
    if (!isPlainObject(rules)) {
      issues.push(error(file, ['rules'], `rules must be a mapping, not ${describeValue(rules)}`, 'write rules as `rules:` followed by indented keys such as `grouping: { by: rack }`'));
    } else {
      for (const key in rules) {
        if (!(RULE_KEYS as readonly string[]).includes(key)) {
          const guess = closest(key, RULE_KEYS);
          const fix = guess ? `did you mean "${guess}"? Allowed rules: ${RULE_KEYS.join(', ')}` : `remove it; allowed rules: ${RULE_KEYS.join(', ')}`;
          issues.push(error(file, ['rules', key], `unknown rule "${key}"`, fix, { atKey: true }));
          continue;
        }
        const k = key as RuleKey;
        const parsed = validateWith(ruleSchemas[k], file, ['rules', k], rules[k], issues) as RuleValues[RuleKey] | undefined;
        doc.rules.set(k, parsed ?? null);
      }
    }
  }
  return doc;
}
