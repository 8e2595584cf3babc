// What a simulated libvirt host answers: exactly the argv of runbooks/libvirt.yaml (the maintenance marker
// and whose it is, virsh list/domstate/dominfo/domjobinfo/migrate/destroy/undefine/shutdown/start/version,
// dpkg-query, dpkg --audit, apt-get, boot id, systemctl reboot/is-active), with their virtual durations, also
// behind `sudo -n --` (become: sudo; the simulated user may run everything). Anything else exits 127 like an
// unknown command. Package name and marker path come from the runbook's variables, not from here.

import { SUDO_PREFIX } from '../runbook/model.ts';
import { debianUpstream } from '../runbook/template.ts';
import type { SimTiming } from './timing.ts';
import type { SimFleet, SimHost } from './sim-fleet.ts';

/**
 * The marker scripts of runbooks/libvirt.yaml (and proxmox.yaml), run as `sh -c <script> sh <file> <reason>`:
 * write the reason unless it is there already, never over another marker (`set -C`); remove the marker only
 * when it holds this reason. test/runbook checks the runbooks use exactly these.
 */
export const SET_MARKER_SCRIPT = 'test "$(cat -- "$1" 2>/dev/null)" = "$2" || { set -C && printf "%s\\n" "$2" > "$1"; }';
export const CLEAR_MARKER_SCRIPT = 'test "$(cat -- "$1" 2>/dev/null)" != "$2" || rm -f -- "$1"';

export interface CommandOutput {
  stdout: string;
  stderr: string;
  code: number;
}

/** A command under way: it takes `ms` of virtual time, then `finish` gives its result. */
export interface CommandEffect {
  ms: number;
  finish(): CommandOutput;
  /** Called instead of `finish` when the command is cancelled or times out. */
  cancel?(): void;
  /** Runs right after `finish` has been delivered (the reboot: the connection drops after the reply). */
  after?(): void;
}

export interface LibvirtVars {
  package: string;
  maintenanceFile: string;
}

const ok = (stdout = ''): CommandOutput => ({ stdout, stderr: '', code: 0 });
const fail = (stderr: string, code = 1): CommandOutput => ({ stdout: '', stderr: `${stderr}\n`, code });
const now = (out: CommandOutput): CommandEffect => ({ ms: 0, finish: () => out });

const MIGRATE = 'virsh migrate --live --p2p --persistent --undefinesource --verbose';

export class LibvirtCommands {
  private readonly verifyAttempts = new Map<string, number>();
  /** VMs shut down (`virsh shutdown`) and not started again. */
  private readonly shutOff = new Set<string>();
  /** Migrations under way by VM, for `virsh domjobinfo` (pre-copy modelled as a steady count-down). */
  private readonly jobs = new Map<string, { startMs: number; ms: number; memoryMiB: number }>();

  constructor(
    private readonly fleet: SimFleet,
    private readonly timing: SimTiming,
    private readonly vars: LibvirtVars,
    /** Schedules the end of a reboot in virtual time. */
    private readonly later: (ms: number, fire: () => void) => void,
    private readonly nowMs: () => number,
  ) {}

