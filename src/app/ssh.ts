// The one builder of the SSH executor, for every command that reaches hosts (run, resume, release, discover):
// host keys verified against known_hosts (which must exist), a private key (with HVROLL_SSH_PASSPHRASE when it
// is encrypted) or an ssh-agent, and the process's logger, so the driver's connects, drops and reconnects are
// in the logs. Checked before anything runs: a missing file is a usage error with the fix.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { SshExecutor } from '../drivers/ssh/ssh-executor.ts';
import type { Executor } from '../executor/executor.ts';
import { HvrollError } from '../model/errors.ts';
import { homeDir, type Env } from './env.ts';

/** What the command line says about SSH (each has a default). */
export interface SshSettings {
  /** OpenSSH known_hosts (default ~/.ssh/known_hosts). */
  knownHosts?: string;
  /** Private key file (default: ~/.ssh/id_ed25519, id_ecdsa, id_rsa, the first that exists). */
  identity?: string;
  /** ssh-agent socket (default SSH_AUTH_SOCK). */
  agent?: string;
  /** SSH user for hosts whose inventory entry names none (default root). */
  user?: string;
  connectTimeoutMs?: number;
}

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

export function buildSshExecutor(s: SshSettings, o: { env: Env; log: Logger }): Executor {
  const ssh = join(homeDir(o.env), '.ssh');
  const knownHosts = s.knownHosts ?? join(ssh, 'known_hosts');
  if (!existsSync(knownHosts)) {
    throw new HvrollError('usage', `known_hosts file ${knownHosts} does not exist: hvroll only talks to hosts whose key it can verify. Create it (ssh-keyscan, after checking the fingerprints) or pass --known-hosts`);
  }
  const identity = s.identity ?? DEFAULT_KEYS.map((f) => join(ssh, f)).find((f) => existsSync(f));
  const agent = s.agent ?? o.env.SSH_AUTH_SOCK;
  if (!identity && !agent) throw new HvrollError('usage', 'no SSH credentials: pass --identity <private key> or run an ssh-agent (SSH_AUTH_SOCK)');
  const passphrase = o.env.HVROLL_SSH_PASSPHRASE;
  return new SshExecutor({
    knownHostsPath: knownHosts,
    ...(identity ? { privateKey: readKey(identity) } : {}),
    ...(agent ? { agent } : {}),
    ...(passphrase ? { passphrase } : {}),
    defaultUser: s.user ?? 'root',
    connectTimeoutMs: s.connectTimeoutMs ?? 15_000,
    // Only fixed keys (host, port, reason) reach it: never options or key material.
    logger: o.log.child({ component: 'ssh' }),
  });
}

/** Read once at start-up, before anything runs: a small file. */
function readKey(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch {
    throw new HvrollError('usage', `cannot read the SSH private key ${path}`);
  }
}
