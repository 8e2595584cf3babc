// Checks across entries and files, on the merged inventory: names unique, references resolve, every VM
// fits somewhere, rules refer to things that exist. Linear in the fleet (Maps, one pass each).

import type { Host, Match, Rules, Vm } from '../model/inventory.ts';
import { LabelIndex, matchingIndices } from '../model/match.ts';
import { error, warning } from './issue.ts';
import type { Issue, Location } from './issue.ts';
import { NAME_RULE, nameProblem } from './names.ts';
import type { RuleKey } from './schema.ts';
import { closest, listSome } from './suggest.ts';

export interface Merged {
  hosts: Host[];
  hostAt: (i: number) => Location;
  vms: Vm[];
  vmAt: (i: number) => Location;
  /** Hosts listed but rejected by the schema: checked for duplicates; VMs on them are not reported again. */
  invalidHosts: Map<string, Location>;
  rules: Rules;
  /** Where each rule key was defined; rules that failed the schema are left out of the checks. */
  ruleAt: Map<RuleKey, Location>;
  invalidRules: Set<RuleKey>;
  /** The file an inventory-wide problem is reported against. */
  mainFile: string;
}

const at = (loc: Location, ...more: (string | number)[]): Location => ({ file: loc.file, path: [...loc.path, ...more] });

export function checkSemantics(m: Merged): Issue[] {
  const issues: Issue[] = [];
  const hostIndex = checkHosts(m, issues);
  checkVms(m, hostIndex, issues);
  const usable = (k: RuleKey) => !m.invalidRules.has(k);
  if (usable('cpuOvercommit')) checkFits(m, hostIndex, issues);
  if (usable('grouping')) checkGrouping(m, hostIndex, issues);
  if (usable('sensitivity') || usable('antiAffinity')) checkMatches(m, hostIndex, issues);
  for (const key of ['migrationDomain', 'headroom'] as const) if (usable(key)) checkDomainLabel(m, key, issues);
  return issues;
}

function checkHosts(m: Merged, issues: Issue[]): Map<string, number> {
  const index = new Map<string, number>();
  if (m.hosts.length === 0 && m.invalidHosts.size === 0) {
    issues.push(error(m.mainFile, [], 'the inventory has no hosts', 'list the hypervisors under `hosts:` (name, address, capacity) or import them from an Ansible inventory'));
  }
  const sameButCase = caseTwins((name) => index.get(name), (j) => m.hosts[j]!.name);
  m.hosts.forEach((h, i) => {
    const first = index.get(h.name);
    if (first === undefined) index.set(h.name, i);
    else {
      issues.push(error(m.hostAt(i).file, [...m.hostAt(i).path], `host "${h.name}" is defined twice (also at {0})`, 'host names must be unique across all inventory files: remove or rename one of the two', { related: [m.hostAt(first)], atKey: m.hostAt(i).path.length > 2 }));
      return;
    }
    const twin = sameButCase(h.name, i);
    if (twin !== undefined) {
      issues.push(error(m.hostAt(i).file, [...m.hostAt(i).path], `host "${h.name}" differs from host "${m.hosts[twin]!.name}" (at {0}) only in letter case: host names are not case-sensitive, so both name one machine`, 'remove or rename one of the two', { related: [m.hostAt(twin)], atKey: m.hostAt(i).path.length > 2 }));
    }
  });
  for (const [name, loc] of m.invalidHosts) {
    const first = index.get(name);
    if (first === undefined) continue;
    const [a, b] = m.hostAt(first).file === loc.file && compare(m.hostAt(first), loc) > 0 ? [m.hostAt(first), loc] : [loc, m.hostAt(first)];
    issues.push(error(a.file, a.path, `host "${name}" is defined twice (also at {0})`, 'host names must be unique across all inventory files: remove or rename one of the two', { related: [b], atKey: a.path.length > 2 }));
  }
  return index;
}

