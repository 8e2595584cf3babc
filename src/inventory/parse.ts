// Pure entry point: texts in, a validated inventory (or every problem found) out. No fs here; load.ts reads.

import type { InputIssue } from '../model/errors.ts';
import { DEFAULT_RULES } from '../model/inventory.ts';
import type { Host, Inventory, Rules, Vm } from '../model/inventory.ts';
import { err, ok } from '../model/result.ts';
import type { Result } from '../model/result.ts';
import { INI_FIX, importAnsible, looksLikeIni } from './ansible.ts';
import { validateDocument } from './document.ts';
import type { FileDoc } from './document.ts';
import { error, toInputIssue } from './issue.ts';
import type { Issue, Location, Position, Segment } from './issue.ts';
import type { RuleKey, RuleValues } from './schema.ts';
import { checkSemantics } from './semantic.ts';
import { parseSource } from './source.ts';
import type { Source } from './source.ts';

export interface LoadedInventory {
  inventory: Inventory;
  warnings: InputIssue[];
}

export interface SourceText {
  file: string;
  text: string;
}

export function parseInventory(docs: SourceText[], ansible?: SourceText): Result<LoadedInventory, InputIssue[]> {
  const issues: Issue[] = [];
  const sources = new Map<string, Source>();
  const files: string[] = [];
  let allParsed = true;

  const hosts: Host[] = [];
  const hostAt: Location[] = [];
  const invalidHosts = new Map<string, Location>();

  if (ansible) {
    files.push(ansible.file);
    if (looksLikeIni(ansible.file, ansible.text)) {
      issues.push(error(ansible.file, [], 'this Ansible inventory is in INI format; hvroll reads the YAML format', INI_FIX));
      allParsed = false;
    } else {
      const parsed = parseSource(ansible.file, ansible.text);
      if (!parsed.ok) {
        issues.push(...parsed.issues);
        allParsed = false;
      } else {
        sources.set(ansible.file, parsed.source);
        const imported = importAnsible(ansible.file, parsed.source.value);
        issues.push(...imported.issues);
        imported.invalidHosts.forEach((path, n) => invalidHosts.set(n, { file: ansible.file, path }));
        for (const h of imported.hosts) {
          hosts.push(h.host);
          hostAt.push({ file: ansible.file, path: h.path });
        }
      }
    }
  }

  const fileDocs: FileDoc[] = [];
  for (const doc of docs) {
    files.push(doc.file);
    const parsed = parseSource(doc.file, doc.text);
    if (!parsed.ok) {
      issues.push(...parsed.issues);
      allParsed = false;
      continue;
    }
    sources.set(doc.file, parsed.source);
    const fd = validateDocument(doc.file, parsed.source.value);
    fileDocs.push(fd);
    issues.push(...fd.issues);
  }

  // Merge: lists concatenate in file order; each rule key comes from one file.
  // VMs: concatenated; vmStart[f] is where file f's VMs begin (origins found by binary search, no per-VM array).
  const vms: Vm[] = fileDocs.length === 1 ? fileDocs[0]!.vms : ([] as Vm[]).concat(...fileDocs.map((fd) => fd.vms));
  const vmStart: number[] = [];
  let count = 0;
  const ruleAt = new Map<RuleKey, Location>();
  const invalidRules = new Set<RuleKey>();
  const values: Partial<RuleValues> = {};
  fileDocs.forEach((fd) => {
    fd.hosts.forEach((h, i) => {
      hosts.push(h);
      hostAt.push({ file: fd.file, path: ['hosts', fd.hostIndex[i]!] });
    });
    fd.invalidHosts.forEach((i, n) => invalidHosts.set(n, { file: fd.file, path: ['hosts', i] }));
    vmStart.push(count);
    count += fd.vms.length;
    for (const [key, value] of fd.rules) {
      const here: Location = { file: fd.file, path: ['rules', key] };
      const first = ruleAt.get(key);
      if (first) {
        issues.push(error(fd.file, here.path, `rules.${key} is defined in two files (also at {0})`, `keep one definition of rules.${key}: remove it from ${fd.file} or ${first.file}`, { atKey: true, related: [first] }));
        continue;
      }
      ruleAt.set(key, here);
      if (value === null) invalidRules.add(key);
      else (values as Record<string, unknown>)[key] = value;
    }
  });

  const rules = buildRules(values);
  if (allParsed) {
    const mainFile = docs[0]?.file ?? ansible?.file ?? '(no input)';
    const vmAt = (i: number): Location => {
      let f = 0;
      while (f + 1 < vmStart.length && vmStart[f + 1]! <= i) f++;
      const fd = fileDocs[f]!;
      return { file: fd.file, path: ['vms', fd.vmIndex[i - vmStart[f]!]!] };
    };
    issues.push(...checkSemantics({ hosts, hostAt: (i) => hostAt[i]!, vms, vmAt, invalidHosts, rules, ruleAt, invalidRules, mainFile }));
  }

  const errors = issues.filter((i) => i.severity === 'error');
  const warnings = issues.filter((i) => i.severity === 'warning');
  const reported = errors.length > 0 ? errors : warnings;
  const out = finish(reported, sources, files);
  if (errors.length > 0) return err(out);
  return ok({ inventory: { hosts, vms, rules, sources: files }, warnings: out });
}

