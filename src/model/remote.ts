// What running a command on a host is made of, for the executors (src/executor/, src/drivers/ssh/, the
// simulator) and for the errors that carry a command's result: where it runs, what it returns, why it failed.

/** Where a command runs. `address` is what we connect to (and look up in known_hosts); `name` is for humans. */
export interface HostRef {
  name: string;
  address: string;
  /** Default 22. */
  port?: number;
  /** Default: the executor's `defaultUser`. */
  user?: string;
}

export interface CommandSpec {
  /** Program and arguments. Never a shell string: each element arrives on the host as exactly one argument. */
  argv: string[];
  /** Wall-clock limit for the command itself (connecting has its own limit). Required: nothing may hang. */
  timeoutMs: number;
  /** Cancels the command (pause/abort of the campaign); the call then rejects with reason `aborted`. */
  signal?: AbortSignal;
  /** Written to the command's stdin, then EOF. Without it stdin is closed at once, so nothing can wait on it. */
  stdin?: string;
}

export interface CommandResult {
  /** `null` when the command died from a signal or the server sent no exit status. */
  exitCode: number | null;
  /** Signal name without `SIG` (e.g. `TERM`) when the command was killed by one. */
  signal: string | null;
  /** The last bytes of stdout/stderr (bounded), for the journal and error messages. */
  stdoutTail: string;
  stderrTail: string;
  /** stdout from its start, up to the implementation's cap; check `stdoutTruncated` before parsing it. */
  stdout: string;
  /** True when stdout exceeded the cap: a truncated listing must not be mistaken for a complete one. */
  stdoutTruncated?: boolean;
  durationMs: number;
  /**
   * True only in the partial result attached to a `timeout` error (`details.result`): a result returned
   * from `run()` always finished in time.
   */
  timedOut: boolean;
}

/**
 * Why a remote operation failed, in `HvrollError('remote').details.reason`. A non-zero exit code is NOT
 * an error: it is a `CommandResult`.
 */
export type RemoteFailureReason =
  | 'connect' // TCP, handshake or the overall connect deadline
  | 'host-key-unknown' // known_hosts has no key for this host: refused before authenticating
  | 'host-key-changed' // known_hosts has a different key: refused before authenticating
  | 'host-key-revoked' // the key is marked @revoked in known_hosts
  | 'auth' // the host refused our credentials
  | 'channel' // the host refused to open a session (e.g. MaxSessions)
  | 'timeout' // the command (or waitForHost) ran past its limit
  | 'aborted' // the caller's AbortSignal fired
  | 'disconnected' // the connection dropped while the command ran: it may or may not have taken effect
  | 'closed'; // the executor was closed

/** What every executor failure says in `HvrollError('remote').details` (model/errors.ts RemoteDetails has these, and more). */
export interface RemoteFailureDetails {
  host: string;
  address: string;
  port: number;
  reason: RemoteFailureReason;
  /** The command, when the failure happened while running one. */
  argv?: string[];
  /** Output seen before a timeout/abort/disconnect, so the journal keeps what the command printed. */
  result?: CommandResult;
  /** SHA256 fingerprint of the key the host presented (host-key failures). */
  fingerprint?: string;
  /** Connect failures: connect attempts this call waited for, and how long it waited in all. */
  attempts?: number;
  elapsedMs?: number;
}
