// The seam between the campaign machines and the world: run one command on one host, wait for a host to
// come back. The ssh2 driver (src/drivers/ssh) and the simulated fleet both implement it, so the engine
// never knows which one it talks to.

// The seam's vocabulary (where a command runs, what it returns, why it failed) is the model's: errors carry it.
export type { CommandResult, CommandSpec, HostRef, RemoteFailureDetails, RemoteFailureReason } from '../model/remote.ts';
import type { CommandResult, CommandSpec, HostRef } from '../model/remote.ts';

export interface WaitForHostOptions {
  /** Absolute deadline, epoch milliseconds (it survives a restore from a snapshot unchanged). */
  deadline: number;
  signal?: AbortSignal;
  /** Pause between attempts; default 2000. */
  pollMs?: number;
}

export interface Executor {
  /** Runs `cmd` on `host`. Resolves with the exit status; rejects with HvrollError('remote') otherwise. */
  run(host: HostRef, cmd: CommandSpec): Promise<CommandResult>;
  /** Resolves once the host accepts a fresh, verified, authenticated connection; rejects at the deadline. */
  waitForHost(host: HostRef, opts: WaitForHostOptions): Promise<void>;
  /** Ends every connection. Further calls reject with reason `closed`. */
  close(): Promise<void>;
}
