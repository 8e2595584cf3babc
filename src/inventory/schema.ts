// The shape of one inventory document, as zod schemas whose output is already the normalised model
// (labels as strings, defaults filled in). Cross-entry checks (unknown hosts, duplicates) live in semantic.ts.

import { z } from 'zod';
import { DEFAULT_RULES } from '../model/inventory.ts';
import { CLASS_TIERS } from '../model/tiers.ts';
import { notificationTargets } from './notification-schema.ts';
import type { Grouping, Host, Match, Vm } from '../model/inventory.ts';
import {
  ADDRESS_RULE,
  LABEL_KEY_RULE,
  NAME_RULE,
  SSH_USER_RULE,
  addressProblem,
  labelKeyProblem,
  labelValueProblem,
  nameProblem,
  show,
  sshUserProblem,
} from './names.ts';

type Ctx = z.core.$RefinementCtx;

function custom(ctx: Ctx, message: string, fix: string, path: (string | number)[] = []): void {
  ctx.addIssue({ code: 'custom', message, path, params: { fix } });
}

export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'empty';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the text ${show(v)}`;
  return `${typeof v} ${String(v)}`;
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A host, VM, group or class name: becomes a shell argument later. */
export const safeName = (what: string) =>
  z.string().superRefine((v, ctx) => {
    const why = nameProblem(v);
    if (why) custom(ctx, `${what} ${show(v)} ${why}`, `rename it: ${NAME_RULE}`);
  });

export const labelKey = z.string().superRefine((v, ctx) => {
  const why = labelKeyProblem(v);
  if (why) custom(ctx, `label name ${show(v)} ${why}`, `rename the label: ${LABEL_KEY_RULE}`);
});

export const address = z.string().superRefine((v, ctx) => {
  const why = addressProblem(v);
  if (why) custom(ctx, `address ${show(v)} ${why}`, ADDRESS_RULE);
});

export const sshUser = z.string().superRefine((v, ctx) => {
  const why = sshUserProblem(v);
  if (why) custom(ctx, `ssh user ${show(v)} ${why}`, SSH_USER_RULE);
});

export const positiveInt = z.number().int().min(1);
export const port = z.number().int().min(1).max(65535);

/** Operators write `rack: 3`; labels are compared as text everywhere, so numbers and booleans become strings. */
function labelValue(v: unknown, ctx: Ctx, path: (string | number)[]): string | undefined {
  if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) {
    const s = String(v);
    const why = labelValueProblem(s);
    if (!why) return s;
    custom(ctx, `label value ${show(s)} ${why}`, 'remove control characters from the value (at most 253 characters)', path);
    return undefined;
  }
  custom(ctx, `a label value must be text, a number or true/false, not ${describeValue(v)}`, 'write a single value, e.g. `rack: r1`; quote it if it looks like something else', path);
  return undefined;
}

function checkLabelKey(key: string, ctx: Ctx): boolean {
  const why = labelKeyProblem(key);
  if (why) custom(ctx, `label name ${show(key)} ${why}`, `rename the label: ${LABEL_KEY_RULE}`, [key]);
  return !why;
}

export const labels = z.unknown().transform((v, ctx): Record<string, string> => {
  if (!isPlainObject(v)) {
    custom(ctx, `labels must be a mapping of label names to values, not ${describeValue(v)}`, 'write labels as `labels: { rack: r1, az: az1 }`');
    return z.NEVER;
  }
  const out: Record<string, string> = {};
  let ok = true;
  for (const key in v) {
    ok = checkLabelKey(key, ctx) && ok;
    const s = labelValue(v[key], ctx, [key]);
    if (s === undefined) ok = false;
    else out[key] = s;
  }
  return ok ? out : z.NEVER;
});

/** `{label: value | [values]}`; `{}` matches everything. */
export const match = z.unknown().transform((v, ctx): Match => {
  if (!isPlainObject(v)) {
    custom(ctx, `match must be a mapping of label names to a value or a list of values, not ${describeValue(v)}`, 'write it as `match: { tier: critical }` or `match: { app: [db, cache] }`; `match: {}` matches every VM');
    return z.NEVER;
  }
  const out: Match = {};
  let ok = true;
  for (const key in v) {
    ok = checkLabelKey(key, ctx) && ok;
    const raw = v[key];
    if (Array.isArray(raw)) {
      if (raw.length === 0) {
        custom(ctx, `match.${key} is an empty list, which matches no VM`, `list at least one value, e.g. \`${key}: [a, b]\`, or remove the key`, [key]);
        ok = false;
        continue;
      }
      const values = raw.map((x, i) => labelValue(x, ctx, [key, i]));
      if (values.every((x): x is string => x !== undefined)) out[key] = values;
      else ok = false;
    } else {
      const s = labelValue(raw, ctx, [key]);
      if (s === undefined) ok = false;
      else out[key] = s;
    }
  }
  return ok ? out : z.NEVER;
});