function buildRules(v: Partial<RuleValues>): Rules {
  const d = structuredClone(DEFAULT_RULES);
  const rules: Rules = {
    grouping: v.grouping ?? d.grouping,
    sensitivity: v.sensitivity ?? d.sensitivity,
    antiAffinity: (v.antiAffinity ?? d.antiAffinity).map((r, i) => ({ name: r.name ?? `antiAffinity[${i}]`, match: r.match })),
    headroom: v.headroom ?? d.headroom,
    concurrency: v.concurrency ?? d.concurrency,
    failureBudget: v.failureBudget ?? d.failureBudget,
    cpuOvercommit: v.cpuOvercommit ?? d.cpuOvercommit,
    nonMigratable: v.nonMigratable ?? d.nonMigratable,
    estimates: { ...d.estimates, ...stripUndefined(v.estimates ?? {}) },
    twoPersonRule: v.twoPersonRule ?? d.twoPersonRule,
  };
  if (v.migrationDomain !== undefined) rules.migrationDomain = v.migrationDomain;
  if (v.notifications !== undefined) rules.notifications = v.notifications;
  return rules;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as Partial<T>;
}

/** Positions (one lookup pass per file), then public issues sorted by file order and line. */
function finish(issues: Issue[], sources: Map<string, Source>, files: string[]): InputIssue[] {
  if (issues.length === 0) return [];
  const wanted = new Map<string, Segment[][]>();
  for (const issue of issues) {
    for (const loc of [issue, ...(issue.related ?? [])]) {
      let list = wanted.get(loc.file);
      if (!list) wanted.set(loc.file, (list = []));
      list.push(loc.path);
    }
  }
  const lookups = new Map<string, (path: readonly Segment[], atKey?: boolean) => Position | undefined>();
  for (const [file, paths] of wanted) {
    const source = sources.get(file);
    if (source) lookups.set(file, source.positions(paths));
  }
  const order = new Map(files.map((f, i) => [f, i]));
  return issues
    .map((issue) => toInputIssue(issue, (loc, atKey) => lookups.get(loc.file)?.(loc.path, atKey)))
    .map((issue, n) => ({ issue, n }))
    .sort((a, b) => (order.get(a.issue.file) ?? 0) - (order.get(b.issue.file) ?? 0) || (a.issue.line ?? 0) - (b.issue.line ?? 0) || (a.issue.column ?? 0) - (b.issue.column ?? 0) || a.n - b.n)
    .map(({ issue }) => issue);
}
