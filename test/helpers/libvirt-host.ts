// Simulated libvirt hosts that answer the commands of runbooks/libvirt.yaml, over the in-process SSH fleet.
// Host state (maintenance marker and whose it is, the package as dpkg knows it, the version libvirtd runs,
// boot id) lives here; VMs live in the shared HypervisorModel and move only through `virsh migrate`. A reboot
// really drops the SSH server and brings it back with a new boot id, libvirtd running the installed version
// and every guest still running there dead. Every state-changing command is counted so tests can prove
// "never twice".
//
// Hosts that answer wrongly, for the tests: `failPostinst` (apt-get installs the new version but its postinst
// fails: half-configured, exit 100), `dpkgSays` (dpkg-query lies), `lyingMigrations`, a marker somebody else
// wrote (`marker` + `markerText`), and logins that are not root (`sudo`: only `sudo -n -- <argv>` runs, and
// with 'password' sudo wants one).

import { randomUUID } from 'node:crypto';
import { debianUpstream } from '../../src/runbook/template.ts';
import { CLEAR_MARKER_SCRIPT, SET_MARKER_SCRIPT } from '../../src/sim/libvirt-commands.ts';
import { dpkgAudit, dpkgQuery } from './dpkg.ts';
import type { CommandContext, CommandHandler, CommandOutput, SshFleet } from './ssh-fleet.ts';
import { hypervisorHandler, type HypervisorModel } from './ssh-hypervisor.ts';

export interface HostState {
  marker: boolean;
  /** What the marker file holds: `hvroll:<campaign>:<group>` when hvroll wrote it, '' for a bare marker. */
  markerText: string;
  version: string;
  /** dpkg's `${db:Status-Abbrev}` of the package: "ii " installed and configured. */
  status: string;
  /** The package version libvirtd was started from (it changes at a reboot). */
  daemon: string;
  bootId: string;
  upgrades: number;
  reboots: number;
  libvirtd: boolean;
  /** The next `failPostinst` installs leave the package half-configured ("iF ") and exit 100. */
  failPostinst: number;
  /** When set, dpkg-query answers this instead of the truth (a host that lies about its package). */
  dpkgSays: { status: string; version: string } | null;
  /** The upgrade installs, but libvirtd does not come back: verification fails. */
  failVerify: boolean;
}

export interface LibvirtFleetOptions {
  pkg?: string;
  /** How long a rebooting host stays off the network. */
  rebootMs?: number;
  /** Resolve the host named in a qemu+ssh URI (tests give every host its own address). */
  hostByAddress: (address: string) => string | undefined;
  /**
   * The login is not root: a command runs only as `sudo -n -- <argv>`; anything else is refused.
   * `nopasswd`: sudo runs it; `password`: sudo wants a password and (with -n) refuses at once.
   */
  sudo?: 'nopasswd' | 'password';
}

const ok = (stdout = ''): CommandOutput => ({ stdout, stderr: '', code: 0 });
const fail = (stderr: string, code = 1): CommandOutput => ({ stdout: '', stderr: `${stderr}\n`, code });

