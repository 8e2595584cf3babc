// The reconcile of one runbook step against a scripted host (every answer chosen by the test), with the real
// store: the order require → check → leftover → run → confirm, a requirement that fails the step without retry,
// and "already done" after a run of ours needing the confirm as well as the check.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { systemClock } from '../../src/engine/clock.ts';
import type { EngineDeps } from '../../src/engine/deps.ts';
import { MigrationLimiter } from '../../src/engine/limiter.ts';
import { reconcile, type StepTarget } from '../../src/engine/reconcile.ts';
import type { CommandResult, Executor, HostRef } from '../../src/executor/executor.ts';
import { HvrollError } from '../../src/model/errors.ts';
import type { PlanFile } from '../../src/model/plan.ts';
import { parseRunbook } from '../../src/runbook/parse.ts';
import { CampaignStore } from '../../src/store/store.ts';

const RUNBOOK = `platform: test
required: [version]
discover: { run: [virsh, list] }
steps:
  migrate: { check: [{ run: [m, "{vm}"] }], run: [[m, "{vm}"]] }
  upgrade:
    require:
      - { name: host empty, run: [virsh, list, --name], expect: { exitCode: 0, stdout: "" } }
    check:
      - { name: at version, run: [pkg, version], expect: { stdout: "{version}" } }
    run:
      - [pkg, install, "{version}"]
    confirm:
      - { name: at version, run: [pkg, version], expect: { stdout: "{version}" } }
      - { name: configured, run: [pkg, audit], expect: { stdout: "" } }
`;

type Answer = { exitCode: number; stdout?: string; stderr?: string };

interface Rig {
  deps: EngineDeps;
  sent: string[];
  /** What the host answers, by the command joined with spaces. */
  answers: Map<string, Answer>;
  target: StepTarget;
}

async function rig(t: import('ava').ExecutionContext, runbookText = RUNBOOK): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'hvroll-reconcile-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const parsed = parseRunbook('rb.yaml', runbookText);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
  const store = await CampaignStore.create(join(dir, 'c'), { campaignId: 'c1', operator: 'tester', plan: { groups: [] } as unknown as PlanFile, planFingerprint: 'sha256:x', machineVersion: 'group/1' });
  t.teardown(() => store.close().catch(() => undefined));
  const sent: string[] = [];
  const answers = new Map<string, Answer>();
  const executor: Executor = {
    run: (_host: HostRef, cmd): Promise<CommandResult> => {
      const a = cmd.argv.join(' ');
      sent.push(a);
      const r = answers.get(a) ?? { exitCode: 127, stderr: `${cmd.argv[0]}: command not found` };
      return Promise.resolve({ exitCode: r.exitCode, signal: null, stdout: r.stdout ?? '', stdoutTail: r.stdout ?? '', stderrTail: r.stderr ?? '', durationMs: 1, timedOut: false });
    },
    waitForHost: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  const deps: EngineDeps = {
    campaignId: 'c1',
    plan: { groups: [] } as unknown as PlanFile,
    hosts: new Map(),
    runbook: parsed.value,
    vars: { version: '2.0' },
    controller: null,
    executor,
    store,
    clock: systemClock,
    log: pino({ level: 'silent' }),
    operator: 'tester',
    limiter: new MigrationLimiter(1, 1),
  };
  const host = { name: 'hv-1', address: '127.0.0.1' };
  const target: StepTarget = { group: 'g1', roles: { host }, values: { version: '2.0', host: 'hv-1', campaign: 'c1', group: 'g1' }, deadline: Date.now() + 60_000 };
  return { deps, sent, answers, target };
}

const steps = async (r: Rig) => (await r.deps.store.journal()).map((e) => e.step);

