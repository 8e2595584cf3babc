// A small campaign against real SSH servers (in-process ssh2), the shipped libvirt runbook, the real store.
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { SshExecutor } from '../../src/drivers/ssh/ssh-executor.ts';
import { engineDeps } from '../../src/app/engine-deps.ts';
import type { EngineDeps } from '../../src/engine/deps.ts';
import { GROUP_MACHINE_VERSION } from '../../src/machines/group-machine.ts';
import type { Inventory } from '../../src/model/inventory.ts';
import { fingerprint } from '../../src/plan-file/fingerprint.ts';
import { toPlanFile } from '../../src/plan-file/plan-file.ts';
import { buildPlan } from '../../src/planner/plan.ts';
import { loadRunbook } from '../../src/runbook/load.ts';
import { parseRunbook } from '../../src/runbook/parse.ts';
import { CampaignStore } from '../../src/store/store.ts';
import { host, inventory, vm } from '../planner/fixtures.ts';
import { LibvirtFleet } from '../helpers/libvirt-host.ts';
import { startSshFleet, type SshFleet } from '../helpers/ssh-fleet.ts';
import { HypervisorModel } from '../helpers/ssh-hypervisor.ts';

export interface CampaignRig {
  fleet: SshFleet;
  hosts: LibvirtFleet;
  inventory: Inventory;
  deps: EngineDeps;
  dir: string;
  close(): Promise<void>;
}

export interface RigOptions {
  hosts?: number;
  vmsPerHost?: number;
  vmName?: (i: number) => string;
  patch?: Parameters<typeof inventory>[2];
  /** Run this inventory (addresses and ports are replaced by the test hosts'); default a small generated one. */
  from?: Inventory;
  /** Runbook steps to shorten (tests): timeout seconds per step name. */
  timeouts?: Record<string, number>;
  retries?: Record<string, number>;
  /** The hosts are reached as a user that is not root: only `sudo -n -- <argv>` runs (LibvirtFleetOptions.sudo). */
  sudo?: 'nopasswd' | 'password';
  /** Changes to the text of runbooks/libvirt.yaml before it is parsed (e.g. uncomment `become: sudo`). */
  runbookText?: (text: string) => string;
}

function parsedRunbook(text: string) {
  const r = parseRunbook('runbooks/libvirt.yaml', text);
  if (!r.ok) throw new Error(`test runbook refused: ${JSON.stringify(r.error)}`);
  return r.value;
}

export async function startRig(o: RigOptions = {}): Promise<CampaignRig> {
  const names = o.from ? o.from.hosts.map((h) => h.name) : Array.from({ length: o.hosts ?? 4 }, (_, i) => `hv-${i + 1}`);
  const model = new HypervisorModel();
  const addresses = new Map(names.map((name, i) => [name, `127.0.${2 + Math.floor(i / 200)}.${(i % 200) + 2}`]));
  const byAddress = new Map([...addresses].map(([k, v]) => [v, k]));
  const hosts = new LibvirtFleet(model, { hostByAddress: (a) => byAddress.get(a), rebootMs: 50, ...(o.sudo ? { sudo: o.sudo } : {}) });
  for (const name of names) model.addHost(name);
  const vms = o.from ? o.from.vms : [];
  if (!o.from) {
    let k = 0;
    // The last host starts empty: a spare, so every VM moves once.
    for (const name of names.slice(0, -1)) {
      for (let j = 0; j < (o.vmsPerHost ?? 2); j++) {
        const vmName = o.vmName?.(k) ?? `vm-${k}`;
        vms.push(vm(vmName, name, 512, 1, { tier: k % 3 === 0 ? 'db' : 'web' }));
        k++;
      }
    }
  }
  for (const v of vms) model.addVm({ name: v.name, host: v.host, vcpus: v.vcpus, memoryMiB: v.memoryMiB });
  const fleet = await startSshFleet({ hosts: names, handler: hosts.handler, model, addresses: Object.fromEntries(addresses) });
  hosts.fleet = fleet;
  const dir = mkdtempSync(join(tmpdir(), 'hvroll-engine-'));
  const knownHosts = join(dir, 'known_hosts');
  await fleet.writeKnownHosts(knownHosts);
  const at = (name: string) => ({ address: fleet.host(name).address, ssh: { port: fleet.host(name).port, user: 'hvroll' } });
  const inv = o.from
    ? { ...o.from, hosts: o.from.hosts.map((h) => ({ ...h, ...at(h.name) })) }
    : inventory(
        names.map((name) => ({ ...host(name, { rack: 'r1' }, 8, 4096), ...at(name) })),
        vms,
        { concurrency: { groups: 2, migrations: 4, migrationsPerHost: 2 }, ...o.patch },
      );
  const plan = buildPlan(inv);
  if (!plan.summary.runnable) throw new Error(`test plan not runnable: ${JSON.stringify(plan.problems)}`);
  const runbook = o.runbookText ? parsedRunbook(o.runbookText(await readFile('runbooks/libvirt.yaml', 'utf8'))) : await loadRunbook('runbooks/libvirt.yaml');
  for (const [step, seconds] of Object.entries(o.timeouts ?? {})) runbook.steps[step as 'migrate']!.timeoutSeconds = seconds;
  for (const [step, retries] of Object.entries(o.retries ?? {})) runbook.steps[step as 'migrate']!.retries = retries;
  // Retries in tests wait a moment, not the runbook's tens of seconds.
  for (const step of Object.values(runbook.steps)) step.retryDelaySeconds = Math.min(step.retryDelaySeconds, 0.1);
  const file = toPlanFile(plan, { fingerprint: fingerprint({ inventory: inv, options: {} }), inputs: { inventory: ['<test>'], ansible: null, runbook: 'runbooks/libvirt.yaml' } });
  const storeDir = join(dir, 'campaign');
  const store = await CampaignStore.create(storeDir, { campaignId: 'c1', operator: 'tester', plan: file, planFingerprint: file.fingerprint, machineVersion: GROUP_MACHINE_VERSION });
  const executor = new SshExecutor({ knownHostsPath: knownHosts, privateKey: fleet.clientKey.private, defaultUser: 'hvroll', connectTimeoutMs: 3000, keepaliveIntervalMs: 1000 });
  const deps: EngineDeps = engineDeps({ campaignId: 'c1', plan: file, inventory: inv, runbook, vars: { ...runbook.vars, version: '2.0' }, executor, store, log: pino({ level: 'silent' }), operator: 'tester' });
  return {
    fleet,
    hosts,
    inventory: inv,
    deps,
    dir: storeDir,
    close: async () => {
      await executor.close();
      await store.close().catch(() => undefined);
      await fleet.stop();
    },
  };
}
