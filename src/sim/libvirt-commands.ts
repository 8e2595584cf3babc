// What a simulated libvirt host answers: exactly the argv of runbooks/libvirt.yaml (disable/enable marker,
// virsh list/domstate/dominfo/domjobinfo/migrate/destroy/undefine/version, dpkg-query, apt-get, boot id, systemctl reboot/is-active),
// with their virtual durations. Anything else exits 127 like an unknown command. Package name and marker
// path come from the runbook's variables, not from here.

import type { SimTiming } from './timing.ts';
import type { SimFleet, SimHost } from './sim-fleet.ts';

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

  start(h: SimHost, argv: readonly string[]): CommandEffect {
    const { fleet, vars } = this;
    const a = argv.join(' ');
    const marker = vars.maintenanceFile;
    switch (a) {
      case `test -e ${marker}`:
        return now(h.marker ? ok() : fail('', 1));
      case `test ! -e ${marker}`:
        return now(h.marker ? fail('', 1) : ok());
      case 'mkdir -p /var/lib/hvroll':
        return now(ok());
      case `touch ${marker}`:
        return { ms: 0, finish: () => (fleet.setMarker(h, true), ok()) };
      case `rm -f ${marker}`:
        return { ms: 0, finish: () => (fleet.setMarker(h, false), ok()) };
      case `dpkg-query -W -f=\${Version} ${vars.package}`:
        return now(ok(h.version));
      case 'env DEBIAN_FRONTEND=noninteractive apt-get update -q':
        return now(ok('Reading package lists...\n'));
      case 'cat /proc/sys/kernel/random/boot_id':
        return now(ok(`${fleet.bootId(h)}\n`));
      case 'virsh list --all --name':
        return now(ok(`${fleet.namesOn(h).join('\n')}\n`));
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
    if (argv.length === 3 && argv[0] === 'virsh' && (argv[1] === 'domstate' || argv[1] === 'dominfo' || argv[1] === 'domjobinfo')) {
      const vm = fleet.vms.get(argv[2]!);
      if (!vm || vm.host !== h.name) return now(fail(`error: failed to get domain '${argv[2]}'`));
      if (argv[1] === 'domstate') return now(ok('running\n\n'));
      if (argv[1] === 'domjobinfo') return now(ok(this.jobInfo(vm.name)));
      return now(ok(`Name:           ${vm.name}\nState:          running\nCPU(s):         ${vm.vcpus}\nMax memory:     ${vm.memoryMiB * 1024} KiB\n`));
    }
    // Matched on argv: a VM name is one argument whatever it contains.
    if (argv.length === 9 && argv.slice(0, 7).join(' ') === MIGRATE) return this.migrate(h, argv[7]!, argv[8]!);
    return now(fail(`sim: ${argv[0]}: command not found`, 127));
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
    const ms = this.timing.rebootMs(h.name, h.boots + 1);
    h.upAt = this.nowMs() + ms;
    this.later(ms, () => {
      h.boots++;
      h.up = true;
    });
  }
}
