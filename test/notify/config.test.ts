// Notification targets: --notify files and rules.notifications are validated with file, path and fix;
// env: URLs resolve at run time; a bad URL is reported without being echoed.
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventory } from '../../src/inventory/load.ts';
import { InputError, HvrollError } from '../../src/model/errors.ts';
import { combineTargets, loadNotifyFile, resolveTargets } from '../../src/notify/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'hvroll-notify-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

test('a --notify file: defaults filled in, env: kept until run time', async (t) => {
  const f = file('ok.yaml', 'notifications:\n  - { name: ops-slack, type: slack, url: env:SLACK_HOOK }\n  - name: audit\n    type: webhook\n    url: https://example.invalid/hook\n    events: [group.*, approval.needed]\n    minSeverity: warning\n');
  const targets = await loadNotifyFile(f);
  t.deepEqual(targets[0], { name: 'ops-slack', type: 'slack', url: 'env:SLACK_HOOK', events: ['*'], minSeverity: 'info' });
  t.deepEqual(targets[1]!.events, ['group.*', 'approval.needed']);
  const resolved = resolveTargets(targets, { SLACK_HOOK: 'https://hooks.example.invalid/T000/B000/SECRET' });
  t.is(resolved[0]!.url, 'https://hooks.example.invalid/T000/B000/SECRET');
  t.is(resolved[0]!.source, 'env:SLACK_HOOK');
  const err = t.throws(() => resolveTargets(targets, {}), { instanceOf: HvrollError });
  t.is(err.kind, 'usage');
  t.regex(err.message, /ops-slack: environment variable SLACK_HOOK is not set/);
});

test('mistakes name the file, the line, the path and the fix, and never echo a URL', async (t) => {
  const secret = 'https//hooks.slack.com/services/T0/B0/SECRETPART';
  const f = file('bad.yaml', `notifications:\n  - name: ops\n    type: slak\n    url: ${secret}\n    events: [group.finish]\n  - { name: ops, type: teams, url: env:X, colour: red }\n`);
  const err = await t.throwsAsync(loadNotifyFile(f), { instanceOf: InputError });
  const by = (path: string) => err.issues.find((i) => i.path === path);
  t.like(by('notifications[0].type'), { file: f, line: 3 });
  t.regex(by('notifications[0].type')!.fix, /did you mean "slack"/);
  t.regex(by('notifications[0].url')!.message, /value not shown/);
  t.regex(by('notifications[0].events[0]')!.message, /unknown event "group.finish"/);
  t.regex(by('notifications[1].colour')!.fix, /name, type, url, events, minSeverity/);
  t.false(JSON.stringify(err.issues).includes('SECRETPART'));
  const dup = file('dup.yaml', 'notifications:\n  - { name: ops, type: slack, url: env:A }\n  - { name: ops, type: teams, url: env:B }\n');
  const again = await t.throwsAsync(loadNotifyFile(dup), { instanceOf: InputError });
  t.like(again.issues[0], { path: 'notifications[1].name', line: 3 });
  t.regex(again.issues[0]!.message, /used twice/);
});

test('rules.notifications and rules.twoPersonRule in the inventory', async (t) => {
  const hosts = 'hosts:\n  - { name: hv-1, address: 10.0.0.1, capacity: { vcpus: 8, memoryMiB: 8192 } }\n';
  const good = file('inv.yaml', `${hosts}rules:\n  twoPersonRule: true\n  notifications:\n    - { name: chat, type: teams, url: env:TEAMS_HOOK, minSeverity: warning }\n`);
  const { inventory } = await loadInventory([good]);
  t.true(inventory.rules.twoPersonRule);
  t.like(inventory.rules.notifications?.[0], { name: 'chat', type: 'teams', minSeverity: 'warning' });
  const bad = file('inv-bad.yaml', `${hosts}rules:\n  twoPersonRule: yes please\n  notifications:\n    - { name: chat, type: teams, url: env:TEAMS_HOOK, minSeverity: loud }\n`);
  const err = await t.throwsAsync(loadInventory([bad]), { instanceOf: InputError });
  t.truthy(err.issues.find((i) => i.path === 'rules.twoPersonRule' && /true or false/.test(i.message + i.fix)));
  t.truthy(err.issues.find((i) => i.path === 'rules.notifications[0].minSeverity' && /info, warning, error/.test(i.message)));
});

test('a --notify target replaces the inventory target of the same name', (t) => {
  const a = { name: 'x', type: 'slack' as const, url: 'env:A', events: ['*'], minSeverity: 'info' as const };
  const b = { ...a, url: 'env:B' };
  const c = { ...a, name: 'y' };
  t.deepEqual(combineTargets([a, c], [b]), [c, b]);
});
