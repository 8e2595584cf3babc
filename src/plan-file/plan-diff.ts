// The first place two JSON documents differ, as canonical JSON sees them (canonical-json.ts): key order and
// whitespace do not count, an `undefined` member is absent, a non-finite number is null. `run` uses it to
// name what an edited plan changed; it walks both values in place and builds no JSON text.

import { formatPath } from '../inventory/issue.ts';

export interface Difference {
  /** `groups[3].moves[0].to`; empty for the whole document. */
  path: string;
  /** The value on each side; `undefined` where the member or element is absent. */
  left: unknown;
  right: unknown;
}

type Key = string | number;

/**
 * The first difference in `right`'s member order (the documented field order when `right` comes from the
 * planner), then members only `left` has; null when both are the same canonical JSON.
 */
export function firstDifference(left: unknown, right: unknown): Difference | null {
  const path: Key[] = [];
  const found = walk(left, right, path);
  return found === null ? null : { path: formatPath(found.at), left: found.left, right: found.right };
}

interface Found {
  at: Key[];
  left: unknown;
  right: unknown;
}

/** As canonical JSON writes a scalar or a member: `undefined` (absent) stays, functions vanish, ±Infinity/NaN are null. */
function canonical(v: unknown): unknown {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'function') return undefined;
  return v;
}

/** Inside an array, canonical JSON writes `null` for an undefined or function element. */
function element(items: readonly unknown[], i: number): unknown {
  if (i >= items.length) return undefined;
  const v = canonical(items[i]);
  return v === undefined ? null : v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function walk(left: unknown, right: unknown, path: Key[]): Found | null {
  const a = canonical(left);
  const b = canonical(right);
  if (a === b) return null;
  if (!isObject(a) || !isObject(b) || Array.isArray(a) !== Array.isArray(b)) return { at: [...path], left: a, right: b };
  if (Array.isArray(a) && Array.isArray(b)) return walkArray(a, b, path);
  return walkObject(a, b, path);
}

function walkArray(a: readonly unknown[], b: readonly unknown[], path: Key[]): Found | null {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    path.push(i);
    const found = walk(element(a, i), element(b, i), path);
    path.pop();
    if (found !== null) return found;
  }
  return null;
}

function walkObject(a: Record<string, unknown>, b: Record<string, unknown>, path: Key[]): Found | null {
  for (const key of Object.keys(b)) {
    path.push(key);
    const found = walk(Object.hasOwn(a, key) ? a[key] : undefined, b[key], path);
    path.pop();
    if (found !== null) return found;
  }
  for (const key of Object.keys(a)) {
    if (Object.hasOwn(b, key)) continue;
    path.push(key);
    const found = walk(a[key], undefined, path);
    path.pop();
    if (found !== null) return found;
  }
  return null;
}
