// `hvroll discover`: read what runs on every host and write the refreshed `vms:` list for review.

import { Command } from 'commander';
import { discover } from '../../app/discover.ts';
import { processLogger } from '../../app/logging.ts';
import type { AddedVm } from '../../engine/discover-fleet.ts';
import { showName } from '../../model/show-name.ts';
import { collectSet } from '../campaign-flags.ts';
import type { CliIo } from '../io.ts';

interface DiscoverFlags {
  runbook: string;
  out?: string;
  json?: boolean;
  knownHosts?: string;
  identity?: string;
  user?: string;
  set?: Record<string, string>;
  ansible?: string;
  logFile?: string;
}

/** One VM the inventory does not have, escaped, with what the operator must know before adding it. */
export function describeAdded(a: AddedVm): string {
  const notes = ['not in the inventory: give it labels before planning'];
  if (a.looksLike !== undefined) notes.push(`looks like ${showName(a.looksLike)}, but is another VM`);
  if (a.invalidName !== undefined) notes.push(`its name ${a.invalidName}: rename the VM on its host, an inventory cannot hold that name`);
  return `${showName(a.vm)} on ${a.host} (${notes.join('; ')})`;
}

export function discoverCommand(io: CliIo): Command {
  return new Command('discover')
    .description("Read the VMs that really run on every host (the runbook's discover command) and compare them with the inventory")
    .argument('[inventory...]', 'inventory files or directories', ['inventory/example.yaml'])
    .requiredOption('--runbook <file>', 'runbook whose discover command lists a host\'s VMs')
    .option('--out <file>', 'write the refreshed `vms:` list (YAML) here, to review and put in place of your VM file')
    .option('--json', 'print the diff as JSON')
    .option('--ansible <file>', 'take the host list from an Ansible YAML inventory')
    .option('--known-hosts <file>', 'OpenSSH known_hosts (default ~/.ssh/known_hosts)')
    .option('--identity <file>', 'SSH private key (default: ssh-agent, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa)')
    .option('--user <name>', 'SSH user for hosts whose inventory entry names none (default root)')
    .option('--set <name=value>', 'a runbook variable (repeatable)', collectSet, {})
    .option('--log-file <file>', 'write JSON logs (the SSH connections made) to this file')
    .action(async (paths: string[], flags: DiscoverFlags) => {
      const { vms, diff, hosts } = await discover({
        inventory: paths,
        ...(flags.ansible ? { ansible: flags.ansible } : {}),
        runbook: flags.runbook,
        sets: flags.set ?? {},
        ...(flags.out ? { out: flags.out } : {}),
        ssh: { ...(flags.knownHosts ? { knownHosts: flags.knownHosts } : {}), ...(flags.identity ? { identity: flags.identity } : {}), ...(flags.user ? { user: flags.user } : {}) },
        env: io.env,
        log: processLogger({ console: false, ...(flags.logFile ? { file: flags.logFile } : {}) }),
      });
      if (flags.json) {
        io.stdout.write(`${JSON.stringify(diff, null, 2)}\n`);
      } else {
        const say = (s: string) => io.stdout.write(`${s}\n`);
        say(`${vms.length} VMs on ${hosts - diff.unreachable.length}/${hosts} hosts read`);
        for (const a of diff.added) say(`  + ${describeAdded(a)}`);
        for (const r of diff.removed) say(`  - ${showName(r.vm)} (inventory says ${r.host}; runs nowhere)`);
        for (const m of diff.moved) say(`  ~ ${showName(m.vm)} runs on ${m.to}, inventory says ${m.from}`);
        for (const r of diff.resized) say(`  ~ ${showName(r.vm)} is ${r.to}, inventory says ${r.from}`);
        for (const u of diff.unreachable) say(`  ! ${u.host} not read: ${u.error}`);
        if (flags.out) say(`refreshed VM list written to ${flags.out}`);
      }
    });
}
