// The campaign machine on its own, with a fake scheduling pass: final states, pause/resume, and a restore
// from a persisted snapshot mid-pass (the pass runs again: STYLE.md §5).
import test from 'ava';
import { createActor, fromPromise, waitFor, type SnapshotFrom } from 'xstate';
import { campaignMachine, type RunGroupsInput, type RunGroupsOutput } from '../../src/machines/campaign-machine.ts';

const clean: RunGroupsOutput = { failed: [], aborted: [], blocked: [], outOfPool: [], interrupted: false };

function withPass(pass: (input: RunGroupsInput) => Promise<RunGroupsOutput>) {
  return campaignMachine.provide({ actors: { runGroups: fromPromise<RunGroupsOutput, RunGroupsInput>(({ input }) => pass(input)) } });
}

const input = { campaignId: 'c', groups: 3, failureBudget: 1 };

test('a pass that finishes everything ends the campaign done', async (t) => {
  const actor = createActor(withPass(async () => clean), { input }).start();
  const s = await waitFor(actor, (x) => x.status === 'done');
  t.is(s.value, 'done');
});

test('over the failure budget (exceeded, not equalled): stopped; within it: done with the failures listed', async (t) => {
  const over = createActor(withPass(async () => ({ ...clean, failed: ['a', 'b'] })), { input }).start();
  t.is((await waitFor(over, (x) => x.status === 'done')).value, 'stopped');
  const within = createActor(withPass(async () => ({ ...clean, failed: ['a'] })), { input }).start();
  const s = await waitFor(within, (x) => x.status === 'done');
  t.is(s.value, 'done');
  t.deepEqual(s.context.failed, ['a']);
});

test('groups that can never start (their dependency failed) stop the campaign, and are named', async (t) => {
  const blocked = [{ group: 'b', why: 'waits for group a, which failed' }];
  const actor = createActor(withPass(async () => ({ ...clean, failed: ['a'], blocked })), { input }).start();
  const s = await waitFor(actor, (x) => x.status === 'done');
  t.is(s.value, 'stopped');
  t.deepEqual(s.context.blocked, blocked);
});

test('pause: the pass winds down, the campaign waits in paused; RESUME runs a new pass', async (t) => {
  const passes: number[] = [];
  let release: (o: RunGroupsOutput) => void = () => undefined;
  const actor = createActor(
    withPass((i) => {
      passes.push(i.pass);
      return passes.length === 1 ? new Promise((r) => (release = r)) : Promise.resolve(clean);
    }),
    { input },
  ).start();
  actor.send({ type: 'PAUSE' });
  release({ ...clean, interrupted: true });
  await waitFor(actor, (x) => x.value === 'paused');
  actor.send({ type: 'RESUME' });
  const s = await waitFor(actor, (x) => x.status === 'done');
  t.is(s.value, 'done');
  t.deepEqual(passes, [0, 1]);
});

test('abort: the campaign ends aborted once the pass has let in-flight groups finish', async (t) => {
  let release: (o: RunGroupsOutput) => void = () => undefined;
  const actor = createActor(withPass(() => new Promise((r) => (release = r))), { input }).start();
  actor.send({ type: 'ABORT' });
  t.is(actor.getSnapshot().value, 'running', 'still running until the pass returns');
  release({ ...clean, aborted: ['a'], interrupted: true });
  const s = await waitFor(actor, (x) => x.status === 'done');
  t.is(s.value, 'aborted');
  t.deepEqual(s.context.aborted, ['a']);
});

test('restored from a snapshot taken mid-pass, the pass runs again (it reconciles from the store)', async (t) => {
  let calls = 0;
  const first = createActor(withPass(() => (calls++, new Promise<RunGroupsOutput>(() => undefined))), { input }).start();
  const persisted = first.getPersistedSnapshot() as SnapshotFrom<typeof campaignMachine>;
  first.stop();
  t.is(calls, 1);
  const again = createActor(withPass(async () => (calls++, clean)), { input, snapshot: persisted }).start();
  const s = await waitFor(again, (x) => x.status === 'done');
  t.is(s.value, 'done');
  t.is(calls, 2);
});

test('a plan with no group to run is done at once', async (t) => {
  const actor = createActor(withPass(() => Promise.reject(new Error('must not run'))), { input: { ...input, groups: 0 } }).start();
  t.is(actor.getSnapshot().value, 'done');
});
