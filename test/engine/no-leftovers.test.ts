// Fault matrix 5, the last clause: after a command that never returns, a connection reset mid-command and a
// half-open connection, nothing is left hanging — no command still running on any host, no SSH socket, timer
// or server left in this process once the campaign and the executor are closed.
import test from 'ava';
import { runCampaign } from '../../src/engine/campaign-runner.ts';
import { startRig } from './campaign-fixture.ts';

const isMigrate = (argv: string[]) => argv[0] === 'virsh' && argv[1] === 'migrate';
const HANDLES = /TCPSocketWrap|TCPServerWrap|Timeout/;

function handles(): Record<string, number> {
  const n: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) if (HANDLES.test(r)) n[r] = (n[r] ?? 0) + 1;
  return n;
}

test.serial('hang, reset and half-open connection in one campaign: it completes, and nothing is left running or open', async (t) => {
  const before = handles();
  const rig = await startRig({ hosts: 3, vmsPerHost: 1, timeouts: { migrate: 2 } });
  rig.fleet.hangNext('hv-1', isMigrate);
  rig.fleet.dropNext('hv-2', isMigrate);
  rig.fleet.freezeNext('hv-2', (argv) => argv[0] === 'dpkg-query');
  const outcome = await runCampaign(rig.deps, { controlPollMs: 50 });
  t.is(outcome.state, 'done');
  const faulted = rig.fleet.allReceived().filter((c) => c.outcome !== 'exited');
  t.true(faulted.length >= 3, `faults seen: ${faulted.map((c) => `${c.host} ${c.outcome}`).join(', ')}`);
  t.deepEqual(
    rig.fleet.allReceived().filter((c) => c.outcome === 'running').map((c) => `${c.host}: ${c.raw}`),
    [],
    'no command still running on any host',
  );
  await rig.close();
  // Let closed sockets finish closing.
  for (let i = 0; i < 50 && JSON.stringify(handles()) !== JSON.stringify(before); i++) await new Promise((r) => setTimeout(r, 20));
  const after = handles();
  // The wait loop's own timer is gone by now; anything else left would keep a real `hvroll run` alive.
  t.deepEqual(after, before, 'no socket, server or timer left behind');
});
