// A fresh process that resumes a simulated campaign's store the way `hvroll resume` starts (bench --only sim):
//   resume-probe.ts tail <dir>                 read the store as kill -9 leaves it (snapshot + journal tail)
//   resume-probe.ts resume <dir> <runbook>     open it for writing, then restore every group machine
// Prints one JSON line of timings. Measured in its own process so the simulator's heap does not count.

import { performance } from 'node:perf_hooks';
import { createActor } from 'xstate';
import { CAMPAIGN_KEY } from '../src/engine/campaign-runner.ts';
import type { EngineDeps } from '../src/engine/deps.ts';
import { groupInput, savedSnapshot } from '../src/engine/group-runner.ts';
import { stepActors } from '../src/engine/steps/actors.ts';
import { groupMachine } from '../src/machines/group-machine.ts';
import { loadRunbook } from '../src/runbook/load.ts';
import { CampaignStore } from '../src/store/store.ts';

const [mode, dir, runbookPath] = process.argv.slice(2);
if (dir === undefined || (mode !== 'tail' && mode !== 'resume')) throw new Error('usage: resume-probe.ts tail|resume <dir> [runbook]');

const ms = (t0: number) => Math.round((performance.now() - t0) * 10) / 10;
/** CPU ms of this process since `c0`: on a loaded machine wall time says more about the neighbours. */
const cpuMs = (c0: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(c0);
  return Math.round((c.user + c.system) / 100) / 10;
};

if (mode === 'tail') {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const store = await CampaignStore.open(dir, { readOnly: true, acceptTornTail: true });
  const openMs = ms(t0);
  const openCpuMs = cpuMs(c0);
  const live = store.liveJournal().length;
  await store.close();
  process.stdout.write(`${JSON.stringify({ openMs, openCpuMs, live })}\n`);
} else {
  const runbook = await loadRunbook(runbookPath ?? 'runbooks/libvirt.yaml');
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const store = await CampaignStore.open(dir);
  const openMs = ms(t0);
  try {
    const plan = store.plan();
    // What the group runner needs to restore a machine; nothing here runs a step.
    const deps = { campaignId: store.meta().campaignId, plan, runbook, store } as unknown as EngineDeps;
    const machine = groupMachine.provide({ actors: stepActors(deps) });
    let restored = 0;
    for (const name of store.groups()) {
      if (name === CAMPAIGN_KEY) continue;
      const snapshot = savedSnapshot(deps, name);
      createActor(machine, { input: groupInput(deps, name), ...(snapshot ? { snapshot } : {}) }).start().stop();
      restored++;
    }
    process.stdout.write(`${JSON.stringify({ openMs, restoreMs: ms(t0), restoreCpuMs: cpuMs(c0), restored })}\n`);
  } finally {
    await store.close();
  }
}
