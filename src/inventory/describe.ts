// Turns zod issues into operator-facing issues: what is wrong, in words, and exactly how to fix it.

import type { z } from 'zod';
import { error } from './issue.ts';
import type { Issue, Segment } from './issue.ts';
import { DEFAULT_RULES } from '../model/inventory.ts';
import { RULE_KEYS, describeValue } from './schema.ts';
import { closest } from './suggest.ts';

interface Hint {
  /** What the value must be, e.g. `a whole number ≥ 1`. */
  expect: string;
  /** A valid value to show in the fix. */
  example: string;
}

const WHOLE = 'a whole number ≥ 1';
const HINTS: Record<string, Hint> = {
  'hosts[]': { expect: 'a host', example: '{ name: hv-01, address: 10.0.0.1, capacity: { vcpus: 64, memoryMiB: 262144 } }' },
  'hosts[].name': { expect: 'the host name', example: 'hv-01' },
  'hosts[].address': { expect: 'a hostname or IP address', example: '10.0.0.1' },
  'hosts[].ssh': { expect: 'a mapping', example: '{ user: root, port: 22 }' },
  'hosts[].ssh.user': { expect: 'a user name', example: 'root' },
  'hosts[].ssh.port': { expect: 'a port number from 1 to 65535', example: '22' },
  'hosts[].labels': { expect: 'a mapping of label names to values', example: '{ rack: r1 }' },
  'hosts[].capacity': { expect: 'a mapping with vcpus and memoryMiB', example: '{ vcpus: 64, memoryMiB: 262144 }' },
  'hosts[].capacity.vcpus': { expect: WHOLE, example: '64' },
  'hosts[].capacity.memoryMiB': { expect: 'a whole number of MiB ≥ 1', example: '262144' },
  'vms[]': { expect: 'a VM', example: '{ name: web-1, host: hv-01, vcpus: 2, memoryMiB: 4096 }' },
  'vms[].name': { expect: 'the VM name', example: 'web-1' },
  'vms[].host': { expect: 'the name of the host it runs on', example: 'hv-01' },
  'vms[].vcpus': { expect: WHOLE, example: '2' },
  'vms[].memoryMiB': { expect: 'a whole number of MiB ≥ 1', example: '4096' },
  'vms[].labels': { expect: 'a mapping of label names to values', example: '{ app: web }' },
  'vms[].migratable': { expect: 'true or false', example: 'false' },
  hosts: { expect: 'a list of hosts', example: '[{ name: hv-01, … }]' },
  vms: { expect: 'a list of VMs', example: '[{ name: web-1, … }]' },
  rules: { expect: 'a mapping of rules', example: '{ grouping: { by: rack } }' },
  'rules.grouping.by': { expect: 'a host label name', example: 'rack' },
  'rules.grouping.maxHostsPerGroup': { expect: WHOLE, example: '4' },
  'rules.grouping.groups': { expect: 'a list of groups', example: '[{ name: g1, hosts: [hv-01] }]' },
  'rules.grouping.groups[]': { expect: 'a group', example: '{ name: g1, hosts: [hv-01, hv-02] }' },
  'rules.grouping.groups[].name': { expect: 'the group name', example: 'g1' },
  'rules.grouping.groups[].hosts': { expect: 'a list of host names', example: '[hv-01, hv-02]' },
  'rules.grouping.groups[].hosts[]': { expect: 'a host name', example: 'hv-01' },
  'rules.sensitivity': { expect: 'a list of classes', example: '[{ class: critical, match: { tier: db }, order: last }]' },
  'rules.sensitivity[]': { expect: 'a class', example: '{ class: critical, match: { tier: db }, order: last }' },
  'rules.sensitivity[].class': { expect: 'the class name', example: 'critical' },
  'rules.sensitivity[].match': { expect: 'a mapping of labels to values', example: '{ tier: db }' },
  'rules.sensitivity[].order': { expect: 'first, normal or last', example: 'last' },
  'rules.sensitivity[].maxConcurrentGroups': { expect: WHOLE, example: '1' },
  'rules.sensitivity[].approval': { expect: 'true or false', example: 'true' },
  'rules.antiAffinity': { expect: 'a list of rules', example: '[{ name: db-spread, match: { app: db } }]' },
  'rules.antiAffinity[]': { expect: 'a rule', example: '{ name: db-spread, match: { app: db } }' },
  'rules.antiAffinity[].name': { expect: 'the rule name', example: 'db-spread' },
  'rules.antiAffinity[].match': { expect: 'a mapping of labels to values', example: '{ app: db }' },
  'rules.headroom': { expect: 'a mapping', example: '{ memoryPercent: 20, vcpuPercent: 10 }' },
  'rules.headroom.memoryPercent': { expect: 'a percentage from 0 to below 100', example: '20' },
  'rules.headroom.vcpuPercent': { expect: 'a percentage from 0 to below 100', example: '10' },
  'rules.headroom.domain': { expect: 'a host label name', example: 'az' },
  'rules.concurrency': { expect: 'a mapping', example: '{ groups: 2, migrations: 8, migrationsPerHost: 2 }' },
  'rules.concurrency.groups': { expect: WHOLE, example: '2' },
  'rules.concurrency.migrations': { expect: WHOLE, example: '8' },
  'rules.concurrency.migrationsPerHost': { expect: WHOLE, example: '2' },
  'rules.concurrency.groupsPerDomain': { expect: WHOLE, example: '1' },
  'rules.failureBudget': { expect: 'a whole number ≥ 0', example: '1' },
  'rules.cpuOvercommit': { expect: 'a number ≥ 1', example: '1.5' },
  'rules.migrationDomain': { expect: 'a host label name', example: 'az' },
  'rules.nonMigratable': { expect: 'a mapping', example: '{ policy: block }' },
  'rules.nonMigratable.policy': { expect: 'block, shutdown or skip', example: 'block' },
  'rules.nonMigratable.groups': { expect: 'a mapping of group names to policies', example: '{ g1: shutdown }' },
  'rules.nonMigratable.groups.*': { expect: 'block, shutdown or skip', example: 'shutdown' },
  'rules.estimates': { expect: 'a mapping', example: '{ migrationBandwidthMiBps: 1000 }' },
  'rules.estimates.migrationBandwidthMiBps': { expect: 'a number > 0', example: '1000' },
  'rules.estimates.dirtyRateMiBps': { expect: 'a number ≥ 0', example: '50' },
  'rules.estimates.migrationOverheadSeconds': { expect: 'a number ≥ 0', example: '5' },
  'rules.estimates.upgradeSeconds': { expect: 'a number > 0', example: '600' },
  'rules.estimates.rebootSeconds': { expect: 'a number > 0', example: '300' },
  'rules.estimates.verifySeconds': { expect: 'a number > 0', example: '60' },
  'rules.twoPersonRule': { expect: 'true or false', example: 'true' },
  'rules.notifications': { expect: 'a list of chat targets', example: '[{ name: ops-slack, type: slack, url: env:SLACK_WEBHOOK }]' },
  'rules.notifications[]': { expect: 'a chat target', example: '{ name: ops-slack, type: slack, url: env:SLACK_WEBHOOK }' },
  'rules.notifications[].name': { expect: 'a short name', example: 'ops-slack' },
  'rules.notifications[].type': { expect: 'slack, teams or webhook', example: 'slack' },
  'rules.notifications[].url': { expect: 'an https:// URL or env:NAME', example: 'env:SLACK_WEBHOOK' },
  'rules.notifications[].events': { expect: 'a list of event kinds', example: '[approval.needed, step.failed, campaign.*]' },
  'rules.notifications[].minSeverity': { expect: 'info, warning or error', example: 'warning' },
};

