// One command on one already-open connection: exec without a PTY, bounded output, and a guaranteed end.
// Whatever happens (exit, timeout, abort, dropped connection, a wedged host that ignores us) the promise
// settles within `timeoutMs + closeGraceMs`, and leaves either a closed channel or a destroyed connection.
import type { ClientChannel } from 'ssh2';
import type { CommandResult, CommandSpec, RemoteFailureReason } from '../../executor/executor.ts';
import { HeadBuffer, TailBuffer } from '../../executor/output-buffer.ts';
import { remoteError } from '../../executor/remote-error.ts';
import type { HvrollError } from '../../model/errors.ts';
import type { SshClient, Target } from './connect.ts';
import { quoteArgv } from './quote.ts';

export interface LiveConnection {
  client: SshClient;
  target: Target;
  /** Set when the transport ended; read when a channel closes to tell a drop from a normal end. */
  dropped: boolean;
}

export interface RunLimits {
  tailBytes: number;
  stdoutCapBytes: number;
  /** How long a channel may take to close after we asked; past it the connection is destroyed. */
  closeGraceMs: number;
}

/** Marks failures where the exec request never reached the host, so the caller may safely retry. */
export const NOT_STARTED = Symbol('command-not-started');

export function runOnConnection(conn: LiveConnection, cmd: CommandSpec, limits: RunLimits): Promise<CommandResult> {
  const { target } = conn;
  const where = { name: target.name, address: target.address, port: target.port };
  const argv = [...cmd.argv];
  const started = Date.now();
  const stdoutTail = new TailBuffer(limits.tailBytes);
  const stderrTail = new TailBuffer(limits.tailBytes);
  const stdoutHead = new HeadBuffer(limits.stdoutCapBytes);
  let exitCode: number | null = null;
  let exitSignal: string | null = null;
  let sawExit = false;

  const snapshot = (timedOut: boolean): CommandResult => ({
    exitCode,
    signal: exitSignal,
    stdoutTail: stdoutTail.toString(),
    stderrTail: stderrTail.toString(),
    stdout: stdoutHead.toString(),
    stdoutTruncated: stdoutHead.truncated,
    durationMs: Date.now() - started,
    timedOut,
  });

  return new Promise<CommandResult>((resolve, reject) => {
    const command = quoteArgv(argv); // throws on NUL before anything is sent
    let channel: ClientChannel | undefined;
    let channelClosed = false;
    let stopping: { reason: Extract<RemoteFailureReason, 'timeout' | 'aborted'>; message: string } | undefined;
    let settled = false;
    let graceTimer: NodeJS.Timeout | undefined;
    let closeTimer: NodeJS.Timeout | undefined;
    const closeChannel = (): void => {
      try {
        channel?.close();
      } catch {
        /* channel already gone */
      }
    };

    const cleanup = (): void => {
      clearTimeout(timer);
      clearTimeout(graceTimer);
      clearTimeout(closeTimer);
      cmd.signal?.removeEventListener('abort', onAbort);
    };
    const succeed = (r: CommandResult): void => {
      if (settled) return;
      settled = true;
      cleanup();
      resolve(r);
    };
    const fail = (err: HvrollError): void => {
      if (settled) return;
      settled = true;
      cleanup();
      reject(err);
    };

    // Timeout and abort take the same road: ask the process to stop, close the channel, and if the host
    // does not confirm the close in time, destroy the whole connection (it is wedged; the next command
    // reconnects).
    const stop = (reason: 'timeout' | 'aborted'): void => {
      if (stopping || settled) return;
      const msg = reason === 'timeout' ? `command timed out after ${cmd.timeoutMs} ms: ${command}` : `command cancelled: ${command}`;
      stopping = { reason, message: msg };
      if (channel) sendSignal(channel, 'TERM'); // OpenSSH ≥ 7.9 delivers it; others ignore it, the close below still ends us
      // Half the grace for the process to exit on TERM (we then get its exit status), then we close the
      // channel ourselves; at the full grace, an unconfirmed close means a wedged connection.
      closeTimer = setTimeout(closeChannel, limits.closeGraceMs / 2);
      graceTimer = setTimeout(() => {
        if (!channelClosed) {
          conn.client.destroy();
          conn.dropped = true;
        }
        failStopped();
      }, limits.closeGraceMs);
    };
    // The partial result is taken when we give up, so it holds everything the command printed and how it ended.
    const failStopped = (): void => {
      if (stopping) fail(remoteError(where, stopping.reason, stopping.message, { argv, result: snapshot(stopping.reason === 'timeout') }));
    };
    const onAbort = (): void => stop('aborted');
    const timer = setTimeout(() => stop('timeout'), cmd.timeoutMs);
    if (cmd.signal?.aborted) {
      // Nothing was sent: settle at once.
      fail(remoteError(where, 'aborted', `command cancelled before it started: ${command}`, { argv }));
      return;
    }
    cmd.signal?.addEventListener('abort', onAbort, { once: true });

    const notStarted = (message: string, reason: RemoteFailureReason, cause?: unknown): HvrollError => {
      const err = remoteError(where, reason, message, { argv }, cause);
      Object.defineProperty(err, NOT_STARTED, { value: true });
      return err;
    };

    if (conn.dropped) {
      fail(notStarted('connection was closed before the command could start', 'disconnected'));
      return;
    }

    try {
      // No options: no PTY, no env, no X11, no agent forwarding.
      conn.client.exec(command, (err, ch) => {
        if (err) {
          // The channel was never opened: the command did not run.
          fail(notStarted(`could not open a session for the command (${err.message})`, conn.dropped ? 'disconnected' : 'channel', err));
          return;
        }
        channel = ch;
        if (stopping || settled) {
          // Timed out or cancelled while the channel was opening: the command must not start.
          ch.close();
        }
        ch.on('data', (chunk: Buffer) => {
          stdoutHead.push(chunk);
          stdoutTail.push(chunk);
        });
        ch.stderr.on('data', (chunk: Buffer) => stderrTail.push(chunk));
        ch.on('exit', (code: number | null, signalName?: string) => {
          sawExit = true;
          exitCode = typeof code === 'number' ? code : null;
          exitSignal = typeof signalName === 'string' ? signalName.replace(/^SIG/, '') : null;
        });
        ch.on('close', () => {
          channelClosed = true;
          if (stopping) {
            failStopped();
          } else if (!sawExit && conn.dropped) {
            fail(remoteError(where, 'disconnected', `connection dropped while the command ran; it may or may not have taken effect (check before retrying): ${command}`, { argv, result: snapshot(false) }));
          } else {
            succeed(snapshot(false));
          }
        });
        // Send stdin (if any) and EOF at once, so a command that reads stdin cannot wait for us forever.
        if (cmd.stdin !== undefined) ch.end(cmd.stdin);
        else ch.end();
      });
    } catch (err) {
      fail(notStarted(`connection is not usable (${(err as Error).message})`, 'disconnected', err));
    }
  });
}

/**
 * ssh2's `Channel.signal()` silently does nothing once we have sent EOF on stdin (it checks `writable`),
 * and we always send EOF right away. A signal request is still valid after our EOF (EOF only ends our data, RFC 4254 §5.3, §6.9),
 * so we send it through the channel's protocol object — ssh2 1.17 internals, guarded, best effort.
 */
function sendSignal(channel: ClientChannel, name: string): void {
  const ch = channel as unknown as { writable: boolean; outgoing?: { id?: number; state?: string }; _client?: { _protocol?: { signal?: (id: number, sig: string) => void } } };
  try {
    if (ch.writable) {
      channel.signal(name);
      return;
    }
    const proto = ch._client?._protocol;
    if ((ch.outgoing?.state === 'open' || ch.outgoing?.state === 'eof') && typeof ch.outgoing.id === 'number' && typeof proto?.signal === 'function') proto.signal(ch.outgoing.id, name);
  } catch {
    /* the channel or connection is already gone: closing it is all that is left */
  }
}
