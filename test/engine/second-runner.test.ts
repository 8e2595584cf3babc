// Two processes never run one campaign: while `hvroll run` holds the lock — running, or frozen by SIGSTOP
// past any staleness window — a second `hvroll resume` is refused, sends nothing, and is audited.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, startCliRig, type CliRig } from './cli-rig.ts';

let rig: CliRig;
test.before(async () => {
  rig = await startCliRig(3, 1);
});
test.after.always(async () => {
  await rig?.stop();
});

test.serial('a second runner is refused while the first runs, and while the first is frozen', async (t) => {
  rig.reset();
  const state = mkdtempSync(join(rig.dir, 'second-'));
  // The first runner's migration hangs: it stays inside the campaign as long as we need.
  rig.fleet.hangNext('hv-1', (argv) => argv[1] === 'migrate');
  rig.fleet.hangNext('hv-2', (argv) => argv[1] === 'migrate');
  const first = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'run', '--plan', rig.plan, '--set', 'version=2.0', '--state', state, '--campaign', 'c1', ...rig.sshFlags], {
    env: { ...process.env, HVROLL_OPERATOR: 'alice' },
    stdio: 'ignore',
  });
  t.teardown(() => {
    first.kill('SIGCONT');
    first.kill('SIGKILL');
  });
  while (!(await Promise.resolve(rig.fleet.allReceived().some((r) => r.argv?.[1] === 'migrate')))) await new Promise((r) => setTimeout(r, 50));
  const before = rig.fleet.allReceived().length;

  const second = await cli(['resume', 'c1', '--state', state, ...rig.sshFlags], { HVROLL_OPERATOR: 'bob' });
  t.is(second.code, 5, second.stderr);
  t.regex(second.stderr, new RegExp(`in use by pid ${first.pid}`));

  first.kill('SIGSTOP');
  await new Promise((r) => setTimeout(r, 1500));
  const third = await cli(['resume', 'c1', '--state', state, ...rig.sshFlags], { HVROLL_OPERATOR: 'bob' });
  t.is(third.code, 5, `a frozen holder still holds the lock: locks never expire on their own\n${third.stderr}`);
  const unlock = await cli(['unlock', 'c1', '--state', state]);
  t.not(unlock.code, 0, 'a live holder\'s lock is not broken');
  t.is(rig.fleet.allReceived().length, before, 'the refused runners sent nothing');
  // The store is held by the first runner, so the refusals are in the state root's audit file.
  const audit = readFileSync(join(state, 'audit.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { operator: string; action: string; details: { campaign: string; kind: string; message: string } });
  t.deepEqual(audit.map((e) => [e.operator, e.action, e.details.campaign, e.details.kind]), [['bob', 'resume-refused', 'c1', 'store'], ['bob', 'resume-refused', 'c1', 'store']]);
  t.regex(audit[0]!.details.message, new RegExp(`in use by pid ${first.pid}`));
});
