// The Executor over real SSH: one verified connection per host, reused by every command, reopened on the
// next command after a drop; every command bounded in time and output.
import ssh2 from 'ssh2';
import type { ParsedKey } from 'ssh2';
import type { CommandResult, CommandSpec, Executor, HostRef, WaitForHostOptions } from '../../executor/executor.ts';
import { silentLogger, type ExecutorLogger } from '../../executor/logger.ts';
import { remoteError, remoteReason } from '../../executor/remote-error.ts';
import { sleep } from '../../io/sleep.ts';
import { errorOfKind, HvrollError } from '../../model/errors.ts';
import { connectVerified, type SshClient, type Target } from './connect.ts';
import { NOT_STARTED, runOnConnection, type LiveConnection } from './run-command.ts';

export interface SshExecutorOptions {
  /** OpenSSH known_hosts file; hosts whose key is not in it are refused (never added silently). */
  knownHostsPath: string;
  /** Private key (OpenSSH/PEM/PPK). Parsed once in the constructor; neither it nor the passphrase is logged. */
  privateKey?: Buffer | string;
  passphrase?: string;
  /** ssh-agent socket path (usually `process.env.SSH_AUTH_SOCK`). Tried after `privateKey`. */
  agent?: string;
  /** Overall limit for TCP connect + handshake + authentication. */
  connectTimeoutMs: number;
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  defaultUser: string;
  /** Bytes of stdout/stderr kept as tails; default 4096. */
  outputTailBytes?: number;
  /** Bytes of stdout kept from its start for parsing; default 1 MiB. */
  stdoutCapBytes?: number;
  /** Time a channel (or connection) gets to close after we ask, before it is destroyed; default 2000. */
  closeGraceMs?: number;
  logger?: ExecutorLogger;
}

function loadPrivateKey(key: Buffer | string, passphrase: string | undefined): ParsedKey {
  const parsed = ssh2.utils.parseKey(key, passphrase);
  // ssh2's messages never contain key material, but we still map them to fixed texts: no secret can leak.
  if (parsed instanceof Error) {
    const m = parsed.message.toLowerCase();
    const why = m.includes('no passphrase') ? 'it is encrypted and no passphrase was given' : m.includes('decrypt') || m.includes('passphrase') ? 'the passphrase is wrong' : 'it is not a supported private key (OpenSSH, PEM or PPK)';
    throw new HvrollError('usage', `Cannot use the SSH private key: ${why}`);
  }
  const first = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed;
  if (!first || !first.isPrivateKey()) throw new HvrollError('usage', 'Cannot use the SSH private key: the data holds no private key');
  return first;
}

export class SshExecutor implements Executor {
  private readonly privateKey: ParsedKey | undefined;
  private readonly logger: ExecutorLogger;
  private readonly limits: { tailBytes: number; stdoutCapBytes: number; closeGraceMs: number };
  /** One entry per host: the in-flight connect (shared by every waiter) or the open connection. */
  private readonly pool = new Map<string, Promise<LiveConnection>>();
  /** Every client we created, including ones still handshaking, so close() leaves nothing open. */
  private readonly clients = new Set<SshClient>();
  private closed = false;

  constructor(private readonly opts: SshExecutorOptions) {
    if (opts.privateKey === undefined && !opts.agent) {
      throw new HvrollError('usage', 'No SSH credentials: give a private key or an ssh-agent socket (SSH_AUTH_SOCK)');
    }
    this.privateKey = opts.privateKey === undefined ? undefined : loadPrivateKey(opts.privateKey, opts.passphrase);
    this.logger = opts.logger ?? silentLogger;
    this.limits = { tailBytes: opts.outputTailBytes ?? 4096, stdoutCapBytes: opts.stdoutCapBytes ?? 1024 * 1024, closeGraceMs: opts.closeGraceMs ?? 2000 };
  }

  private target(host: HostRef): Target {
    return { name: host.name, address: host.address, port: host.port ?? 22, user: host.user ?? this.opts.defaultUser };
  }

  private static key(t: Target): string {
    return `${t.user}@${t.address}:${t.port}`;
  }

  private assertOpen(t: Target): void {
    if (this.closed) throw remoteError(t, 'closed', 'the SSH executor is closed');
  }

  /** A fresh, verified, authenticated connection that marks itself dropped when the transport ends. */
  private async open(t: Target, signal?: AbortSignal, timeoutMs = this.opts.connectTimeoutMs): Promise<LiveConnection> {
    const client = await connectVerified({
      target: t,
      knownHostsPath: this.opts.knownHostsPath,
      privateKey: this.privateKey,
      agent: this.opts.agent,
      connectTimeoutMs: timeoutMs,
      keepaliveIntervalMs: this.opts.keepaliveIntervalMs ?? 5000,
      keepaliveCountMax: this.opts.keepaliveCountMax ?? 3,
      signal,
      logger: this.logger,
      track: (c) => {
        this.clients.add(c);
        c.once('close', () => this.clients.delete(c));
      },
    });
    const conn: LiveConnection = { client, target: t, dropped: false };
    const onGone = (): void => {
      if (!conn.dropped) this.logger.info({ host: t.name, port: t.port }, 'ssh connection closed');
      conn.dropped = true;
    };
    client.on('end', onGone);
    client.on('close', onGone);
    if (this.closed) {
      client.destroy();
      throw remoteError(t, 'closed', 'the SSH executor is closed');
    }
    return conn;
  }

