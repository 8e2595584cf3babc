// A fleet of simulated SSH hosts for tests: real ssh2 servers on 127.0.0.1, one per host, each with its
// own ed25519 host key (test/helpers/ssh-keys.ts), public-key-only auth for one operator key, and a shell that splits the exec
// string into words (test/helpers/ssh-words.ts) and never runs anything. Commands go to a pluggable
// handler; the default one serves a shared in-memory hypervisor model (test/helpers/ssh-hypervisor.ts).
//
//   const fleet = await startSshFleet({ hosts: ['hv1', 'hv2'] });
//   await fleet.writeKnownHosts(path);                  // or { hashed: true }, or a subset of hosts
//   const exec = new SshExecutor({ knownHostsPath: path, privateKey: fleet.clientKey.private, ... });
//   await exec.run(fleet.hostRef('hv1'), { argv: ['virsh', 'list', '--all', '--name'], timeoutMs: 2000 });
//   fleet.host('hv1').received   // every argv the host got, exactly
//   await exec.close(); await fleet.stop();             // in t.teardown / test.after.always
//
// Fault hooks: `hangNext`, `dropNext` (TCP reset mid-command), `freezeNext` (host stops reading: wedged),
// `host.freezeConnections()` (idle connections go silent: keepalives must notice),
// `model.failNextMigrations(k)`, `host.stop()/start()` (reboot, late start), `host.rotateKey()`.
import { createHmac, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import ssh2 from 'ssh2';
import type { Connection, ParsedKey, ServerChannel, Session } from 'ssh2';
import type { HostRef } from '../../src/executor/executor.ts';
import { HypervisorModel, hypervisorHandler } from './ssh-hypervisor.ts';
import { generateKeyPair } from './ssh-keys.ts';
import { splitWords } from './ssh-words.ts';

export interface CommandContext {
  /** The exec string exactly as received. */
  raw: string;
  /** Aborted when the client signals the command, closes the channel, or the connection goes away. */
  signal: AbortSignal;
  /** All of stdin, once the client sent EOF. */
  stdin(): Promise<string>;
}

export interface CommandOutput {
  stdout?: string;
  stderr?: string;
  code: number;
}

export type CommandHandler = (hostName: string, argv: string[], ctx: CommandContext) => Promise<CommandOutput>;

export interface ReceivedCommand {
  host: string;
  raw: string;
  /** Words as a POSIX shell would split `raw`, or null if the test shell refused it (exit 127). */
  argv: string[] | null;
  /**
   * How it ended: `running` until then; `exited` (status sent); `signalled` (the client's signal request
   * stopped it); `cancelled` (the client closed the channel first); `dropped`/`frozen` (fault hooks).
   * Note: ssh2's Server ignores channel requests after the client's EOF, and hvroll sends EOF at once,
   * so against this harness a timed-out command shows `cancelled`, not `signalled` (sshd does deliver it).
   */
  outcome: 'running' | 'exited' | 'signalled' | 'cancelled' | 'dropped' | 'frozen';
}

export type Fault = 'hang' | 'drop' | 'freeze';

interface PendingFault {
  fault: Fault;
  match: (argv: string[]) => boolean;
  remaining: number;
}

export interface HostStats {
  /** SSH connections that reached the server (after the version exchange). */
  connections: number;
  /** Authentication requests of any method; stays 0 when a client refuses the host key. */
  authAttempts: number;
  execs: number;
  /** Requests for agent forwarding, a PTY, X11, env or a shell: hvroll must never make any. */
  forbiddenRequests: number;
}

const generateKey = (): { private: string; public: string } => generateKeyPair('ed25519');

function parse(key: string): ParsedKey {
  const k = ssh2.utils.parseKey(key);
  if (k instanceof Error) throw k;
  return Array.isArray(k) ? (k[0] as ParsedKey) : k;
}

/** `host` on port 22, `[host]:port` otherwise: the name OpenSSH writes to known_hosts. Kept independent of src/. */
function knownHostsName(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

export class FleetHost {
  readonly stats: HostStats = { connections: 0, authAttempts: 0, execs: 0, forbiddenRequests: 0 };
  readonly received: ReceivedCommand[] = [];
  private hostKey = generateKey();
  private ssh: InstanceType<typeof ssh2.Server>;
  private listener: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly faults: PendingFault[] = [];
  private readonly arrivals: ((c: ReceivedCommand) => void)[] = [];
  /** Aborts every running command when the host goes down. */
  private down = new AbortController();

  constructor(
    readonly name: string,
    public port: number,
    private readonly fleet: SshFleet,
    /** Any 127.x.y.z works on Linux; distinct addresses let a runbook name a host by address (qemu+ssh://…). */
    readonly address = '127.0.0.1',
  ) {
    this.ssh = this.makeServer();
  }

  get isUp(): boolean {
    return this.listener !== undefined;
  }

  /** `ssh-ed25519 AAAA…` of the current host key. */
  get publicKeyLine(): string {
    return this.hostKey.public.trim().split(/\s+/).slice(0, 2).join(' ');
  }

  /** Binds the host's port (the same one across restarts) and accepts SSH connections. */
  async start(): Promise<void> {
    if (this.listener) return;
    this.down = new AbortController();
    const listener = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      socket.on('error', () => {}); // resets are part of the tests
      this.ssh.injectSocket(socket);
    });
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(this.port, this.address, () => {
        listener.off('error', reject);
        resolve();
      });
    });
    this.port = (listener.address() as net.AddressInfo).port;
    this.listener = listener;
  }

  /** Like a power-off: stops listening and resets every connection. */
  async stop(): Promise<void> {
    const listener = this.listener;
    if (!listener) return;
    this.listener = undefined;
    this.down.abort();
    const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  /** The host stops reading on every open connection (a hung kernel, a black-holed link): only keepalives notice. */
  freezeConnections(): void {
    for (const s of this.sockets) s.pause();
  }

  /** Reinstalls the host with a new host key (known_hosts now holds the old one). */
  async rotateKey(): Promise<void> {
    const wasUp = this.isUp;
    await this.stop();
    this.hostKey = generateKey();
    this.ssh = this.makeServer();
    if (wasUp) await this.start();
  }

  /** Resolves when the host receives its next command: lets a test act while that command runs, without sleeping. */
  nextCommand(): Promise<ReceivedCommand> {
    return new Promise((resolve) => this.arrivals.push(resolve));
  }

  /** The next `times` commands matching `match` get `fault` instead of running. */
  inject(fault: Fault, opts: { match?: (argv: string[]) => boolean; times?: number } = {}): void {
    this.faults.push({ fault, match: opts.match ?? (() => true), remaining: opts.times ?? 1 });
  }

  private takeFault(argv: string[]): Fault | undefined {
    const f = this.faults.find((x) => x.remaining > 0 && x.match(argv));
    if (!f) return undefined;
    f.remaining--;
    return f.fault;
  }

  private makeServer(): InstanceType<typeof ssh2.Server> {
    const operatorKey = parse(this.fleet.clientKey.public);
    const server = new ssh2.Server({ hostKeys: [this.hostKey.private] });
    server.on('connection', (conn: Connection, info: { port: number }) => {
      this.stats.connections++;
      const socket = [...this.sockets].find((s) => s.remotePort === info.port);
      conn.on('error', () => {});
      conn.on('authentication', (ctx) => {
        this.stats.authAttempts++;
        if (ctx.method !== 'publickey' || !this.fleet.users.includes(ctx.username)) return ctx.reject(['publickey']);
        if (ctx.key.algo !== operatorKey.type || !ctx.key.data.equals(operatorKey.getPublicSSH())) return ctx.reject(['publickey']);
        if (ctx.signature && ctx.blob && operatorKey.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) return ctx.reject(['publickey']);
        ctx.accept();
      });
      conn.on('ready', () => {
        conn.on('session', (accept) => {
          const session: Session = accept();
          // hvroll must never ask for any of these: counted, and refused like a locked-down sshd would.
          const refuse = (_accept: unknown, reject: (() => void) | undefined): void => {
            this.stats.forbiddenRequests++;
            reject?.();
          };
          session.on('pty', refuse);
          session.on('auth-agent', refuse);
          session.on('x11', refuse);
          session.on('env', refuse);
          session.on('shell', refuse);
          session.once('exec', (acceptExec, _reject, info) => {
            const channel = acceptExec();
            void this.exec(channel, session, info.command, socket);
          });
        });
      });
    });
    return server;
  }

  private async exec(channel: ServerChannel, session: Session, raw: string, socket: net.Socket | undefined): Promise<void> {
    this.stats.execs++;
    const split = splitWords(raw);
    const argv = split.ok ? split.words : null;
    const received: ReceivedCommand = { host: this.name, raw, argv, outcome: 'running' };
    this.received.push(received);
    for (const notify of this.arrivals.splice(0)) notify(received);

    const abort = new AbortController();
    let signalName: string | undefined;
    let closed = false;
    const stopAll = (): void => abort.abort();
    this.down.signal.addEventListener('abort', stopAll, { once: true });
    channel.on('error', () => {});
    channel.on('close', () => {
      closed = true;
      abort.abort();
    });
    session.on('signal', (accept, _reject, info) => {
      accept?.();
      signalName = info.name.replace(/^SIG/, '');
      abort.abort();
    });
    let stdinText = '';
    const stdinDone = new Promise<string>((resolve) => {
      channel.on('data', (d: Buffer) => (stdinText += d.toString('utf8')));
      channel.on('end', () => resolve(stdinText));
      abort.signal.addEventListener('abort', () => resolve(stdinText), { once: true });
    });

    try {
      const fault = argv ? this.takeFault(argv) : undefined;
      if (fault === 'drop') {
        received.outcome = 'dropped';
        socket?.destroy();
        return;
      }
      if (fault === 'freeze') {
        received.outcome = 'frozen';
        socket?.pause(); // the host stops reading: no channel close, no keepalive reply
        return;
      }
      let out: CommandOutput;
      if (!split.ok) {
        out = { stderr: `hvroll-test-shell: refused: ${split.reason}\n`, code: 127 };
      } else if (fault === 'hang') {
        await new Promise<void>((resolve) => (abort.signal.aborted ? resolve() : abort.signal.addEventListener('abort', () => resolve(), { once: true })));
        out = { code: 143 };
      } else {
        try {
          this.fleet.onCommand?.(this.name, split.words);
          out = await this.fleet.handler(this.name, split.words, { raw, signal: abort.signal, stdin: () => stdinDone });
        } catch (err) {
          out = { stderr: `hvroll-test-shell: handler crashed: ${(err as Error).message}\n`, code: 70 };
        }
      }
      if (closed || channel.destroyed) {
        received.outcome = 'cancelled';
        return;
      }
      if (out.stdout) channel.write(out.stdout);
      if (out.stderr) channel.stderr.write(out.stderr);
      if (signalName) channel.exit(signalName);
      else channel.exit(out.code);
      received.outcome = signalName ? 'signalled' : 'exited';
      channel.end();
    } finally {
      this.down.signal.removeEventListener('abort', stopAll);
    }
  }
}

