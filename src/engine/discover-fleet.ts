// `hvroll discover`: what really runs on every host, compared with the inventory. Read-only on the hosts.
// Known VMs keep their labels and migratable flag; sizes come from the runbook's inspect command when it has
// one. The result is a new `vms:` list and a diff the operator reviews before replacing their file. Names are
// compared exactly as the hosts print them.

import PQueue from 'p-queue';
import type { Executor, HostRef } from '../executor/executor.ts';
import { nameProblem } from '../inventory/names.ts';
import { HvrollError } from '../model/errors.ts';
import { lookalikeKey, showName } from '../model/show-name.ts';
import type { Inventory, Vm } from '../model/inventory.ts';
import type { Runbook } from '../runbook/model.ts';
import { render } from '../runbook/template.ts';
import { parseDiscovery, parseInspect } from './discovery.ts';

export interface AddedVm {
  vm: string;
  host: string;
  /** An inventory VM this name looks like (differs only by blanks, invisible characters, case, look-alike letters). */
  looksLike?: string;
  /** Why the name cannot go into an inventory as it is (it holds a space, a non-ASCII letter, …). */
  invalidName?: string;
}

export interface DiscoveryDiff {
  /** Names exactly as the hosts print them: `vm-2 ` is not `vm-2`. */
  added: AddedVm[];
  removed: { vm: string; host: string }[];
  moved: { vm: string; from: string; to: string }[];
  resized: { vm: string; from: string; to: string }[];
  /** Hosts that could not be read: their VMs are kept as the inventory has them. */
  unreachable: { host: string; error: string }[];
}

export interface DiscoveryResult {
  vms: Vm[];
  diff: DiscoveryDiff;
}

export interface DiscoverOptions {
  executor: Executor;
  inventory: Inventory;
  runbook: Runbook;
  vars: Record<string, string>;
  controller: HostRef | null;
  /** Hosts read at once. */
  concurrency?: number;
  timeoutMs?: number;
}

function refOf(inv: Inventory, name: string): HostRef {
  const h = inv.hosts.find((x) => x.name === name)!;
  return { name: h.name, address: h.address, ...(h.ssh?.port ? { port: h.ssh.port } : {}), ...(h.ssh?.user ? { user: h.ssh.user } : {}) };
}

export async function discoverFleet(o: DiscoverOptions): Promise<DiscoveryResult> {
  const { inventory: inv, runbook } = o;
  const d = runbook.discover;
  const known = new Map(inv.vms.map((v) => [v.name, v]));
  const found = new Map<string, Vm>();
  const diff: DiscoveryDiff = { added: [], removed: [], moved: [], resized: [], unreachable: [] };
  const timeoutMs = o.timeoutMs ?? d.timeoutSeconds * 1000;
  const queue = new PQueue({ concurrency: o.concurrency ?? 16 });

  const readHost = async (hostName: string): Promise<Vm[]> => {
    const host = refOf(inv, hostName);
    const where = d.command.on === 'controller' ? o.controller : host;
    if (!where) throw new HvrollError('usage', `${runbook.file}: discover runs on the controller; pass --controller`);
    const values = { ...o.vars, host: host.name, 'host.address': host.address };
    const listed = await o.executor.run(where, { argv: render(d.command.argv, values, `${runbook.file}: discover`), timeoutMs });
    if (listed.exitCode !== 0) throw new HvrollError('remote', `discover exited ${listed.exitCode}: ${listed.stderrTail.trim().slice(-200)}`);
    if (listed.stdoutTruncated) throw new HvrollError('remote', 'discover output was cut short');
    const onHost: Vm[] = [];
    for (const name of parseDiscovery(d, listed.stdout, host.name)) {
      const before = known.get(name);
      let size = before ? { memoryMiB: before.memoryMiB, vcpus: before.vcpus } : null;
      let inspected = '';
      if (d.inspect) {
        const argv = render(d.inspect.command.argv, { ...values, vm: name }, `${runbook.file}: discover.inspect`);
        const r = await o.executor.run(where, { argv, timeoutMs });
        const read = r.exitCode === 0 ? parseInspect(r.stdout, d.inspect.memoryKey, d.inspect.memoryUnit, d.inspect.vcpusKey) : null;
        if (!read) inspected = `\`${argv.map(showName).join(' ')}\` exited ${r.exitCode} without "${d.inspect.memoryKey}" and "${d.inspect.vcpusKey}"`;
        size = read ?? size;
      }
      if (!size) {
        const why = d.inspect ? inspected : 'the runbook has no discover.inspect command';
        throw new HvrollError('remote', `VM ${showName(name)} on ${host.name}: cannot tell its size (${why}) and the inventory does not know it`);
      }
      onHost.push({ name, host: host.name, vcpus: size.vcpus, memoryMiB: size.memoryMiB, labels: before?.labels ?? {}, migratable: before?.migratable ?? true });
    }
    return onHost;
  };

  const failedHosts = new Set<string>();
  const perHost = await Promise.all(
    inv.hosts.map((h) =>
      queue.add(() =>
        readHost(h.name).catch((e: unknown) => {
          failedHosts.add(h.name);
          diff.unreachable.push({ host: h.name, error: e instanceof Error ? e.message : String(e) });
          return [] as Vm[];
        }),
      ),
    ),
  );
  for (const vm of perHost.flat()) {
    // A VM in two places is a hard stop, not something to paper over.
    const dup = found.get(vm.name);
    if (dup) throw new HvrollError('remote', `VM ${showName(vm.name)} runs on both ${dup.host} and ${vm.host}: resolve that by hand before any campaign`);
    found.set(vm.name, vm);
  }

  const vms: Vm[] = [];
  for (const v of inv.vms) {
    const now = found.get(v.name);
    if (!now) {
      if (failedHosts.has(v.host)) vms.push(v);
      else diff.removed.push({ vm: v.name, host: v.host });
      continue;
    }
    if (now.host !== v.host) diff.moved.push({ vm: v.name, from: v.host, to: now.host });
    if (now.memoryMiB !== v.memoryMiB || now.vcpus !== v.vcpus) diff.resized.push({ vm: v.name, from: `${v.vcpus} vCPU/${v.memoryMiB} MiB`, to: `${now.vcpus} vCPU/${now.memoryMiB} MiB` });
    vms.push(now);
  }
  const byLook = new Map(inv.vms.map((v) => [lookalikeKey(v.name), v.name]));
  for (const [name, v] of found) {
    if (known.has(name)) continue;
    const looksLike = byLook.get(lookalikeKey(name));
    const invalidName = nameProblem(name);
    diff.added.push({ vm: name, host: v.host, ...(looksLike === undefined ? {} : { looksLike }), ...(invalidName === null ? {} : { invalidName }) });
    vms.push(v);
  }
  diff.unreachable.sort((a, b) => a.host.localeCompare(b.host));
  return { vms, diff };
}
