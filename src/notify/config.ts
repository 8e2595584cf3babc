// Notification targets: from the inventory's `rules.notifications` and/or a `--notify` file, with `env:`
// URLs resolved when the campaign runs. A resolved target's URL lives only in memory, in this process.

import { readFile } from 'node:fs/promises';
import { validateWith } from '../inventory/document.ts';
import { toInputIssue, type Issue } from '../inventory/issue.ts';
import { isPlainObject } from '../inventory/schema.ts';
import { parseSource } from '../inventory/source.ts';
import { HvrollError, InputError } from '../model/errors.ts';
import type { NotificationTarget } from '../model/inventory.ts';
import { notificationTargets } from '../inventory/notification-schema.ts';

export interface ResolvedTarget extends NotificationTarget {
  /** Where `url` came from, for messages: `env:NAME` or `inline`. Never the URL itself. */
  source: string;
}

/** Reads a `--notify` file: `notifications: [...]` (YAML or JSON). Errors name the file, path and fix. */
export async function loadNotifyFile(file: string): Promise<NotificationTarget[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new InputError([{ file, path: '', message: code === 'ENOENT' ? 'no such file' : `cannot read it (${code ?? 'error'})`, fix: 'check the --notify path' }]);
  }
  const parsed = parseSource(file, text);
  const issues: Issue[] = [];
  if (!parsed.ok) throw new InputError(parsed.issues.map((i) => toInputIssue(i, () => undefined)));
  const value = parsed.source.value;
  let targets: NotificationTarget[] | undefined;
  if (!isPlainObject(value) || !('notifications' in value)) {
    issues.push({ file, path: [], severity: 'error', message: 'the file has no `notifications:` list', fix: 'write `notifications:` then one target per line, e.g. `- { name: ops-slack, type: slack, url: env:SLACK_WEBHOOK }`' });
  } else {
    for (const key of Object.keys(value)) {
      if (key !== 'notifications') issues.push({ file, path: [key], severity: 'error', message: `unknown key "${key}"`, fix: 'a --notify file holds only `notifications:`', atKey: true });
    }
    targets = validateWith(notificationTargets, file, ['notifications'], value.notifications, issues);
  }
  if (issues.length > 0) {
    const at = parsed.source.positions(issues.map((i) => i.path));
    throw new InputError(issues.map((i) => toInputIssue(i, (loc, atKey) => at(loc.path, atKey))));
  }
  return targets ?? [];
}

/** Inventory targets, then the file's; a file target replaces an inventory target of the same name. */
export function combineTargets(fromInventory: readonly NotificationTarget[], fromFile: readonly NotificationTarget[]): NotificationTarget[] {
  const names = new Set(fromFile.map((t) => t.name));
  return [...fromInventory.filter((t) => !names.has(t.name)), ...fromFile];
}

/** Resolves `env:NAME` URLs; a missing variable is an operator mistake, reported before anything runs. */
export function resolveTargets(targets: readonly NotificationTarget[], env: Readonly<Record<string, string | undefined>>): ResolvedTarget[] {
  return targets.map((t) => {
    if (!t.url.startsWith('env:')) return { ...t, source: 'inline' };
    const name = t.url.slice(4);
    const url = env[name];
    if (!url) throw new HvrollError('usage', `notification target ${t.name}: environment variable ${name} is not set; export it (the webhook URL) or remove the target`);
    let valid = false;
    try {
      valid = ['https:', 'http:'].includes(new URL(url).protocol);
    } catch {
      valid = false;
    }
    if (!valid) throw new HvrollError('usage', `notification target ${t.name}: ${name} does not hold an http(s) URL (value not shown: it is a secret)`);
    return { ...t, url, source: t.url };
  });
}
