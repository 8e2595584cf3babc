// Fault matrix 1 (run process half): `hvroll run` over the in-process SSH hypervisors is killed -9 right
// before and right after every command that changes a host (HVROLL_CRASH_AT=before-effect:n / after-effect:n:
// the intent is durable but the command not sent; the host has acted but the outcome is not journalled),
// then `hvroll unlock` + `hvroll resume`. The independent checker sees every command as it reaches a host
// (I1, I2, I4, I5), reads the journal of the killed run (I3), and at the end compares what every host
// received with the journal (I6) and the final state with the plan. The same loops run a second time with every
// migration cut short in its last phase (the VM runs on the target, a paused copy stays on the source, virsh
// fails): the kill then also lands between the cut and its cleanup, and between the cleanup's destroy and
// undefine.
//
// Then a campaign whose upgrades go wrong (failure budget 2, two groups at once): one host fails its
// verification (libvirtd does not come back), another's upgrade fails (the postinst exits 1, apt-get exits 100,
// the package is left half-configured at the new version). It runs once without a kill, then is killed at each
// of its side effects in turn, before it is sent (odd n) or after it ran (even n), and resumed: the resume
// starts from the failed groups the killed run recorded, or finds the failure again. After each kill and at
// the end: I1–I7 (the broken hosts out of the pool, named, never re-enabled; a failed group's hosts counting
// against the limits until they are back).
import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { campaignStatus } from '../../src/app/status.ts';
import { loadInventory } from '../../src/inventory/load.ts';
import type { Inventory } from '../../src/model/inventory.ts';
import type { PlanFile } from '../../src/model/plan.ts';
import { campaignDir } from '../../src/store/paths.ts';
import { CampaignStore } from '../../src/store/store.ts';
import { cli, startCliRig, type CliRig, type CliRigOptions } from '../engine/cli-rig.ts';
import { isProgressPoll, type InvariantChecker, type JournalFacts } from './invariants.ts';
import { watchFleet } from './ssh-world.ts';

interface Rig {
  rig: CliRig;
  plan: PlanFile;
  inventory: Inventory;
}
const rigs: Rig[] = [];
async function rigOf(hostCount: number, vmsPerHost: number, o: CliRigOptions): Promise<Rig> {
  const rig = await startCliRig(hostCount, vmsPerHost, o);
  const { inventory } = await loadInventory([join(rig.dir, 'inventory.yaml')]);
  const r = { rig, plan: JSON.parse(readFileSync(rig.plan, 'utf8')) as PlanFile, inventory };
  rigs.push(r);
  return r;
}
function rigFor(cut: boolean): Promise<Rig> {
  // A reboot journalled but maybe never sent is waited for timeout/4 before it is sent: 10 s here, not 2 min.
  // A cut-short migration is retried at once, not after the runbook's 30 s.
  return rigOf(3, 2, { timeouts: { reboot: 40 }, ...(cut ? { retryDelays: { migrate: 0.2 } } : {}) });
}
test.after.always(async () => {
  for (const r of rigs) await r.rig.stop();
});