const MARKER = '/var/lib/hvroll/maintenance';
const INSTALL = /^env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Options::=--force-confold (\S+)=(\S+)$/;

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
    if (!s) {
      s = { marker: false, markerText: '', version: '1.0', status: 'ii ', daemon: '1.0', bootId: randomUUID(), upgrades: 0, reboots: 0, libvirtd: true, failPostinst: 0, dpkgSays: null, failVerify: false };
      this.state.set(name, s);
    }
    return s;
  }

  get pkg(): string {
    return this.opts.pkg ?? 'libvirt-daemon-system';
  }

  readonly handler: CommandHandler = async (host: string, sent: string[], ctx: CommandContext): Promise<CommandOutput> => {
    let argv = sent;
    if (this.opts.sudo) {
      if (argv.slice(0, 3).join(' ') !== 'sudo -n --') return fail(`${argv[0]}: Permission denied (not root; this host wants sudo)`, 1);
      if (this.opts.sudo === 'password') return fail('sudo: a password is required', 1);
      argv = argv.slice(3);
    }
    return this.answer(host, argv, ctx);
  };

  private async answer(host: string, argv: string[], ctx: CommandContext): Promise<CommandOutput> {
    const s = this.host(host);
    const a = argv.join(' ');
    if (argv[0] === 'sh' && argv[1] === '-c' && argv[3] === 'sh' && argv[4] === MARKER && argv.length === 6) return this.markerScript(host, argv[2]!, argv[5]!);
    if (a === `cat ${MARKER}`) return s.marker ? ok(`${s.markerText}\n`) : fail(`cat: ${MARKER}: No such file or directory`);
    if (a === `test -e ${MARKER}`) return s.marker ? ok() : fail('', 1);
    if (a === `test ! -e ${MARKER}`) return s.marker ? fail('', 1) : ok();
    if (a === 'mkdir -p /var/lib/hvroll') return ok();
    if (a === `touch ${MARKER}`) {
      if (!s.marker) this.changes.push(`${host} disable`);
      s.marker = true;
      return ok();
    }
    if (a === `rm -f ${MARKER}`) {
      if (s.marker) this.changes.push(`${host} enable`);
      s.marker = false;
      s.markerText = '';
      return ok();
    }
    if (argv.length === 4 && argv[0] === 'dpkg-query' && argv[1] === '-W' && argv[2]!.startsWith('-f=') && argv[3] === this.pkg) {
      return dpkgQuery({ name: this.pkg, ...(s.dpkgSays ?? { status: s.status, version: s.version }) }, argv[2]!.slice(3));
    }
    if (a === 'dpkg --audit') return dpkgAudit([{ name: this.pkg, status: s.status, version: s.version }]);
    if (a === 'env DEBIAN_FRONTEND=noninteractive apt-get update -q') return ok('Reading package lists...\n');
    const install = INSTALL.exec(a);
    if (install && install[1] === this.pkg) return this.install(host, install[2]!);
    if (a === 'cat /proc/sys/kernel/random/boot_id') return ok(`${s.bootId}\n`);
    if (a === 'systemctl reboot') {
      s.reboots++;
      this.changes.push(`${host} reboot`);
      setTimeout(() => void this.reboot(host), 20);
      return ok();
    }
    if (a === 'systemctl is-active libvirtd') return s.libvirtd ? ok('active\n') : fail('inactive', 3);
    if (a === 'virsh version' || a === 'virsh version --daemon') {
      if (!s.libvirtd) return fail('error: failed to connect to the hypervisor');
      const daemon = a.endsWith('--daemon') ? `Running against daemon: ${debianUpstream(s.daemon)}\n` : '';
      return ok(`Compiled against library: libvirt ${debianUpstream(s.daemon)}\nUsing library: libvirt ${debianUpstream(s.daemon)}\nUsing API: QEMU ${debianUpstream(s.daemon)}\nRunning hypervisor: QEMU 7.2.0\n${daemon}`);
    }
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
  }

  /** The runbook's marker scripts (`sh -c <script> sh <file> <reason>`), as /bin/sh would run them. */
  private markerScript(host: string, script: string, reason: string): CommandOutput {
    const s = this.host(host);
    if (script === SET_MARKER_SCRIPT) {
      if (s.marker && s.markerText === reason) return ok();
      if (s.marker) return fail(`sh: 1: cannot create ${MARKER}: File exists`, 2);
      this.changes.push(`${host} disable`);
      s.marker = true;
      s.markerText = reason;
      return ok();
    }
    if (script === CLEAR_MARKER_SCRIPT) {
      if (s.marker && s.markerText === reason) {
        this.changes.push(`${host} enable`);
        s.marker = false;
        s.markerText = '';
      }
      return ok();
    }
    return fail(`hvroll-test-shell: sh -c: script not modelled: ${script.slice(0, 60)}`, 127);
  }

  private install(host: string, version: string): CommandOutput {
    const s = this.host(host);
    s.upgrades++;
    this.changes.push(`${host} upgrade ${version}`);
    s.version = version;
    if (s.failPostinst > 0) {
      s.failPostinst--;
      s.status = 'iF ';
      return {
        stdout: `Setting up ${this.pkg} (${version}) ...\n`,
        stderr: `dpkg: error processing package ${this.pkg} (--configure):\n installed ${this.pkg} package post-installation script subprocess returned error exit status 1\nErrors were encountered while processing:\n ${this.pkg}\nE: Sub-process /usr/bin/dpkg returned an error code (1)\n`,
        code: 100,
      };
    }
    s.status = 'ii ';
    if (s.failVerify) s.libvirtd = false;
    return ok(`Setting up ${this.pkg} (${version}) ...\n`);
  }

  private async reboot(host: string): Promise<void> {
    const h = this.fleet!.host(host);
    await h.stop();
    const s = this.host(host);
    s.bootId = randomUUID();
    s.daemon = s.version;
    this.model.rebooted(host);
    await new Promise((r) => setTimeout(r, this.opts.rebootMs ?? 100));
    await h.start();
  }
}