export interface StartFleetOptions {
  hosts: string[];
  /** Hosts that exist (port reserved) but are powered off until `host(name).start()`. */
  down?: string[];
  /** Defaults to the hypervisor model handler. */
  handler?: CommandHandler;
  /** Defaults to a model with every host at version 1.0.0 and no VMs. */
  model?: HypervisorModel;
  /** Users allowed to log in with the operator key; default ['hvroll']. */
  users?: string[];
  /** The operator key pair (only `public` is used by the hosts); default a fresh ed25519 pair. */
  clientKey?: { private: string; public: string };
  /** Loopback address per host (default 127.0.0.1 for all). */
  addresses?: Record<string, string>;
}

export class SshFleet {
  /** The operator's key pair: the only key every host accepts. */
  readonly clientKey: { private: string; public: string };
  readonly hosts = new Map<string, FleetHost>();
  readonly model: HypervisorModel;
  readonly handler: CommandHandler;
  readonly users: string[];
  /** Called with every command that is about to run (after the shell split, before the handler acts). */
  onCommand: ((host: string, argv: string[]) => void) | null = null;

  constructor(opts: StartFleetOptions) {
    this.clientKey = opts.clientKey ?? generateKey();
    this.users = opts.users ?? ['hvroll'];
    this.model = opts.model ?? new HypervisorModel();
    for (const h of opts.hosts) if (!this.model.versions.has(h)) this.model.addHost(h);
    this.handler = opts.handler ?? hypervisorHandler(this.model);
  }