test('require → check → run → confirm, in that order, each journalled under its own step', async (t) => {
  const r = await rig(t);
  r.answers.set('virsh list --name', { exitCode: 0, stdout: '\n' });
  r.answers.set('pkg version', { exitCode: 0, stdout: '1.0' });
  r.answers.set('pkg install 2.0', { exitCode: 0 });
  r.answers.set('pkg audit', { exitCode: 0 });
  let installed = false;
  const run = r.deps.executor.run.bind(r.deps.executor);
  r.deps.executor.run = async (h, cmd) => {
    if (cmd.argv.join(' ') === 'pkg install 2.0') installed = true;
    if (installed) r.answers.set('pkg version', { exitCode: 0, stdout: '2.0' });
    return run(h, cmd);
  };
  t.is(await reconcile(r.deps, r.target, r.deps.runbook.steps.upgrade!), 'done');
  t.deepEqual(r.sent, ['virsh list --name', 'pkg version', 'pkg install 2.0', 'pkg version', 'pkg audit']);
  t.deepEqual(await steps(r), ['upgrade:require', 'upgrade:check', 'upgrade', 'upgrade:confirm', 'upgrade:confirm']);
});

test('a requirement that does not hold fails the step without retry, names the host, the requirement and what was seen; nothing else is sent', async (t) => {
  const r = await rig(t);
  r.answers.set('virsh list --name', { exitCode: 0, stdout: 'intruder\n\n' });
  const e = await t.throwsAsync(reconcile(r.deps, r.target, r.deps.runbook.steps.upgrade!));
  t.true(e instanceof HvrollError);
  t.false((e as HvrollError).retryable);
  t.regex(e!.message, /^upgrade on hv-1: requirement "host empty" does not hold \(output "intruder", expected ""\); seen: "intruder"\. Nothing of this step was run there and it is not retried\. Fix: look at hv-1/);
  t.like((e as HvrollError).details, { host: 'hv-1', step: 'upgrade', requirement: 'host empty', reason: 'requirement' });
  t.deepEqual(r.sent, ['virsh list --name']);
});

test('a requirement that sees another hvroll campaign\'s disable names that campaign and says how to get the host back', async (t) => {
  const r = await rig(t, RUNBOOK.replace('[virsh, list, --name], expect: { exitCode: 0, stdout: "" }', '[cat, /m], expect: { stdoutMatches: "^(?!hvroll:)|^hvroll:{campaign}:" }'));
  r.answers.set('cat /m', { exitCode: 0, stdout: 'hvroll:night-run:r1/2\n' });
  const e = await t.throwsAsync(reconcile(r.deps, r.target, r.deps.runbook.steps.upgrade!));
  t.regex(e!.message, /hv-1 is disabled by hvroll campaign night-run \(group r1\/2\); it is not taken over/);
  t.regex(e!.message, /Fix: let campaign night-run finish, or abort it/);
  t.like((e as HvrollError).details, { otherCampaign: 'night-run', reason: 'requirement' });
  r.answers.set('cat /m', { exitCode: 0, stdout: 'hvroll:c1:g1\n' });
  r.answers.set('pkg version', { exitCode: 0, stdout: '2.0' });
  t.is(await reconcile(r.deps, r.target, r.deps.runbook.steps.upgrade!), 'already-done', 'our own disable passes');
});

test('the check holding with no run of ours in the journal is "already done": the confirm is not asked', async (t) => {
  const r = await rig(t);
  r.answers.set('virsh list --name', { exitCode: 0 });
  r.answers.set('pkg version', { exitCode: 0, stdout: '2.0' });
  t.is(await reconcile(r.deps, r.target, r.deps.runbook.steps.upgrade!), 'already-done');
  t.deepEqual(r.sent, ['virsh list --name', 'pkg version']);
});

