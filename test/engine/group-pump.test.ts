// The scheduling pass on its own, with group machines faked: what it starts when, what it restores from the
// store, how it counts the failure budget, and how hosts left out of the pool hold their group's slots until
// they are released. (The campaign tests run it with real machines over SSH.)
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { EngineDeps } from '../../src/engine/deps.ts';
import type { GroupResult } from '../../src/engine/group-runner.ts';
import { GroupPump, type PumpHost } from '../../src/engine/group-pump.ts';
import type { OutOfPoolHost } from '../../src/model/out-of-pool.ts';
import { systemClock } from '../../src/engine/clock.ts';
import { GROUP_MACHINE_VERSION } from '../../src/machines/group-machine.ts';
import type { EngineEvent } from '../../src/model/events.ts';
import type { PlanFile } from '../../src/model/plan.ts';
import { toPlanFile } from '../../src/plan-file/plan-file.ts';
import { buildPlan } from '../../src/planner/plan.ts';
import { CampaignStore } from '../../src/store/store.ts';
import { host, inventory, type RulesPatch } from '../planner/fixtures.ts';

/** Empty hosts, one group each (no group waits for another): only the limits order them. */
async function depsFor(hosts: number, patch: RulesPatch): Promise<EngineDeps> {
  const inv = inventory(Array.from({ length: hosts }, (_, i) => host(`hv-${i + 1}`)), [], patch);
  const plan: PlanFile = toPlanFile(buildPlan(inv), { fingerprint: 'sha256:test', inputs: { inventory: ['<test>'], ansible: null, runbook: null } });
  const store = await CampaignStore.create(join(mkdtempSync(join(tmpdir(), 'hvroll-pump-')), 'c1'), { campaignId: 'c1', operator: 'tester', plan, planFingerprint: plan.fingerprint, machineVersion: GROUP_MACHINE_VERSION });
  return { campaignId: 'c1', plan, hosts: new Map(inv.hosts.map((h) => [h.name, h])), store, clock: systemClock, log: pino({ level: 'silent' }), operator: 'tester' } as unknown as EngineDeps;
}

/** The campaign run around the pass: starts are recorded, and each group ends when the test says so. */
class FakeRun implements PumpHost {
  readonly started: string[] = [];
  readonly ends = new Map<string, (r: GroupResult) => void>();
  stopped = false;
  fatalError: unknown = null;
  inFlightReleases = 0;
  pausedFor: { groups: string[]; hosts: OutOfPoolHost[] } | null = null;
  halted = () => this.stopped || this.fatalError !== null;
  fatal = () => this.fatalError;
  onFatal = (e: unknown) => void (this.fatalError ??= e);
  start(group: string): Promise<GroupResult> {
    this.started.push(group);
    return new Promise((resolve) => this.ends.set(group, resolve));
  }
  releasing = () => this.inFlightReleases;
  pauseForRelease(groups: string[], hosts: OutOfPoolHost[]): void {
    this.pausedFor = { groups, hosts };
  }
  async end(group: string, state: GroupResult['state'], outOfPool: { host: string; why: string }[] = []): Promise<void> {
    this.ends.get(group)!({ group, state, error: state === 'failed' ? 'verify did not take' : null, outOfPool });
    await new Promise((r) => setImmediate(r));
  }
}

const settled = () => new Promise((r) => setImmediate(r));

test('starts groups as the limits allow, one more as each ends, and ends when nothing is left', async (t) => {
  const deps = await depsFor(3, { concurrency: { groups: 2 } });
  t.teardown(() => deps.store.close());
  const run = new FakeRun();
  const events: EngineEvent[] = [];
  const pass = new GroupPump(deps, (e) => void events.push(e), run);
  const output = pass.run();
  await settled();
  t.deepEqual(run.started, ['hv-1', 'hv-2'], 'two at once');
  await run.end('hv-1', 'done');
  t.deepEqual(run.started, ['hv-1', 'hv-2', 'hv-3'], 'the next one as soon as a slot is free');
  await run.end('hv-2', 'done');
  await run.end('hv-3', 'done');
  t.deepEqual(await output, { failed: [], aborted: [], blocked: [], outOfPool: [], interrupted: false });
  t.true(events.some((e) => e.type === 'wave.started'));
});

test('more failures than the budget allows: no new group starts, budget.reached is said once, the pass is not "interrupted"', async (t) => {
  const deps = await depsFor(3, { concurrency: { groups: 1 }, failureBudget: 0 });
  t.teardown(() => deps.store.close());
  const run = new FakeRun();
  const events: EngineEvent[] = [];
  const output = new GroupPump(deps, (e) => void events.push(e), run).run();
  await settled();
  await run.end('hv-1', 'failed');
  t.deepEqual(run.started, ['hv-1']);
  const out = await output;
  t.deepEqual(out.failed, ['hv-1']);
  t.false(out.interrupted);
  t.deepEqual(events.filter((e) => e.type === 'budget.reached'), [{ type: 'budget.reached', failed: 1, budget: 0 }]);
});

