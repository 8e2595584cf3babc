import test from 'ava';
import { createActor, fromPromise, waitFor, type SnapshotFrom } from 'xstate';
import { HvrollError } from '../../src/model/errors.ts';
import { groupMachine, type RollbackInput, type RollbackOutput, type StepInput } from '../../src/machines/group-machine.ts';

const input = {
  campaignId: 'c1',
  group: 'g1',
  hosts: ['hv-1', 'hv-2'],
  needsApproval: false,
  retries: { disabling: 1, draining: 2, upgrading: 1, rebooting: 0, verifying: 1, rejoining: 1 },
};

interface Script {
  calls: string[];
  fail?: Partial<Record<string, number>>;
  hold?: string;
  rollbacks: RollbackInput[];
  release?: () => void;
}

function provided(script: Script) {
  const step = (name: string) =>
    fromPromise<void, StepInput>(async ({ input: i }) => {
      script.calls.push(`${name}#${i.attempt}`);
      if (script.hold === name) await new Promise<void>((resolve) => (script.release = resolve));
      const left = script.fail?.[name] ?? 0;
      if (left > 0) {
        script.fail![name] = left - 1;
        throw new HvrollError('remote', `${name} failed`, { retryable: true, details: { host: 'hv-1' } });
      }
    });
  return groupMachine.provide({
    actors: {
      disableHosts: step('disable'),
      drainHosts: step('drain'),
      upgradeHosts: step('upgrade'),
      rebootHosts: step('reboot'),
      verifyHosts: step('verify'),
      rejoinHosts: step('rejoin'),
      rollbackGroup: fromPromise<RollbackOutput, RollbackInput>(async ({ input: i }) => {
        script.rollbacks.push(i);
        const before = ['pending', 'disabling', 'draining'].includes(i.phase);
        return { outOfPool: before ? [] : i.hosts.map((host) => ({ host, why: `left after ${i.phase}` })) };
      }),
    },
  });
}

test('a group runs every step in order to done', async (t) => {
  const script: Script = { calls: [], rollbacks: [] };
  const actor = createActor(provided(script), { input }).start();
  actor.send({ type: 'START' });
  const s = await waitFor(actor, (x) => x.status === 'done');
  t.is(s.value, 'done');
  t.deepEqual(script.calls, ['disable#0', 'drain#0', 'upgrade#0', 'reboot#0', 'verify#0', 'rejoin#0']);
  t.is(s.context.phase, 'rejoining');
});

test('a class that needs approval waits for it and records who approved', async (t) => {
  const script: Script = { calls: [], rollbacks: [] };
  const actor = createActor(provided(script), { input: { ...input, needsApproval: true } }).start();
  actor.send({ type: 'START' });
  t.is(actor.getSnapshot().value, 'awaitingApproval');
  t.deepEqual(script.calls, []);
  actor.send({ type: 'APPROVE', operator: 'alice' });
  const s = await waitFor(actor, (x) => x.status === 'done');
  t.is(s.context.approvedBy, 'alice');
});

test('a failing step is retried up to its bound; each retry re-runs the step with the attempt number', async (t) => {
  const script: Script = { calls: [], rollbacks: [], fail: { drain: 2 } };
  const actor = createActor(provided(script), { input }).start();
  actor.send({ type: 'START' });
  const s = await waitFor(actor, (x) => x.status === 'done');
  t.deepEqual(script.calls.filter((c) => c.startsWith('drain')), ['drain#0', 'drain#1', 'drain#2']);
  t.is(s.context.error, null);
});

test('past the retry bound the group fails safe: a drain failure rolls back (hosts re-enabled) with a serialisable error', async (t) => {
  const script: Script = { calls: [], rollbacks: [], fail: { drain: 5 } };
  const actor = createActor(provided(script), { input }).start();
  actor.send({ type: 'START' });
  const s = await waitFor(actor, (x) => x.status === 'done');
  t.is(s.value, 'failed');
  t.is(s.context.failedStep, 'draining');
  t.deepEqual(JSON.parse(JSON.stringify(s.context.error)), { kind: 'remote', message: 'drain failed', retryable: true, details: { host: 'hv-1' } });
  t.is(script.rollbacks[0]!.phase, 'disabling');
  t.deepEqual(s.context.outOfPool, []);
  t.false(script.calls.some((c) => c.startsWith('upgrade')));
});

