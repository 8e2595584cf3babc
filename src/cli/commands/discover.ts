// `hvroll discover`: read what runs on every host and write the refreshed `vms:` list for review.

import { Command } from 'commander';
import { stringify } from 'yaml';
import { SshExecutor } from '../../drivers/ssh/ssh-executor.ts';
import { discoverFleet, type AddedVm } from '../../engine/discover-fleet.ts';
import { showName } from '../../model/show-name.ts';
import { loadInventory } from '../../inventory/load.ts';
import { loadRunbook } from '../../runbook/load.ts';
import { HvrollError } from '../../model/errors.ts';
import type { CliIo } from '../io.ts';
import { collectSet } from '../campaign-flags.ts';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeOutputFile } from '../../io/output-file.ts';

interface DiscoverFlags {
  runbook: string;
  out?: string;
  json?: boolean;
  knownHosts?: string;
  identity?: string;
  user?: string;
  set?: Record<string, string>;
  ansible?: string;
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
    .action(async (paths: string[], flags: DiscoverFlags) => {
      const { inventory } = await loadInventory(paths, flags.ansible ? { ansible: flags.ansible } : {});
      const runbook = await loadRunbook(flags.runbook);
      // Said before reading every host, not after.
      if (flags.out && !existsSync(dirname(flags.out))) throw new HvrollError('usage', `cannot write ${flags.out}: its directory does not exist`, { details: { fix: 'choose an --out file in an existing directory you can write to' } });
      const knownHosts = flags.knownHosts ?? join(homedir(), '.ssh', 'known_hosts');
      if (!existsSync(knownHosts)) throw new HvrollError('usage', `known_hosts file ${knownHosts} does not exist; pass --known-hosts`);
      const identity = flags.identity ?? ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => join(homedir(), '.ssh', f)).find((f) => existsSync(f));
      const executor = new SshExecutor({
        knownHostsPath: knownHosts,
        ...(identity ? { privateKey: readFileSync(identity) } : {}),
        ...(process.env.SSH_AUTH_SOCK ? { agent: process.env.SSH_AUTH_SOCK } : {}),
        defaultUser: flags.user ?? 'root',
        connectTimeoutMs: 15_000,
      });
      try {
        const { vms, diff } = await discoverFleet({ executor, inventory, runbook, vars: { ...runbook.vars, ...flags.set }, controller: null });
        // Whole or not at all, and an --out that cannot be written is said with a fix (exit 2), not a stack.
        if (flags.out) await writeOutputFile(flags.out, stringify({ vms }));
        if (flags.json) {
          io.stdout.write(`${JSON.stringify(diff, null, 2)}\n`);
        } else {
          const say = (s: string) => io.stdout.write(`${s}\n`);
          say(`${vms.length} VMs on ${inventory.hosts.length - diff.unreachable.length}/${inventory.hosts.length} hosts read`);
          for (const a of diff.added) say(`  + ${describeAdded(a)}`);
          for (const r of diff.removed) say(`  - ${showName(r.vm)} (inventory says ${r.host}; runs nowhere)`);
          for (const m of diff.moved) say(`  ~ ${showName(m.vm)} runs on ${m.to}, inventory says ${m.from}`);
          for (const r of diff.resized) say(`  ~ ${showName(r.vm)} is ${r.to}, inventory says ${r.from}`);
          for (const u of diff.unreachable) say(`  ! ${u.host} not read: ${u.error}`);
          if (flags.out) say(`refreshed VM list written to ${flags.out}`);
        }
      } finally {
        await executor.close();
      }
    });
}
