// The drain: compare what runs on the group's hosts with the plan, check its targets still have room, live-
// migrate every planned VM to its target (bounded by the migration limiter), record each VM confirmed there
// once, then shut down the VMs that stay (policy shutdown).

import type { StepInput } from '../../machines/group-machine.ts';
import { HvrollError } from '../../model/errors.ts';
import { MIGRATE_CONFIRMED, MIGRATE_CONFIRMED_STEP } from '../../model/journal.ts';
import type { Move, PlannedGroup } from '../../model/plan.ts';
import { stepKey } from '../../store/store.ts';
import { hostRef, stepValues, type EngineDeps } from '../deps.ts';
import { compareWithPlan, describeUnknown } from '../discovery.ts';
import { discoverVms } from '../read-host.ts';
import { reconcile, type ReconcileOutcome, type StepTarget } from '../reconcile.ts';
import { checkTargetRoom, whileDraining } from '../target-room.ts';
import { backoff, forEachHost, groupOf, stepDeadline } from './common.ts';
import { requirePowerSteps, shutDownVms } from './power-cycle.ts';

const MIGRATE_SAID: Record<ReconcileOutcome, (vm: string, from: string, to: string) => string> = {
  'already-done': (vm, _from, to) => `${vm}: already on ${to}`,
  done: (vm, _from, to) => `${vm}: migrated to ${to}`,
  'leftover-removed': (vm, from, to) => `${vm}: already running on ${to}; removed the stopped copy an interrupted migration left on ${from}`,
  'left-alone': (vm, from) => `${vm}: left on ${from}`,
};

/** Per VM of a group: its migrate:confirmed record — `done`, or the id of an intent a killed run left open. */
type ConfirmedRecords = Map<string, number | 'done'>;

/** Read once per drain attempt (one pass over the group's journal), then kept up to date by noteConfirmed. */
function confirmedRecords(deps: EngineDeps, group: string): ConfirmedRecords {
  const records: ConfirmedRecords = new Map();
  for (const e of deps.store.liveJournal({ group, step: MIGRATE_CONFIRMED })) {
    if (e.vm !== undefined && records.get(e.vm) !== 'done') records.set(e.vm, e.outcome === undefined ? e.id : 'done');
  }
  return records;
}

/**
 * Records that `move` is done: the VM runs on its target, however it got there (migrated now, found there, or
 * a leftover removed). Written once per group and VM; an intent left without outcome by a killed run is completed.
 */
async function noteConfirmed(deps: EngineDeps, group: string, move: Move, outcome: ReconcileOutcome, records: ConfirmedRecords): Promise<void> {
  const seen = records.get(move.vm);
  if (seen === 'done') return;
  const now = new Date(deps.clock.now()).toISOString();
  const id =
    seen ??
    (await deps.store.journalIntent({ key: stepKey(deps.campaignId, group, MIGRATE_CONFIRMED, move.vm), group, step: MIGRATE_CONFIRMED, host: move.to, vm: move.vm, startedAt: now, operator: deps.operator, probe: 'confirmed', effect: MIGRATE_CONFIRMED_STEP.effect }));
  records.set(move.vm, id);
  await deps.store.journalOutcome(id, { exitCode: 0, outputTail: `runs on ${move.to} (${outcome})`, endedAt: now });
  records.set(move.vm, 'done');
}

/** Every VM running on a host of the group must be one the plan knows there, by its exact name. */
async function requireOnlyPlannedVms(deps: EngineDeps, g: PlannedGroup, signal: AbortSignal): Promise<void> {
  const expected = new Map<string, Set<string>>(g.hosts.map((h) => [h, new Set<string>()]));
  for (const m of g.moves) expected.get(m.from)?.add(m.vm);
  for (const n of g.nonMigratable) expected.get(n.host)?.add(n.vm);
  await forEachHost(g.hosts, async (name) => {
    const found = await discoverVms(deps, g.name, hostRef(deps, name), signal);
    const planned = expected.get(name)!;
    const { unknown } = compareWithPlan(found, planned);
    if (unknown.length > 0) {
      const shown = unknown.slice(0, 10).map((vm) => describeUnknown(vm, planned));
      throw new HvrollError(
        'remote',
        `host ${name} runs VM(s) the plan does not know: ${shown.join(', ')}${unknown.length > 10 ? ` and ${unknown.length - 10} more` : ''}. ` +
          'Nothing was migrated from this group. Refresh the inventory (hvroll discover), plan again, and run the new plan.',
        { retryable: false, details: { host: name, unknown } },
      );
    }
  });
}

/**
 * Drain: compare what runs with the plan, check the targets still have room, live-migrate every planned VM to
 * its target, then shut down the VMs that stay (policy shutdown).
 */
export async function drain(deps: EngineDeps, input: StepInput, signal: AbortSignal): Promise<void> {
  const step = deps.runbook.steps.migrate!;
  await backoff(deps, step, input.attempt, signal);
  const g = groupOf(deps, input.group);
  requirePowerSteps(deps, g);
  await whileDraining(deps, g, async () => {
    await requireOnlyPlannedVms(deps, g, signal);
    await checkTargetRoom(deps, g, signal);
    const moveOf = new Map(g.moves.map((m) => [m.vm, m]));
    const confirmed = confirmedRecords(deps, g.name);
    const deadline = stepDeadline(deps, step, Math.ceil(g.moves.length / Math.max(1, deps.plan.settings.concurrency.migrations)));
    await forEachHost(
      g.moves.map((m) => m.vm),
      async (vm) => {
        const move = moveOf.get(vm)!;
        const source = hostRef(deps, move.from);
        const target = hostRef(deps, move.to);
        await deps.limiter.run(move.from, move.to, async () => {
          const t: StepTarget = {
            group: input.group,
            roles: { source, target, host: source },
            values: stepValues(deps, input.group, source, { vm, source: source.name, 'source.address': source.address, target: target.name, 'target.address': target.address }),
            vm,
            deadline,
            signal,
          };
          const outcome = await reconcile(deps, t, step);
          await noteConfirmed(deps, input.group, move, outcome, confirmed);
          deps.log.info({ group: input.group, vm, from: move.from, to: move.to, outcome }, MIGRATE_SAID[outcome](vm, move.from, move.to));
        });
      },
      (vm) => moveOf.get(vm)!.from,
    );
    await shutDownVms(deps, g, signal);
  });
}