export const hostSchema = z
  .strictObject({
    name: safeName('host name'),
    address,
    ssh: z.strictObject({ user: sshUser.optional(), port: port.optional() }).optional(),
    labels: labels.optional(),
    capacity: z.strictObject({ vcpus: positiveInt, memoryMiB: positiveInt }),
  })
  .transform((h): Host => {
    const host: Host = { name: h.name, address: h.address, labels: h.labels ?? {}, capacity: h.capacity };
    if (h.ssh) host.ssh = h.ssh;
    return host;
  });

export const vmSchema = z
  .strictObject({
    name: safeName('VM name'),
    host: z.string(),
    vcpus: positiveInt,
    memoryMiB: positiveInt,
    labels: labels.optional(),
    migratable: z.boolean().optional(),
  })
  .transform((v): Vm => ({ name: v.name, host: v.host, vcpus: v.vcpus, memoryMiB: v.memoryMiB, labels: v.labels ?? {}, migratable: v.migratable ?? true }));

const byLabel = z.strictObject({ by: labelKey, maxHostsPerGroup: positiveInt.optional() });
const explicit = z.strictObject({
  groups: z.array(z.strictObject({ name: safeName('group name'), hosts: z.array(z.string()) })),
});

/** `{by}` or `{groups}`; dispatched by key so the operator gets the errors of the form they meant. */
const grouping = z.unknown().transform((v, ctx): Grouping => {
  if (!isPlainObject(v) || (!('by' in v) && !('groups' in v))) {
    custom(ctx, 'grouping needs either `by: <label>` or `groups: [...]`', 'write `grouping: { by: rack, maxHostsPerGroup: 4 }` or `grouping: { groups: [{ name: g1, hosts: [hv-01, hv-02] }] }`');
    return z.NEVER;
  }
  if ('groups' in v && 'by' in v) {
    custom(ctx, 'grouping has both `by` and `groups`', 'keep one: `by: <label>` forms groups from a host label, `groups:` lists them by hand');
    return z.NEVER;
  }
  const r = 'groups' in v ? explicit.safeParse(v) : byLabel.safeParse(v);
  if (!r.success) {
    for (const i of r.error.issues) ctx.addIssue({ ...i, path: i.path as (string | number)[] } as Parameters<Ctx['addIssue']>[0]);
    return z.NEVER;
  }
  const d = r.data;
  if ('groups' in d) return { kind: 'explicit', groups: d.groups };
  return d.maxHostsPerGroup === undefined ? { kind: 'by-label', by: d.by } : { kind: 'by-label', by: d.by, maxHostsPerGroup: d.maxHostsPerGroup };
});

const order = z.enum(CLASS_TIERS);
const policy = z.enum(['block', 'shutdown', 'skip']);
const percent = z.number().min(0).lt(100);
const positive = z.number().positive();
const D = DEFAULT_RULES;

/** One schema per key under `rules:`; each key may come from a different file. */
export const ruleSchemas = {
  grouping,
  sensitivity: z.array(
    z.strictObject({
      class: safeName('class name'),
      match,
      order: order.default('normal'),
      maxConcurrentGroups: positiveInt.optional(),
      approval: z.boolean().default(false),
    }),
  ),
  antiAffinity: z.array(
    z.strictObject({ name: safeName('anti-affinity rule name').optional(), match }).superRefine((r, ctx) => {
      // `{}` is a catch-all in sensitivity; here it would keep every VM of the fleet on a host of its own.
      if (Object.keys(r.match).length === 0) custom(ctx, 'an empty match puts every VM in this rule: no two VMs could share a host', 'name the VMs to keep apart, e.g. `match: { cluster: orders-db }`', ['match']);
    }),
  ),
  headroom: z.strictObject({
    memoryPercent: percent.default(D.headroom.memoryPercent),
    vcpuPercent: percent.default(D.headroom.vcpuPercent),
    domain: labelKey.optional(),
  }),
  concurrency: z.strictObject({
    groups: positiveInt.default(D.concurrency.groups),
    migrations: positiveInt.default(D.concurrency.migrations),
    migrationsPerHost: positiveInt.default(D.concurrency.migrationsPerHost),
    groupsPerDomain: positiveInt.optional(),
  }),
  failureBudget: z.number().int().min(0),
  cpuOvercommit: z.number().min(1),
  migrationDomain: labelKey,
  nonMigratable: z.strictObject({ policy: policy.default(D.nonMigratable.policy), groups: z.record(z.string(), policy).default({}) }),
  estimates: z.strictObject({
    migrationBandwidthMiBps: positive.optional(),
    dirtyRateMiBps: z.number().min(0).optional(),
    migrationOverheadSeconds: z.number().min(0).optional(),
    upgradeSeconds: positive.optional(),
    rebootSeconds: positive.optional(),
    verifySeconds: positive.optional(),
  }),
  twoPersonRule: z.boolean(),
  notifications: notificationTargets,
};

export type RuleKey = keyof typeof ruleSchemas;
export type RuleValues = { [K in RuleKey]: z.output<(typeof ruleSchemas)[K]> };
export const RULE_KEYS = Object.keys(ruleSchemas) as RuleKey[];
export const TOP_KEYS = ['hosts', 'vms', 'rules'] as const;