test('restores from the store: a group that ended is not started again, one saved mid-step resumes first', async (t) => {
  const deps = await depsFor(3, { concurrency: { groups: 1 } });
  t.teardown(() => deps.store.close());
  const snapshot = (value: string) => ({ machineVersion: GROUP_MACHINE_VERSION, snapshot: { value, context: { error: null, outOfPool: [] } } });
  await deps.store.saveGroupSnapshot('hv-1', snapshot('done'));
  await deps.store.saveGroupSnapshot('hv-3', snapshot('upgrading'));
  const run = new FakeRun();
  const output = new GroupPump(deps, () => undefined, run).run();
  await settled();
  t.deepEqual(run.started, ['hv-3'], 'the group restored mid-step, although it comes later in the plan');
  await run.end('hv-3', 'done');
  t.deepEqual(run.started, ['hv-3', 'hv-2']);
  await run.end('hv-2', 'done');
  t.deepEqual((await output).failed, []);
});

test('a group that pauses goes back to waiting: the pass ends interrupted, and nothing is called blocked', async (t) => {
  const deps = await depsFor(2, { concurrency: { groups: 1 } });
  t.teardown(() => deps.store.close());
  const run = new FakeRun();
  const output = new GroupPump(deps, () => undefined, run).run();
  await settled();
  run.stopped = true; // an operator's pause: nothing new starts
  await run.end('hv-1', 'paused');
  const out = await output;
  t.true(out.interrupted);
  t.deepEqual(out.blocked, []);
  t.deepEqual(run.started, ['hv-1']);
});

test('a host left out of the pool holds its group\'s slot: with nothing else running the campaign pauses for it; a release frees it', async (t) => {
  const deps = await depsFor(3, { concurrency: { groups: 1 }, failureBudget: 1 });
  t.teardown(() => deps.store.close());
  const run = new FakeRun();
  const first = new GroupPump(deps, () => undefined, run);
  const output = first.run();
  await settled();
  await deps.store.saveGroupSnapshot('hv-1', { machineVersion: GROUP_MACHINE_VERSION, snapshot: { value: 'failed', context: { error: { kind: 'remote', message: 'x', retryable: false }, outOfPool: [{ host: 'hv-1', why: 'not verified' }] } } });
  await run.end('hv-1', 'failed', [{ host: 'hv-1', why: 'not verified' }]);
  t.deepEqual(run.started, ['hv-1'], 'hv-2 waits: hv-1 still holds the only slot');
  const out = await output;
  t.true(out.interrupted);
  t.deepEqual(run.pausedFor, { groups: ['hv-2'], hosts: [{ host: 'hv-1', group: 'hv-1', why: 'not verified' }] });
  t.deepEqual(out.outOfPool, [{ host: 'hv-1', why: 'not verified' }]);

  // The next pass (after a resume) restores the hold from the store; a release during it frees the slot.
  const again = new FakeRun();
  again.inFlightReleases = 1; // a release is under way: the pass waits for it
  const second = new GroupPump(deps, () => undefined, again);
  const output2 = second.run();
  await settled();
  t.deepEqual(again.started, []);
  await deps.store.recordRelease({ host: 'hv-1', group: 'hv-1', operator: 'bob', at: new Date().toISOString() });
  second.hostReleased('hv-1');
  again.inFlightReleases = 0;
  second.pump();
  t.deepEqual(again.started, ['hv-2']);
  await again.end('hv-2', 'done');
  await again.end('hv-3', 'done');
  const out2 = await output2;
  t.false(out2.interrupted);
  t.deepEqual(out2.failed, ['hv-1']);
  t.deepEqual(out2.outOfPool, [], 'released');
});
test('a group that cannot start (a snapshot of another machine version) is fatal: nothing else starts, the pass fails with it', async (t) => {
  const deps = await depsFor(2, { concurrency: { groups: 2 } });
  t.teardown(() => deps.store.close());
  const run = new FakeRun();
  const refused = new Error('group hv-1 was saved by machine version group/0');
  run.start = (group: string) => {
    run.started.push(group);
    throw refused;
  };
  const err = await t.throwsAsync(new GroupPump(deps, () => undefined, run).run());
  t.is(err, refused);
  t.deepEqual(run.started, ['hv-1'], 'the first refusal stops the campaign');
});
