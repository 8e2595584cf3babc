// Import the host list from an Ansible YAML inventory (the format of `ansible-inventory --list -y`, or
// the JSON of `--list`). Vars inherit the way Ansible resolves them: `all`, then groups by depth (parents
// before children, equal depths by name), then the host's own vars. `hvroll_labels` is merged key by key
// along that chain (Ansible would replace the whole mapping; label sets are meant to accumulate).

import type { Host } from '../model/inventory.ts';
import { describeZodIssue } from './describe.ts';
import { error } from './issue.ts';
import type { Issue, Segment } from './issue.ts';
import { describeValue, hostSchema, isPlainObject } from './schema.ts';
import { closest } from './suggest.ts';

export interface AnsibleHost {
  host: Host;
  /** Where the host is first listed (its key under some `hosts:`). */
  path: Segment[];
}

export interface AnsibleImport {
  hosts: AnsibleHost[];
  /** Hosts listed but not importable, with where they are listed (so VMs on them are not also "unknown host"). */
  invalidHosts: Map<string, Segment[]>;
  issues: Issue[];
}

interface Var {
  value: unknown;
  path: Segment[];
  /** Precedence once resolved for a host: higher was applied later (more specific). */
  seq?: number;
}

interface Listing {
  group: string;
  vars: Map<string, Var>;
  path: Segment[];
}

interface Group {
  name: string;
  vars: Map<string, Var>;
  parents: Set<string>;
  hosts: Set<string>;
}

const GROUP_KEYS = ['hosts', 'vars', 'children'];
const MAX_EXPANSION = 100_000;

/** True when the text is an INI inventory (`[group]` headers), which we do not read. */
export function looksLikeIni(file: string, text: string): boolean {
  if (/\.(ini|cfg)$/i.test(file)) return true;
  for (const line of text.split('\n', 200)) {
    const t = line.trim();
    if (t === '' || t.startsWith('#') || t.startsWith(';')) continue;
    return /^\[[^\]\s,]+\]$/.test(t);
  }
  return false;
}

export const INI_FIX = 'convert it: ansible-inventory -i hosts.ini --list -y > hosts.yml';

/** `hv-[01:03]` → hv-01, hv-02, hv-03; `db-[a:c]` → db-a … db-c; an optional third part is the stride. */
export function expandHostPattern(pattern: string): string[] | null {
  const m = /\[([0-9]+|[a-z]):([0-9]+|[a-z])(?::([0-9]+))?\]/i.exec(pattern);
  if (!m) return [pattern];
  const [whole, from, to, strideText] = m as unknown as [string, string, string, string | undefined];
  const head = pattern.slice(0, m.index);
  const tail = pattern.slice(m.index + whole.length);
  const stride = strideText === undefined ? 1 : Number(strideText);
  const numeric = /^\d+$/.test(from);
  if (numeric !== /^\d+$/.test(to) || stride < 1) return null;
  const start = numeric ? Number(from) : from.charCodeAt(0);
  const end = numeric ? Number(to) : to.charCodeAt(0);
  if (end < start || (end - start) / stride > MAX_EXPANSION) return null;
  const width = numeric && from.startsWith('0') ? from.length : 0;
  const out: string[] = [];
  for (let x = start; x <= end; x += stride) {
    const part = numeric ? String(x).padStart(width, '0') : String.fromCharCode(x);
    const rest = expandHostPattern(tail);
    if (!rest) return null;
    for (const r of rest) out.push(head + part + r);
  }
  return out;
}

