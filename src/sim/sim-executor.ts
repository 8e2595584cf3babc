// The Executor over the simulated fleet: the engine's commands take virtual time (clock.sleep), honour their
// timeout and AbortSignal like the SSH executor does, and fail the same way (HvrollError('remote') with a
// reason). A rebooting host refuses connections until it is back; waitForHost waits for that in virtual time.

import type { CommandResult, CommandSpec, Executor, HostRef, RemoteFailureReason, WaitForHostOptions } from '../executor/executor.ts';
import { HvrollError } from '../model/errors.ts';
import type { LibvirtCommands } from './libvirt-commands.ts';
import type { SimFleet, SimHost } from './sim-fleet.ts';
import type { VirtualClock } from './virtual-clock.ts';

const TAIL = 4096;

export class SimExecutor implements Executor {
  private closed = false;
  commands = 0;

  constructor(
    private readonly fleet: SimFleet,
    private readonly commandsModel: LibvirtCommands,
    private readonly clock: VirtualClock,
  ) {}

  private error(host: HostRef, reason: RemoteFailureReason, message: string, extra: Record<string, unknown> = {}): HvrollError {
    return new HvrollError('remote', `${host.name}: ${message}`, {
      retryable: reason !== 'aborted' && reason !== 'closed',
      details: { host: host.name, address: host.address, port: host.port ?? 22, reason, ...extra },
    });
  }

  private hostOf(ref: HostRef): SimHost {
    const h = this.fleet.hosts.get(ref.name);
    if (!h) throw this.error(ref, 'connect', `could not connect to ${ref.address}: no such host in the simulated fleet`);
    return h;
  }

  async run(ref: HostRef, cmd: CommandSpec): Promise<CommandResult> {
    if (this.closed) throw this.error(ref, 'closed', 'the executor is closed');
    if (cmd.signal?.aborted) throw this.error(ref, 'aborted', 'cancelled', { argv: cmd.argv });
    const host = this.hostOf(ref);
    if (!host.up) throw this.error(ref, 'connect', `could not connect to ${ref.address}:22: connection refused (host is rebooting)`);
    this.commands++;
    const started = this.clock.now();
    const effect = this.commandsModel.start(host, cmd.argv);
    if (effect.ms > 0) {
      const timedOut = effect.ms > cmd.timeoutMs;
      try {
        await this.clock.sleep(timedOut ? cmd.timeoutMs : effect.ms, cmd.signal);
      } catch {
        effect.cancel?.();
        throw this.error(ref, 'aborted', 'command cancelled', { argv: cmd.argv });
      }
      if (timedOut) {
        effect.cancel?.();
        throw this.error(ref, 'timeout', `\`${cmd.argv.join(' ')}\` ran past its ${cmd.timeoutMs} ms limit`, { argv: cmd.argv });
      }
    }
    const out = effect.finish();
    effect.after?.();
    return {
      exitCode: out.code,
      signal: null,
      stdout: out.stdout,
      stdoutTail: out.stdout.slice(-TAIL),
      stderrTail: out.stderr.slice(-TAIL),
      durationMs: this.clock.now() - started,
      timedOut: false,
    };
  }

  async waitForHost(ref: HostRef, opts: WaitForHostOptions): Promise<void> {
    if (this.closed) throw this.error(ref, 'closed', 'the executor is closed');
    const host = this.hostOf(ref);
    while (!host.up) {
      const now = this.clock.now();
      if (now >= opts.deadline) throw this.error(ref, 'timeout', `did not answer before ${new Date(opts.deadline).toISOString()}`);
      // Sleep until it is due back (or the deadline), then look again: a reboot may take longer than announced.
      const until = Math.min(opts.deadline, Math.max(host.upAt, now + 1));
      try {
        await this.clock.sleep(until - now, opts.signal);
      } catch {
        throw this.error(ref, 'aborted', 'wait for host cancelled');
      }
    }
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