/**
 * Finds names that differ only in letter case (`web-1`, `Web-1`): the inventory allows only plain ASCII, so
 * that is the one way two of its names can look alike. Returns the index of a name's earlier case twin.
 * `earlier` gives the index of an earlier entry with exactly that name (the caller's own index of names); only
 * names holding an upper-case letter are remembered here, so an all-lower-case fleet costs one lookup a name.
 */
function caseTwins(earlier: (name: string) => number | undefined, nameAt: (j: number) => string): (name: string, i: number) => number | undefined {
  const mixed = new Map<string, number>();
  return (name, i) => {
    const folded = name.toLowerCase();
    if (folded === name) return mixed.get(folded);
    let twin = earlier(folded) ?? mixed.get(folded);
    if (twin !== undefined && nameAt(twin) === name) twin = undefined;
    if (!mixed.has(folded)) mixed.set(folded, i);
    return twin;
  };
}

/** Order of two locations in the same file, by their last index (list entries). */
function compare(a: Location, b: Location): number {
  return Number(a.path[a.path.length - 1]) - Number(b.path[b.path.length - 1]);
}

function checkVms(m: Merged, hostIndex: Map<string, number>, issues: Issue[]): void {
  // One hash operation per VM (a Set that did not grow means a duplicate); the map of first places is
  // built only when there is a duplicate.
  const seen = new Set<string>();
  let firstOf: Map<string, number> | undefined;
  const guesses = new Map<string, string>();
  // Distinct names (a duplicated host is listed once), and the real count in "… (N in all)"; built once.
  let hostList: string | undefined;
  const hostNames = () => (hostList ??= listSome([...hostIndex.keys()]));
  // Names seen so far are in `seen`; where one stands is looked up only for a twin (rare).
  const sameButCase = caseTwins((name) => (seen.has(name) ? m.vms.findIndex((v) => v.name === name) : undefined), (j) => m.vms[j]!.name);
  m.vms.forEach((vm, i) => {
    const size = seen.size;
    const twin = sameButCase(vm.name, i);
    if (twin !== undefined) {
      issues.push(error(m.vmAt(i).file, at(m.vmAt(i), 'name').path, `VM "${vm.name}" differs from VM "${m.vms[twin]!.name}" (at {0}) only in letter case`, 'rename one of the two (in the inventory and on its host): names that differ only in case are mixed up in logs, approvals and commands', { related: [m.vmAt(twin)] }));
    }
    if (seen.add(vm.name).size === size) {
      if (!firstOf) {
        firstOf = new Map();
        m.vms.forEach((other, j) => firstOf!.has(other.name) || firstOf!.set(other.name, j));
      }
      const first = firstOf.get(vm.name)!;
      issues.push(error(m.vmAt(i).file, at(m.vmAt(i), 'name').path, `VM "${vm.name}" is defined twice (also at {0})`, 'VM names must be unique across all inventory files: remove or rename one of the two', { related: [m.vmAt(first)] }));
    }
    if (!hostIndex.has(vm.host) && !m.invalidHosts.has(vm.host)) {
      let guess = guesses.get(vm.host);
      if (guess === undefined) guesses.set(vm.host, (guess = closest(vm.host, hostIndex.keys()) ?? ''));
      const some = m.hosts.length > 0 ? `use one of the names under hosts: (${hostNames()})` : 'add hosts to the inventory';
      issues.push(error(m.vmAt(i).file, at(m.vmAt(i), 'host').path, `unknown host "${vm.host}"`, `${guess ? `did you mean "${guess}"? Otherwise ` : ''}${some} or add the host`));
    }
  });
}

