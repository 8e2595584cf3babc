// Fault matrix 1 (run process half): `hvroll run` over the in-process SSH hypervisors is killed -9 right
// before and right after every command that changes a host (HVROLL_CRASH_AT=before-effect:n / after-effect:n:
// the intent is durable but the command not sent; the host has acted but the outcome is not journalled),
// then `hvroll unlock` + `hvroll resume`. The independent checker sees every command as it reaches a host
// (I1, I2, I4, I5), reads the journal of the killed run (I3), and at the end compares what every host
// received with the journal (I6) and the final state with the plan. The same loops run a second time with every
// migration cut short in its last phase (the VM runs on the target, a paused copy stays on the source, virsh
// fails): the kill then also lands between the cut and its cleanup, and between the cleanup's destroy and
// undefine.
import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PlanFile } from '../../src/model/plan.ts';
import { campaignDir } from '../../src/store/paths.ts';
import { CampaignStore } from '../../src/store/store.ts';
import { cli, startCliRig, type CliRig } from '../engine/cli-rig.ts';
import { isProgressPoll, type InvariantChecker, type JournalFacts } from './invariants.ts';
import { watchFleet } from './ssh-world.ts';

interface Rig {
  rig: CliRig;
  plan: PlanFile;
}
const rigs: Rig[] = [];
async function rigFor(cut: boolean): Promise<Rig> {
  // A reboot journalled but maybe never sent is waited for timeout/4 before it is sent: 10 s here, not 2 min.
  // A cut-short migration is retried at once, not after the runbook's 30 s.
  const rig = await startCliRig(3, 2, { timeouts: { reboot: 40 }, ...(cut ? { retryDelays: { migrate: 0.2 } } : {}) });
  const r = { rig, plan: JSON.parse(readFileSync(rig.plan, 'utf8')) as PlanFile };
  rigs.push(r);
  return r;
}
test.after.always(async () => {
  for (const r of rigs) await r.rig.stop();
});

function start({ rig, plan }: Rig, cut: boolean): InvariantChecker {
  rig.reset();
  const names = [...rig.fleet.hosts.keys()];
  const vms = [...rig.initial.keys()].map((name) => ({ name, memoryMiB: 512, vcpus: 1 }));
  for (const n of names) rig.hosts.host(n); // fresh state (boot id) before the checker takes its baseline
  if (cut) rig.fleet.model.cutShortNextMigrations(...plan.groups.flatMap((g) => g.moves.map(() => ({ state: 'paused' as const, persistent: true }))));
  const largest = Math.max(...plan.groups.map((g) => g.hosts.length));
  return watchFleet({
    fleet: rig.fleet,
    hosts: rig.hosts,
    inventory: { hosts: names.map((name) => ({ name, capacity: { vcpus: 8, memoryMiB: 4096 } })) as never, vms: vms as never, rules: { cpuOvercommit: 1 } },
    targetVersion: '2.0',
    outOfPoolLimit: plan.settings.concurrency.groups * largest,
  });
}

async function journalOf(state: string): Promise<JournalFacts[]> {
  const store = await CampaignStore.open(campaignDir(state, 'c1'), { readOnly: true });
  try {
    return await Promise.resolve(store.journal());
  } finally {
    await store.close();
  }
}

for (const cut of [false, true]) {
  for (const kind of ['before-effect', 'after-effect'] as const) {
    const what = cut ? ', every migration cut short (a paused copy left on its source)' : '';
    test.serial(`kill -9 ${kind === 'before-effect' ? 'before' : 'after'} every side effect${what}, then unlock + resume: I1–I6 hold, same final state`, async (t) => {
      t.timeout(900_000);
      const r = await rigFor(cut);
      const { rig, plan } = r;
      let kills = 0;
      let commands = 0;
      let cleanups = 0;
      for (let n = 1; n < 100; n++) {
        const checker = start(r, cut);
        const state = mkdtempSync(join(rig.dir, `${kind}-${n}-`));
        const run = await cli(['run', '--plan', rig.plan, '--set', 'version=2.0', '--state', state, '--campaign', 'c1', ...rig.sshFlags], { HVROLL_CRASH_AT: `${kind}:${n}` });
        if (run.code === 0) {
          t.true(n > 10, `only ${n - 1} side effects?`);
          break; // past the last side effect: the run finished untouched
        }
        t.is(run.signal, 'SIGKILL', `${kind} ${n}: ${run.stderr}`);
        kills++;
        checker.state(await journalOf(state));
        const unlock = await cli(['unlock', 'c1', '--state', state]);
        t.is(unlock.code, 0, unlock.stderr);
        const resumed = await cli(['resume', 'c1', '--state', state, ...rig.sshFlags]);
        t.is(resumed.code, 0, `${kind} ${n}: ${resumed.stderr}`);
        const journal = await journalOf(state);
        checker.state(journal);
        checker.argvMatchesJournal(journal, isProgressPoll);
        checker.final({
          done: true,
          reportedOutOfPool: [],
          expectedPlacement: new Map([...rig.initial, ...plan.groups.flatMap((g) => g.moves.map((m) => [m.vm, m.to] as const))]),
        });
        t.deepEqual(checker.violations, [], `${kind} ${n}`);
        t.is(rig.fleet.model.migrations.length, plan.summary.migrations, `${kind} ${n}: no VM migrated twice`);
        t.deepEqual(rig.fleet.model.harmed, [], `${kind} ${n}: no running copy destroyed`);
        cleanups += journal.filter((e) => e.step === 'migrate:leftover').length;
        commands += checker.commands;
      }
      rig.fleet.onCommand = null;
      t.true(kills >= 20, `only ${kills} kills`);
      if (cut) t.true(cleanups >= kills, `${cleanups} cleanup commands over ${kills} kills`);
      t.log(`${kind}${what}: ${kills} kills, each resumed to the planned final state; ${commands} commands checked, 0 violations${cut ? `; ${cleanups} leftover commands` : ''}`);
    });
  }
}
