// The runbook file format (YAML), validated with zod and normalised into model.ts types.

import { z } from 'zod';

// YAML reads `[true]` or `[sleep, 5]` as booleans and numbers; in a command they are words.
const word = z.union([z.string().min(1), z.number(), z.boolean()]).transform(String);
const argv = z.array(word).min(1);
const commandText = z.string().min(1);
const on = z.enum(['host', 'source', 'target', 'controller']);

export const commandSchema = z.union([
  argv,
  commandText,
  z.strictObject({ on: on.optional(), argv: argv.optional(), command: commandText.optional() }).refine((c) => (c.argv === undefined) !== (c.command === undefined), {
    message: 'give exactly one of argv (a list of arguments) or command (one line, split on spaces)',
  }),
]);

const expectSchema = z.strictObject({
  exitCode: z.number().int().min(0).max(255).optional(),
  stdout: z.string().optional(),
  stdoutMatches: z.string().optional(),
  stdoutContains: z.string().optional(),
  stdoutLacks: z.string().optional(),
});

export const checkSchema = z.strictObject({
  name: z.string().optional(),
  on: on.optional(),
  run: z.union([argv, commandText]),
  expect: expectSchema.default({ exitCode: 0 }),
});

/** While a long command runs (a live migration): poll its progress, abort it when it stops converging. */
const progressSchema = z.strictObject({
  on: on.optional(),
  run: z.union([argv, commandText]),
  /** The `Key: value unit` line of the poll output that gives what is left to copy (`Memory remaining`). */
  remainingKey: z.string().min(1),
  everySeconds: z.number().positive().max(3600).default(10),
  /** Abort when what is left has not gone down for this long. */
  stallSeconds: z.number().positive().max(86400),
  abort: z.union([argv, commandText]),
});

/** A remnant of the step half done by a run that was cut short, and how to remove it (model.ts: Leftover). */
const leftoverSchema = z.strictObject({
  name: z.string().min(1),
  when: z.array(checkSchema).min(1),
  run: z.array(commandSchema).min(1),
});

const stepSchema = z.strictObject({
  /** Must hold before the step's commands run; one that does not fails the step without retry. */
  require: z.array(checkSchema).default([]),
  check: z.array(checkSchema).default([]),
  run: z.array(commandSchema).default([]),
  confirm: z.array(checkSchema).default([]),
  progress: progressSchema.optional(),
  leftover: z.array(leftoverSchema).default([]),
  timeoutSeconds: z.number().positive().max(86400).optional(),
  retries: z.number().int().min(0).max(20).optional(),
  retryDelaySeconds: z.number().min(0).max(3600).optional(),
});

export const runbookSchema = z.strictObject({
  platform: z.string().min(1),
  description: z.string().default(''),
  /** `sudo`: host commands run as `sudo -n -- <argv>` (a login that is not root); controller commands do not. */
  become: z.enum(['sudo']).optional(),
  vars: z.record(z.string(), z.union([z.string(), z.number()]).transform(String)).default({}),
  required: z.array(z.string()).default([]),
  durations: z
    .strictObject({
      upgradeSeconds: z.number().positive().optional(),
      rebootSeconds: z.number().positive().optional(),
      verifySeconds: z.number().positive().optional(),
    })
    .default({}),
  defaults: z
    .strictObject({
      timeoutSeconds: z.number().positive().default(120),
      retries: z.number().int().min(0).default(1),
      retryDelaySeconds: z.number().min(0).default(5),
    })
    .default({ timeoutSeconds: 120, retries: 1, retryDelaySeconds: 5 }),
  bootId: z.union([argv, commandText]).default(['cat', '/proc/sys/kernel/random/boot_id']),
  discover: z.strictObject({
    on: z.enum(['host', 'controller']).default('host'),
    format: z.enum(['lines', 'json']).default('lines'),
    /** With format json: the field of each listed object that names the VM. */
    field: z.string().default('name'),
    run: z.union([argv, commandText]),
    /** Per VM: a command whose output gives its memory and vCPUs (virsh dominfo style `Key: value` lines). */
    inspect: z
      .strictObject({
        run: z.union([argv, commandText]),
        memoryKey: z.string().default('Max memory'),
        memoryUnit: z.enum(['KiB', 'MiB', 'bytes']).default('KiB'),
        vcpusKey: z.string().default('CPU(s)'),
      })
      .optional(),
    timeoutSeconds: z.number().positive().optional(),
  }),
  steps: z.strictObject({
    precheck: stepSchema.optional(),
    disable: stepSchema.optional(),
    migrate: stepSchema,
    /** Per VM of a `shutdown` non-migratable policy: stop it after the drain ({vm}); confirm polled until it holds. */
    shutdown: stepSchema.optional(),
    upgrade: stepSchema,
    reboot: stepSchema.optional(),
    verify: stepSchema.optional(),
    enable: stepSchema.optional(),
    /** Start again, after the rejoin, each VM the shutdown step stopped. */
    start: stepSchema.optional(),
    rollback: stepSchema.optional(),
  }),
});

export type RunbookFile = z.infer<typeof runbookSchema>;
