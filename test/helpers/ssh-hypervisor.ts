// A tiny hypervisor fleet in memory, shared by all simulated SSH hosts, and the command handler that
// answers virsh-like commands from it. VMs move between hosts ONLY through `virsh migrate`, so a test can
// check where every VM ended up. A test may `addVm` at any moment: a VM another actor (an operator, a
// scheduler) starts on a host, e.g. on a drained host between two steps.
import type { CommandContext, CommandHandler, CommandOutput } from './ssh-fleet.ts';

export interface ModelVm {
  name: string;
  host: string;
  vcpus: number;
  memoryMiB: number;
  /** `running` and `paused` are active domains (`virsh list --name`); `shut off` is a definition only. */
  state: 'running' | 'paused' | 'shut off';
}

export interface SlowMigration {
  memoryMiB: number;
  /** How long a converging one takes. */
  ms: number;
  /** Never converges: memory remaining stays flat until aborted. */
  stall?: boolean;
}

/**
 * What a migration cut short in its last phase leaves on its source: the VM runs on the target and a stopped
 * copy stays defined on the source, paused (transient or persistent) or shut off (persistent).
 */
export interface Remnant {
  host: string;
  state: 'paused' | 'shut off';
  persistent: boolean;
  /** libvirt still holds a migration job on that copy (`virsh domjobinfo` is not "None"). */
  job?: boolean;
}

export interface Migration {
  vm: string;
  from: string;
  to: string;
}

export class HypervisorModel {
  readonly versions = new Map<string, string>();
  readonly vms = new Map<string, ModelVm>();
  readonly migrations: Migration[] = [];
  /** VM -> target of a migration under way (it counts on both hosts until it ends). */
  readonly inFlight = new Map<string, string>();
  /** VM -> the stopped copy an interrupted migration left on its source. */
  readonly remnants = new Map<string, Remnant>();
  /** VMs whose running copy was destroyed or undefined: lost, whatever the test says next. */
  readonly harmed: string[] = [];
  /** Power changes in order: `${host} shutdown|start|killed ${vm}`. */
  readonly powerChanges: string[] = [];
  /** Guests that ignore the ACPI power button: `virsh shutdown` succeeds and they keep running. */
  readonly ignoresShutdown = new Set<string>();
  private shutdownReads = 0;
  private readonly shuttingDown = new Map<string, number>();
  private failingMigrations = 0;
  private remnantsToLeave: Omit<Remnant, 'host'>[] = [];
  private readonly slow: SlowMigration[] = [];
  /** Migration jobs under way, by VM: what `virsh domjobinfo` reports and `virsh domjobabort` ends. */
  private readonly jobs = new Map<string, { startedAt: number; spec: SlowMigration; abort: () => void }>();

  addHost(name: string, version = '1.0.0'): this {
    this.versions.set(name, version);
    return this;
  }

  addVm(vm: Omit<ModelVm, 'state'> & { state?: ModelVm['state'] }): this {
    if (!this.versions.has(vm.host)) throw new Error(`model: unknown host ${vm.host}`);
    this.vms.set(vm.name, { state: 'running', ...vm });
    return this;
  }

