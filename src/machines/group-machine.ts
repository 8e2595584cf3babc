// One host group through its maintenance: pending → awaitingApproval? → disabling → draining → upgrading →
// rebooting → verifying → rejoining → done, with paused, failing → failed and aborting → aborted.
//
// Every active state invokes a step by name; the engine provides the implementations (`.provide`), tests
// provide fakes. A restored snapshot re-runs the step that was in flight, so every step is a reconcile that
// asks the hosts what is already true before acting. Pause and abort take effect at step boundaries: the
// step in flight finishes (it has its own deadline), then the group stops or rolls back safely.
// Pure: no I/O here (lint-enforced); errors arrive as serialisable records.

import { assign, fromPromise, setup } from 'xstate';
import { HvrollError, type ErrorKind, type ErrorRecord } from '../model/errors.ts';

/** Bump when states, context or events change shape: a snapshot of another version is never restored. */
export const GROUP_MACHINE_VERSION = 'group/1';

export const ACTIVE_STEPS = ['disabling', 'draining', 'upgrading', 'rebooting', 'verifying', 'rejoining'] as const;
export type ActiveStep = (typeof ACTIVE_STEPS)[number];
export type GroupPhase = 'pending' | ActiveStep | 'done';

export interface GroupMachineInput {
  campaignId: string;
  group: string;
  hosts: string[];
  needsApproval: boolean;
  /** Retries allowed per step (from the runbook). */
  retries: Record<ActiveStep, number>;
}

export interface StepInput {
  campaignId: string;
  group: string;
  hosts: string[];
  step: ActiveStep;
  /** 0 on the first run of the step, then 1, 2, … on retries (after a restore too). */
  attempt: number;
}

export interface RollbackInput {
  campaignId: string;
  group: string;
  hosts: string[];
  /** The last phase the group completed: decides whether hosts can safely be re-enabled. */
  phase: GroupPhase;
  /** The step that failed (null on abort: the step in flight finished first). */
  failedStep: ActiveStep | null;
  reason: 'failed' | 'aborted';
}

export interface RollbackOutput {
  /** Hosts left out of the pool (disabled), with why: an operator must look at them. */
  outOfPool: { host: string; why: string }[];
}

export interface GroupContext extends GroupMachineInput {
  approvedBy: string | null;
  /** The last step that completed. */
  phase: GroupPhase;
  attempts: Partial<Record<ActiveStep, number>>;
  error: ErrorRecord | null;
  failedStep: ActiveStep | null;
  pauseRequested: boolean;
  abortRequested: boolean;
  /** Where RESUME goes from `paused`. */
  resumeTo: 'pending' | 'awaitingApproval' | ActiveStep | null;
  outOfPool: { host: string; why: string }[];
}

export type GroupEvent =
  | { type: 'START' }
  | { type: 'APPROVE'; operator: string }
  | { type: 'PAUSE' }
  | { type: 'RESUME' }
  | { type: 'ABORT' };

const NEXT: Record<ActiveStep, ActiveStep | 'done'> = {
  disabling: 'draining',
  draining: 'upgrading',
  upgrading: 'rebooting',
  rebooting: 'verifying',
  verifying: 'rejoining',
  rejoining: 'done',
};

function toRecord(error: unknown): ErrorRecord {
  if (error instanceof HvrollError) return error.toRecord();
  // Already a record (a step restored from JSON, a fake in a test): taken as it says it is.
  if (error && typeof error === 'object' && 'kind' in error && 'message' in error) {
    const e = error as { kind: ErrorKind; message: string; retryable?: boolean; details?: unknown };
    return { kind: e.kind, message: e.message, retryable: e.retryable ?? false, details: e.details } as ErrorRecord;
  }
  return { kind: 'internal', message: error instanceof Error ? error.message : String(error), retryable: false };
}

const unknownState = (hosts: string[]) => hosts.map((host) => ({ host, why: 'rollback failed: state unknown, check the host before using it' }));

