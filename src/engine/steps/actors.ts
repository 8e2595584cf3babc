// The actors the group machine invokes by name (machines/group-machine.ts), bound to the engine's
// dependencies: one module per step (common.ts says what they share). Each asks the hosts what is already
// true and does only what is missing, because a restored machine re-runs the step that was in flight.
// Deadlines are absolute, computed when the step starts.

import { fromPromise } from 'xstate';
import type { RollbackInput, RollbackOutput, StepInput } from '../../machines/group-machine.ts';
import type { EngineDeps } from '../deps.ts';
import { groupOf, STEP_OF } from './common.ts';
import { drain } from './drain.ts';
import { perHostStep } from './per-host.ts';
import { startVms } from './power-cycle.ts';
import { reboot } from './reboot.ts';
import { rollback } from './rollback.ts';

/** The actors the group machine invokes by name, bound to these dependencies. */
export function stepActors(deps: EngineDeps) {
  const step = (fn: (input: StepInput, signal: AbortSignal) => Promise<void>) => fromPromise<void, StepInput>(({ input, signal }) => fn(input, signal));
  return {
    disableHosts: step(async (input, signal) => {
      if (deps.runbook.steps.precheck) await perHostStep(deps, input, 'precheck', signal);
      await perHostStep(deps, input, STEP_OF.disabling, signal);
    }),
    drainHosts: step((input, signal) => drain(deps, input, signal)),
    upgradeHosts: step((input, signal) => perHostStep(deps, input, STEP_OF.upgrading, signal)),
    rebootHosts: step((input, signal) => reboot(deps, input, signal)),
    verifyHosts: step((input, signal) => perHostStep(deps, input, STEP_OF.verifying, signal)),
    rejoinHosts: step(async (input, signal) => {
      await perHostStep(deps, input, STEP_OF.rejoining, signal);
      await startVms(deps, groupOf(deps, input.group), signal);
    }),
    rollbackGroup: fromPromise<RollbackOutput, RollbackInput>(({ input, signal }) => rollback(deps, input, signal)),
  };
}
