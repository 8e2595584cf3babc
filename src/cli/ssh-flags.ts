// SSH options shared by the commands that reach hosts for a campaign (run, resume, release): one definition,
// so every command verifies host keys and authenticates the same way.

import { Command, InvalidArgumentError } from 'commander';
import type { SshSettings } from '../app/ssh.ts';
import type { HostRef } from '../executor/executor.ts';

export interface SshOptionFlags {
  knownHosts?: string;
  identity?: string;
  user?: string;
  controller?: HostRef;
}

export function withSshOptions(cmd: Command): Command {
  return cmd
    .option('--known-hosts <file>', 'OpenSSH known_hosts to verify host keys against (default ~/.ssh/known_hosts)')
    .option('--identity <file>', 'SSH private key (default: ssh-agent, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa); passphrase from HVROLL_SSH_PASSPHRASE')
    .option('--user <name>', 'SSH user for hosts whose inventory entry names none (default root)')
    .option('--controller <user@host[:port]>', 'where `on: controller` runbook commands run (e.g. the OpenStack client)', parseController);
}

function parseController(value: string): HostRef {
  const m = /^(?:([^@]+)@)?([^:@]+)(?::(\d+))?$/.exec(value);
  if (!m) throw new InvalidArgumentError(`expected user@host[:port], got "${value}"`);
  return { name: m[2]!, address: m[2]!, ...(m[1] ? { user: m[1] } : {}), ...(m[3] ? { port: Number(m[3]) } : {}) };
}

/** What the flags say about SSH (src/app/ssh.ts gives the defaults), and where `on: controller` commands run. */
export function sshSettings(flags: SshOptionFlags): { ssh: SshSettings; controller: HostRef | null } {
  return {
    ssh: {
      ...(flags.knownHosts ? { knownHosts: flags.knownHosts } : {}),
      ...(flags.identity ? { identity: flags.identity } : {}),
      ...(flags.user ? { user: flags.user } : {}),
    },
    controller: flags.controller ?? null,
  };
}
