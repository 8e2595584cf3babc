// The campaign: waves one after another, each wave's groups run by the engine (p-queue within the limits).
// Stops when more groups have failed than the failure budget allows (exceeded, not equalled), supports pause
// (at the end of the wave in flight; groups themselves pause at step boundaries) and abort.
// Persisted on its own, apart from the groups, so a checkpoint never grows with the fleet. Pure.

import { assign, fromPromise, setup } from 'xstate';

export const CAMPAIGN_MACHINE_VERSION = 'campaign/1';

export interface CampaignMachineInput {
  campaignId: string;
  waves: number;
  failureBudget: number;
}

export interface WaveInput {
  wave: number;
  /** Groups failed so far, before this wave. */
  failedBefore: number;
}

export interface WaveOutput {
  failed: string[];
  aborted: string[];
  outOfPool: { host: string; why: string }[];
  /** True when the wave stopped early (budget exceeded, abort, pause): the wave is not finished. */
  interrupted: boolean;
}

export interface CampaignContext extends CampaignMachineInput {
  wave: number;
  failed: string[];
  aborted: string[];
  outOfPool: { host: string; why: string }[];
  pauseRequested: boolean;
  abortRequested: boolean;
}

export type CampaignEvent = { type: 'PAUSE' } | { type: 'RESUME' } | { type: 'ABORT' };

export const campaignMachine = setup({
  types: { context: {} as CampaignContext, events: {} as CampaignEvent, input: {} as CampaignMachineInput },
  actors: {
    runWave: fromPromise<WaveOutput, WaveInput>(() => Promise.reject(new Error('runWave was not provided to the campaign machine'))),
  },
  guards: {
    // Guards run before the transition's actions: count this wave's failures from its output, not context.
    budgetExceeded: ({ context }, params: { failed: string[] }) => new Set([...context.failed, ...params.failed]).size > context.failureBudget,
    abortRequested: ({ context }) => context.abortRequested,
    pauseRequested: ({ context }) => context.pauseRequested,
    lastWave: ({ context }) => context.wave >= context.waves - 1,
    waveInterrupted: (_, params: { interrupted: boolean }) => params.interrupted,
  },
  actions: {
    collect: assign(({ context }, params: { output: WaveOutput }) => ({
      failed: [...new Set([...context.failed, ...params.output.failed])],
      aborted: [...new Set([...context.aborted, ...params.output.aborted])],
      outOfPool: [...context.outOfPool.filter((o) => !params.output.outOfPool.some((n) => n.host === o.host)), ...params.output.outOfPool],
    })),
    nextWave: assign(({ context }) => ({ wave: context.wave + 1 })),
  },
}).createMachine({
  id: 'campaign',
  version: CAMPAIGN_MACHINE_VERSION,
  context: ({ input }) => ({ ...input, wave: 0, failed: [], aborted: [], outOfPool: [], pauseRequested: false, abortRequested: false }),
  initial: 'running',
  on: {
    ABORT: { actions: assign({ abortRequested: true }) },
  },
  states: {
    running: {
      always: { guard: ({ context }) => context.waves === 0, target: 'done' },
      on: { PAUSE: { actions: assign({ pauseRequested: true }) } },
      invoke: {
        src: 'runWave',
        input: ({ context }): WaveInput => ({ wave: context.wave, failedBefore: context.failed.length }),
        onDone: [
          {
            guard: { type: 'budgetExceeded', params: ({ event }) => ({ failed: event.output.failed }) },
            target: 'stopped',
            actions: { type: 'collect', params: ({ event }) => ({ output: event.output }) },
          },
          { guard: 'abortRequested', target: 'aborted', actions: { type: 'collect', params: ({ event }) => ({ output: event.output }) } },
          { guard: 'pauseRequested', target: 'paused', actions: { type: 'collect', params: ({ event }) => ({ output: event.output }) } },
          // An interrupted wave that is neither over budget, aborted nor paused runs again (its groups reconcile).
          {
            guard: { type: 'waveInterrupted', params: ({ event }) => ({ interrupted: event.output.interrupted }) },
            target: 'running',
            reenter: true,
            actions: { type: 'collect', params: ({ event }) => ({ output: event.output }) },
          },
          { guard: 'lastWave', target: 'done', actions: { type: 'collect', params: ({ event }) => ({ output: event.output }) } },
          { target: 'running', reenter: true, actions: [{ type: 'collect', params: ({ event }) => ({ output: event.output }) }, 'nextWave'] },
        ],
        onError: { target: 'stopped' },
      },
    },
    paused: {
      on: {
        RESUME: { target: 'running', actions: assign({ pauseRequested: false }) },
        ABORT: { target: 'aborted', actions: assign({ abortRequested: true }) },
      },
    },
    done: { type: 'final' },
    stopped: { type: 'final' },
    aborted: { type: 'final' },
  },
});
