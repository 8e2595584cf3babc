// The shape of a plan file, checked when one is read back (by `run`, `status`, ...). Mirrors
// src/model/plan.ts; the `satisfies` below keeps the two in step at compile time.

import { z } from 'zod';
import { PLAN_SCHEMA_VERSION, type PlanFile } from '../model/plan.ts';
import { TIER_ORDER } from '../model/tiers.ts';

const seconds = z.number().min(0);
const count = z.number().int().min(0);
const tier = z.enum(TIER_ORDER);
const policy = z.enum(['block', 'shutdown', 'skip']);

const move = z.object({
  vm: z.string(),
  from: z.string(),
  to: z.string(),
  memoryMiB: z.number(),
  vcpus: z.number(),
  seconds,
  repeat: z.boolean(),
});

const group = z.object({
  name: z.string(),
  index: count,
  wave: z.number().int().min(-1),
  class: z.string(),
  tier,
  reason: z.string(),
  hosts: z.array(z.string()),
  skippedHosts: z.array(z.string()),
  domains: z.array(z.string()),
  approval: z.boolean(),
  status: z.enum(['ready', 'blocked', 'infeasible', 'skipped']),
  capacity: z.object({ memoryMiB: z.number(), vcpus: z.number() }),
  after: z.array(z.string()),
  nonMigratable: z.array(z.object({ vm: z.string(), host: z.string(), policy })),
  moves: z.array(move),
  estimate: z.object({ startSeconds: seconds, drainSeconds: seconds, maintenanceSeconds: seconds, endSeconds: seconds }),
});

const wave = z.object({
  index: count,
  groups: z.array(z.string()),
  startSeconds: seconds,
  endSeconds: seconds,
  closedBy: z.string(),
});

const problem = z.object({
  kind: z.enum(['no-target', 'non-migratable', 'headroom', 'anti-affinity-existing']),
  group: z.string(),
  vm: z.string().optional(),
  constraint: z.string(),
  message: z.string(),
  fix: z.string(),
});

export const planFileSchema = z.object({
  schemaVersion: z.literal(PLAN_SCHEMA_VERSION),
  fingerprint: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be `sha256:` followed by 64 hex digits'),
  generatedAt: z.string(),
  inputs: z.object({ inventory: z.array(z.string()), ansible: z.string().nullable(), runbook: z.string().nullable() }),
  settings: z.object({
    strategy: z.enum(['upgrade-aware', 'naive']),
    cpuOvercommit: z.number(),
    failureDomain: z.string().nullable(),
    migrationDomain: z.string().nullable(),
    concurrency: z.object({ groups: count, migrations: count, migrationsPerHost: count, groupsPerDomain: count.nullable(), classes: z.record(z.string(), count) }),
    failureBudget: count,
    maintenanceBudget: z.record(z.string(), z.object({ memoryMiB: z.number(), vcpus: z.number() })),
    twoPersonRule: z.boolean().optional(),
    estimates: z.object({
      migrationBandwidthMiBps: z.number(),
      dirtyRateMiBps: z.number(),
      migrationOverheadSeconds: z.number(),
      upgradeSeconds: z.number(),
      rebootSeconds: z.number(),
      verifySeconds: z.number(),
    }),
  }),
  summary: z.object({
    hosts: count,
    vms: count,
    groups: count,
    waves: count,
    migrations: count,
    migrationsLowerBound: count,
    movedMoreThanOnce: z.array(z.string()),
    estimatedSeconds: seconds,
    runnable: z.boolean(),
  }),
  warnings: z.array(z.string()),
  problems: z.array(problem),
  waves: z.array(wave),
  groups: z.array(group),
}) satisfies z.ZodType<PlanFile>;
