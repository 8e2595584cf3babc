// `hvroll run` refuses before anything exists or is sent: no campaign store, not one SSH command.
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, startCliRig, type CliRig } from './cli-rig.ts';

let rig: CliRig;
test.before(async () => {
  rig = await startCliRig(3, 1);
});
test.after.always(async () => {
  await rig?.stop();
});

async function refused(t: import('ava').ExecutionContext, args: string[], code: number, message: RegExp, env: Record<string, string> = {}): Promise<void> {
  const state = mkdtempSync(join(rig.dir, 'refused-'));
  const before = rig.fleet.allReceived().length;
  const r = await cli(['run', '--plan', rig.plan, '--state', state, '--campaign', 'c1', ...rig.sshFlags, ...args], env);
  t.is(r.code, code, r.stderr);
  t.regex(r.stderr, message);
  t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
  t.false(existsSync(join(state, 'c1')), 'no campaign store created');
  t.is(rig.fleet.allReceived().length, before, 'no SSH command sent');
}

test.serial('a required runbook variable that is missing', async (t) => {
  await refused(t, [], 2, /needs --set version=/);
});

test.serial('a webhook URL from an unset environment variable', async (t) => {
  const notify = join(rig.dir, 'notify.yaml');
  writeFileSync(notify, 'notifications:\n  - { name: ops, type: slack, url: env:HVROLL_TEST_UNSET_HOOK }\n');
  await refused(t, ['--set', 'version=2.0', '--notify', notify], 2, /HVROLL_TEST_UNSET_HOOK is not set/);
});

test.serial('a plan whose inventory changed since it was reviewed', async (t) => {
  const inv = join(rig.dir, 'inventory.yaml');
  const original = readFileSync(inv, 'utf8');
  writeFileSync(inv, original.replace('memoryMiB: 4096', 'memoryMiB: 8192'));
  t.teardown(() => writeFileSync(inv, original));
  await refused(t, ['--set', 'version=2.0'], 4, /no longer matches its inputs/);
});
