// A fleet of in-process SSH hosts that live in the test process, and the hvroll CLI run as child processes
// against it, so a child can be killed with SIGKILL while the hosts carry on.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { LibvirtFleet } from '../helpers/libvirt-host.ts';
import { startSshFleet, type SshFleet } from '../helpers/ssh-fleet.ts';
import { HypervisorModel } from '../helpers/ssh-hypervisor.ts';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      env: { ...process.env, NO_COLOR: '1', HVROLL_OPERATOR: 'tester', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hvroll ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export interface CliRig {
  fleet: SshFleet;
  hosts: LibvirtFleet;
  dir: string;
  plan: string;
  initial: Map<string, string>;
  sshFlags: string[];
  reset(): void;
  stop(): Promise<void>;
}

export interface CliRigOptions {
  /** Runbook step timeouts to shorten (seconds), in a copy of runbooks/libvirt.yaml the plan is bound to. */
  timeouts?: Record<string, number>;
  /** Seconds between retries per step (the runbook's are tens of seconds). */
  retryDelays?: Record<string, number>;
  /** The operator key pair the hosts accept (e.g. one encrypted with a passphrase); default a fresh plain one. */
  clientKey?: { private: string; public: string };
  /** Hosts holding VMs (the first ones); default all but the last. */
  loadedHosts?: number;
  /** Changes to the inventory before it is written and planned (rules, VM labels). */
  inventory?: (inv: { hosts: Record<string, unknown>[]; vms: Record<string, unknown>[]; rules: Record<string, unknown> }) => void;
}

/** `hostCount` hosts; all but the last hold `vmsPerHost` VMs (or the first `loadedHosts`), the others are spares. */
export async function startCliRig(hostCount = 3, vmsPerHost = 2, o: CliRigOptions = {}): Promise<CliRig> {
  const names = Array.from({ length: hostCount }, (_, i) => `hv-${i + 1}`);
  const addresses = Object.fromEntries(names.map((n, i) => [n, `127.0.1.${i + 10}`]));
  const byAddress = new Map(Object.entries(addresses).map(([k, v]) => [v, k]));
  const model = new HypervisorModel();
  for (const n of names) model.addHost(n);
  const initial = new Map<string, string>();
  names.slice(0, o.loadedHosts ?? hostCount - 1).forEach((h, i) => {
    for (let j = 0; j < vmsPerHost; j++) {
      const vm = `vm-${i}-${j}`;
      model.addVm({ name: vm, host: h, vcpus: 1, memoryMiB: 512 });
      initial.set(vm, h);
    }
  });
  const hosts = new LibvirtFleet(model, { hostByAddress: (a) => byAddress.get(a), rebootMs: 30 });
  const fleet = await startSshFleet({ hosts: names, handler: hosts.handler, model, addresses, ...(o.clientKey ? { clientKey: o.clientKey } : {}) });
  hosts.fleet = fleet;
  const dir = mkdtempSync(join(tmpdir(), 'hvroll-cli-'));
  await fleet.writeKnownHosts(join(dir, 'known_hosts'));
  writeFileSync(join(dir, 'id'), fleet.clientKey.private);
  chmodSync(join(dir, 'id'), 0o600);
  const inventory = {
    hosts: names.map((n) => ({ name: n, address: addresses[n], ssh: { user: 'hvroll', port: fleet.host(n).port }, labels: { rack: 'r1' }, capacity: { vcpus: 8, memoryMiB: 4096 } })),
    vms: [...initial].map(([vm, h]) => ({ name: vm, host: h, vcpus: 1, memoryMiB: 512, labels: { tier: 'web' } })),
    rules: { concurrency: { groups: 1, migrations: 2, migrationsPerHost: 1 } } as Record<string, unknown>,
  };
  o.inventory?.(inventory);
  writeFileSync(join(dir, 'inventory.yaml'), stringify(inventory));
  let runbook = 'runbooks/libvirt.yaml';
  if (o.timeouts || o.retryDelays) {
    const doc = parse(readFileSync(runbook, 'utf8')) as { steps: Record<string, { timeoutSeconds?: number; retryDelaySeconds?: number }> };
    for (const [step, seconds] of Object.entries(o.timeouts ?? {})) doc.steps[step]!.timeoutSeconds = seconds;
    for (const [step, seconds] of Object.entries(o.retryDelays ?? {})) doc.steps[step]!.retryDelaySeconds = seconds;
    writeFileSync((runbook = join(dir, 'runbook.yaml')), stringify(doc));
  }
  const plan = join(dir, 'plan.json');
  const planned = await cli(['plan', join(dir, 'inventory.yaml'), '--runbook', runbook, '--out', plan]);
  if (planned.code !== 0) throw new Error(`plan failed: ${planned.stderr}`);
  return {
    fleet,
    hosts,
    dir,
    plan,
    initial,
    sshFlags: ['--known-hosts', join(dir, 'known_hosts'), '--identity', join(dir, 'id'), '--no-progress'],
    reset() {
      for (const [vm, h] of initial) model.vms.get(vm)!.host = h;
      model.migrations.length = 0;
      model.remnants.clear();
      model.harmed.length = 0;
      model.cutShortNextMigrations();
      hosts.state.clear();
      hosts.changes.length = 0;
    },
    stop: () => fleet.stop(),
  };
}
