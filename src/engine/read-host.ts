// Read-only questions a group asks a host through the runbook's discover section, journalled like every
// remote command: which VMs it runs (discover), and how big one of them is (discover.inspect).

import type { CommandResult, HostRef } from '../executor/executor.ts';
import { HvrollError } from '../model/errors.ts';
import { journalStep } from '../model/journal.ts';
import { showName } from '../model/show-name.ts';
import { render } from '../runbook/template.ts';
import { stepValues, type EngineDeps } from './deps.ts';
import { parseDiscovery, parseInspect } from './discovery.ts';
import { probeRemote, runRemote } from './remote.ts';

export interface Size {
  memoryMiB: number;
  vcpus: number;
}

function discoverValues(deps: EngineDeps, group: string, host: HostRef, vm?: string): Record<string, string> {
  return stepValues(deps, group, host, vm === undefined ? {} : { vm });
}

/** Where the discover commands run for `host`: the host itself, or the controller. */
function discoverWhere(deps: EngineDeps, host: HostRef): HostRef {
  const where = deps.runbook.discover.command.on === 'controller' ? deps.controller : host;
  if (!where) throw new HvrollError('invalid-input', `${deps.runbook.file}: discover runs on the controller; pass --controller`);
  return where;
}

/** The VMs `host` runs now, by exact name, as the runbook's discover command lists them. */
export async function discoverVms(deps: EngineDeps, group: string, host: HostRef, signal: AbortSignal): Promise<string[]> {
  const d = deps.runbook.discover;
  const result = await runRemote(deps, {
    group,
    step: journalStep('discover'),
    host: discoverWhere(deps, host),
    argv: render(d.command.argv, discoverValues(deps, group, host), `${deps.runbook.file}: discover`),
    timeoutMs: d.timeoutSeconds * 1000,
    signal,
  });
  if (result.exitCode !== 0) {
    throw new HvrollError('remote', `discovery on ${host.name} exited ${result.exitCode}: ${result.stderrTail.trim().slice(-200)}`, { retryable: true, details: { host: host.name } });
  }
  if (result.stdoutTruncated) throw new HvrollError('remote', `discovery output of ${host.name} was cut short; cannot compare it with the plan`, { details: { host: host.name } });
  return parseDiscovery(d, result.stdout, host.name);
}

/** Memory and vCPUs of one VM on `host`, read with the runbook's discover.inspect (journalled as `discover:inspect`). */
export async function inspectVm(deps: EngineDeps, group: string, host: HostRef, vm: string, signal: AbortSignal): Promise<Size> {
  const inspect = deps.runbook.discover.inspect;
  if (!inspect) {
    throw new HvrollError('invalid-input', `cannot tell the size of VM ${showName(vm)} on ${host.name}: the plan does not know it and ${deps.runbook.file} has no discover.inspect command`, {
      details: { host: host.name, vm, fix: 'add discover.inspect to the runbook (see runbooks/libvirt.yaml: virsh dominfo)' },
    });
  }
  const read = (r: CommandResult) => (r.exitCode === 0 ? parseInspect(r.stdout, inspect.memoryKey, inspect.memoryUnit, inspect.vcpusKey) : null);
  const { result } = await probeRemote(
    deps,
    {
      group,
      step: journalStep('discover', 'inspect'),
      host: discoverWhere(deps, host),
      vm,
      argv: render(inspect.command.argv, discoverValues(deps, group, host, vm), `${deps.runbook.file}: discover.inspect`),
      timeoutMs: deps.runbook.discover.timeoutSeconds * 1000,
      signal,
    },
    (r) => (read(r) === null ? 'no size' : null),
  );
  const size = read(result);
  if (!size) {
    throw new HvrollError('remote', `cannot read the size of VM ${showName(vm)} on ${host.name}: \`${inspect.command.argv.join(' ')}\` exited ${result.exitCode} without "${inspect.memoryKey}" and "${inspect.vcpusKey}"`, {
      retryable: true,
      details: { host: host.name, vm },
    });
  }
  return size;
}