// A `--notify` file holds the same `notifications:` list at its top level.
for (const [k, v] of Object.entries(HINTS)) if (k.startsWith('rules.notifications')) HINTS[k.slice('rules.'.length)] = v;

/** `vms[3].labels.rack` → `vms[].labels.*`, the key into HINTS. */
function genericPath(path: readonly Segment[]): string {
  let out = '';
  path.forEach((seg, i) => {
    const parent = path[i - 1];
    if (typeof seg === 'number') out += '[]';
    else if (parent === 'labels' || parent === 'match' || (parent === 'groups' && path[i - 2] === 'nonMigratable')) out += '.*';
    else out += out === '' ? seg : `.${seg}`;
  });
  return out;
}

function hintFor(path: readonly Segment[]): Hint | undefined {
  return HINTS[genericPath(path)];
}

function valueAt(root: unknown, path: readonly Segment[]): unknown {
  let v = root;
  for (const seg of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[seg];
  }
  return v;
}

function keyName(path: readonly Segment[]): string {
  for (let i = path.length - 1; i >= 0; i--) if (typeof path[i] === 'string') return path[i] as string;
  return 'value';
}

function example(key: string, hint: Hint | undefined): string {
  return hint ? `, e.g. \`${key}: ${hint.example}\`` : '';
}

