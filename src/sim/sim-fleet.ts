// The simulated fleet's state: hosts (up or rebooting, boot id, maintenance marker, package version,
// libvirtd health) and VMs (where they run, whether a migration is under way). VMs change host only through
// migrations (startMigration/finishMigration); every change is reported to the invariant checker.

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
  version: string;
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

export class SimFleet {
  readonly hosts = new Map<string, SimHost>();
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
      this.hosts.set(h.name, { name: h.name, address: h.address, up: true, upAt: 0, boots: 0, marker: false, version: initialVersion, libvirtd: true, vms: new Set(), upgrades: 0, reboots: 0 });
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

  setMarker(host: SimHost, on: boolean): void {
    if (host.marker === on) return;
    host.marker = on;
    this.checker.maintenance(host.name, on);
  }

  /** Returns why the migration cannot start (libvirt's words), or null once it is under way. */
  startMigration(vm: SimVm | undefined, source: SimHost, target: SimHost | undefined): string | null {
    if (!vm || vm.host !== source.name) return `error: failed to get domain '${vm?.name ?? ''}'`;
    if (vm.migratingTo !== null) return 'error: Requested operation is not valid: domain has an active migration job';
    if (!target || !target.up) return `error: unable to connect to server: No route to host`;
    if (target.name === source.name) return 'error: Requested operation is not valid: domain is already running on this host';
    vm.migratingTo = target.name;
    vm.attempts++;
    this.checker.migrationStarted(vm.name, target.name);
    return null;
  }

  finishMigration(vm: SimVm, ok: boolean): void {
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
    this.checker.migrationEnded(vm.name, source);
  }
}