  vmsOn(host: string): ModelVm[] {
    return [...this.vms.values()].filter((v) => v.host === host).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The next `k` migrations fail like a real libvirt migration error, leaving the VM where it was. */
  failNextMigrations(k: number): void {
    this.failingMigrations = k;
  }

  /**
   * The next migrations are cut short in their last phase: the VM moves and runs on the target, a stopped copy
   * stays on the source (one per spec, in order), and `virsh migrate` fails as when its connection dies.
   */
  cutShortNextMigrations(...specs: Omit<Remnant, 'host'>[]): void {
    if (specs.length === 0) this.remnantsToLeave = [];
    this.remnantsToLeave.push(...specs);
  }

  /** Active domains of a host (`virsh list --name`): its running and paused VMs, and paused copies left there. */
  activeOn(host: string): string[] {
    const remnants = [...this.remnants].filter(([, r]) => r.host === host && r.state === 'paused').map(([vm]) => vm);
    return [...this.vmsOn(host).filter((v) => v.state !== 'shut off').map((v) => v.name), ...remnants].sort((a, b) => a.localeCompare(b));
  }

  /** The VM names a host lists: the ones running there and the stopped copies left there. */
  namesOn(host: string): string[] {
    const remnants = [...this.remnants].filter(([, r]) => r.host === host).map(([vm]) => vm);
    return [...this.vmsOn(host).map((v) => v.name), ...remnants].sort((a, b) => a.localeCompare(b));
  }

  /**
   * `virsh shutdown`: asks the guest to power off (ACPI); it is shut off at once, or after the next
   * `slowShutdowns(n)` domstate reads. Records the order of power changes in `powerChanges`.
   */
  shutdown(vmName: string, host: string): string | undefined {
    const vm = this.vms.get(vmName);
    if (!vm || vm.host !== host) return `error: failed to get domain '${vmName}'`;
    if (vm.state !== 'running') return 'error: Requested operation is not valid: domain is not running';
    this.powerChanges.push(`${host} shutdown ${vmName}`);
    if (this.ignoresShutdown.has(vmName)) return undefined;
    if (this.shutdownReads > 0) this.shuttingDown.set(vmName, this.shutdownReads);
    else vm.state = 'shut off';
    return undefined;
  }

  /** `virsh start`: a shut-off VM runs again. */
  start(vmName: string, host: string): string | undefined {
    const vm = this.vms.get(vmName);
    if (!vm || vm.host !== host) return `error: failed to get domain '${vmName}'`;
    if (vm.state === 'running') return 'error: Requested operation is not valid: domain is already active';
    this.powerChanges.push(`${host} start ${vmName}`);
    vm.state = 'running';
    return undefined;
  }

  /** Guests asked to shut down from now on take `reads` more `virsh domstate` reads to be shut off. */
  slowShutdowns(reads: number): void {
    this.shutdownReads = reads;
  }

  /** What `virsh domstate` reads now: a shutting-down guest gets there after its reads. */
  domstate(vm: ModelVm): ModelVm['state'] {
    const left = this.shuttingDown.get(vm.name);
    if (left !== undefined) {
      if (left <= 1) {
        this.shuttingDown.delete(vm.name);
        vm.state = 'shut off';
      } else this.shuttingDown.set(vm.name, left - 1);
    }
    return vm.state;
  }

  /** A host reboot: every guest still active there (running or paused) is killed, which harms it. */
  rebooted(host: string): void {
    for (const vm of this.vmsOn(host)) {
      if (vm.state === 'shut off') continue;
      vm.state = 'shut off';
      this.harmed.push(vm.name);
      this.powerChanges.push(`${host} killed ${vm.name}`);
    }
  }

  /** `virsh destroy`: stops a paused remnant (a transient one vanishes); a running VM destroyed is harmed. */
  destroy(vmName: string, host: string): string | undefined {
    const r = this.remnants.get(vmName);
    if (r && r.host === host) {
      if (r.state !== 'paused') return 'error: Requested operation is not valid: domain is not running';
      if (r.persistent) r.state = 'shut off';
      else this.remnants.delete(vmName);
      return undefined;
    }
    const vm = this.vms.get(vmName);
    if (!vm || vm.host !== host) return `error: failed to get domain '${vmName}'`;
    if (vm.state === 'shut off') return 'error: Requested operation is not valid: domain is not running';
    this.harmed.push(vmName);
    vm.state = 'shut off';
    return undefined;
  }

  /** `virsh undefine`: removes a shut-off remnant, makes a paused one transient; a running VM undefined is harmed. */
  undefine(vmName: string, host: string): string | undefined {
    const r = this.remnants.get(vmName);
    if (r && r.host === host) {
      if (!r.persistent) return `error: Requested operation is not valid: cannot undefine transient domain`;
      if (r.state === 'shut off') this.remnants.delete(vmName);
      else r.persistent = false;
      return undefined;
    }
    const vm = this.vms.get(vmName);
    if (!vm || vm.host !== host) return `error: failed to get domain '${vmName}'`;
    this.harmed.push(vmName);
    return undefined;
  }

  /**
   * The next migrations take time and report progress: `stall` ones never converge (memory remaining stays
   * at `memoryMiB` until `virsh domjobabort`), the others count down to 0 over `ms` and then move the VM.
   */
  slowNextMigrations(...specs: SlowMigration[]): void {
    this.slow.push(...specs);
  }

  /** `virsh domjobinfo` text for a VM's job, or the "no job" answer. */
  jobInfo(vmName: string): string {
    const job = this.jobs.get(vmName);
    if (!job) return 'Job type:         None\n\n';
    const elapsed = Date.now() - job.startedAt;
    const left = job.spec.stall ? job.spec.memoryMiB : Math.max(0, job.spec.memoryMiB * (1 - elapsed / job.spec.ms));
    return ['Job type:         Unbounded', 'Operation:        Outgoing migration', `Time elapsed:     ${elapsed}         ms`, `Memory remaining: ${left.toFixed(3)} MiB`, '', ''].join('\n');
  }

  /** Ends a VM's migration job as aborted; false when there is none. */
  abortJob(vmName: string): boolean {
    const job = this.jobs.get(vmName);
    if (!job) return false;
    job.abort();
    return true;
  }

  /** A migration that takes time (when one was asked for): resolves with an error text, or undefined when the VM moved. */
  async migrateSlowly(vmName: string, from: string, to: string, signal: AbortSignal): Promise<string | undefined> {
    const spec = this.slow.shift();
    const vm = this.vms.get(vmName);
    if (!spec || !vm || vm.host !== from || !this.versions.has(to) || to === from) return this.migrate(vmName, from, to);
    this.inFlight.set(vmName, to);
    const aborted = await new Promise<boolean>((resolve) => {
      const timer = spec.stall ? undefined : setTimeout(() => resolve(false), spec.ms);
      const abort = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.jobs.set(vmName, { startedAt: Date.now(), spec, abort });
      signal.addEventListener('abort', abort, { once: true });
    });
    this.jobs.delete(vmName);
    this.inFlight.delete(vmName);
    return aborted ? 'error: operation aborted: migration out job: canceled by client' : this.migrate(vmName, from, to);
  }

  /** Returns an error text, or undefined when the VM moved. */
  migrate(vmName: string, from: string, to: string): string | undefined {
    const vm = this.vms.get(vmName);
    const remnant = this.remnants.get(vmName);
    if (remnant && remnant.host === from && vm && vm.host !== from) return `error: Requested operation is not valid: domain '${vmName}' is already active on ${vm.host}`;
    if (!vm || vm.host !== from) return `error: failed to get domain '${vmName}'`;
    if (!this.versions.has(to)) return `error: unable to connect to server at '${to}:22': No route to host`;
    if (to === from) return 'error: Requested operation is not valid: domain is already running on this host';
    if (this.failingMigrations > 0) {
      this.failingMigrations--;
      return 'error: operation failed: migration out job: unexpectedly failed';
    }
    vm.host = to;
    this.migrations.push({ vm: vmName, from, to });
    const cut = this.remnantsToLeave.shift();
    if (cut) {
      this.remnants.set(vmName, { host: from, ...cut });
      return `error: Disconnected from qemu+ssh://${to}/system due to end of file\nerror: operation failed: migration out job: Unable to confirm migration`;
    }
    return undefined;
  }
}

const ok = (stdout = ''): CommandOutput => ({ stdout, stderr: '', code: 0 });
const err = (stderr: string, code = 1): CommandOutput => ({ stdout: '', stderr: `${stderr}\n`, code });

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Commands understood (argv must match exactly; anything else exits 127 like an unknown command):
 * - `virsh list --all --name`, `virsh list --name` (active only), `virsh dominfo <vm>`, `virsh domstate <vm>`,
 *   `virsh shutdown <vm>`, `virsh start <vm>`
 * - `virsh migrate --live --persistent --undefinesource <vm> qemu+ssh://<target>/system` (instant, unless
 *   `slowNextMigrations` asked for ones that take time; `cutShortNextMigrations` leaves stopped copies on the
 *   source), `virsh domjobinfo <vm>`, `virsh domjobabort <vm>`, `virsh destroy <vm>`, `virsh undefine <vm>`
 * - `hvroll-test-version` (prints the host's package version), `hvroll-test-version set <v>`
 * - `true`, `sleep <seconds>` (ends early when the channel is closed or signalled)
 * - test utilities: `hvroll-test-exit <code>` (prints `out-<code>`/`err-<code>`), `hvroll-test-output <bytes>`
 *   (that many bytes of a counting pattern on stdout and stderr), `hvroll-test-cat` (echoes stdin)
 */
export function hypervisorHandler(model: HypervisorModel): CommandHandler {
  return async (host: string, argv: string[], ctx: CommandContext): Promise<CommandOutput> => {
    const [cmd, ...args] = argv;
    const a = args.join(' ');
    if (cmd === 'true' && args.length === 0) return ok();
    if (cmd === 'sleep' && args.length === 1 && /^\d+(\.\d+)?$/.test(args[0] ?? '')) {
      await sleep(Number(args[0]) * 1000, ctx.signal);
      return ok();
    }
    if (cmd === 'virsh') {
      // As virsh prints them: one name per line, exactly as defined (blanks and all), then an empty line.
      if (a === 'list --all --name') return ok(`${model.namesOn(host).map((v) => `${v}\n`).join('')}\n`);
      if (a === 'list --name') return ok(`${model.activeOn(host).map((v) => `${v}\n`).join('')}\n`);
      if ((args[0] === 'shutdown' || args[0] === 'start') && args.length === 2) {
        const failure = args[0] === 'shutdown' ? model.shutdown(args[1] as string, host) : model.start(args[1] as string, host);
        return failure === undefined ? ok(`Domain '${args[1]}' ${args[0] === 'shutdown' ? 'is being shutdown' : 'started'}\n\n`) : err(failure);
      }
      const remnant = args.length === 2 ? model.remnants.get(args[1] as string) : undefined;
      if (remnant && remnant.host === host && ['domstate', 'dominfo', 'domjobinfo'].includes(args[0] as string)) {
        if (args[0] === 'domstate') return ok(`${remnant.state}\n\n`);
        if (args[0] === 'domjobinfo') {
          if (remnant.state !== 'paused') return err('error: Requested operation is not valid: domain is not running');
          return ok(remnant.job ? 'Job type:         Unbounded\nOperation:        Outgoing migration\n\n' : 'Job type:         None\n\n');
        }
        return ok(`Name:           ${args[1]}\nState:          ${remnant.state}\nPersistent:     ${remnant.persistent ? 'yes' : 'no'}\n\n`);
      }
      if ((args[0] === 'destroy' || args[0] === 'undefine') && args.length === 2) {
        const failure = args[0] === 'destroy' ? model.destroy(args[1] as string, host) : model.undefine(args[1] as string, host);
        return failure === undefined ? ok(`Domain '${args[1]}' ${args[0] === 'destroy' ? 'destroyed' : 'has been undefined'}\n`) : err(failure);
      }
      if ((args[0] === 'dominfo' || args[0] === 'domstate') && args.length === 2) {
        const vm = model.vms.get(args[1] as string);
        if (!vm || vm.host !== host) return err(`error: failed to get domain '${args[1]}'`);
        if (args[0] === 'domstate') return ok(`${model.domstate(vm)}\n\n`);
        return ok(
          [`Id:             1`, `Name:           ${vm.name}`, `OS Type:        hvm`, `State:          ${vm.state}`, `CPU(s):         ${vm.vcpus}`, `Max memory:     ${vm.memoryMiB * 1024} KiB`, `Used memory:    ${vm.memoryMiB * 1024} KiB`, `Persistent:     yes`, '', ''].join('\n'),
        );
      }
      if (args.length === 6 && args.slice(0, 4).join(' ') === 'migrate --live --persistent --undefinesource') {
        const m = /^qemu\+ssh:\/\/([^/]+)\/system$/.exec(args[5] as string);
        if (!m) return err(`error: invalid connection URI '${args[5]}'`);
        const failure = await model.migrateSlowly(args[4] as string, host, m[1] as string, ctx.signal);
        return failure === undefined ? ok() : err(failure);
      }
      if ((args[0] === 'domjobinfo' || args[0] === 'domjobabort') && args.length === 2) {
        const vm = model.vms.get(args[1] as string);
        if (!vm || vm.host !== host) return err(`error: failed to get domain '${args[1]}'`);
        if (args[0] === 'domjobinfo') return ok(model.jobInfo(vm.name));
        return model.abortJob(vm.name) ? ok() : err('error: Requested operation is not valid: no job is active on the domain');
      }
      return err(`error: unknown virsh invocation: ${a}`);
    }
    if (cmd === 'hvroll-test-version') {
      if (args.length === 0) return ok(`${model.versions.get(host) ?? 'unknown'}\n`);
      if (args.length === 2 && args[0] === 'set') {
        model.versions.set(host, args[1] as string);
        return ok();
      }
    }
    if (cmd === 'hvroll-test-exit' && args.length === 1 && /^\d+$/.test(args[0] ?? '')) {
      const code = Number(args[0]);
      return { stdout: `out-${code}\n`, stderr: `err-${code}\n`, code };
    }
    if (cmd === 'hvroll-test-output' && args.length === 1 && /^\d+$/.test(args[0] ?? '')) {
      const n = Number(args[0]);
      const text = Array.from({ length: n }, (_, i) => String(i % 10)).join('');
      return { stdout: text, stderr: text, code: 0 };
    }
    if (cmd === 'hvroll-test-cat' && args.length === 0) return ok(await ctx.stdin());
    return err(`hvroll-test-shell: ${cmd}: command not found`, 127);
  };
}