  start(h: SimHost, sent: readonly string[]): CommandEffect {
    const { fleet, vars } = this;
    const argv = sent.length > SUDO_PREFIX.length && SUDO_PREFIX.every((w, i) => sent[i] === w) ? sent.slice(SUDO_PREFIX.length) : sent;
    const a = argv.join(' ');
    const marker = vars.maintenanceFile;
    if (argv.length === 6 && argv[0] === 'sh' && argv[1] === '-c' && argv[3] === 'sh' && argv[4] === marker) return this.markerScript(h, argv[2]!, argv[5]!);
    switch (a) {
      case `cat ${marker}`:
        return now(h.marker ? ok(`${h.markerText}\n`) : fail(`cat: ${marker}: No such file or directory`));
      case `test -e ${marker}`:
        return now(h.marker ? ok() : fail('', 1));
      case `test ! -e ${marker}`:
        return now(h.marker ? fail('', 1) : ok());
      case 'mkdir -p /var/lib/hvroll':
        return now(ok());
      case `dpkg-query -W -f=\${db:Status-Abbrev}\${Version} ${vars.package}`:
        return now(ok(`${h.status}${h.version}`));
      case 'dpkg --audit': // what dpkg says of a package left half-configured by a failed postinst
        return now(ok(h.status === 'iF ' ? `The following packages are only half configured, probably due to problems\nconfiguring them the first time.  The configuration should be retried using\ndpkg --configure <package> or the configuration menu program:\n ${vars.package} the package\n` : ''));
      case 'virsh list --name': // active domains: running and paused, not the policy VMs shut off
        return now(ok(`${fleet.activeOn(h).filter((n) => !this.shutOff.has(n)).map((n) => `${n}\n`).join('')}\n`));
      case 'virsh version --daemon':
        return now(h.libvirtd ? ok(`Compiled against library: libvirt ${h.version}\nRunning against daemon: ${debianUpstream(h.daemonVersion)}\n`) : fail('error: failed to connect to the hypervisor'));
      case 'env DEBIAN_FRONTEND=noninteractive apt-get update -q':
        return now(ok('Reading package lists...\n'));
      case 'cat /proc/sys/kernel/random/boot_id':
        return now(ok(`${fleet.bootId(h)}\n`));
      case 'virsh list --all --name':
        // As virsh prints it: one name per line, exactly as defined, then an empty line.
        return now(ok(`${fleet.namesOn(h).map((n) => `${n}\n`).join('')}\n`));
      case 'virsh version':
        return now(h.libvirtd ? ok(`Compiled against library: libvirt ${h.version}\n`) : fail('error: failed to connect to the hypervisor'));
      case 'systemctl is-active libvirtd': {
        const attempt = (this.verifyAttempts.get(h.name) ?? 0) + 1;
        this.verifyAttempts.set(h.name, attempt);
        return { ms: this.timing.verifyMs(h.name, attempt), finish: () => (h.libvirtd ? ok('active\n') : fail('failed', 3)) };
      }
      case 'systemctl reboot':
        return { ms: 0, finish: () => ok(), after: () => this.reboot(h) };
    }
    const install = /^env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Options::=--force-confold (\S+)=(\S+)$/.exec(a);
    if (install && install[1] === vars.package) {
      return {
        ms: this.timing.upgradeMs(h.name),
        finish: () => {
          h.version = install[2]!;
          if (this.timing.upgradeFails(h.name)) return this.postinstFailed(h, install[2]!);
          h.status = 'ii ';
          h.upgrades++;
          if (this.timing.verifyFails(h.name)) h.libvirtd = false;
          return ok(`Setting up ${vars.package} (${install[2]}) ...\n`);
        },
      };
    }
    const remnant = argv.length === 3 && argv[0] === 'virsh' ? fleet.remnants.get(argv[2]!) : undefined;
    if (remnant && remnant.host === h.name && (argv[1] === 'domstate' || argv[1] === 'domjobinfo')) {
      if (argv[1] === 'domstate') return now(ok(`${remnant.state}\n\n`));
      return now(remnant.state === 'paused' ? ok('Job type:         None\n\n') : fail('error: Requested operation is not valid: domain is not running'));
    }
    if (argv.length === 3 && argv[0] === 'virsh' && (argv[1] === 'destroy' || argv[1] === 'undefine')) {
      const refused = fleet.remove(argv[1], argv[2]!, h);
      return { ms: 0, finish: () => (refused === null ? ok() : fail(refused)) };
    }
    if (argv.length === 3 && argv[0] === 'virsh' && (argv[1] === 'shutdown' || argv[1] === 'start')) {
      const vm = fleet.vms.get(argv[2]!);
      if (!vm || vm.host !== h.name) return now(fail(`error: failed to get domain '${argv[2]}'`));
      // Policy-shutdown VMs (they never migrate): off after the shutdown, running after the start.
      const off = this.shutOff.has(vm.name);
      if (argv[1] === 'shutdown' ? off : !off) return now(fail(`error: Requested operation is not valid: domain is ${off ? 'not running' : 'already active'}`));
      return { ms: 0, finish: () => (argv[1] === 'shutdown' ? this.shutOff.add(vm.name) : this.shutOff.delete(vm.name), ok()) };
    }
    if (argv.length === 3 && argv[0] === 'virsh' && (argv[1] === 'domstate' || argv[1] === 'dominfo' || argv[1] === 'domjobinfo')) {
      const vm = fleet.vms.get(argv[2]!);
      if (!vm || vm.host !== h.name) return now(fail(`error: failed to get domain '${argv[2]}'`));
      if (argv[1] === 'domstate') return now(ok(this.shutOff.has(vm.name) ? 'shut off\n\n' : 'running\n\n'));
      if (argv[1] === 'domjobinfo') return now(ok(this.jobInfo(vm.name)));
      return now(ok(`Name:           ${vm.name}\nState:          running\nCPU(s):         ${vm.vcpus}\nMax memory:     ${vm.memoryMiB * 1024} KiB\n`));
    }
    // Matched on argv: a VM name is one argument whatever it contains.
    if (argv.length === 9 && argv.slice(0, 7).join(' ') === MIGRATE) return this.migrate(h, argv[7]!, argv[8]!);
    return now(fail(`sim: ${argv[0]}: command not found`, 127));
  }

