// One group's machine, live: created fresh or restored from the store, every snapshot persisted (in order,
// awaited before the group counts as finished), operator requests forwarded to it.

import { createActor, waitFor, type Actor, type SnapshotFrom } from 'xstate';
import { GROUP_MACHINE_VERSION, groupMachine, type ActiveStep, type GroupMachineInput } from '../machines/group-machine.ts';
import { HvrollError } from '../model/errors.ts';
import { crashPoint } from './crash-point.ts';
import type { EngineDeps } from './deps.ts';
import type { EngineListener } from './events.ts';
import { groupOf, STEP_OF, stepActors } from './steps.ts';

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
  actor.subscribe({
    next: (s) => {
      const persisted = actor.getPersistedSnapshot();
      saving = saving
        .then(() => deps.store.saveGroupSnapshot(name, { machineVersion: GROUP_MACHINE_VERSION, snapshot: persisted }))
        .then(() => crashPoint('snapshot'))
        .catch((e: unknown) => onFatal(e));
      const state = String(s.value);
      if (state !== lastState) {
        lastState = state;
        listener({ type: 'group.state', group: name, state, hosts: input.hosts });
        if (state === 'awaitingApproval') listener({ type: 'group.awaiting-approval', group: name, className: groupOf(deps, name).class });
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
    if (state !== 'paused') {
      listener({ type: 'group.finished', group: name, state, ...(result.error ? { error: result.error } : {}), outOfPool: result.outOfPool });
    }
    actor.stop();
    return result;
  })();
  return { actor, result };
}
