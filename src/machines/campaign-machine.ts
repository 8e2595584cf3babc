// The campaign: one scheduling pass (`runGroups`) starts the plan's groups as their dependencies finish and
// the limits allow (no wave barrier), and returns when nothing more can start. Stops when more groups have
// failed than the failure budget allows (exceeded, not equalled) or when groups can never start because a
// group they wait for did not finish; supports pause (no new group starts; groups pause at step boundaries)
// and abort. The pass is a reconcile: restored mid-flight, it runs again and reads every group's state from
// the store. Persisted on its own, apart from the groups, so a checkpoint never grows with the fleet. Pure.

import { assign, fromPromise, setup } from 'xstate';

export const CAMPAIGN_MACHINE_VERSION = 'campaign/2';

export interface CampaignMachineInput {
  campaignId: string;
  /** Groups the plan runs (0: nothing to do). */
  groups: number;
  failureBudget: number;
}

export interface RunGroupsInput {
  /** Scheduling passes so far (a pass interrupted by a group pausing on its own runs again). */
  pass: number;
}

export interface BlockedGroup {
  group: string;
  /** Why it can never start in this campaign (the group it waits for failed, was aborted, or is blocked). */
  why: string;
}

export interface RunGroupsOutput {
  failed: string[];
  aborted: string[];
  blocked: BlockedGroup[];
  outOfPool: { host: string; why: string }[];
  /** True when the pass stopped early (budget exceeded, abort, pause): groups are left to run. */
  interrupted: boolean;
}

export interface CampaignContext extends CampaignMachineInput {
  pass: number;
  failed: string[];
  aborted: string[];
  blocked: BlockedGroup[];
  outOfPool: { host: string; why: string }[];
  pauseRequested: boolean;
  abortRequested: boolean;
}

export type CampaignEvent = { type: 'PAUSE' } | { type: 'RESUME' } | { type: 'ABORT' };

export const campaignMachine = setup({
  types: { context: {} as CampaignContext, events: {} as CampaignEvent, input: {} as CampaignMachineInput },
  actors: {
    runGroups: fromPromise<RunGroupsOutput, RunGroupsInput>(() => Promise.reject(new Error('runGroups was not provided to the campaign machine'))),
  },
  guards: {
    // Guards run before the transition's actions: count failures from the pass's output, not context.
    budgetExceeded: ({ context }, params: { failed: string[] }) => new Set([...context.failed, ...params.failed]).size > context.failureBudget,
    abortRequested: ({ context }) => context.abortRequested,
    pauseRequested: ({ context }) => context.pauseRequested,
    interrupted: (_, params: { interrupted: boolean }) => params.interrupted,
    someBlocked: (_, params: { blocked: BlockedGroup[] }) => params.blocked.length > 0,
  },
  actions: {
    // The pass reads every group's state from the store, so its output replaces what an earlier pass said.
    collect: assign(({ context }, params: { output: RunGroupsOutput }) => ({
      failed: [...new Set([...context.failed, ...params.output.failed])],
      aborted: [...new Set([...context.aborted, ...params.output.aborted])],
      blocked: params.output.blocked,
      outOfPool: [...context.outOfPool.filter((o) => !params.output.outOfPool.some((n) => n.host === o.host)), ...params.output.outOfPool],
    })),
    nextPass: assign(({ context }) => ({ pass: context.pass + 1 })),
  },
}).createMachine({
  id: 'campaign',
  version: CAMPAIGN_MACHINE_VERSION,
  context: ({ input }) => ({ ...input, pass: 0, failed: [], aborted: [], blocked: [], outOfPool: [], pauseRequested: false, abortRequested: false }),
  initial: 'running',
  on: {
    ABORT: { actions: assign({ abortRequested: true }) },
  },
  states: {
    running: {
      always: { guard: ({ context }) => context.groups === 0, target: 'done' },
      on: { PAUSE: { actions: assign({ pauseRequested: true }) } },
      invoke: {
        src: 'runGroups',
        input: ({ context }): RunGroupsInput => ({ pass: context.pass }),
        onDone: [
          {
            guard: { type: 'budgetExceeded', params: ({ event }) => ({ failed: event.output.failed }) },
            target: 'stopped',
            actions: { type: 'collect', params: ({ event }) => ({ output: event.output }) },
          },
          { guard: 'abortRequested', target: 'aborted', actions: { type: 'collect', params: ({ event }) => ({ output: event.output }) } },
          { guard: 'pauseRequested', target: 'paused', actions: { type: 'collect', params: ({ event }) => ({ output: event.output }) } },
          // Interrupted but neither over budget, aborted nor paused (a group paused on its own): run again.
          {
            guard: { type: 'interrupted', params: ({ event }) => ({ interrupted: event.output.interrupted }) },
            target: 'running',
            reenter: true,
            actions: [{ type: 'collect', params: ({ event }) => ({ output: event.output }) }, 'nextPass'],
          },
          {
            guard: { type: 'someBlocked', params: ({ event }) => ({ blocked: event.output.blocked }) },
            target: 'stopped',
            actions: { type: 'collect', params: ({ event }) => ({ output: event.output }) },
          },
          { target: 'done', actions: { type: 'collect', params: ({ event }) => ({ output: event.output }) } },
        ],
        onError: { target: 'stopped' },
      },
    },
    paused: {
      on: {
        RESUME: { target: 'running', actions: [assign({ pauseRequested: false }), 'nextPass'] },
        ABORT: { target: 'aborted', actions: assign({ abortRequested: true }) },
      },
    },
    done: { type: 'final' },
    stopped: { type: 'final' },
    aborted: { type: 'final' },
  },
});