export function importAnsible(file: string, value: unknown): AnsibleImport {
  const issues: Issue[] = [];
  const groups = new Map<string, Group>();
  const listings = new Map<string, Listing[]>();
  const order: string[] = [];

  const groupNamed = (name: string): Group => {
    let g = groups.get(name);
    if (!g) groups.set(name, (g = { name, vars: new Map(), parents: new Set(), hosts: new Set() }));
    return g;
  };

  const readVars = (into: Map<string, Var>, v: unknown, path: Segment[]) => {
    if (v === null || v === undefined) return;
    if (!isPlainObject(v)) {
      issues.push(error(file, path, `vars must be a mapping, not ${describeValue(v)}`, 'write vars as `vars: { ansible_user: root }`'));
      return;
    }
    for (const k in v) into.set(k, { value: v[k], path: [...path, k] });
  };

  const listHost = (group: Group, pattern: string, vars: unknown, path: Segment[]) => {
    const names = expandHostPattern(pattern);
    if (!names) {
      issues.push(error(file, path, `host pattern "${pattern}" is not a range Ansible and hvroll understand`, 'use a range like hv-[01:20] or a-[a:f] (start ≤ end), or list the hosts one by one', { atKey: true }));
      return;
    }
    for (const name of names) {
      const listing: Listing = { group: group.name, vars: new Map(), path };
      readVars(listing.vars, vars, path);
      let l = listings.get(name);
      if (!l) {
        listings.set(name, (l = []));
        order.push(name);
      }
      l.push(listing);
      group.hosts.add(name);
    }
  };

  const walk = (name: string, node: unknown, path: Segment[], parent: string | null, seen: Set<string>) => {
    const group = groupNamed(name);
    if (parent !== null && parent !== name) group.parents.add(parent);
    if (node === null || node === undefined) return;
    if (!isPlainObject(node)) {
      issues.push(error(file, path, `group "${name}" must be a mapping with hosts:, vars: or children:, not ${describeValue(node)}`, 'write the group as `name: { hosts: { hv-01: {} } }`'));
      return;
    }
    for (const key in node) {
      if (GROUP_KEYS.includes(key)) continue;
      const guess = closest(key, GROUP_KEYS);
      issues.push(error(file, [...path, key], `unknown key "${key}" in group "${name}"`, guess ? `did you mean "${guess}"? A group holds hosts:, vars: and children:` : 'a group holds only hosts:, vars: and children: (host vars go under the host)', { atKey: true }));
    }
    const { hosts, vars, children } = node;
    if (Array.isArray(hosts)) hosts.forEach((h, i) => listHost(group, String(h), null, [...path, 'hosts', i]));
    else if (isPlainObject(hosts)) for (const h in hosts) listHost(group, h, hosts[h], [...path, 'hosts', h]);
    else if (hosts !== undefined && hosts !== null) issues.push(error(file, [...path, 'hosts'], `hosts must be a mapping of host names, not ${describeValue(hosts)}`, 'write `hosts: { hv-01: { ansible_host: 10.0.0.1 } }`'));
    readVars(group.vars, vars, [...path, 'vars']);
    if (seen.has(name)) return; // a group nested in itself: Ansible rejects this too
    const inner = new Set(seen).add(name);
    if (Array.isArray(children)) children.forEach((c, i) => walk(String(c), null, [...path, 'children', i], name, inner));
    else if (isPlainObject(children)) for (const c in children) walk(c, children[c], [...path, 'children', c], name, inner);
    else if (children !== undefined && children !== null) issues.push(error(file, [...path, 'children'], `children must be a mapping of groups, not ${describeValue(children)}`, 'write `children: { rack_a: { hosts: { hv-01: {} } } }`'));
  };

  if (!isPlainObject(value)) {
    issues.push(error(file, [], `an Ansible inventory must be a mapping of groups (usually \`all:\`), not ${describeValue(value)}`, 'start with `all:` and list hosts under `all.children.<group>.hosts`'));
    return { hosts: [], invalidHosts: new Map(), issues };
  }
  for (const top in value) {
    if (top === '_meta') continue;
    walk(top, value[top], [top], top === 'all' ? null : 'all', new Set());
  }
  // `ansible-inventory --list` (JSON) keeps host vars apart, under _meta.hostvars.
  const meta = value._meta;
  if (isPlainObject(meta) && isPlainObject(meta.hostvars)) {
    for (const name in meta.hostvars) {
      const l = listings.get(name);
      if (l) readVars(l[l.length - 1]!.vars, meta.hostvars[name], ['_meta', 'hostvars', name]);
    }
  }

  const depth = depths(groups);
  const rank = (a: string, b: string) => depth.get(a)! - depth.get(b)! || (a < b ? -1 : a > b ? 1 : 0);
  const hosts: AnsibleHost[] = [];
  const invalidHosts = new Map<string, Segment[]>();
  for (const name of order) {
    const lists = [...listings.get(name)!].sort((a, b) => rank(a.group, b.group));
    const chain = new Set<string>(['all']);
    const addAncestors = (g: string) => {
      for (const p of groups.get(g)?.parents ?? []) {
        if (chain.has(p)) continue;
        chain.add(p);
        addAncestors(p);
      }
    };
    for (const l of lists) {
      chain.add(l.group);
      addAncestors(l.group);
    }
    const vars = new Map<string, Var>();
    const labels = new Map<string, Var>();
    let seq = 0;
    const apply = (from: Map<string, Var>) => {
      for (const [k, v] of from) {
        vars.set(k, { ...v, seq: seq++ });
        if (k === 'hvroll_labels' && isPlainObject(v.value)) for (const lk in v.value) labels.set(lk, { value: v.value[lk], path: [...v.path, lk] });
      }
    };
    for (const g of [...chain].sort(rank)) apply(groups.get(g)!.vars);
    for (const l of lists) apply(l.vars);
    const innermost = lists[lists.length - 1]!;
    const built = buildHost(file, name, innermost.group, lists[0]!.path, vars, labels, issues);
    if (built) hosts.push({ host: built, path: lists[0]!.path });
    else invalidHosts.set(name, lists[0]!.path);
  }
  return { hosts, invalidHosts, issues };
}

/** Depth of each group below `all` (longest chain of parents); parents sort before their children. */
function depths(groups: Map<string, Group>): Map<string, number> {
  const out = new Map<string, number>();
  const visit = (name: string, stack: Set<string>): number => {
    const known = out.get(name);
    if (known !== undefined) return known;
    if (name === 'all' || stack.has(name)) return 0;
    stack.add(name);
    let d = 1;
    for (const p of groups.get(name)?.parents ?? []) d = Math.max(d, visit(p, stack) + 1);
    stack.delete(name);
    out.set(name, d);
    return d;
  };
  out.set('all', 0);
  for (const name of groups.keys()) visit(name, new Set());
  return out;
}