/** Every VM must fit on some host (cheap dominance check: hosts sorted by memory, running max of vCPUs). */
function checkFits(m: Merged, hostIndex: Map<string, number>, issues: Issue[]): void {
  const { hosts, vms } = m;
  const oc = m.rules.cpuOvercommit;
  if (hosts.length === 0) return;
  const byMem = hosts.map((h) => h.capacity).sort((a, b) => b.memoryMiB - a.memoryMiB);
  const maxCpu = new Float64Array(byMem.length);
  byMem.forEach((c, k) => (maxCpu[k] = Math.max(c.vcpus * oc, k > 0 ? maxCpu[k - 1]! : 0)));
  const used = new Float64Array(hosts.length * 2);
  vms.forEach((vm, i) => {
    const h = hostIndex.get(vm.host);
    if (h !== undefined) {
      used[2 * h] = used[2 * h]! + vm.vcpus;
      used[2 * h + 1] = used[2 * h + 1]! + vm.memoryMiB;
    }
    // Hosts with memory ≥ the VM's: a prefix of byMem.
    let lo = 0;
    let hi = byMem.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (byMem[mid]!.memoryMiB >= vm.memoryMiB) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0 && maxCpu[lo - 1]! >= vm.vcpus) return;
    const biggestMem = byMem[0]!.memoryMiB;
    const why =
      lo === 0
        ? `needs ${vm.memoryMiB} MiB but the largest host has ${biggestMem} MiB`
        : `needs ${vm.vcpus} vCPUs but no host with ≥ ${vm.memoryMiB} MiB has more than ${maxCpu[lo - 1]!} vCPUs (capacity × cpuOvercommit ${oc})`;
    const fix = lo === 0 ? 'reduce its memoryMiB or add a host with enough memory' : 'reduce its vcpus, add a larger host, or raise rules.cpuOvercommit';
    issues.push(error(m.vmAt(i).file, m.vmAt(i).path, `VM "${vm.name}" is larger than every host: it ${why}`, fix));
  });
  hosts.forEach((host, h) => {
    const cpu = used[2 * h]!;
    const mem = used[2 * h + 1]!;
    if (cpu <= host.capacity.vcpus * oc && mem <= host.capacity.memoryMiB) return;
    issues.push(
      warning(m.hostAt(h).file, m.hostAt(h).path, `host "${host.name}" already runs more than its capacity: its VMs use ${cpu} vCPUs / ${mem} MiB, capacity is ${host.capacity.vcpus * oc} vCPUs (× cpuOvercommit ${oc}) / ${host.capacity.memoryMiB} MiB`, "check the host's capacity and the VMs' host fields; the planner will not move more VMs onto it", { atKey: m.hostAt(h).path.length > 2 }),
    );
  });
}