const KEYS: Record<string, readonly string[]> = {
  '': ['hosts', 'vms', 'rules'],
  'hosts[]': ['name', 'address', 'ssh', 'labels', 'capacity'],
  'hosts[].ssh': ['user', 'port'],
  'hosts[].capacity': ['vcpus', 'memoryMiB'],
  'vms[]': ['name', 'host', 'vcpus', 'memoryMiB', 'labels', 'migratable'],
  rules: RULE_KEYS,
  'rules.grouping': ['by', 'maxHostsPerGroup', 'groups'],
  'rules.grouping.groups[]': ['name', 'hosts'],
  'rules.sensitivity[]': ['class', 'match', 'order', 'maxConcurrentGroups', 'approval'],
  'rules.antiAffinity[]': ['name', 'match'],
  'rules.headroom': ['memoryPercent', 'vcpuPercent', 'domain'],
  'rules.concurrency': ['groups', 'migrations', 'migrationsPerHost', 'groupsPerDomain'],
  'rules.nonMigratable': ['policy', 'groups'],
  'rules.estimates': Object.keys(DEFAULT_RULES.estimates),
  'rules.notifications[]': ['name', 'type', 'url', 'events', 'minSeverity'],
  'notifications[]': ['name', 'type', 'url', 'events', 'minSeverity'],
};

/** Keys allowed in the mapping at `path` (for unknown-key suggestions). */
export function allowedKeys(path: readonly Segment[]): readonly string[] {
  return KEYS[genericPath(path)] ?? [];
}

/**
 * One zod issue → one or more issues. `base` is the path of the validated value inside the file;
 * `input` the value that was validated (for "received …" in messages).
 */
export function describeZodIssue(file: string, base: readonly Segment[], input: unknown, zi: z.core.$ZodIssue): Issue[] {
  const rel = zi.path.filter((s): s is string | number => typeof s !== 'symbol');
  const path = [...base, ...rel];
  const key = keyName(path);
  const hint = hintFor(path);
  const value = valueAt(input, rel);
  const got = describeValue(value);
  switch (zi.code) {
    case 'custom': {
      const fix = (zi.params as { fix?: string } | undefined)?.fix ?? `set ${key} to ${hint?.expect ?? 'a valid value'}`;
      return [error(file, path, zi.message, fix)];
    }
    case 'invalid_type': {
      const expect = hint?.expect ?? `a ${zi.expected}`;
      if (value === undefined && typeof rel[rel.length - 1] === 'string') {
        return [error(file, path, `missing required field "${key}"`, `add \`${key}: ${hint?.example ?? `<${zi.expected}>`}\` (${expect})`)];
      }
      if (zi.expected === 'int') {
        return [error(file, path, `${key} must be a whole number, not ${String(value)}`, `use ${expect}${example(key, hint)}`)];
      }
      // A list entry (`hosts[3]`): it is not "hosts" that must be a host, and the example is a list item.
      if (typeof path[path.length - 1] === 'number') {
        return [error(file, path, `each entry of ${key} must be ${expect}, not ${got}`, `write it as a list item${hint ? `: \`- ${hint.example}\`` : ` (${expect})`}`)];
      }
      return [error(file, path, `${key} must be ${expect}, not ${got}`, `set ${key} to ${expect}${example(key, hint)}`)];
    }
    case 'too_small':
    case 'too_big': {
      const bound = zi.code === 'too_small' ? zi.minimum : zi.maximum;
      const cmp = zi.code === 'too_small' ? (zi.inclusive ? '≥' : '>') : zi.inclusive ? '≤' : 'below';
      const what = typeof value === 'number' ? String(value) : got;
      return [error(file, path, `${key} is ${what}; it must be ${cmp} ${String(bound)}`, `use ${hint?.expect ?? `a value ${cmp} ${String(bound)}`}${example(key, hint)}`)];
    }
    case 'invalid_value': {
      const options = zi.values.map(String);
      const guess = typeof value === 'string' ? closest(value, options) : undefined;
      return [
        error(file, path, `${key} is ${got}; expected one of ${options.join(', ')}`, `${guess ? `did you mean "${guess}"? ` : ''}use one of: ${options.join(', ')}`),
      ];
    }
    case 'unrecognized_keys': {
      const keys = allowedKeys(path);
      return zi.keys.map((k) => {
        const guess = closest(k, keys);
        const fix = guess ? `did you mean "${guess}"? Allowed keys here: ${keys.join(', ')}` : `remove it; allowed keys here: ${keys.join(', ')}`;
        return error(file, [...path, k], `unknown key "${k}"`, fix, { atKey: true });
      });
    }
    case 'invalid_key':
      return zi.issues.map((inner) => error(file, path, inner.message, (inner as { params?: { fix?: string } }).params?.fix ?? 'rename the key'));
    default:
      return [error(file, path, `${key}: ${zi.message}`, `set ${key} to ${hint?.expect ?? 'a valid value'}${example(key, hint)}`)];
  }
}
