// One group's machine, live: created fresh or restored from the store, every snapshot persisted (in order,
// awaited before the group counts as finished), operator requests forwarded to it.

import { createActor, waitFor, type Actor, type SnapshotFrom } from 'xstate';
import { GROUP_MACHINE_VERSION, groupMachine, type ActiveStep, type GroupMachineInput } from '../machines/group-machine.ts';
import { HvrollError, recordDetails } from '../model/errors.ts';
import { journalStepOf, type Probe } from '../model/journal.ts';
import type { EngineDeps } from './deps.ts';
import type { EngineEvent, EngineListener } from '../model/events.ts';
import { stepActors } from './steps/actors.ts';
import { groupOf, STEP_OF } from './steps/common.ts';

export type GroupFinal = 'done' | 'failed' | 'aborted' | 'paused';

export interface GroupResult {
  group: string;
  state: GroupFinal;
  error: string | null;
  outOfPool: { host: string; why: string }[];
}

type GroupActor = Actor<typeof groupMachine>;

export interface LiveGroup {
  actor: GroupActor;
  result: Promise<GroupResult>;
}


/** States in which a group has not yet touched its hosts (in this run). */
const NOT_STARTED = new Set(['pending', 'awaitingApproval', 'paused', 'done', 'failed', 'aborted']);

/** Probes whose non-zero exit is an answer (not done yet, no remnant, not disabled before), never the failure. */
const ANSWERS = new Set<Probe | undefined>(['check', 'leftover-check', 'pre-disabled-check']);

/** The step that failed a group: from its error, and the last failed command of that host in the journal. */
function stepFailure(deps: EngineDeps, group: string, ctx: SnapshotFrom<typeof groupMachine>['context']): Extract<EngineEvent, { type: 'step.failed' }> {
  const details = recordDetails(ctx.error, 'remote') ?? {};
  const host = details.host ?? details.hosts?.[0] ?? null;
  const step = details.step ?? (ctx.failedStep ? STEP_OF[ctx.failedStep] : 'unknown');
  // Only on failure, so scanning this group's journal costs nothing per healthy step. A check exiting
  // non-zero is an answer ("not done yet"), not the failure.
  const last = deps.store
    .liveJournal({ group, ...(host ? { host } : {}) })
    .filter((e) => !ANSWERS.has(journalStepOf(e).probe) && e.outcome && (e.outcome.error || e.outcome.exitCode !== 0))
    .at(-1);
  return {
    type: 'step.failed',
    group,
    step,
    host: host ?? last?.host ?? null,
    exitCode: details.exitCode ?? last?.outcome?.exitCode ?? null,
    outputTail: (last?.outcome?.outputTail ?? '').split('\n').slice(-10).join('\n'),
    error: ctx.error?.message ?? 'failed',
  };
}

export function groupInput(deps: EngineDeps, name: string): GroupMachineInput {
  const g = groupOf(deps, name);
  const retries = Object.fromEntries(
    Object.entries(STEP_OF).map(([state, step]) => [state, deps.runbook.steps[step]?.retries ?? 0]),
  ) as Record<ActiveStep, number>;
  return { campaignId: deps.campaignId, group: name, hosts: g.hosts, needsApproval: g.approval, retries };
}

/** The saved snapshot of a group, refusing one written by another machine version. */
export function savedSnapshot(deps: EngineDeps, name: string): SnapshotFrom<typeof groupMachine> | undefined {
  const saved = deps.store.groupSnapshot(name);
  if (!saved) return undefined;
  if (saved.machineVersion !== GROUP_MACHINE_VERSION) {
    throw new HvrollError('store', `group ${name} was saved by machine version ${saved.machineVersion}; this hvroll runs ${GROUP_MACHINE_VERSION}. Finish the campaign with the hvroll version that started it.`);
  }
  return saved.snapshot as SnapshotFrom<typeof groupMachine>;
}

export function startGroup(deps: EngineDeps, name: string, listener: EngineListener, onFatal: (e: unknown) => void): LiveGroup {
  const machine = groupMachine.provide({ actors: stepActors(deps) });
  const snapshot = savedSnapshot(deps, name);
  const input = groupInput(deps, name);
  const actor = createActor(machine, snapshot ? { input, snapshot } : { input });
  let saving: Promise<void> = Promise.resolve();
  let lastState = '';
  let startedAt: number | null = null;
  actor.subscribe({
    next: (s) => {
      const persisted = actor.getPersistedSnapshot();
      saving = saving
        // A group in `done` is never run again: its journal may leave memory (a failed one is still reported from it).
        .then(() => deps.store.saveGroupSnapshot(name, { machineVersion: GROUP_MACHINE_VERSION, snapshot: persisted, ...(s.status === 'done' && s.value === 'done' ? { settled: true } : {}) }))
        .then(() => deps.checkpoint?.('snapshot'))
        .catch((e: unknown) => onFatal(e));
      const state = String(s.value);
      if (state !== lastState) {
        lastState = state;
        listener({ type: 'group.state', group: name, state, hosts: input.hosts });
        if (state === 'awaitingApproval') listener({ type: 'group.awaiting-approval', group: name, className: groupOf(deps, name).class });
        if (startedAt === null && !NOT_STARTED.has(state)) {
          startedAt = deps.clock.now();
          listener({ type: 'group.started', group: name, className: groupOf(deps, name).class, hosts: input.hosts });
        }
      }
    },
    error: (e) => onFatal(e),
  });
  actor.start();
  const approval = deps.store.approvals(name).at(-1);
  if (String(actor.getSnapshot().value) === 'pending') actor.send({ type: 'START' });
  if (approval && String(actor.getSnapshot().value) === 'awaitingApproval') actor.send({ type: 'APPROVE', operator: approval.operator });
  if (String(actor.getSnapshot().value) === 'paused') actor.send({ type: 'RESUME' });

  const result = (async (): Promise<GroupResult> => {
    const final = await waitFor(actor, (s) => s.status === 'done' || s.value === 'paused', { timeout: Infinity });
    await saving;
    const state = String(final.value) as GroupFinal;
    const result: GroupResult = { group: name, state, error: final.context.error?.message ?? null, outOfPool: final.context.outOfPool };
    if (state === 'failed') listener(stepFailure(deps, name, final.context));
    if (state !== 'paused') {
      const durationMs = startedAt === null ? undefined : deps.clock.now() - startedAt;
      listener({ type: 'group.finished', group: name, state, ...(result.error ? { error: result.error } : {}), outOfPool: result.outOfPool, ...(durationMs === undefined ? {} : { durationMs }) });
    }
    actor.stop();
    return result;
  })();
  return { actor, result };
}