function checkGrouping(m: Merged, hostIndex: Map<string, number>, issues: Issue[]): void {
  const g = m.rules.grouping;
  const where = m.ruleAt.get('grouping');
  if (!where) return;
  if (g.kind === 'by-label') {
    const lacking = m.hosts.map((h, i) => (h.labels[g.by] === undefined ? i : -1)).filter((i) => i >= 0);
    if (m.hosts.length > 0 && lacking.length === m.hosts.length) {
      const known = new Set(m.hosts.flatMap((h) => Object.keys(h.labels)));
      const guess = closest(g.by, known);
      issues.push(error(where.file, [...where.path, 'by'], `no host has the label "${g.by}" that grouping.by names`, `${guess ? `did you mean "${guess}"? ` : ''}use a label the hosts have (${listSome([...known].sort()) || 'none yet'}) or add \`${g.by}: <value>\` to every host's labels`));
      return;
    }
    for (const i of lacking) {
      const host = m.hosts[i]!;
      issues.push(error(m.hostAt(i).file, m.hostAt(i).path, `host "${host.name}" lacks the label "${g.by}" that grouping.by groups hosts by`, labelFix(m.hostAt(i).path, g.by), { atKey: m.hostAt(i).path.length > 2 }));
    }
    m.hosts.forEach((host, i) => {
      const value = host.labels[g.by];
      const why = value === undefined ? null : nameProblem(value);
      if (why) issues.push(error(m.hostAt(i).file, m.hostAt(i).path, `label ${g.by}=${JSON.stringify(value)} of host "${host.name}" names its group, and the value ${why}`, `change the value: ${NAME_RULE}`, { atKey: m.hostAt(i).path.length > 2 }));
    });
    checkPolicyGroups(m, new Set(m.hosts.map((h) => h.labels[g.by]).filter((v): v is string => v !== undefined)), 'a value of the grouping label', false, issues);
    return;
  }
  if (g.kind === 'per-host') {
    checkPolicyGroups(m, new Set(hostIndex.keys()), 'a host name (each host is its own group)', false, issues);
    return;
  }
  const names = new Map<string, number>();
  const owner = new Map<string, number>();
  g.groups.forEach((group, gi) => {
    const first = names.get(group.name);
    if (first === undefined) names.set(group.name, gi);
    else issues.push(error(where.file, [...where.path, 'groups', gi, 'name'], `group "${group.name}" is listed twice (also at {0})`, 'give each group its own name, or merge the two lists of hosts', { related: [{ file: where.file, path: [...where.path, 'groups', first, 'name'] }] }));
    group.hosts.forEach((name, j) => {
      const path = [...where.path, 'groups', gi, 'hosts', j];
      if (!hostIndex.has(name)) {
        if (m.invalidHosts.has(name)) return;
        const guess = closest(name, hostIndex.keys());
        issues.push(error(where.file, path, `group "${group.name}" names unknown host "${name}"`, `${guess ? `did you mean "${guess}"? Otherwise ` : ''}use a name under hosts: or remove it from the group`));
        return;
      }
      const prev = owner.get(name);
      if (prev === undefined) owner.set(name, gi);
      else issues.push(error(where.file, path, `host "${name}" is in two groups: "${g.groups[prev]!.name}" and "${group.name}"`, `keep it in one group: remove it from "${group.name}" or "${g.groups[prev]!.name}"`));
    });
  });
  const alone = m.hosts.filter((h) => !owner.has(h.name)).map((h) => h.name);
  if (alone.length > 0) {
    issues.push(warning(where.file, [...where.path, 'groups'], `${alone.length} host${alone.length === 1 ? ' is' : 's are'} in no group: ${listSome(alone, 8)}`, 'each will be upgraded as a group of its own; add them to a group if that is not what you want'));
  }
  checkPolicyGroups(m, new Set([...names.keys(), ...alone]), 'a group name under grouping.groups', true, issues);
}

/** nonMigratable.groups keys must name a group; exact only for explicit groups, a warning otherwise. */
function checkPolicyGroups(m: Merged, known: Set<string>, what: string, strict: boolean, issues: Issue[]): void {
  const where = m.ruleAt.get('nonMigratable');
  if (!where || m.invalidRules.has('nonMigratable')) return;
  for (const name of Object.keys(m.rules.nonMigratable.groups)) {
    const base = name.replace(/\/\d+$/, ''); // by-label chunks are named `<value>/<n>`
    if (known.has(name) || known.has(base)) continue;
    const guess = closest(name, known);
    const fix = `${guess ? `did you mean "${guess}"? ` : ''}use ${what}${known.size > 0 ? ` (${listSome([...known].sort())})` : ''}`;
    const path = [...where.path, 'groups', name];
    if (strict) issues.push(error(where.file, path, `nonMigratable.groups names unknown group "${name}"`, fix, { atKey: true }));
    else issues.push(warning(where.file, path, `nonMigratable.groups names "${name}", which matches no group, so it will not apply`, fix, { atKey: true }));
  }
}