const notProvided = (name: string) => () => Promise.reject(new Error(`step ${name} was not provided to the group machine`));

const machineSetup = setup({
  types: {
    context: {} as GroupContext,
    events: {} as GroupEvent,
    input: {} as GroupMachineInput,
  },
  actors: {
    disableHosts: fromPromise<void, StepInput>(notProvided('disableHosts')),
    drainHosts: fromPromise<void, StepInput>(notProvided('drainHosts')),
    upgradeHosts: fromPromise<void, StepInput>(notProvided('upgradeHosts')),
    rebootHosts: fromPromise<void, StepInput>(notProvided('rebootHosts')),
    verifyHosts: fromPromise<void, StepInput>(notProvided('verifyHosts')),
    rejoinHosts: fromPromise<void, StepInput>(notProvided('rejoinHosts')),
    rollbackGroup: fromPromise<RollbackOutput, RollbackInput>(notProvided('rollbackGroup') as () => Promise<RollbackOutput>),
  },
  guards: {
    needsApproval: ({ context }) => context.needsApproval && context.approvedBy === null,
    abortRequested: ({ context }) => context.abortRequested,
    pauseRequested: ({ context }) => context.pauseRequested,
    // An error that says it is not retryable (a changed host key, a VM the plan does not know, a migration
    // aborted for making no progress) would only fail the same way again: fail now.
    canRetry: ({ context, event }, params: { step: ActiveStep }) =>
      (context.attempts[params.step] ?? 0) < context.retries[params.step] && toRecord((event as { error?: unknown }).error).retryable,
    resumeTo: ({ context }, params: { to: GroupContext['resumeTo'] }) => context.resumeTo === params.to,
    touchedHosts: ({ context }) => context.phase !== 'pending',
  },
  actions: {
    requestPause: assign({ pauseRequested: true }),
    requestAbort: assign({ abortRequested: true }),
    clearPause: assign({ pauseRequested: false, resumeTo: null }),
    approve: assign({ approvedBy: ({ event }) => (event.type === 'APPROVE' ? event.operator : null) }),
    completed: assign((_, params: { step: ActiveStep }) => ({ phase: params.step, error: null })),
    completedThenPause: assign((_, params: { step: ActiveStep; next: ActiveStep }) => ({ phase: params.step, resumeTo: params.next })),
    countRetry: assign(({ context }, params: { step: ActiveStep; error: ErrorRecord }) => ({
      attempts: { ...context.attempts, [params.step]: (context.attempts[params.step] ?? 0) + 1 },
      error: params.error,
    })),
    stepFailed: assign((_, params: { step: ActiveStep; error: ErrorRecord }) => ({ error: params.error, failedStep: params.step })),
    setOutOfPool: assign((_, params: { outOfPool: RollbackOutput['outOfPool'] }) => ({ outOfPool: params.outOfPool })),
    pauseAt: assign((_, params: { at: 'pending' | 'awaitingApproval' }) => ({ resumeTo: params.at })),
  },
});

/** The invoke + transitions of one active step. */
type StepSrc = 'disableHosts' | 'drainHosts' | 'upgradeHosts' | 'rebootHosts' | 'verifyHosts' | 'rejoinHosts';

function activeState<S extends StepSrc>(step: ActiveStep, src: S) {
  const next = NEXT[step];
  return {
    on: {
      PAUSE: { actions: 'requestPause' as const },
      ABORT: { actions: 'requestAbort' as const },
    },
    invoke: {
      src,
      input: ({ context }: { context: GroupContext }): StepInput => ({
        campaignId: context.campaignId,
        group: context.group,
        hosts: context.hosts,
        step,
        attempt: context.attempts[step] ?? 0,
      }),
      onDone: [
        // Once the hosts are back in the pool there is nothing left to roll back: finish.
        ...(next === 'done' ? [] : [{ guard: 'abortRequested' as const, target: 'aborting', actions: { type: 'completed' as const, params: { step } } }]),
        ...(next === 'done'
          ? []
          : [{ guard: 'pauseRequested' as const, target: 'paused', actions: { type: 'completedThenPause' as const, params: { step, next } } }]),
        { target: next, actions: { type: 'completed' as const, params: { step } } },
      ],
      onError: [
        {
          guard: { type: 'canRetry' as const, params: { step } },
          target: step,
          reenter: true,
          actions: { type: 'countRetry' as const, params: ({ event }: { event: { error: unknown } }) => ({ step, error: toRecord(event.error) }) },
        },
        { target: 'failing', actions: { type: 'stepFailed' as const, params: ({ event }: { event: { error: unknown } }) => ({ step, error: toRecord(event.error) }) } },
      ],
    },
  };
}

