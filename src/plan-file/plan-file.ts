// The plan as a file: `hvroll plan --out` writes it, `hvroll run` reads it back and executes exactly it.

import { readFile } from 'node:fs/promises';
import { writeFileDurable } from '../io/durable-write.ts';
import { HvrollError, InputError, type InputIssue } from '../model/errors.ts';
import { PLAN_SCHEMA_VERSION, type Plan, type PlanFile } from '../model/plan.ts';
import { planFileSchema } from './plan-schema.ts';

export interface PlanProvenance {
  fingerprint: string;
  inputs: PlanFile['inputs'];
  generatedAt?: Date;
}

/** Field order is the documented one (README "Plan JSON"): identity first, then the plan itself. */
export function toPlanFile(plan: Plan, provenance: PlanProvenance): PlanFile {
  return {
    schemaVersion: plan.schemaVersion,
    fingerprint: provenance.fingerprint,
    generatedAt: (provenance.generatedAt ?? new Date()).toISOString(),
    inputs: provenance.inputs,
    settings: plan.settings,
    summary: plan.summary,
    warnings: plan.warnings,
    problems: plan.problems,
    waves: plan.waves,
    groups: plan.groups,
  };
}

export function serialisePlanFile(file: PlanFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** Written durably and atomically (io/durable-write.ts): a crash leaves either the old file or the new one. */
export async function writePlanFile(path: string, file: PlanFile): Promise<void> {
  try {
    await writeFileDurable(path, serialisePlanFile(file), { mode: 0o644, dirSync: 'best-effort' });
  } catch (err) {
    throw new HvrollError('usage', `cannot write the plan to ${path}: ${describeFsError(err)}`, {
      cause: err,
      details: { path, fix: 'choose an --out path in an existing directory you can write to' },
    });
  }
}

/** Read a plan file and check it is one this version understands; InputError (exit 2) otherwise. */
export async function readPlanFile(path: string): Promise<PlanFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new InputError([issue(path, '', `cannot read the plan file: ${describeFsError(err)}`, 'check the path; write a plan with `hvroll plan --out <file>`')]);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new InputError([issue(path, '', `not JSON: ${(err as Error).message}`, 'pass a file written by `hvroll plan --out <file>`, unedited')]);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data) || !('schemaVersion' in data) || !('groups' in data)) {
    throw new InputError([issue(path, '', 'this JSON is not an hvroll plan (no `schemaVersion` and `groups`)', 'pass a file written by `hvroll plan --out <file>`')]);
  }
  const version = (data as { schemaVersion: unknown }).schemaVersion;
  if (version !== PLAN_SCHEMA_VERSION) {
    throw new InputError([
      issue(path, 'schemaVersion', `plan schema version ${JSON.stringify(version)} is not supported (this hvroll reads version ${PLAN_SCHEMA_VERSION})`, 'write the plan again with this version: `hvroll plan --out <file>`'),
    ]);
  }
  const parsed = planFileSchema.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 10).map((i) => issue(path, formatPath(i.path), i.message, 'the plan file was edited or damaged: write it again with `hvroll plan --out <file>`'));
    throw new InputError(issues, `${parsed.error.issues.length} problem(s) in plan file ${path}`);
  }
  return parsed.data;
}

function issue(file: string, path: string, message: string, fix: string): InputIssue {
  return { file, path, message, fix };
}

/** `['groups', 3, 'moves', 0, 'to']` -> `groups[3].moves[0].to` */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? String(part) : `.${String(part)}`;
  return out;
}

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}
