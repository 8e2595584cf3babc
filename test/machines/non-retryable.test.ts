// An error that says it is not retryable fails its step at once, whatever retries the runbook allows: a
// changed host key, a VM the plan does not know or a migration aborted for making no progress would only
// fail the same way again (and a retry costs the step's whole wait each time).
import test from 'ava';
import { createActor, fromPromise, waitFor } from 'xstate';
import { HvrollError } from '../../src/model/errors.ts';
import { groupMachine, type RollbackInput, type RollbackOutput, type StepInput } from '../../src/machines/group-machine.ts';

const input = {
  campaignId: 'c1',
  group: 'g1',
  hosts: ['hv-1'],
  needsApproval: false,
  retries: { disabling: 2, draining: 2, upgrading: 2, rebooting: 0, verifying: 2, rejoining: 2 },
};

function machine(error: unknown, calls: string[]) {
  const ok = (name: string) => fromPromise<void, StepInput>(async ({ input: i }) => void calls.push(`${name}#${i.attempt}`));
  return groupMachine.provide({
    actors: {
      disableHosts: ok('disable'),
      drainHosts: fromPromise<void, StepInput>(async ({ input: i }) => {
        calls.push(`drain#${i.attempt}`);
        throw error;
      }),
      upgradeHosts: ok('upgrade'),
      rebootHosts: ok('reboot'),
      verifyHosts: ok('verify'),
      rejoinHosts: ok('rejoin'),
      rollbackGroup: fromPromise<RollbackOutput, RollbackInput>(async () => ({ outOfPool: [] })),
    },
  });
}

test('a non-retryable error fails the step on its first attempt', async (t) => {
  const calls: string[] = [];
  const actor = createActor(machine(new HvrollError('remote', 'no progress', { retryable: false, details: { reason: 'no-progress' } }), calls), { input }).start();
  actor.send({ type: 'START' });
  const s = await waitFor(actor, (x) => x.status === 'done');
  t.is(s.value, 'failed');
  t.deepEqual(calls, ['disable#0', 'drain#0']);
  t.false(s.context.error?.retryable);
});

test('a retryable error is still retried up to the bound', async (t) => {
  const calls: string[] = [];
  const actor = createActor(machine(new HvrollError('remote', 'dropped', { retryable: true }), calls), { input }).start();
  actor.send({ type: 'START' });
  const s = await waitFor(actor, (x) => x.status === 'done');
  t.is(s.value, 'failed');
  t.deepEqual(calls, ['disable#0', 'drain#0', 'drain#1', 'drain#2']);
});

test('a plain Error (a bug, not a remote failure) is not retried either', async (t) => {
  const calls: string[] = [];
  const actor = createActor(machine(new Error('boom'), calls), { input }).start();
  actor.send({ type: 'START' });
  await waitFor(actor, (x) => x.status === 'done');
  t.deepEqual(calls, ['disable#0', 'drain#0']);
});