  host(name: string): FleetHost {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`fleet has no host ${name}`);
    return h;
  }

  hostRef(name: string, user = this.users[0]): HostRef {
    const h = this.host(name);
    return { name, address: h.address, port: h.port, user };
  }

  /** Every command received by every host, in arrival order per host. */
  allReceived(): ReceivedCommand[] {
    return [...this.hosts.values()].flatMap((h) => h.received);
  }

  hangNext(host: string, match?: (argv: string[]) => boolean): void {
    this.host(host).inject('hang', { match });
  }

  dropNext(host: string, match?: (argv: string[]) => boolean): void {
    this.host(host).inject('drop', { match });
  }

  freezeNext(host: string, match?: (argv: string[]) => boolean): void {
    this.host(host).inject('freeze', { match });
  }

  /** known_hosts lines for `hosts` (default all), plain `[127.0.0.1]:port key` or hashed `|1|salt|hmac key`. */
  knownHostsText(opts: { hashed?: boolean; hosts?: string[] } = {}): string {
    const names = opts.hosts ?? [...this.hosts.keys()];
    return names
      .map((n) => {
        const h = this.host(n);
        const name = knownHostsName(h.address, h.port);
        if (!opts.hashed) return `${name} ${h.publicKeyLine}\n`;
        const salt = randomBytes(20);
        const mac = createHmac('sha1', salt).update(name).digest();
        return `|1|${salt.toString('base64')}|${mac.toString('base64')} ${h.publicKeyLine}\n`;
      })
      .join('');
  }

  async writeKnownHosts(path: string, opts: { hashed?: boolean; hosts?: string[] } = {}): Promise<void> {
    await writeFile(path, this.knownHostsText(opts));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.hosts.values()].map((h) => h.stop()));
  }
}

/** Reserves a free port (bind, read, release) so a host that starts late keeps a known address. */
async function freePort(address = '127.0.0.1'): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, address, () => resolve()));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

export async function startSshFleet(opts: StartFleetOptions): Promise<SshFleet> {
  const fleet = new SshFleet(opts);
  const down = new Set(opts.down ?? []);
  for (const name of opts.hosts) {
    const address = opts.addresses?.[name] ?? '127.0.0.1';
    const host = new FleetHost(name, down.has(name) ? await freePort(address) : 0, fleet, address);
    fleet.hosts.set(name, host);
    if (!down.has(name)) await host.start();
  }
  return fleet;
}
