// Fault matrix 1 (slow suite, npm run test:faults): kill -9 of `hvroll run` at every step boundary of a small
// campaign, each followed by `hvroll unlock` and `hvroll resume`: every run reaches the same final state, no VM
// lost, duplicated or migrated twice, no host upgraded or rebooted twice, every host back in the pool.
import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PlanFile } from '../../src/model/plan.ts';
import { cli, startCliRig, type CliRig } from '../engine/cli-rig.ts';

let rig: CliRig;
test.before(async () => {
  rig = await startCliRig();
});
test.after.always(async () => {
  await rig?.stop();
});

function checkFinal(t: import('ava').ExecutionContext, label: string): void {
  const plan = JSON.parse(readFileSync(rig.plan, 'utf8')) as PlanFile;
  const target = new Map(plan.groups.flatMap((g) => g.moves.map((m) => [m.vm, m.to] as const)));
  t.is(rig.fleet.model.vms.size, rig.initial.size, `${label}: no VM lost or duplicated`);
  for (const [vm, v] of rig.fleet.model.vms) t.is(v.host, target.get(vm) ?? 'never moved', `${label}: ${vm} where the plan put it`);
  t.is(rig.fleet.model.migrations.length, plan.summary.migrations, `${label}: no VM migrated twice`);
  for (const [h, s] of rig.hosts.state) {
    t.is(s.upgrades, 1, `${label}: ${h} upgraded once`);
    t.is(s.reboots, 1, `${label}: ${h} rebooted once`);
    t.false(s.marker, `${label}: ${h} back in the pool`);
    t.is(s.version, '2.0');
  }
}

test.serial('a clean run through the CLI ends with every host upgraded once and every VM at its target', async (t) => {
  rig.reset();
  const state = mkdtempSync(join(rig.dir, 'clean-'));
  const r = await cli(['run', '--plan', rig.plan, '--set', 'version=2.0', '--state', state, '--campaign', 'c1', ...rig.sshFlags]);
  t.is(r.code, 0, r.stderr);
  checkFinal(t, 'clean');
  const status = await cli(['status', 'c1', '--state', state, '--json']);
  t.is(status.code, 0, status.stderr);
  const s = JSON.parse(status.stdout) as { state: string; groups: { byState: Record<string, number> } };
  t.is(s.state, 'done');
  t.is(s.groups.byState.done, 3);
});

test.serial('kill -9 at every step boundary, then unlock + resume: always the same final state', async (t) => {
  t.timeout(900_000);
  let kills = 0;
  for (let n = 1; n < 200; n++) {
    rig.reset();
    const state = mkdtempSync(join(rig.dir, `kill-${n}-`));
    const run = await cli(['run', '--plan', rig.plan, '--set', 'version=2.0', '--state', state, '--campaign', 'c1', ...rig.sshFlags], { HVROLL_CRASH_AT: `snapshot:${n}` });
    if (run.code === 0) break; // past the last boundary: the run finished untouched
    t.is(run.signal, 'SIGKILL', `boundary ${n}: ${run.stderr}`);
    kills++;
    const refused = await cli(['resume', 'c1', '--state', state, ...rig.sshFlags]);
    t.is(refused.code, 5, `boundary ${n}: a stale lock is refused until broken explicitly`);
    t.regex(refused.stderr, /stale lock/);
    const unlock = await cli(['unlock', 'c1', '--state', state]);
    t.is(unlock.code, 0, unlock.stderr);
    const resumed = await cli(['resume', 'c1', '--state', state, ...rig.sshFlags]);
    t.is(resumed.code, 0, `boundary ${n}: ${resumed.stderr}`);
    checkFinal(t, `boundary ${n}`);
  }
  t.true(kills >= 15, `only ${kills} boundaries`);
  t.log(`${kills} kills, each resumed to the same final state`);
});