  /**
   * The host's pooled connection, opening it if needed; concurrent callers share one connect. A caller waits
   * for at most one connect attempt: when the shared one fails, that failure is its answer too (retrying is
   * the step's business), so no command waits twice the connect timeout while its error names one.
   */
  private async connection(t: Target, signal?: AbortSignal): Promise<LiveConnection> {
    const key = SshExecutor.key(t);
    const startedAt = Date.now();
    const cancelled = () => remoteError(t, 'aborted', 'cancelled while connecting');
    const existing = this.pool.get(key);
    if (existing) {
      const conn = await abortable(existing, signal, cancelled).catch((err: unknown) => {
        throw connectFailure(err, startedAt, 'joined');
      });
      if (!conn.dropped) return conn;
      if (this.pool.get(key) === existing) this.pool.delete(key);
    }
    let pending = this.pool.get(key); // someone may already be reconnecting
    const joined = pending !== undefined;
    if (!pending) {
      pending = this.open(t);
      this.pool.set(key, pending);
      const mine = pending;
      mine.catch(() => {
        if (this.pool.get(key) === mine) this.pool.delete(key);
      });
    }
    return abortable(pending, signal, cancelled).catch((err: unknown) => {
      throw connectFailure(err, startedAt, joined ? 'joined' : 'own');
    });
  }

  async run(host: HostRef, cmd: CommandSpec): Promise<CommandResult> {
    const t = this.target(host);
    this.assertOpen(t);
    for (let attempt = 0; ; attempt++) {
      const conn = await this.connection(t, cmd.signal);
      try {
        return await runOnConnection(conn, cmd, this.limits);
      } catch (err) {
        // A stale pooled connection (dropped while idle) fails before the exec request leaves: the command
        // never ran, so one transparent retry on a fresh connection is safe.
        if (attempt === 0 && (err as Record<symbol, unknown>)[NOT_STARTED] === true && remoteReason(err) === 'disconnected') {
          this.logger.info({ host: t.name, port: t.port }, 'pooled ssh connection was stale; reconnecting');
          continue;
        }
        throw err;
      }
    }
  }

  async waitForHost(host: HostRef, opts: WaitForHostOptions): Promise<void> {
    const t = this.target(host);
    this.assertOpen(t);
    const pollMs = opts.pollMs ?? 2000;
    const startedAt = Date.now();
    let attempts = 0;
    let lastError: unknown;
    for (;;) {
      if (opts.signal?.aborted) throw remoteError(t, 'aborted', 'cancelled while waiting for the host');
      const remaining = opts.deadline - Date.now();
      if (remaining <= 0) {
        const last = lastError instanceof Error ? `; last attempt: ${lastError.message}` : '';
        const elapsedMs = Date.now() - startedAt;
        throw remoteError(
          t,
          'timeout',
          `did not accept SSH connections before the deadline ${new Date(opts.deadline).toISOString()} (${attempts} connect attempt${attempts === 1 ? '' : 's'} in ${seconds(elapsedMs)})${last}`,
          { attempts, elapsedMs },
          lastError,
        );
      }
      try {
        attempts++;
        // Always a fresh connection: the pooled one may predate a reboot.
        const conn = await this.open(t, opts.signal, Math.min(this.opts.connectTimeoutMs, remaining));
        this.adopt(t, conn);
        return;
      } catch (err) {
        const reason = remoteReason(err);
        // Key and credential problems will not fix themselves by waiting.
        if (reason !== 'connect') throw err;
        lastError = err;
      }
      // Aborted: the loop's first line says so.
      await sleep(Math.min(pollMs, Math.max(0, opts.deadline - Date.now())), opts.signal).catch(() => undefined);
    }
  }

  /** Makes `conn` the host's pooled connection, ending the one it replaces. */
  private adopt(t: Target, conn: LiveConnection): void {
    const key = SshExecutor.key(t);
    const old = this.pool.get(key);
    this.pool.set(key, Promise.resolve(conn));
    old?.then(
      (c) => {
        if (c !== conn) c.client.end();
      },
      () => {},
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    this.pool.clear();
    const grace = this.limits.closeGraceMs;
    await Promise.all(
      [...this.clients].map(
        (client) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              client.destroy();
              resolve();
            }, grace);
            client.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
            client.end();
          }),
      ),
    );
    this.clients.clear();
  }
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/**
 * A connect failure as this caller saw it: one attempt (its own, or one another command had started and it
 * joined), and how long it waited in all. Other failures (host key, auth, abort) pass unchanged.
 */
function connectFailure(err: unknown, startedAt: number, attempt: 'own' | 'joined'): unknown {
  const e = errorOfKind(err, 'remote');
  if (e?.details?.reason !== 'connect') return err;
  const elapsedMs = Date.now() - startedAt;
  const how = attempt === 'own' ? `1 connect attempt, ${seconds(elapsedMs)}` : `1 connect attempt, started by another command; waited ${seconds(elapsedMs)} for it`;
  return new HvrollError('remote', `${e.message} (${how})`, { retryable: e.retryable, details: { ...e.details, attempts: 1, elapsedMs }, cause: e });
}

/** Races `p` against an AbortSignal without cancelling `p` itself (it may be shared). */
function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined, error: () => Error): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(error());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(error());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
