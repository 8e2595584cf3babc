// The simulated fleet's state: hosts (up or rebooting, boot id, maintenance marker and whose it is, package
// version, the version the running libvirtd started from, libvirtd health) and VMs (where they run, whether a
// migration is under way). VMs change host only through migrations (startMigration/finishMigration) — or when
// a test places one with placeVm, as another actor would; every change is reported to the invariant checker.

import type { Inventory, Labels } from '../model/inventory.ts';
import type { InvariantChecker } from './invariants.ts';

export interface SimHost {
  name: string;
  address: string;
  up: boolean;
  /** Virtual ms at which a rebooting host answers again. */
  upAt: number;
  boots: number;
  marker: boolean;
  /** What the marker file holds (`hvroll:<campaign>:<group>` when a campaign wrote it; '' for someone else's). */
  markerText: string;
  version: string;
  /** The package version libvirtd was started from: it changes when the host boots. */
  daemonVersion: string;
  /** dpkg's `${db:Status-Abbrev}` of the package: "ii " installed and configured, "iF " half-configured (a failed postinst). */
  status: string;
  libvirtd: boolean;
  vms: Set<string>;
  /** Commands that changed it, for "never twice" checks. */
  upgrades: number;
  reboots: number;
}

export interface SimVm {
  name: string;
  host: string;
  memoryMiB: number;
  vcpus: number;
  labels: Labels;
  /** Target of the migration under way, if any. */
  migratingTo: string | null;
  moves: number;
  attempts: number;
}

/** The copy a migration cut short in its last phase leaves defined on its source (persistent). */
export interface SimRemnant {
  host: string;
  state: 'paused' | 'shut off';
}

export class SimFleet {
  readonly hosts = new Map<string, SimHost>();
  /** VM -> its stopped copy left on a source by an interrupted migration. */
  readonly remnants = new Map<string, SimRemnant>();
  /** VMs whose running copy was destroyed or undefined: lost. */
  readonly harmed = new Set<string>();
  readonly vms = new Map<string, SimVm>();
  readonly byAddress = new Map<string, string>();
  migrations = 0;
  failedMigrations = 0;

  constructor(
    inventory: Inventory,
    readonly checker: InvariantChecker,
    initialVersion = '1.0',
  ) {
    for (const h of inventory.hosts) {
      this.hosts.set(h.name, { name: h.name, address: h.address, up: true, upAt: 0, boots: 0, marker: false, markerText: '', version: initialVersion, status: 'ii ', daemonVersion: initialVersion, libvirtd: true, vms: new Set(), upgrades: 0, reboots: 0 });
      this.byAddress.set(h.address, h.name);
    }
    for (const v of inventory.vms) {
      this.vms.set(v.name, { name: v.name, host: v.host, memoryMiB: v.memoryMiB, vcpus: v.vcpus, labels: v.labels, migratingTo: null, moves: 0, attempts: 0 });
      this.hosts.get(v.host)?.vms.add(v.name);
    }
  }

  bootId(host: SimHost): string {
    return `${host.name}/boot-${host.boots}`;
  }

  setMarker(host: SimHost, on: boolean, text = ''): void {
    host.markerText = on ? text : '';
    if (host.marker === on) return;
    host.marker = on;
    this.checker.maintenance(host.name, on);
  }

  /**
   * A VM started on `host` by another actor (an operator, a provisioning tool): tests place one on a drained
   * host between two steps. Not one of the inventory's VMs: the capacity checker does not count it.
   */
  placeVm(name: string, hostName: string, size: { memoryMiB: number; vcpus: number } = { memoryMiB: 512, vcpus: 1 }): SimVm {
    const host = this.hosts.get(hostName);
    if (!host) throw new Error(`sim: no host ${hostName}`);
    if (this.vms.has(name)) throw new Error(`sim: VM ${name} exists`);
    const vm: SimVm = { name, host: hostName, ...size, labels: {}, migratingTo: null, moves: 0, attempts: 0 };
    this.vms.set(name, vm);
    host.vms.add(name);
    return vm;
  }

  /** Names a host lists as active (`virsh list --name`): its running VMs and the paused copies left on it. */
  activeOn(host: SimHost): string[] {
    const names = [...host.vms];
    for (const [vm, r] of this.remnants) if (r.host === host.name && r.state === 'paused') names.push(vm);
    return names.sort();
  }

  /** Returns why the migration cannot start (libvirt's words), or null once it is under way. */
  startMigration(vm: SimVm | undefined, source: SimHost, target: SimHost | undefined): string | null {
    if (vm && this.remnants.get(vm.name)?.host === source.name) return `error: Requested operation is not valid: domain '${vm.name}' is already active`;
    if (!vm || vm.host !== source.name) return `error: failed to get domain '${vm?.name ?? ''}'`;
    if (vm.migratingTo !== null) return 'error: Requested operation is not valid: domain has an active migration job';
    if (!target || !target.up) return `error: unable to connect to server: No route to host`;
    if (target.name === source.name) return 'error: Requested operation is not valid: domain is already running on this host';
    vm.migratingTo = target.name;
    vm.attempts++;
    this.checker.migrationStarted(vm.name, target.name);
    return null;
  }

  /** Names a host lists (`virsh list --all --name`): its VMs and the stopped copies left on it. */
  namesOn(host: SimHost): string[] {
    const names = [...host.vms];
    for (const [vm, r] of this.remnants) if (r.host === host.name) names.push(vm);
    return names.sort();
  }

  /** `virsh destroy` / `virsh undefine` on `host`: libvirt's error text, or null when done. */
  remove(verb: 'destroy' | 'undefine', vmName: string, host: SimHost): string | null {
    const r = this.remnants.get(vmName);
    if (r && r.host === host.name) {
      if (verb === 'destroy') {
        if (r.state !== 'paused') return 'error: Requested operation is not valid: domain is not running';
        r.state = 'shut off';
      } else if (r.state === 'shut off') {
        this.remnants.delete(vmName);
      }
      return null;
    }
    if (!host.vms.has(vmName)) return `error: failed to get domain '${vmName}'`;
    this.harmed.add(vmName);
    return null;
  }

  /** `cut`: the VM moved, but the source kept a paused copy (the migration's confirm never happened). */
  finishMigration(vm: SimVm, ok: boolean, cut = false): void {
    const target = vm.migratingTo!;
    vm.migratingTo = null;
    if (!ok) {
      this.failedMigrations++;
      this.checker.migrationEnded(vm.name, target);
      return;
    }
    const source = vm.host;
    this.hosts.get(source)!.vms.delete(vm.name);
    this.hosts.get(target)!.vms.add(vm.name);
    vm.host = target;
    vm.moves++;
    this.migrations++;
    if (cut) this.remnants.set(vm.name, { host: source, state: 'paused' });
    this.checker.migrationEnded(vm.name, source);
  }
}