test('after a failed run of ours, the check holding is not enough: the confirm must hold too, else the step runs again', async (t) => {
  const r = await rig(t);
  r.answers.set('virsh list --name', { exitCode: 0 });
  r.answers.set('pkg version', { exitCode: 0, stdout: '1.0' });
  r.answers.set('pkg install 2.0', { exitCode: 100, stderr: 'post-installation script returned error exit status 1' });
  // First attempt: the install fails half-way — the new version is in, its configuration is not.
  const run = r.deps.executor.run.bind(r.deps.executor);
  r.deps.executor.run = async (h, cmd) => {
    const out = await run(h, cmd);
    if (cmd.argv.join(' ') === 'pkg install 2.0') {
      r.answers.set('pkg version', { exitCode: 0, stdout: '2.0' });
      r.answers.set('pkg audit', { exitCode: 0, stdout: 'The following packages are only half configured: pkg' });
    }
    return out;
  };
  const first = await t.throwsAsync(reconcile(r.deps, r.target, r.deps.runbook.steps.upgrade!));
  t.true((first as HvrollError).retryable);
  t.regex(first!.message, /exited 100/);
  // The retry: the check alone would call it done.
  r.sent.length = 0;
  const second = await t.throwsAsync(reconcile(r.deps, r.target, r.deps.runbook.steps.upgrade!));
  t.regex(second!.message, /exited 100/);
  t.deepEqual(r.sent, ['virsh list --name', 'pkg version', 'pkg version', 'pkg audit', 'pkg install 2.0'], 'check, then the confirm, then the run again');
  // Once the package is configured for real, the retry finds it done without installing again.
  r.answers.set('pkg audit', { exitCode: 0, stdout: '' });
  r.sent.length = 0;
  t.is(await reconcile(r.deps, r.target, r.deps.runbook.steps.upgrade!), 'already-done');
  t.deepEqual(r.sent, ['virsh list --name', 'pkg version', 'pkg version', 'pkg audit']);
});

test('after a run killed mid-command (intent journalled, no outcome), "already done" needs the confirm too', async (t) => {
  const r = await rig(t);
  await r.deps.store.journalIntent({ key: 'c1/g1/upgrade/hv-1', group: 'g1', step: 'upgrade', host: 'hv-1', argv: ['pkg', 'install', '2.0'], startedAt: new Date().toISOString(), operator: 'tester' });
  r.answers.set('virsh list --name', { exitCode: 0 });
  r.answers.set('pkg version', { exitCode: 0, stdout: '2.0' });
  r.answers.set('pkg audit', { exitCode: 0, stdout: 'The following packages have been unpacked but not yet configured: pkg' });
  r.answers.set('pkg install 2.0', { exitCode: 0 });
  const e = await t.throwsAsync(reconcile(r.deps, r.target, r.deps.runbook.steps.upgrade!));
  t.regex(e!.message, /upgrade did not take: configured on hv-1/);
  t.deepEqual(r.sent, ['virsh list --name', 'pkg version', 'pkg version', 'pkg audit', 'pkg install 2.0', 'pkg version', 'pkg audit']);
});

test('a state the step must leave alone (leaveAlone) stops it after the check: nothing is run', async (t) => {
  const r = await rig(t);
  r.answers.set('virsh list --name', { exitCode: 0 });
  r.answers.set('pkg version', { exitCode: 0, stdout: '1.0' });
  t.is(await reconcile(r.deps, r.target, r.deps.runbook.steps.upgrade!, { leaveAlone: () => Promise.resolve(true) }), 'left-alone');
  t.deepEqual(r.sent, ['virsh list --name', 'pkg version']);
});

test('become: sudo — sudo wanting a password is a non-retryable error that names the host, the command and the fix', async (t) => {
  const r = await rig(t, RUNBOOK.replace('platform: test', 'platform: test\nbecome: sudo'));
  r.answers.set('sudo -n -- virsh list --name', { exitCode: 1, stderr: 'sudo: a password is required\n' });
  const e = await t.throwsAsync(reconcile(r.deps, r.target, r.deps.runbook.steps.upgrade!));
  t.false((e as HvrollError).retryable);
  t.regex(e!.message, /^hv-1: sudo refused to run `sudo -n -- virsh list --name`: "sudo: a password is required"\..*Fix: give the SSH user a NOPASSWD sudoers entry/);
  t.like((e as HvrollError).details, { host: 'hv-1', reason: 'sudo' });
  const journal = await r.deps.store.journal();
  t.deepEqual(journal.map((j) => [j.step, j.argv, j.outcome?.exitCode]), [['upgrade:require', ['sudo', '-n', '--', 'virsh', 'list', '--name'], 1]], 'journalled as sent, with its outcome');
});
