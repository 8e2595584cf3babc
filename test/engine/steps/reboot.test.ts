// The reboot step on its own, against a scripted host and the real store: a host is rebooted exactly once,
// whatever a killed run left in the journal, and never when its requirements do not hold.
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { systemClock } from '../../../src/engine/clock.ts';
import type { EngineDeps } from '../../../src/engine/deps.ts';
import { MigrationLimiter } from '../../../src/engine/limiter.ts';
import { reboot } from '../../../src/engine/steps/reboot.ts';
import type { CommandResult, Executor } from '../../../src/executor/executor.ts';
import type { PlanFile } from '../../../src/model/plan.ts';
import { parseRunbook } from '../../../src/runbook/parse.ts';
import { CampaignStore, stepKey } from '../../../src/store/store.ts';

const RUNBOOK = `platform: test
discover: { run: [virsh, list] }
steps:
  migrate: { check: [{ run: [m, "{vm}"] }], run: [[m, "{vm}"]] }
  upgrade: { check: [{ run: [pkg, version] }], run: [[pkg, install]] }
  reboot:
    timeoutSeconds: 4
    require:
      - { name: host empty, run: [virsh, list, --name], expect: { exitCode: 0, stdout: "" } }
    run: [[systemctl, reboot]]
`;

const BOOT_ID = 'cat /proc/sys/kernel/random/boot_id';

interface Host {
  bootId: string;
  empty: boolean;
  /** Whether `systemctl reboot` changes the boot id (false: it never takes). */
  rebootTakes: boolean;
  /** A reboot already under way: the boot id changes after this many reads of it. */
  newBootAfterReads?: number;
  sent: string[];
}

async function rig(t: ExecutionContext, host: Partial<Host> = {}): Promise<{ deps: EngineDeps; host: Host }> {
  const dir = mkdtempSync(join(tmpdir(), 'hvroll-reboot-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const parsed = parseRunbook('rb.yaml', RUNBOOK);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
  const store = await CampaignStore.create(join(dir, 'c'), { campaignId: 'c1', operator: 'tester', plan: { groups: [] } as unknown as PlanFile, planFingerprint: 'sha256:x', machineVersion: 'group/1' });
  t.teardown(() => store.close().catch(() => undefined));
  const h: Host = { bootId: 'boot-A', empty: true, rebootTakes: true, sent: [], ...host };
  const answer = (stdout: string, exitCode = 0): CommandResult => ({ exitCode, signal: null, stdout, stdoutTail: stdout, stderrTail: '', durationMs: 1, timedOut: false });
  const executor: Executor = {
    run: async (_ref, cmd) => {
      const a = cmd.argv.join(' ');
      h.sent.push(a);
      if (a === BOOT_ID) {
        const reads = h.sent.filter((c) => c === BOOT_ID).length;
        if (reads === h.newBootAfterReads) h.bootId = `${h.bootId}'`;
        return answer(`${h.bootId}\n`);
      }
      if (a === 'virsh list --name') return answer(h.empty ? '' : 'vm-1\n');
      if (a === 'systemctl reboot') {
        if (h.rebootTakes) h.bootId = `${h.bootId}'`;
        return answer('');
      }
      return answer('', 127);
    },
    waitForHost: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  const deps = {
    campaignId: 'c1',
    plan: { groups: [] } as unknown as PlanFile,
    hosts: new Map(),
    runbook: parsed.value,
    vars: {},
    controller: null,
    executor,
    store,
    clock: systemClock,
    log: pino({ level: 'silent' }),
    operator: 'tester',
    limiter: new MigrationLimiter(1, 1),
  } satisfies EngineDeps;
  return { deps, host: h };
}

const run = (deps: EngineDeps) => reboot(deps, { campaignId: 'c1', group: 'g1', hosts: ['hv-1'], step: 'rebooting', attempt: 0 }, new AbortController().signal);

/** What a killed run left: the boot id it recorded, and its reboot command (with an outcome, or without one). */
async function killedRun(deps: EngineDeps, bootId: string, reboot: 'delivered' | 'unknown'): Promise<void> {
  const at = new Date().toISOString();
  const id = await deps.store.journalIntent({ key: stepKey('c1', 'g1', 'reboot:boot-id', 'hv-1'), group: 'g1', step: 'reboot:boot-id', host: 'hv-1', startedAt: at, operator: 'tester', probe: 'boot-id', effect: false });
  await deps.store.journalOutcome(id, { exitCode: 0, outputTail: `${bootId}\n`, endedAt: at, held: true });
  const sent = await deps.store.journalIntent({ key: stepKey('c1', 'g1', 'reboot', 'hv-1'), group: 'g1', step: 'reboot', host: 'hv-1', argv: ['systemctl', 'reboot'], startedAt: at, operator: 'tester', effect: true });
  if (reboot === 'delivered') await deps.store.journalOutcome(sent, { exitCode: 0, outputTail: '', endedAt: at });
}

test('first run: the requirement, the boot id, one reboot, then the new boot id', async (t) => {
  const { deps, host } = await rig(t);
  await run(deps);
  t.deepEqual(host.sent, ['virsh list --name', BOOT_ID, 'systemctl reboot', BOOT_ID]);
  t.deepEqual((await deps.store.journal()).map((e) => e.step), ['reboot:require', 'reboot:boot-id', 'reboot', 'reboot:confirm']);
});

test('a host whose requirement does not hold is never rebooted, and its boot id is not even read', async (t) => {
  const { deps, host } = await rig(t, { empty: false });
  await t.throwsAsync(run(deps), { message: /requirement "host empty" does not hold/ });
  t.deepEqual(host.sent, ['virsh list --name']);
});

test('resumed after the reboot took: nothing is sent but the boot id read', async (t) => {
  const { deps, host } = await rig(t, { bootId: 'boot-B' });
  await killedRun(deps, 'boot-A', 'delivered');
  await run(deps);
  t.deepEqual(host.sent, [BOOT_ID]);
});

test('resumed after a reboot was delivered but has not taken yet: waited for, never sent again', async (t) => {
  const { deps, host } = await rig(t, { bootId: 'boot-A', newBootAfterReads: 3 });
  await killedRun(deps, 'boot-A', 'delivered');
  await run(deps);
  t.false(host.sent.includes('systemctl reboot'));
  t.deepEqual(host.sent, [BOOT_ID, BOOT_ID, BOOT_ID], 'the same boot id twice, then the new one');
});

test('resumed after a reboot whose delivery is unknown and that never took: sent once, after the grace period and the requirement', async (t) => {
  const { deps, host } = await rig(t, { bootId: 'boot-A' });
  await killedRun(deps, 'boot-A', 'unknown');
  await run(deps);
  t.is(host.sent.filter((c) => c === 'systemctl reboot').length, 1);
  t.deepEqual(host.sent.slice(-3), ['virsh list --name', 'systemctl reboot', BOOT_ID], 'the requirement, then the reboot, then the new boot id');
});
