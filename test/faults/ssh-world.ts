// The in-process SSH hypervisors (test/helpers/libvirt-host.ts over ssh-fleet.ts) as the checker's World,
// and a checker wired to every command the hosts receive.
import type { Inventory } from '../../src/model/inventory.ts';
import type { PlanFile } from '../../src/model/plan.ts';
import type { LibvirtFleet } from '../helpers/libvirt-host.ts';
import type { SshFleet } from '../helpers/ssh-fleet.ts';
import { InvariantChecker, poolRules, type World } from './invariants.ts';

export function libvirtWorld(hosts: LibvirtFleet, names: readonly string[]): World {
  return {
    hosts: () =>
      names.map((name) => {
        const s = hosts.host(name);
        return { name, disabled: s.marker, version: s.version, packageConfigured: s.status === 'ii ', libvirtd: s.libvirtd, bootId: s.bootId, upgrades: s.upgrades, reboots: s.reboots };
      }),
    vms: () =>
      [...hosts.model.vms.values()].map((v) => {
        const remnant = hosts.model.remnants.get(v.name);
        // A destroyed or undefined running copy is a lost VM, wherever the model still files it.
        const on = hosts.model.harmed.includes(v.name) ? [] : [v.host];
        return { name: v.name, on, migratingTo: hosts.model.inFlight.get(v.name) ?? null, stoppedCopies: remnant ? [remnant.host] : [] };
      }),
  };
}

export interface WatchOptions {
  fleet: SshFleet;
  hosts: LibvirtFleet;
  inventory: Inventory;
  plan: PlanFile;
  targetVersion: string;
}

/** A fresh checker over the fleet as it is now; every command reaching a host is shown to it first. */
export function watchFleet(o: WatchOptions): InvariantChecker {
  const names = o.inventory.hosts.map((h) => h.name);
  const largest = Math.max(...o.plan.groups.map((g) => g.hosts.length));
  const checker = new InvariantChecker({
    world: libvirtWorld(o.hosts, names),
    targetVersion: o.targetVersion,
    capacity: new Map(o.inventory.hosts.map((h) => [h.name, { memoryMiB: h.capacity.memoryMiB, vcpus: h.capacity.vcpus * o.inventory.rules.cpuOvercommit }])),
    sizes: new Map(o.inventory.vms.map((v) => [v.name, { memoryMiB: v.memoryMiB, vcpus: v.vcpus }])),
    outOfPoolLimit: o.plan.settings.concurrency.groups * largest,
    pool: poolRules(o.plan, o.inventory),
    marker: '/var/lib/hvroll/maintenance',
    pkg: o.hosts.pkg,
  });
  o.fleet.onCommand = (host, argv) => {
    checker.command(host, argv);
    // The journal lives in the run process; here every command is checked against the world (I1, I2, I5, I7),
    // and I3 against the journal once the run has ended or died.
    checker.state(null);
  };
  return checker;
}