export const groupMachine = machineSetup.createMachine({
  id: 'group',
  version: GROUP_MACHINE_VERSION,
  context: ({ input }) => ({
    ...input,
    approvedBy: null,
    phase: 'pending',
    attempts: {},
    error: null,
    failedStep: null,
    pauseRequested: false,
    abortRequested: false,
    resumeTo: null,
    outOfPool: [],
  }),
  initial: 'pending',
  states: {
    pending: {
      on: {
        START: [{ guard: 'needsApproval', target: 'awaitingApproval' }, { target: 'disabling' }],
        APPROVE: { actions: 'approve' },
        PAUSE: { target: 'paused', actions: { type: 'pauseAt', params: { at: 'pending' } } },
        ABORT: { target: 'aborted' },
      },
    },
    awaitingApproval: {
      on: {
        APPROVE: { target: 'disabling', actions: 'approve' },
        PAUSE: { target: 'paused', actions: { type: 'pauseAt', params: { at: 'awaitingApproval' } } },
        ABORT: { target: 'aborted' },
      },
    },
    disabling: activeState('disabling', 'disableHosts'),
    draining: activeState('draining', 'drainHosts'),
    upgrading: activeState('upgrading', 'upgradeHosts'),
    rebooting: activeState('rebooting', 'rebootHosts'),
    verifying: activeState('verifying', 'verifyHosts'),
    rejoining: activeState('rejoining', 'rejoinHosts'),
    paused: {
      on: {
        RESUME: (['pending', 'awaitingApproval', ...ACTIVE_STEPS] as const).map((to) => ({
          guard: { type: 'resumeTo' as const, params: { to } },
          target: to,
          actions: 'clearPause' as const,
        })),
        APPROVE: { actions: 'approve' },
        ABORT: [{ guard: 'touchedHosts', target: 'aborting' }, { target: 'aborted' }],
      },
    },
    failing: {
      invoke: {
        src: 'rollbackGroup',
        input: ({ context }): RollbackInput => ({ campaignId: context.campaignId, group: context.group, hosts: context.hosts, phase: context.phase, failedStep: context.failedStep, reason: 'failed' }),
        onDone: { target: 'failed', actions: { type: 'setOutOfPool', params: ({ event }) => ({ outOfPool: event.output.outOfPool }) } },
        onError: { target: 'failed', actions: { type: 'setOutOfPool', params: ({ context }) => ({ outOfPool: unknownState(context.hosts) }) } },
      },
    },
    aborting: {
      invoke: {
        src: 'rollbackGroup',
        input: ({ context }): RollbackInput => ({ campaignId: context.campaignId, group: context.group, hosts: context.hosts, phase: context.phase, failedStep: null, reason: 'aborted' }),
        onDone: { target: 'aborted', actions: { type: 'setOutOfPool', params: ({ event }) => ({ outOfPool: event.output.outOfPool }) } },
        onError: { target: 'aborted', actions: { type: 'setOutOfPool', params: ({ context }) => ({ outOfPool: unknownState(context.hosts) }) } },
      },
    },
    done: { type: 'final' },
    failed: { type: 'final' },
    aborted: { type: 'final' },
  },
});

export type GroupMachine = typeof groupMachine;
export const FINAL_STATES = ['done', 'failed', 'aborted'] as const;
