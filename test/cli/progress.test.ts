// The live view on a terminal: an overall bar, one line per active group with its state and time in it,
// and notes an operator acts on — the approval note carries the exact command to type.

import test from 'ava';
import { ProgressView } from '../../src/cli/render/progress.ts';

test('bar, one line per active group, the approval command and failures; finished groups leave the list', (t) => {
  let now = 1_000_000;
  const frames: string[] = [];
  const view = new ProgressView(4, 3, () => now, { approveCommand: (g) => `hvroll approve c1 ${g} --state /srv/hvroll`, write: (f) => frames.push(f), done: () => undefined });
  view.onEvent({ type: 'wave.started', wave: 0, groups: ['r1/1', 'r2/1'] });
  view.onEvent({ type: 'group.state', group: 'r1/1', state: 'draining', hosts: ['hv-1', 'hv-2'] });
  view.onEvent({ type: 'group.state', group: 'r2/1', state: 'upgrading', hosts: ['hv-3'] });
  now += 42_000;
  view.onEvent({ type: 'group.awaiting-approval', group: 'db/1', className: 'critical' });
  let lines = frames.at(-1)!.split('\n');
  t.is(lines[0], `[${'-'.repeat(30)}] 0/4 groups, wave 1/3`);
  t.regex(lines[1]!, /^ {2}r1\/1\s+draining\s+42s \(2 hosts\)$/);
  t.regex(lines[2]!, /^ {2}r2\/1\s+upgrading\s+42s \(1 host\)$/);
  t.is(lines[3], '! db/1 (critical) awaits approval: hvroll approve c1 db/1 --state /srv/hvroll');

  view.onEvent({ type: 'group.finished', group: 'r1/1', state: 'done', outOfPool: [] });
  view.onEvent({ type: 'group.finished', group: 'r2/1', state: 'failed', error: 'verify did not take on hv-3', outOfPool: [] });
  lines = frames.at(-1)!.split('\n');
  t.is(lines[0], `[${'#'.repeat(15)}${'-'.repeat(15)}] 2/4 groups, wave 1/3, 1 failed`);
  t.false(lines.some((l) => l.startsWith('  r')), 'no active group left');
  t.is(lines.at(-1), '! r2/1 FAILED: verify did not take on hv-3');
  view.stop();
});