test('a host that fails verification is never rejoined and is reported out of the pool', async (t) => {
  const script: Script = { calls: [], rollbacks: [], fail: { verify: 9 } };
  const actor = createActor(provided(script), { input }).start();
  actor.send({ type: 'START' });
  const s = await waitFor(actor, (x) => x.status === 'done');
  t.is(s.value, 'failed');
  t.false(script.calls.some((c) => c.startsWith('rejoin')));
  t.deepEqual(s.context.outOfPool.map((o) => o.host), ['hv-1', 'hv-2']);
});

test('pause takes effect when the step in flight finishes; resume continues with the next step', async (t) => {
  const script: Script = { calls: [], rollbacks: [], hold: 'drain' };
  const actor = createActor(provided(script), { input }).start();
  actor.send({ type: 'START' });
  await waitFor(actor, () => script.release !== undefined);
  actor.send({ type: 'PAUSE' });
  t.is(actor.getSnapshot().value, 'draining');
  script.release!();
  const paused = await waitFor(actor, (x) => x.value === 'paused');
  t.is(paused.context.resumeTo, 'upgrading');
  actor.send({ type: 'RESUME' });
  const s = await waitFor(actor, (x) => x.status === 'done');
  t.is(s.value, 'done');
  t.deepEqual(script.calls, ['disable#0', 'drain#0', 'upgrade#0', 'reboot#0', 'verify#0', 'rejoin#0']);
});

test('abort during the drain finishes the step, then rolls back: hosts not yet upgraded are re-enabled', async (t) => {
  const script: Script = { calls: [], rollbacks: [], hold: 'drain' };
  const actor = createActor(provided(script), { input }).start();
  actor.send({ type: 'START' });
  await waitFor(actor, () => script.release !== undefined);
  actor.send({ type: 'ABORT' });
  script.release!();
  const s = await waitFor(actor, (x) => x.status === 'done');
  t.is(s.value, 'aborted');
  t.is(script.rollbacks[0]!.reason, 'aborted');
  t.is(script.rollbacks[0]!.phase, 'draining');
  t.deepEqual(s.context.outOfPool, []);
});

test('abort during the upgrade leaves the hosts out of the pool and names them', async (t) => {
  const script: Script = { calls: [], rollbacks: [], hold: 'upgrade' };
  const actor = createActor(provided(script), { input }).start();
  actor.send({ type: 'START' });
  await waitFor(actor, () => script.release !== undefined);
  actor.send({ type: 'ABORT' });
  script.release!();
  const s = await waitFor(actor, (x) => x.status === 'done');
  t.is(s.value, 'aborted');
  t.deepEqual(s.context.outOfPool.map((o) => o.host), ['hv-1', 'hv-2']);
});

test('abort before any host was touched needs no rollback', async (t) => {
  const script: Script = { calls: [], rollbacks: [] };
  const actor = createActor(provided(script), { input: { ...input, needsApproval: true } }).start();
  actor.send({ type: 'START' });
  actor.send({ type: 'ABORT' });
  t.is(actor.getSnapshot().value, 'aborted');
  t.deepEqual(script.rollbacks, []);
});

test('a snapshot taken mid-step survives JSON; restored, the in-flight step runs again (and only it)', async (t) => {
  const script: Script = { calls: [], rollbacks: [], hold: 'upgrade' };
  const actor = createActor(provided(script), { input }).start();
  actor.send({ type: 'START' });
  await waitFor(actor, () => script.release !== undefined);
  const persisted = JSON.parse(JSON.stringify(actor.getPersistedSnapshot())) as SnapshotFrom<typeof groupMachine>;
  actor.stop();

  const after: Script = { calls: [], rollbacks: [] };
  const restored = createActor(provided(after), { input, snapshot: persisted }).start();
  const s = await waitFor(restored, (x) => x.status === 'done');
  t.is(s.value, 'done');
  t.deepEqual(after.calls, ['upgrade#0', 'reboot#0', 'verify#0', 'rejoin#0']);
  t.is(s.context.phase, 'rejoining');
});