function checkMatches(m: Merged, hostIndex: Map<string, number>, issues: Issue[]): void {
  const { sensitivity, antiAffinity } = m.rules;
  const vmLabels = new Set<string>();
  if (sensitivity.length + antiAffinity.length > 0) for (const vm of m.vms) for (const k in vm.labels) vmLabels.add(k);
  const unusedLabels = (where: Location, match: Match) => {
    for (const key in match) {
      if (vmLabels.has(key)) continue;
      const guess = closest(key, vmLabels);
      issues.push(warning(where.file, [...where.path, 'match', key], `no VM has the label "${key}", so this never matches`, `${guess ? `did you mean "${guess}"? ` : ''}check the label name against the VMs' labels`, { atKey: true }));
    }
  };

  const sWhere = m.ruleAt.get('sensitivity');
  if (sWhere && !m.invalidRules.has('sensitivity')) {
    const seen = new Map<string, number>();
    sensitivity.forEach((c, i) => {
      const loc = at(sWhere, i);
      const first = seen.get(c.class);
      if (c.class === 'default') issues.push(error(loc.file, [...loc.path, 'class'], 'class name "default" is reserved for VMs that match no class', 'give the class another name'));
      else if (first !== undefined) issues.push(error(loc.file, [...loc.path, 'class'], `class "${c.class}" is defined twice (also at {0})`, 'give each class its own name, or merge their match rules', { related: [at(sWhere, first, 'class')] }));
      else seen.set(c.class, i);
      unusedLabels(loc, c.match);
    });
  }

  const aWhere = m.ruleAt.get('antiAffinity');
  if (!aWhere || m.invalidRules.has('antiAffinity')) return;
  const seen = new Map<string, number>();
  const labelIndex = new LabelIndex(m.vms);
  antiAffinity.forEach((rule, r) => {
    const loc = at(aWhere, r);
    const first = seen.get(rule.name);
    if (first !== undefined) issues.push(error(loc.file, [...loc.path, 'name'], `anti-affinity rule "${rule.name}" is defined twice (also at {0})`, 'give each rule its own name', { related: [at(aWhere, first, 'name')] }));
    else seen.set(rule.name, r);
    unusedLabels(loc, rule.match);
    const onHost = new Map<number, string[]>();
    // Through the label index: thousands of small rules (one per database cluster) stay linear in the fleet.
    for (const v of matchingIndices(m.vms, rule.match, labelIndex)) {
      const vm = m.vms[v]!;
      const h = hostIndex.get(vm.host);
      if (h === undefined) continue;
      const list = onHost.get(h);
      if (list) list.push(vm.name);
      else onHost.set(h, [vm.name]);
    }
    const crowded = [...onHost].filter(([, names]) => names.length > 1).map(([h, names]) => `${m.hosts[h]!.name} runs ${listSome(names, 3)}`);
    if (crowded.length > 0) {
      issues.push(warning(loc.file, loc.path, `anti-affinity rule "${rule.name}" is already violated: ${listSome(crowded, 3)}`, 'the plan will not make it worse; move those VMs apart, or check the rule\'s match if this is unexpected'));
    }
  });
}

function checkDomainLabel(m: Merged, key: 'migrationDomain' | 'headroom', issues: Issue[]): void {
  const where = m.ruleAt.get(key);
  const label = key === 'headroom' ? m.rules.headroom.domain : m.rules.migrationDomain;
  if (!where || label === undefined || m.hosts.length === 0) return;
  const path = key === 'headroom' ? [...where.path, 'domain'] : where.path;
  const lacking = m.hosts.filter((h) => h.labels[label] === undefined).map((h) => h.name);
  const name = key === 'headroom' ? 'headroom.domain' : 'migrationDomain';
  if (lacking.length === m.hosts.length) {
    const guess = closest(label, new Set(m.hosts.flatMap((h) => Object.keys(h.labels))));
    issues.push(error(where.file, path, `no host has the label "${label}" that ${name} names`, `${guess ? `did you mean "${guess}"? ` : ''}use a label every host has, or add \`${label}: <value>\` to the hosts' labels`));
  } else if (lacking.length > 0) {
    issues.push(warning(where.file, path, `${lacking.length} host${lacking.length === 1 ? ' lacks' : 's lack'} the label "${label}" that ${name} names: ${listSome(lacking, 8)}`, `add \`${label}: <value>\` to their labels; until then they form one domain "(none)"`));
  }
}

/** Hosts imported from Ansible are listed under a group, not `hosts:`; their labels come from `hvroll_labels`. */
function labelFix(path: readonly (string | number)[], label: string): string {
  if (path[0] === 'hosts') return `add \`${label}: <value>\` under its labels`;
  return `add \`hvroll_labels: { ${label}: <value> }\` to its host vars, or to a group it is in`;
}