const numeric = (v: unknown): unknown => (typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v);

function buildHost(file: string, name: string, group: string, path: Segment[], vars: Map<string, Var>, labels: Map<string, Var>, issues: Issue[]): Host | undefined {
  const get = (...keys: string[]) => keys.map((k) => vars.get(k)).find((v) => v !== undefined);
  const origins = new Map<string, Segment[]>();
  const raw: Record<string, unknown> = { name };
  const address = get('ansible_host', 'ansible_ssh_host');
  raw.address = address ? String(address.value) : name;
  if (address) origins.set('address', address.path);

  const user = get('ansible_user', 'ansible_ssh_user');
  const port = get('ansible_port', 'ansible_ssh_port');
  if (user || port) {
    const ssh: Record<string, unknown> = {};
    if (user) {
      ssh.user = user.value;
      origins.set('ssh.user', user.path);
    }
    if (port) {
      ssh.port = numeric(port.value);
      origins.set('ssh.port', port.path);
    }
    raw.ssh = ssh;
  }

  const labelValues: Record<string, unknown> = {};
  for (const [k, v] of labels) {
    labelValues[k] = v.value;
    origins.set(`labels.${k}`, v.path);
  }
  const labelsVar = vars.get('hvroll_labels');
  if (labelsVar && !isPlainObject(labelsVar.value)) {
    issues.push(error(file, labelsVar.path, `hvroll_labels must be a mapping, not ${describeValue(labelsVar.value)}`, 'write `hvroll_labels: { rack: r1, az: az1 }`'));
    return undefined;
  }
  labelValues.ansible_group = group;
  raw.labels = labelValues;

  const capacity = vars.get('hvroll_capacity');
  const vcpus = vars.get('hvroll_vcpus');
  const memory = vars.get('hvroll_memory_mib');
  const cap: Record<string, unknown> = {};
  if (capacity) {
    if (!isPlainObject(capacity.value)) {
      issues.push(error(file, capacity.path, `hvroll_capacity must be a mapping, not ${describeValue(capacity.value)}`, 'write `hvroll_capacity: { vcpus: 64, memoryMiB: 262144 }`'));
      return undefined;
    }
    for (const k in capacity.value) {
      cap[k] = numeric(capacity.value[k]);
      origins.set(`capacity.${k}`, [...capacity.path, k]);
    }
    origins.set('capacity', capacity.path);
  }
  // hvroll_vcpus / hvroll_memory_mib and hvroll_capacity may come from different levels: the more specific wins.
  const moreSpecific = (v: Var) => !capacity || (v.seq ?? 0) > (capacity.seq ?? 0);
  if (vcpus && (cap.vcpus === undefined || moreSpecific(vcpus))) {
    cap.vcpus = numeric(vcpus.value);
    origins.set('capacity.vcpus', vcpus.path);
  }
  if (memory && (cap.memoryMiB === undefined || moreSpecific(memory))) {
    cap.memoryMiB = numeric(memory.value);
    origins.set('capacity.memoryMiB', memory.path);
  }
  if (cap.vcpus === undefined || cap.memoryMiB === undefined) {
    const missing = [cap.vcpus === undefined ? 'hvroll_vcpus' : '', cap.memoryMiB === undefined ? 'hvroll_memory_mib' : ''].filter(Boolean).join(' and ');
    issues.push(error(file, path, `host "${name}" has no capacity (${missing} not set for it or its groups)`, 'add hvroll_vcpus and hvroll_memory_mib to its host or group vars', { atKey: true }));
    return undefined;
  }
  raw.capacity = cap;

  const r = hostSchema.safeParse(raw);
  if (r.success) return r.data;
  for (const zi of r.error.issues) {
    for (const issue of describeZodIssue(file, ['hosts', 0], raw, zi)) {
      const rel = issue.path.slice(2).map(String);
      let target: Segment[] | undefined;
      for (let n = rel.length; n > 0 && !target; n--) target = origins.get(rel.slice(0, n).join('.'));
      const { message, fix } = target ? inAnsibleTerms(issue, rel[rel.length - 1], target[target.length - 1]) : issue;
      issues.push({ ...issue, path: target ?? path, atKey: target === undefined, message: `host "${name}": ${message}`, fix });
    }
  }
  return undefined;
}

/** The schema speaks of `port` or `vcpus`; the operator wrote `ansible_port` or `hvroll_vcpus`: say that. */
function inAnsibleTerms(issue: { message: string; fix: string }, key: string | undefined, variable: Segment | undefined): { message: string; fix: string } {
  if (key === undefined || typeof variable !== 'string' || variable === key) return issue;
  const esc = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return {
    message: issue.message.replace(new RegExp(`^${esc}\\b`), variable),
    fix: issue.fix.replace(new RegExp(`\`${esc}:`, 'g'), `\`${variable}:`).replace(new RegExp(`^set ${esc} to`), `set ${variable} to`),
  };
}
