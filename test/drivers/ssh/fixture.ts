// Per-test fleet + executor, torn down even when the test fails (an open socket would hang ava).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { SshExecutor, type SshExecutorOptions } from '../../../src/drivers/ssh/ssh-executor.ts';
import { startSshFleet, type SshFleet, type StartFleetOptions } from '../../helpers/ssh-fleet.ts';

export interface Rig {
  fleet: SshFleet;
  exec: SshExecutor;
  knownHostsPath: string;
  logs: { level: string; obj: Record<string, unknown>; msg: string }[];
}

export async function rig(
  t: ExecutionContext,
  fleetOpts: StartFleetOptions,
  opts: { knownHosts?: 'all' | 'none' | 'hashed'; executor?: Partial<SshExecutorOptions> } = {},
): Promise<Rig> {
  const dir = await mkdtemp(join(tmpdir(), 'hvroll-ssh-'));
  const fleet = await startSshFleet(fleetOpts);
  const knownHostsPath = join(dir, 'known_hosts');
  const mode = opts.knownHosts ?? 'all';
  if (mode !== 'none') await fleet.writeKnownHosts(knownHostsPath, { hashed: mode === 'hashed' });
  const logs: Rig['logs'] = [];
  const record = (level: string) => (obj: Record<string, unknown>, msg: string) => logs.push({ level, obj, msg });
  const exec = new SshExecutor({
    knownHostsPath,
    privateKey: fleet.clientKey.private,
    connectTimeoutMs: 2000,
    defaultUser: 'hvroll',
    closeGraceMs: 300,
    logger: { debug: record('debug'), info: record('info'), warn: record('warn') },
    ...opts.executor,
  });
  t.teardown(async () => {
    await exec.close();
    await fleet.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return { fleet, exec, knownHostsPath, logs };
}
