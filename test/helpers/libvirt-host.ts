// Simulated libvirt hosts that answer exactly the commands of runbooks/libvirt.yaml, over the in-process
// SSH fleet. Host state (maintenance marker, package version, boot id) lives here; VMs live in the shared
// HypervisorModel and move only through `virsh migrate`. A reboot really drops the SSH server and brings it
// back with a new boot id. Every state-changing command is counted so tests can prove "never twice".

import { randomUUID } from 'node:crypto';
import type { CommandContext, CommandHandler, CommandOutput, SshFleet } from './ssh-fleet.ts';
import { hypervisorHandler, type HypervisorModel } from './ssh-hypervisor.ts';

export interface HostState {
  marker: boolean;
  version: string;
  /** dpkg's `${db:Status-Abbrev}` of the package: "ii " installed and configured, "iF " half-configured. */
  status: string;
  bootId: string;
  upgrades: number;
  reboots: number;
  libvirtd: boolean;
  /** The next `failPostinst` installs fail in the postinst: apt-get exits 100, the package is left half-configured ("iF ") at the new version. */
  failPostinst: number;
  /** The upgrade installs, but libvirtd does not come back: verification fails. */
  failVerify: boolean;
}

export interface LibvirtFleetOptions {
  pkg?: string;
  /** How long a rebooting host stays off the network. */
  rebootMs?: number;
  /** Resolve the host named in a qemu+ssh URI (tests give every host its own address). */
  hostByAddress: (address: string) => string | undefined;
}

const ok = (stdout = ''): CommandOutput => ({ stdout, stderr: '', code: 0 });
const fail = (stderr: string, code = 1): CommandOutput => ({ stdout: '', stderr: `${stderr}\n`, code });

export class LibvirtFleet {
  readonly state = new Map<string, HostState>();
  /** Commands that changed something, in order: `${host} ${what}`. */
  readonly changes: string[] = [];
  fleet: SshFleet | null = null;
  /** The next `n` migrations answer success without moving the VM (a lying hypervisor). */
  lyingMigrations = 0;
  private readonly base: CommandHandler;

  constructor(
    readonly model: HypervisorModel,
    private readonly opts: LibvirtFleetOptions,
  ) {
    this.base = hypervisorHandler(model);
  }

  host(name: string): HostState {
    let s = this.state.get(name);
    if (!s) this.state.set(name, (s = { marker: false, version: '1.0', status: 'ii ', bootId: randomUUID(), upgrades: 0, reboots: 0, libvirtd: true, failPostinst: 0, failVerify: false }));
    return s;
  }

  get pkg(): string {
    return this.opts.pkg ?? 'libvirt-daemon-system';
  }

  readonly handler: CommandHandler = async (host: string, argv: string[], ctx: CommandContext): Promise<CommandOutput> => {
    const s = this.host(host);
    const a = argv.join(' ');
    const marker = '/var/lib/hvroll/maintenance';
    if (a === `test -e ${marker}`) return s.marker ? ok() : fail('', 1);
    if (a === `test ! -e ${marker}`) return s.marker ? fail('', 1) : ok();
    if (a === 'mkdir -p /var/lib/hvroll') return ok();
    if (a === `touch ${marker}`) {
      if (!s.marker) this.changes.push(`${host} disable`);
      s.marker = true;
      return ok();
    }
    if (a === `rm -f ${marker}`) {
      if (s.marker) this.changes.push(`${host} enable`);
      s.marker = false;
      return ok();
    }
    if (a === `dpkg-query -W -f=\${Version} ${this.pkg}`) return ok(s.version);
    if (a === 'env DEBIAN_FRONTEND=noninteractive apt-get update -q') return ok('Reading package lists...\n');
    const install = /^env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Options::=--force-confold (\S+)=(\S+)$/.exec(a);
    if (install && install[1] === this.pkg) {
      s.version = install[2]!;
      if (s.failPostinst > 0) return this.postinstFailed(s, install[2]!);
      s.status = 'ii ';
      s.upgrades++; // a completed upgrade: a failed install is not one
      if (s.failVerify) s.libvirtd = false;
      this.changes.push(`${host} upgrade ${install[2]}`);
      return ok(`Setting up ${this.pkg} (${install[2]}) ...\n`);
    }
    if (a === 'cat /proc/sys/kernel/random/boot_id') return ok(`${s.bootId}\n`);
    if (a === 'systemctl reboot') {
      s.reboots++;
      this.changes.push(`${host} reboot`);
      setTimeout(() => void this.reboot(host), 20);
      return ok();
    }
    if (a === 'systemctl is-active libvirtd') return s.libvirtd ? ok('active\n') : fail('inactive', 3);
    if (a === 'virsh version') return s.libvirtd ? ok(`Compiled against library: libvirt ${s.version}\n`) : fail('error: failed to connect to the hypervisor');
    // `--verbose` and the target address are what the real runbook sends; the model knows hosts by name.
    // Matched on argv, not on the joined text: a VM name may hold spaces or quotes and is still one argument.
    if (argv.length === 9 && argv.slice(0, 7).join(' ') === 'virsh migrate --live --p2p --persistent --undefinesource --verbose') {
      const uri = /^qemu\+ssh:\/\/([^/]+)\/system$/.exec(argv[8]!);
      const target = uri ? this.opts.hostByAddress(uri[1]!) : undefined;
      if (!target) return fail(`error: unable to connect to server at '${argv[8]}': No route to host`);
      if (this.lyingMigrations > 0) {
        this.lyingMigrations--;
        return ok('Migration: [100 %]\n');
      }
      const out = await this.base(host, ['virsh', 'migrate', '--live', '--persistent', '--undefinesource', argv[7]!, `qemu+ssh://${target}/system`], ctx);
      if (out.code === 0) this.changes.push(`${host} migrate ${argv[7]} ${target}`);
      return out;
    }
    return this.base(host, argv, ctx);
  };

  private postinstFailed(s: HostState, version: string): CommandOutput {
    s.failPostinst--;
    s.status = 'iF ';
    const pkg = this.pkg;
    return {
      stdout: `Setting up ${pkg} (${version}) ...\n`,
      stderr: `dpkg: error processing package ${pkg} (--configure):\n installed ${pkg} package post-installation script subprocess returned error exit status 1\nErrors were encountered while processing:\n ${pkg}\nE: Sub-process /usr/bin/dpkg returned an error code (1)\n`,
      code: 100,
    };
  }

  private async reboot(host: string): Promise<void> {
    const h = this.fleet!.host(host);
    await h.stop();
    this.host(host).bootId = randomUUID();
    await new Promise((r) => setTimeout(r, this.opts.rebootMs ?? 100));
    await h.start();
  }
}
