// Opens one SSH connection that is verified against known_hosts BEFORE any authentication, authenticated
// with public keys only, and bounded by an overall deadline (TCP + handshake + auth): ssh2's readyTimeout
// alone does not cover everything (DNS, a server that stalls during auth) and never fires on abort.
import ssh2 from 'ssh2';
import type { AnyAuthMethod, ParsedKey } from 'ssh2';
import type { RemoteFailureReason } from '../../executor/executor.ts';
import type { ExecutorLogger } from '../../executor/logger.ts';
import { remoteError } from '../../executor/remote-error.ts';
import { HvrollError } from '../../model/errors.ts';
import { KnownHosts, describeRefusal, type VerifyOutcome } from './known-hosts.ts';

const { Client } = ssh2;
export type SshClient = InstanceType<typeof Client>;

export interface Target {
  name: string;
  address: string;
  port: number;
  user: string;
}

export interface ConnectParams {
  target: Target;
  knownHostsPath: string;
  /** Parsed once by the executor, so the passphrase is never kept or passed around. */
  privateKey?: ParsedKey;
  agent?: string;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  signal?: AbortSignal;
  logger: ExecutorLogger;
  /** Called with the client as soon as it exists, so `close()` can reach connections still handshaking. */
  track?: (client: SshClient) => void;
}

// ssh2's default host key algorithm order (README, `algorithms.serverHostKey`).
const DEFAULT_HOST_KEY_ALGOS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

/**
 * Like OpenSSH, ask first for the key types known_hosts holds for this host: a host with both an RSA and an
 * ed25519 key, known only by RSA, must present RSA, not look "unknown".
 */
function hostKeyAlgorithms(known: string[]): string[] {
  const preferred = known.flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t])).filter((a) => DEFAULT_HOST_KEY_ALGOS.includes(a));
  return [...new Set([...preferred, ...DEFAULT_HOST_KEY_ALGOS])];
}

function verdictReason(outcome: VerifyOutcome): RemoteFailureReason {
  return outcome.verdict === 'changed' ? 'host-key-changed' : outcome.verdict === 'revoked' ? 'host-key-revoked' : 'host-key-unknown';
}

export async function connectVerified(p: ConnectParams): Promise<SshClient> {
  const { target, logger } = p;
  const where = { name: target.name, address: target.address, port: target.port };
  if (p.signal?.aborted) throw remoteError(where, 'aborted', 'connect cancelled');

  let knownHosts: KnownHosts;
  try {
    knownHosts = await KnownHosts.load(p.knownHostsPath);
  } catch (err) {
    throw new HvrollError('usage', `Cannot read known_hosts file ${p.knownHostsPath}: ${(err as Error).message}`, { cause: err });
  }
  for (const w of knownHosts.warnings) logger.debug({ file: p.knownHostsPath, line: w.line }, `known_hosts: ${w.message}`);

  const auth: AnyAuthMethod[] = [];
  if (p.privateKey) auth.push({ type: 'publickey', username: target.user, key: p.privateKey });
  if (p.agent) auth.push({ type: 'agent', username: target.user, agent: p.agent });

  const client = new Client();
  p.track?.(client);

  return new Promise<SshClient>((resolve, reject) => {
    let outcome: VerifyOutcome | undefined;
    let settled = false;

    const finish = (err: HvrollError<'remote'> | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      p.signal?.removeEventListener('abort', onAbort);
      if (err) {
        client.destroy();
        logger.debug({ host: target.name, port: target.port, reason: err.details?.reason }, 'ssh connect failed');
        reject(err);
      } else {
        logger.debug({ host: target.name, port: target.port }, 'ssh connected');
        resolve(client);
      }
    };
    const onAbort = (): void => finish(remoteError(where, 'aborted', 'connect cancelled'));
    const deadline = setTimeout(() => finish(remoteError(where, 'connect', `could not connect to ${target.address}:${target.port} within ${p.connectTimeoutMs} ms`)), p.connectTimeoutMs);
    p.signal?.addEventListener('abort', onAbort, { once: true });

    client.on('ready', () => finish(null));
    // Kept for the connection's whole life: an 'error' without a listener would crash the process.
    client.on('error', (err: Error & { level?: string }) => {
      if (settled) {
        logger.warn({ host: target.name, port: target.port, level: err.level }, `ssh connection error: ${err.message}`);
        return;
      }
      if (outcome && outcome.verdict !== 'ok') {
        finish(remoteError(where, verdictReason(outcome), describeRefusal(outcome, target.address, target.port, p.knownHostsPath), { fingerprint: outcome.fingerprint }));
      } else if (err.level === 'client-authentication') {
        finish(remoteError(where, 'auth', `${target.user}@${target.address}:${target.port} refused our key(s) (${err.message}). Check that the public key is in ~${target.user}/.ssh/authorized_keys on the host.`));
      } else {
        finish(remoteError(where, 'connect', `could not connect to ${target.address}:${target.port}: ${err.message}`));
      }
    });
    client.on('close', () => finish(remoteError(where, 'connect', `connection to ${target.address}:${target.port} closed during the handshake`)));

    try {
      client.connect({
        host: target.address,
        port: target.port,
        username: target.user,
        readyTimeout: p.connectTimeoutMs,
        keepaliveInterval: p.keepaliveIntervalMs,
        keepaliveCountMax: p.keepaliveCountMax,
        agentForward: false,
        authHandler: auth,
        algorithms: { serverHostKey: hostKeyAlgorithms(knownHosts.knownKeyTypes(target.address, target.port)) as never },
        // Decides before NEWKEYS, so a refused host never sees a userauth request (no key, no username).
        hostVerifier: (key: Buffer): boolean => {
          outcome = knownHosts.verify(target.address, target.port, key);
          return outcome.verdict === 'ok';
        },
      });
    } catch (err) {
      finish(remoteError(where, 'connect', `could not start connecting to ${target.address}:${target.port}: ${(err as Error).message}`, {}, err));
    }
  });
}
