// `hvroll run` over the in-process SSH hypervisors with --state on a REAL small filesystem (tmpfs) that keeps
// filling up: the run, and every resume after it, stops with exit 5 "the state directory … is full" and the fix
// (never "internal error"), at a different store write each time (creating the campaign, taking the lock,
// journal appends, the closing compaction) — and so does a pause request sent meanwhile, while status still
// reads the store; once space is freed, `hvroll resume` — with no unlock, or after a no-op one — goes on,
// and the campaign ends exactly as an undisturbed one: every VM where the plan put it, every host upgraded and
// rebooted once and back in the pool.
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { PlanFile } from '../../src/model/plan.ts';
import { cli, startCliRig, type CliRig, type CliResult } from '../engine/cli-rig.ts';
import { cannotMount, mountTmpfs } from './tmpfs.ts';

let rig: CliRig | undefined;
test.after.always(async () => {
  await rig?.stop();
});

const tmpfsTest = cannotMount === null ? test.serial : test.serial.skip;
const skipped = cannotMount === null ? '' : ` [skipped: cannot mount a tmpfs here: ${cannotMount}]`;

function assertFullError(t: import('ava').ExecutionContext, r: CliResult, state: string, what: string): void {
  t.is(r.code, 5, `${what}: ${r.stderr}`);
  t.regex(r.stderr, new RegExp(`error: the state directory ${state}/c1 is full \\(no space left on device\\)`), what);
  t.regex(r.stderr, /\n {2}fix: free space on the filesystem holding/, what);
  t.notRegex(r.stderr, /internal error|a bug in hvroll|\n\s+at /, `${what}: no internal error, no stack trace`);
}

tmpfsTest(`disk full again and again under --state: exit 5 with the fix each time; after freeing space, resume (no unlock) completes as if nothing happened${skipped}`, async (t) => {
  t.timeout(300_000);
  rig = await startCliRig(3, 2);
  const fs = mountTmpfs(t, 1024 * 1024);
  const state = join(fs.dir, 'state');
  const run = ['run', '--plan', rig.plan, '--set', 'version=2.0', '--state', state, '--campaign', 'c1', ...rig.sshFlags];

  // Not even the campaign fits: nothing is created, and the fix says to start it again.
  fs.leave(0);
  const refused = await cli(run);
  assertFullError(t, refused, state, 'creating the campaign');
  t.regex(refused.stderr, /Nothing was created.*\n.*start the campaign again/);
  t.false(existsSync(join(state, 'c1')));
  t.is(rig.fleet.allReceived().length, 0, 'no host was contacted');
  fs.release();

  // Then a few pages at a time: each round stops at the next store write that finds the disk full.
  let pages = 5;
  fs.leave(pages);
  let r = await cli(run);
  let rounds = 0;
  const stoppedAt: string[] = [];
  while (r.code !== 0 && rounds < 40) {
    rounds++;
    assertFullError(t, r, state, `round ${rounds}`);
    const at = /, while (\w+) (?:to )?(\S+)/.exec(r.stderr);
    stoppedAt.push(at ? `${at[1]} ${basename(at[2]!).replace(/(\.tmp-\S*)?\.?$/, '')}` : '?');
    for (const [h, s] of rig.hosts.state) {
      t.true(s.upgrades <= 1 && s.reboots <= 1, `round ${rounds}: ${h} upgraded ${s.upgrades}, rebooted ${s.reboots} times`);
    }
    if (rounds === 1) {
      // While it is full: status still reads the store; a pause request cannot be written, and says so.
      fs.release();
      fs.leave(0);
      const status = await cli(['status', 'c1', '--state', state]);
      t.is(status.code, 0, status.stderr);
      const pause = await cli(['pause', 'c1', '--state', state]);
      t.is(pause.code, 5, pause.stderr);
      t.regex(pause.stderr, /is full \(no space left on device\), while writing the pause request .*The request was not delivered/);
      t.notRegex(pause.stderr, /internal error/);
    }
    fs.release();
    if (rounds === 1) {
      // The runner released its lock: the usual kill -9 routine (unlock, then resume) works too.
      const unlock = await cli(['unlock', 'c1', '--state', state]);
      t.is(unlock.code, 0, unlock.stderr);
      t.regex(unlock.stderr, /is not locked: nothing to break/);
    }
    // The same write failing again (the closing compaction's history file outgrows the pages left): more room.
    // The journal's size says nothing here: every resume appends its epoch and audit records first.
    if (stoppedAt.length > 1 && stoppedAt.at(-1) === stoppedAt.at(-2)) pages += 4;
    fs.leave(pages);
    r = await cli(['resume', 'c1', '--state', state, ...rig.sshFlags]);
  }
  t.is(r.code, 0, r.stderr);
  t.true(rounds >= 5, `the disk filled up ${rounds} times`);
  t.log(`${rounds} times full (stopped while ${stoppedAt.join('; ')}), then done`);

  const plan = JSON.parse(readFileSync(rig.plan, 'utf8')) as PlanFile;
  const target = new Map(plan.groups.flatMap((g) => g.moves.map((m) => [m.vm, m.to] as const)));
  t.is(rig.fleet.model.vms.size, rig.initial.size, 'no VM lost or duplicated');
  for (const [vm, v] of rig.fleet.model.vms) t.is(v.host, target.get(vm) ?? 'never moved', `${vm} where the plan put it`);
  t.is(rig.fleet.model.migrations.length, plan.summary.migrations, 'no VM migrated twice');
  for (const [h, s] of rig.hosts.state) {
    t.is(s.upgrades, 1, `${h} upgraded once`);
    t.is(s.reboots, 1, `${h} rebooted once`);
    t.false(s.marker, `${h} back in the pool`);
  }
  const status = await cli(['status', 'c1', '--state', state, '--json']);
  t.is((JSON.parse(status.stdout) as { state: string }).state, 'done', status.stderr);
});