function start({ rig, plan, inventory }: Rig, cut: boolean): InvariantChecker {
  rig.reset();
  for (const n of rig.fleet.hosts.keys()) rig.hosts.host(n); // fresh state (boot id) before the checker takes its baseline
  if (cut) rig.fleet.model.cutShortNextMigrations(...plan.groups.flatMap((g) => g.moves.map(() => ({ state: 'paused' as const, persistent: true }))));
  return watchFleet({ fleet: rig.fleet, hosts: rig.hosts, inventory, plan, targetVersion: '2.0' });
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
    test.serial(`kill -9 ${kind === 'before-effect' ? 'before' : 'after'} every side effect${what}, then unlock + resume: I1–I7 hold, same final state`, async (t) => {
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

/**
 * 4 hosts: hv-1 holds a VM, hv-2..hv-4 are empty (spare groups first, two at a time, then hv-1, whose VM goes to
 * a spare). The two spare groups no group waits for get the faults: one fails verification, one its upgrade.
 * Once both have failed, their hosts hold both slots: hv-1 may not start while they are out of the pool.
 */
async function faultRig(): Promise<Rig & { verifyFault: string; postinstFault: string }> {
  const r = await rigOf(4, 1, {
    loadedHosts: 1,
    inventory: (inv) => Object.assign(inv.rules, { concurrency: { groups: 2, migrations: 2, migrationsPerHost: 1 }, failureBudget: 2 }),
    timeouts: { reboot: 40 },
    // Retries of a failed verification or upgrade come at once, not after the runbook's 10 s.
    retryDelays: { verify: 0.2, upgrade: 0.2 },
  });
  const waitedFor = new Set(r.plan.groups.flatMap((g) => g.after));
  const free = r.plan.groups.filter((g) => g.tier === 'spare' && !waitedFor.has(g.name));
  if (free.length < 2) throw new Error(`fault rig: spare groups no group waits for: ${free.map((g) => g.name).join(', ')}`);
  const [verifyFault, postinstFault] = free.slice(-2).map((g) => g.hosts[0]!);
  return { ...r, verifyFault: verifyFault!, postinstFault: postinstFault! };
}

test.serial('upgrades that fail (a verification, a postinst leaving the package half-configured), kill -9 before or after every side effect, then unlock + resume: I1–I7 hold, broken hosts stay out of the pool and are named', async (t) => {
  t.timeout(900_000);
  const r = await faultRig();
  const { rig } = r;
  let kills = 0;
  let commands = 0;
  let failures = 0;
  // n = 0: no kill. Then a kill at the n-th side effect of a fresh run, before it is sent (odd n) or after it
  // ran (even n): each side effect of the campaign gets one of the two.
  for (let n = 0; n < 100; n++) {
    const kind = n % 2 === 1 ? 'before-effect' : 'after-effect';
    const label = n === 0 ? 'no kill' : `${kind} ${n}`;
    const checker = start(r, false);
    rig.hosts.host(r.verifyFault).failVerify = true;
    rig.hosts.host(r.postinstFault).failPostinst = 99;
    const state = mkdtempSync(join(rig.dir, `faults-${n}-`));
    const run = await cli(['run', '--plan', rig.plan, '--set', 'version=2.0', '--state', state, '--campaign', 'c1', ...rig.sshFlags], n === 0 ? {} : { HVROLL_CRASH_AT: `${kind}:${n}` });
    let last = run;
    if (run.signal === 'SIGKILL') {
      kills++;
      checker.state(await journalOf(state));
      const unlock = await cli(['unlock', 'c1', '--state', state]);
      t.is(unlock.code, 0, unlock.stderr);
      last = await cli(['resume', 'c1', '--state', state, ...rig.sshFlags]);
    }
    t.is(last.code, 7, `${label}: groups failed, exit 7\n${last.stderr}`);
    const journal = await journalOf(state);
    checker.state(journal);
    checker.argvMatchesJournal(journal, isProgressPoll);
    const named = (await campaignStatus(state, 'c1')).outOfPool.map((o) => o.host);
    checker.final({ done: false, reportedOutOfPool: named });
    t.deepEqual(checker.violations, [], label);
    for (const host of [r.verifyFault, r.postinstFault]) {
      t.true(rig.hosts.host(host).marker && named.includes(host), `${label}: ${host} out of the pool and named (${named.join(', ')})`);
    }
    t.deepEqual(rig.fleet.model.harmed, [], `${label}: no running copy destroyed`);
    commands += checker.commands;
    failures += journal.filter((e) => e.outcome && e.outcome.exitCode !== 0 && ['upgrade', 'verify:confirm'].includes(e.step)).length;
    if (n > 0 && run.signal !== 'SIGKILL') {
      t.true(n > 15, `only ${n - 1} side effects?`);
      break; // past the last side effect: the run finished untouched
    }
  }
  rig.fleet.onCommand = null;
  t.true(kills >= 15, `only ${kills} kills`);
  t.log(`${kills} kills (before and after side effects in turn), each resumed to the end; ${commands} commands checked, ${failures} failed upgrade and verify commands, 0 violations`);
});