  /** The marker scripts: `reason` is the disable reason (`hvroll:<campaign>:<group>`). */
  private markerScript(h: SimHost, script: string, reason: string): CommandEffect {
    if (script === SET_MARKER_SCRIPT) {
      if (h.marker && h.markerText === reason) return now(ok());
      if (h.marker) return now(fail(`sh: 1: cannot create ${this.vars.maintenanceFile}: File exists`, 2));
      return { ms: 0, finish: () => (this.fleet.setMarker(h, true, reason), ok()) };
    }
    if (script === CLEAR_MARKER_SCRIPT) return { ms: 0, finish: () => (h.marker && h.markerText === reason && this.fleet.setMarker(h, false), ok()) };
    return now(fail(`sim: sh: unknown script ${JSON.stringify(script.slice(0, 60))}`, 127));
  }

  private migrate(source: SimHost, vmName: string, uri: string): CommandEffect {
    const { fleet, timing } = this;
    const m = /^qemu\+ssh:\/\/([^/]+)\/system$/.exec(uri);
    const targetName = m ? fleet.byAddress.get(m[1]!) : undefined;
    const target = targetName === undefined ? undefined : fleet.hosts.get(targetName);
    const vm = fleet.vms.get(vmName);
    const refused = fleet.startMigration(vm, source, target);
    if (refused !== null || !vm) return now(fail(refused ?? `error: failed to get domain '${vmName}'`));
    const attempt = vm.attempts;
    const full = timing.migrationMs(vm.name, attempt, vm.memoryMiB, vm.labels);
    // An injected failure happens part-way through: the time is spent, the VM stays where it was.
    const fails = timing.migrationFails(vm.name, attempt);
    const cut = !fails && timing.migrationCutShort(vm.name, attempt);
    const ms = fails ? Math.round(full / 2) : full;
    this.jobs.set(vm.name, { startMs: this.nowMs(), ms: full, memoryMiB: vm.memoryMiB });
    return {
      ms,
      finish: () => {
        this.jobs.delete(vm.name);
        fleet.finishMigration(vm, !fails, cut);
        if (cut) return fail('error: Disconnected from qemu+ssh://target/system due to end of file\nerror: operation failed: migration out job: Unable to confirm migration');
        return fails ? fail('error: operation failed: migration out job: unexpectedly failed') : ok(`Migration: [100 %]\n`);
      },
      cancel: () => {
        this.jobs.delete(vm.name);
        fleet.finishMigration(vm, false);
      },
    };
  }

  /** What apt-get says when the package's postinst exits 1: dpkg leaves it half-configured at the new version. */
  private postinstFailed(h: SimHost, version: string): CommandOutput {
    h.status = 'iF ';
    const pkg = this.vars.package;
    return {
      stdout: `Setting up ${pkg} (${version}) ...\n`,
      stderr: `dpkg: error processing package ${pkg} (--configure):\n installed ${pkg} package post-installation script subprocess returned error exit status 1\nErrors were encountered while processing:\n ${pkg}\nE: Sub-process /usr/bin/dpkg returned an error code (1)\n`,
      code: 100,
    };
  }

  private jobInfo(vm: string): string {
    const job = this.jobs.get(vm);
    if (!job) return 'Job type:         None\n\n';
    const left = job.memoryMiB * Math.max(0, 1 - (this.nowMs() - job.startMs) / job.ms);
    return `Job type:         Unbounded\nOperation:        Outgoing migration\nMemory remaining: ${left.toFixed(3)} MiB\n\n`;
  }

  private reboot(h: SimHost): void {
    h.up = false;
    h.reboots++;
    // A reboot kills what still runs there (a policy VM shut down before is only off).
    for (const vm of h.vms) if (!this.shutOff.has(vm)) this.fleet.harmed.add(vm);
    const ms = this.timing.rebootMs(h.name, h.boots + 1);
    h.upAt = this.nowMs() + ms;
    this.later(ms, () => {
      h.boots++;
      h.daemonVersion = h.version;
      h.up = true;
    });
  }
}
