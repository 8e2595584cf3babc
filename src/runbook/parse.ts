// Runbook text -> Runbook, or every problem with its file, path, line and fix. Pure: no file access.

import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import type { InputIssue } from '../model/errors.ts';
import { describeValue, isPlainObject } from '../inventory/schema.ts';
import { err, ok, type Result } from '../model/result.ts';
import { applyBecome } from './become.ts';
import type { Check, Command, RunOn, Runbook, Step, StepName } from './model.ts';
import { runbookSchema, type RunbookFile } from './schema.ts';
import { FILTERS, filtersUsed, placeholders, splitTemplate } from './template.ts';

/** Placeholders every runbook may use; `{vm}` only in the per-VM steps, `{source*}` and `{target*}` only in migrate. */
const BUILTIN = ['host', 'host.address', 'campaign', 'group', 'operator'];
const MIGRATE_ONLY = ['vm', 'source', 'source.address', 'target', 'target.address'];
const PER_VM: Partial<Record<StepName, string[]>> = { migrate: MIGRATE_ONLY, shutdown: ['vm'], start: ['vm'] };

function pathText(path: readonly PropertyKey[]): string {
  return path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${String(p)}` : String(p)), '');
}

function position(doc: Document, counter: LineCounter, path: readonly PropertyKey[]): { line?: number; column?: number } {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as unknown[], true) as { range?: [number, number, number] } | undefined;
    if (node && (isMap(node) || isSeq(node) || node.range)) {
      const offset = node.range?.[0];
      if (offset === undefined) continue;
      const { line, col } = counter.linePos(offset);
      return { line, column: col };
    }
  }
  return {};
}

/** Where a required key is missing, what to add (the rest is in runbooks/README.md). */
const MISSING_FIX: Record<string, string> = {
  platform: 'add `platform: libvirt` (or openstack, proxmox): the platform the commands are written for',
  discover: 'add `discover: { run: [virsh, list, --all, --name] }`: the command that lists the VMs running on a host',
  steps: 'add `steps:` with disable, migrate, upgrade, reboot, verify and enable (copy runbooks/libvirt.yaml as a start)',
  run: 'add `run: [command, arg, ...]` (a list of arguments) or `run: "command {placeholder}"`',
};

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur = root;
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

/** zod's words ("Invalid input: expected string, received undefined") turned into what to write where. */
function describeIssue(issue: z.core.$ZodIssue, root: unknown): { message: string; fix: string } {
  const key = issue.path.length > 0 ? String(issue.path[issue.path.length - 1]) : 'the runbook';
  const missing = issue.path.length > 0 && valueAt(root, issue.path) === undefined;
  if (missing && issue.path.length === 2 && issue.path[0] === 'steps') {
    return { message: `step ${key} is missing`, fix: `add steps.${key} with its check, run and confirm commands (see runbooks/libvirt.yaml)` };
  }
  if (missing && (issue.code === 'invalid_type' || issue.code === 'invalid_union')) return { message: `${key} is missing`, fix: MISSING_FIX[key] ?? `add ${key}` };
  const kind = (t: string) => (t === 'object' ? 'mapping' : t === 'array' ? 'list' : t);
  switch (issue.code) {
    case 'unrecognized_keys':
      return { message: `unknown key${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map((k) => `"${k}"`).join(', ')}`, fix: `remove or rename ${issue.keys.join(', ')}; see runbooks/README.md for the keys a runbook takes` };
    case 'invalid_type':
      return { message: `${key} must be a ${kind(issue.expected)}, not ${describeValue(valueAt(root, issue.path))}`, fix: `give ${key} a ${kind(issue.expected)} value` };
    case 'invalid_union':
      return { message: issue.message, fix: 'write a command as a list of arguments, e.g. [virsh, domstate, "{vm}"], or as one line, e.g. "virsh domstate {vm}"' };
    case 'invalid_value':
      return { message: issue.message, fix: `use one of: ${issue.values.map(String).join(', ')}` };
    default:
      return { message: issue.message, fix: 'see runbooks/README.md for the runbook format' };
  }
}

const INVENTORY_KEYS = ['hosts', 'vms', 'rules'];

function command(c: RunbookFile['steps']['migrate']['run'][number], fallback: RunOn): Command {
  if (typeof c === 'string') return { argv: splitTemplate(c), on: fallback };
  if (Array.isArray(c)) return { argv: c, on: fallback };
  return { argv: c.argv ?? splitTemplate(c.command!), on: c.on ?? fallback };
}

function check(c: RunbookFile['steps']['migrate']['check'][number], fallback: RunOn, i: number): Check {
  const argv = typeof c.run === 'string' ? splitTemplate(c.run) : c.run;
  return { name: c.name ?? argv.join(' ').slice(0, 60) ?? `check ${i}`, command: { argv, on: c.on ?? fallback }, expect: c.expect };
}

export function parseRunbook(file: string, text: string): Result<Runbook, InputIssue[]> {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false });
  if (doc.errors.length > 0) {
    return err(
      doc.errors.map((e) => {
        const { line, col } = counter.linePos(e.pos[0]);
        return { file, path: '', line, column: col, message: `YAML syntax: ${e.message.split('\n')[0]}`, fix: 'fix the YAML syntax at this line' };
      }),
    );
  }
  const value: unknown = doc.toJS();
  if (!isPlainObject(value)) {
    return err([{ file, path: '', line: 1, column: 1, message: `a runbook is a mapping with platform:, discover: and steps:, not ${describeValue(value)}`, fix: 'start from runbooks/libvirt.yaml, runbooks/openstack.yaml or runbooks/proxmox.yaml' }]);
  }
  if (!('steps' in value) && INVENTORY_KEYS.some((k) => k in value)) {
    return err([{ file, path: '', line: 1, column: 1, message: 'this is an inventory (hosts:, vms:, rules:), not a runbook', fix: 'give the inventory as the plan argument and a runbook with --runbook, e.g. `hvroll plan inventory.yaml --runbook runbooks/libvirt.yaml`' }]);
  }
  const parsed = runbookSchema.safeParse(value);
  if (!parsed.success) {
    return err(parsed.error.issues.map((issue) => ({ file, path: pathText(issue.path), ...position(doc, counter, issue.path), ...describeIssue(issue, value) })));
  }
  const raw = parsed.data;
  const issues: InputIssue[] = [];
  const steps: Partial<Record<StepName, Step>> = {};
  for (const [name, s] of Object.entries(raw.steps) as [StepName, RunbookFile['steps']['migrate'] | undefined][]) {
    if (!s) continue;
    const fallback: RunOn = name === 'migrate' ? 'source' : 'host';
    steps[name] = {
      name,
      require: s.require.map((c, i) => check(c, name === 'migrate' ? 'target' : 'host', i)),
      check: s.check.map((c, i) => check(c, name === 'migrate' ? 'target' : 'host', i)),
      run: s.run.map((c) => command(c, fallback)),
      confirm: s.confirm.map((c, i) => check(c, name === 'migrate' ? 'target' : 'host', i)),
      timeoutSeconds: s.timeoutSeconds ?? raw.defaults.timeoutSeconds,
      retries: s.retries ?? raw.defaults.retries,
      retryDelaySeconds: s.retryDelaySeconds ?? raw.defaults.retryDelaySeconds,
      ...(s.progress
        ? {
            progress: {
              command: { argv: typeof s.progress.run === 'string' ? splitTemplate(s.progress.run) : s.progress.run, on: s.progress.on ?? fallback },
              remainingKey: s.progress.remainingKey,
              everySeconds: s.progress.everySeconds,
              stallSeconds: s.progress.stallSeconds,
              abort: { argv: typeof s.progress.abort === 'string' ? splitTemplate(s.progress.abort) : s.progress.abort, on: s.progress.on ?? fallback },
            },
          }
        : {}),
      leftover: s.leftover.map((l) => ({ name: l.name, when: l.when.map((c, i) => check(c, fallback, i)), run: l.run.map((c) => command(c, fallback)) })),
    };
    if (s.leftover.length > 0 && name !== 'migrate') {
      issues.push({
        file,
        path: pathText(['steps', name, 'leftover']),
        ...position(doc, counter, ['steps', name, 'leftover']),
        message: `leftover is only understood in steps.migrate, not in steps.${name}`,
        fix: 'move it under steps.migrate, or remove it: a per-host step is simply run again by its check',
      });
    }
    if (s.leftover.length > 0 && s.confirm.length === 0 && s.check.length === 0) {
      issues.push({
        file,
        path: pathText(['steps', name, 'leftover']),
        ...position(doc, counter, ['steps', name, 'leftover']),
        message: `steps.${name} has a leftover section but neither confirm nor check: nothing would tell that removing the remnant finished the step`,
        fix: 'add a confirm (e.g. "running on target" and "gone from source") to the step',
      });
    }
    if (s.progress && s.progress.stallSeconds < 2 * s.progress.everySeconds) {
      issues.push({
        file,
        path: pathText(['steps', name, 'progress']),
        ...position(doc, counter, ['steps', name, 'progress']),
        message: `progress.stallSeconds (${s.progress.stallSeconds}) is shorter than two polls (everySeconds ${s.progress.everySeconds})`,
        fix: 'make stallSeconds at least twice everySeconds: a stall is only seen between two polls',
      });
    }
    const known = new Set([...BUILTIN, ...Object.keys(raw.vars), ...raw.required, ...(PER_VM[name] ?? [])]);
    const checks = [...steps[name].require, ...steps[name].check, ...steps[name].confirm, ...steps[name].leftover.flatMap((l) => l.when)];
    const watched = steps[name].progress ? [steps[name].progress.command.argv, steps[name].progress.abort.argv] : [];
    const runs = [...steps[name].run, ...steps[name].leftover.flatMap((l) => l.run)];
    const all = [...watched, ...checks.map((c) => c.command.argv), ...runs.map((c) => c.argv), ...checks.map((c) => Object.values(c.expect).filter((v): v is string => typeof v === 'string'))];
    for (const p of new Set(all.flatMap((argv) => placeholders(argv)))) {
      if (!known.has(p)) {
        const at = ['steps', name];
        issues.push({
          file,
          path: pathText(at),
          ...position(doc, counter, at),
          message: `unknown placeholder {${p}}`,
          fix: `declare it under vars (with a default) or required, or use one of: ${[...known].map((k) => `{${k}}`).join(', ')}`,
        });
      }
    }
    for (const f of new Set(all.flatMap((argv) => filtersUsed(argv)))) {
      if (!(f in FILTERS)) issues.push(unknownFilter(file, ['steps', name], f, doc, counter));
    }
    if (['disable', 'migrate', 'shutdown', 'upgrade', 'enable', 'start'].includes(name) && s.run.length > 0 && s.check.length === 0) {
      issues.push({
        file,
        path: pathText(['steps', name]),
        ...position(doc, counter, ['steps', name]),
        message: `step ${name} changes hosts but has no check`,
        fix: 'add a check that tells whether the step is already done: resume runs it again after a crash, and must not repeat the change',
      });
    }
  }
  issues.push(...derivedVarIssues(file, raw, doc, counter));
  for (const r of raw.required) {
    if (!(r in raw.vars)) continue;
    if (raw.vars[r] !== '') {
      issues.push({ file, path: `vars.${r}`, ...position(doc, counter, ['vars', r]), message: `${r} is required but has a default`, fix: `remove the default of ${r}, or remove it from required` });
    }
  }
  if (issues.length > 0) return err(issues);
  const toArgv = (c: string | string[]) => (typeof c === 'string' ? splitTemplate(c) : c);
  return ok(applyBecome({
    platform: raw.platform,
    description: raw.description,
    file,
    ...(raw.become ? { become: raw.become } : {}),
    vars: raw.vars,
    required: raw.required,
    durations: raw.durations,
    discover: {
      command: { argv: toArgv(raw.discover.run), on: raw.discover.on },
      format: raw.discover.format,
      field: raw.discover.field,
      inspect: raw.discover.inspect && {
        command: { argv: toArgv(raw.discover.inspect.run), on: raw.discover.on },
        memoryKey: raw.discover.inspect.memoryKey,
        memoryUnit: raw.discover.inspect.memoryUnit,
        vcpusKey: raw.discover.inspect.vcpusKey,
      },
      timeoutSeconds: raw.discover.timeoutSeconds ?? raw.defaults.timeoutSeconds,
    },
    bootId: { argv: toArgv(raw.bootId), on: 'host' },
    steps,
    text,
  }));
}

function unknownFilter(file: string, at: PropertyKey[], filter: string, doc: Document, counter: LineCounter): InputIssue {
  return {
    file,
    path: pathText(at),
    ...position(doc, counter, at),
    message: `unknown filter |${filter}`,
    fix: `use one of: ${Object.keys(FILTERS).map((k) => `|${k}`).join(', ')} (e.g. "{version|upstream}"), or remove it`,
  };
}

/**
 * A variable's default may name other variables (`daemonVersion: "{version|upstream}"`): only variables
 * (host, campaign … differ per host and step), never itself, and only variables whose own default is plain —
 * one level, so the value an operator reads in the runbook is one step from what was `--set`.
 */
function derivedVarIssues(file: string, raw: RunbookFile, doc: Document, counter: LineCounter): InputIssue[] {
  const issues: InputIssue[] = [];
  const isVar = (n: string) => n in raw.vars || raw.required.includes(n);
  for (const [name, value] of Object.entries(raw.vars)) {
    const at = ['vars', name];
    const where = { file, path: pathText(at), ...position(doc, counter, at) };
    for (const p of placeholders([value])) {
      if (p === name || !isVar(p)) {
        issues.push({ ...where, message: `the default of ${name} names {${p}}, which is not another variable of this runbook`, fix: 'a default may name other variables declared under vars or required (not itself, not {host}, {campaign} or other per-step values)' });
      } else if (placeholders([raw.vars[p] ?? '']).length > 0) {
        issues.push({ ...where, message: `the default of ${name} names {${p}}, whose own default names other variables`, fix: `name the variable ${p} is derived from directly: defaults are resolved one level deep` });
      }
    }
    for (const f of filtersUsed([value])) if (!(f in FILTERS)) issues.push(unknownFilter(file, at, f, doc, counter));
  }
  return issues;
}
