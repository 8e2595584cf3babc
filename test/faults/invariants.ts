// The fault matrix's independent checker of invariants I1–I7. It knows nothing of the engine's machines,
// limiter or outcome: only what the hosts report (a World view over a host model: the simulated fleet or the
// in-process SSH hypervisors), the commands that reach the hosts, the journal read back from the store, and
// the plan's groups and limits with the inventory's headroom (what `run` promises to keep). Call `command`
// when a command reaches a host (before it acts) and `state` after every journalled event.
//
//   I1 every VM on exactly one host, none lost, none new; no destroy/undefine reaches the host where a VM runs;
//      a stopped copy an interrupted migration left behind is allowed meanwhile, but none is left at the end
//   I2 no host upgraded or rebooted twice: boot ids seen ≤ 2, versions seen ≤ 2 (start → target), counters ≤ 1
//   I3 every host out of the pool was so before the campaign, or has an open disable record in the journal
//      (a `disable` command not followed by a successful `enable`/`rollback`); at the end the disabled set is
//      the one before the campaign plus the hosts the campaign reported as left out
//   I4 a completed step never re-runs: no side-effecting command reaches a host whose effect is already there
//   I5 hosts taken out of the pool by the campaign ≤ the limit; groups with a host out of the pool ≤
//      concurrency.groups, per class ≤ its maxConcurrentGroups, per failure domain ≤ groupsPerDomain; per
//      failure domain, the load of its hosts in the pool ≤ (1 − rules.headroom) × their capacity; no host over
//      capacity. A host the campaign disabled counts as out until it is back in the pool, whatever its group's
//      state (a failed group's hosts count until an operator re-enables them); migrations in flight count on
//      both ends. Hosts disabled before the campaign are the operator's: the plan counted them in service.
//   I6 every command a host received is the argv the journal recorded for it, in order (no unjournalled or
//      altered command)
//   I7 a broken host (package half-configured, libvirtd down) the campaign took out of the pool is never put
//      back: no enable reaches it, and at the end it is out of the pool and named

import type { PlanFile } from '../../src/model/plan.ts';
import { CLEAR_MARKER_SCRIPT, SET_MARKER_SCRIPT } from '../../src/sim/libvirt-commands.ts';

export type Invariant = 'I1' | 'I2' | 'I3' | 'I4' | 'I5' | 'I6' | 'I7';

export interface HostFacts {
  name: string;
  disabled: boolean;
  version: string;
  /** dpkg's status of the package is "installed" (a failed postinst leaves it half-configured, at the new version). */
  packageConfigured: boolean;
  libvirtd: boolean;
  bootId: string;
  /** Upgrades: installs of the package (a model may count the failed ones; I2 then looks only at configured hosts). */
  upgrades: number;
  reboots: number;
}

export interface VmFacts {
  name: string;
  /** Every host that reports the VM as its own (I1 wants exactly one). */
  on: string[];
  /** Target of a migration under way, if the model has such a thing. */
  migratingTo: string | null;
  /** Hosts that still hold a stopped (paused or shut-off) copy left by an interrupted migration. */
  stoppedCopies?: string[];
}

export interface World {
  hosts(): HostFacts[];
  vms(): VmFacts[];
}

/** The few journal fields the checker reads (a structural subset of the store's JournalEntry). */
export interface JournalFacts {
  id: number;
  step: string;
  host: string;
  vm?: string;
  argv?: string[];
  outcome?: { exitCode: number | null };
}

export interface CheckerOptions {
  world: World;
  targetVersion: string;
  /** Capacity per host (vCPUs already multiplied by the overcommit); VM sizes by name. */
  capacity: Map<string, { memoryMiB: number; vcpus: number }>;
  sizes: Map<string, { memoryMiB: number; vcpus: number }>;
  /** Hosts the campaign may have out of the pool at once (groups at once × largest group). */
  outOfPoolLimit: number;
  /** The plan's groups and the limits `run` keeps with them; failure domains and their headroom. */
  pool: PoolRules;
  /** The runbook's maintenance marker path and package name: how the checker recognises side effects. */
  marker: string;
  pkg: string;
}

/** What I5 needs of the plan and the inventory. */
export interface PoolRules {
  groups: readonly { name: string; class: string; hosts: readonly string[] }[];
  groupsAtOnce: number;
  classes: Readonly<Record<string, number>>;
  groupsPerDomain: number | null;
  /** Failure domain of every host. */
  domainOf: ReadonlyMap<string, string>;
  /** Share of each failure domain's capacity in the pool to keep free. */
  headroom: { memoryPercent: number; vcpuPercent: number };
}

/** PoolRules from a plan (its groups and settings: its contract with `run`) and the inventory's hosts and headroom. */
export function poolRules(
  plan: Pick<PlanFile, 'groups' | 'settings'>,
  inventory: { hosts: readonly { name: string; labels?: Readonly<Record<string, string>> }[]; rules: { headroom?: { memoryPercent: number; vcpuPercent: number } } },
): PoolRules {
  const label = plan.settings.failureDomain;
  const c = plan.settings.concurrency;
  return {
    groups: plan.groups.filter((g) => g.wave >= 0).map((g) => ({ name: g.name, class: g.class, hosts: g.hosts })),
    groupsAtOnce: c.groups,
    classes: c.classes ?? {},
    groupsPerDomain: c.groupsPerDomain ?? null,
    domainOf: new Map(inventory.hosts.map((h) => [h.name, label === null ? 'fleet' : `${label}=${h.labels?.[label] ?? '(none)'}`])),
    headroom: inventory.rules.headroom ?? { memoryPercent: 0, vcpuPercent: 0 },
  };
}

export interface Violation {
  invariant: Invariant;
  message: string;
}

/** Slack for the headroom comparison: capacity × (1 − share) is fractional. */
const EPSILON = 1e-6;

/** A host that must not serve: its package half-configured, or libvirtd down. */
function broken(h: HostFacts): boolean {
  return !h.packageConfigured || !h.libvirtd;
}

function brokenWhy(h: HostFacts): string {
  return [h.packageConfigured ? '' : 'package half-configured', h.libvirtd ? '' : 'libvirtd down'].filter(Boolean).join(', ');
}

/** Journal steps whose run commands change a host (checks, confirms and boot-id reads do not). */
const SIDE_EFFECT_STEPS = new Set(['disable', 'migrate', 'migrate:leftover', 'migrate:abort', 'upgrade', 'reboot', 'enable', 'rollback']);

export class InvariantChecker {
  readonly violations: Violation[] = [];
  readonly counts: Record<Invariant, number> = { I1: 0, I2: 0, I3: 0, I4: 0, I5: 0, I6: 0, I7: 0 };
  checks = 0;
  commands = 0;
  peakOutOfPool = 0;
  private readonly initialDisabled: Set<string>;
  private readonly initialVms: Set<string>;
  private readonly bootIds = new Map<string, Set<string>>();
  private readonly versions = new Map<string, Set<string>>();
  private readonly initialBoot = new Map<string, string>();
  /** Per host: argv of every command received, in order (I6). */
  private readonly received = new Map<string, string[][]>();
  /** Hosts the campaign has had out of the pool at some point (I7). */
  private readonly takenOut = new Set<string>();
  /** Hosts already reported back in the pool broken (I7 counts each once). */
  private readonly rejoinedBroken = new Set<string>();
  /** Per failure domain: what it could still take before its headroom is gone, at the start (I5). */
  private readonly initialSlack: Map<string, [number, number]>;

  constructor(private readonly o: CheckerOptions) {
    const hosts = o.world.hosts();
    this.initialDisabled = new Set(hosts.filter((h) => h.disabled).map((h) => h.name));
    this.initialVms = new Set(o.world.vms().map((v) => v.name));
    for (const h of hosts) {
      this.bootIds.set(h.name, new Set([h.bootId]));
      this.versions.set(h.name, new Set([h.version]));
      this.initialBoot.set(h.name, h.bootId);
    }
    this.initialSlack = this.slack(hosts, o.world.vms());
  }

  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  get disabledBefore(): ReadonlySet<string> {
    return this.initialDisabled;
  }

  private fail(invariant: Invariant, message: string): void {
    this.counts[invariant]++;
    // A state that stays broken is counted at every check, and listed once.
    if (this.violations.length < 50 && !this.violations.some((v) => v.invariant === invariant && v.message === message)) this.violations.push({ invariant, message });
  }

  /** A command reaches `host` and has not acted yet (I4, and recorded for I6). */
  command(host: string, argv: readonly string[]): void {
    this.commands++;
    let list = this.received.get(host);
    if (!list) this.received.set(host, (list = []));
    list.push([...argv]);
    const h = this.o.world.hosts().find((x) => x.name === host);
    if (!h) return this.fail('I6', `a command reached ${host}, a host the world does not know: ${argv.join(' ')}`);
    const a = argv.join(' ');
    const redo = (what: string) => this.fail('I4', `${host}: \`${a}\` sent although ${what}`);
    if (this.enables(argv) && broken(h)) this.fail('I7', `${host}: \`${a}\` sent to a broken host (${brokenWhy(h)}): it would rejoin the pool unverified`);
    if (a === `touch ${this.o.marker}` || a === 'mkdir -p /var/lib/hvroll' || this.markerScript(argv) === SET_MARKER_SCRIPT) {
      if (h.disabled) redo('the host is already disabled');
    } else if (a === `rm -f ${this.o.marker}` || this.markerScript(argv) === CLEAR_MARKER_SCRIPT) {
      if (!h.disabled) redo('the host is already enabled');
    } else if (argv[0] === 'env' && argv.includes('apt-get')) {
      // A half-configured package is not upgraded yet: installing again is the retry, not a redo.
      if (h.version === this.o.targetVersion && h.packageConfigured) redo(`the host already runs ${this.o.targetVersion}`);
    } else if (a === 'systemctl reboot') {
      if (h.bootId !== this.initialBoot.get(host)) redo('the host already rebooted during this campaign');
    } else if (argv[0] === 'virsh' && (argv[1] === 'destroy' || argv[1] === 'undefine')) {
      const vm = argv.at(-1)!;
      const v = this.o.world.vms().find((x) => x.name === vm);
      if (v?.on.includes(host)) this.fail('I1', `${host}: \`${a}\` sent to the host where ${vm} runs`);
    } else if (argv[0] === 'virsh' && argv[1] === 'migrate') {
      const vm = argv.at(-2)!;
      const v = this.o.world.vms().find((x) => x.name === vm);
      if (!v || !v.on.includes(host)) redo(`${vm} is not on ${host} any more`);
    }
  }

  /** The script of a runbook marker command (`sh -c <script> sh <marker> <reason>`), else null. */
  private markerScript(argv: readonly string[]): string | null {
    return argv.length === 6 && argv[0] === 'sh' && argv[1] === '-c' && argv[3] === 'sh' && argv[4] === this.o.marker ? argv[2]! : null;
  }

  /** Whether `argv` puts a host back in the pool: removes the maintenance marker, bare or from a script. */
  private enables(argv: readonly string[]): boolean {
    if (argv.join(' ') === `rm -f ${this.o.marker}`) return true;
    return argv[0] === 'sh' && argv[1] === '-c' && /\brm\b/.test(argv[2] ?? '') && argv.includes(this.o.marker);
  }

  /** After a journalled event: I1, I2, I3, I5, I7 against the world and `journal` (null: not readable now, I3 skipped). */
  state(journal: readonly JournalFacts[] | null): void {
    this.checks++;
    const hosts = this.o.world.hosts();
    const vms = this.o.world.vms();
    // I1
    const seen = new Set<string>();
    for (const v of vms) {
      seen.add(v.name);
      if (v.on.length !== 1) this.fail('I1', `${v.name} runs on ${v.on.length} hosts (${v.on.join(', ') || 'none'})`);
      if (!this.initialVms.has(v.name)) this.fail('I1', `${v.name} appeared; it was not in the fleet before the campaign`);
    }
    for (const name of this.initialVms) if (!seen.has(name)) this.fail('I1', `${name} is lost: no host reports it`);
    // I2
    for (const h of hosts) {
      const boots = this.bootIds.get(h.name)!;
      boots.add(h.bootId);
      const versions = this.versions.get(h.name)!;
      versions.add(h.version);
      if (boots.size > 2) this.fail('I2', `${h.name} booted ${boots.size - 1} times during the campaign`);
      if (versions.size > 2 || (versions.size === 2 && !versions.has(this.o.targetVersion))) this.fail('I2', `${h.name} went through versions ${[...versions].join(' → ')}`);
      // A half-configured package is installed again by the step's retry: not a second upgrade.
      if (h.upgrades > 1 && h.packageConfigured) this.fail('I2', `${h.name} was upgraded ${h.upgrades} times`);
      if (h.reboots > 1) this.fail('I2', `${h.name} was rebooted ${h.reboots} times`);
    }
    // I3
    const open = journal === null ? null : openDisables(journal);
    const out = new Set<string>();
    for (const h of hosts) {
      if (!h.disabled || this.initialDisabled.has(h.name)) continue;
      out.add(h.name);
      this.takenOut.add(h.name);
      if (open !== null && !open.has(h.name)) this.fail('I3', `${h.name} is out of the pool with no open disable record in the journal`);
    }
    // I5
    this.peakOutOfPool = Math.max(this.peakOutOfPool, out.size);
    if (out.size > this.o.outOfPoolLimit) this.fail('I5', `${out.size} hosts out of the pool at once (limit ${this.o.outOfPoolLimit}): ${[...out].join(', ')}`);
    this.groupLimits(out);
    this.headroom(hosts, vms);
    const load = this.hostLoads(vms);
    for (const [host, l] of load) {
      const cap = this.o.capacity.get(host);
      if (cap && (l.memoryMiB > cap.memoryMiB || l.vcpus > cap.vcpus)) this.fail('I5', `${host} holds ${l.memoryMiB}/${cap.memoryMiB} MiB, ${l.vcpus}/${cap.vcpus} vCPU counting migrations in flight`);
    }
    // I7
    for (const h of hosts) {
      if (h.disabled || !this.takenOut.has(h.name) || !broken(h) || this.rejoinedBroken.has(h.name)) continue;
      this.rejoinedBroken.add(h.name);
      this.fail('I7', `${h.name} is back in the pool broken (${brokenWhy(h)}): rejoined unverified`);
    }
  }

  /** Per host: memory and vCPUs of the VMs on it and in flight to it. */
  private hostLoads(vms: readonly VmFacts[]): Map<string, { memoryMiB: number; vcpus: number }> {
    const load = new Map<string, { memoryMiB: number; vcpus: number }>();
    const add = (host: string, vm: string) => {
      const size = this.o.sizes.get(vm);
      if (!size) return;
      const l = load.get(host) ?? { memoryMiB: 0, vcpus: 0 };
      load.set(host, { memoryMiB: l.memoryMiB + size.memoryMiB, vcpus: l.vcpus + size.vcpus });
    };
    for (const v of vms) {
      for (const h of v.on) add(h, v.name);
      if (v.migratingTo !== null && !v.on.includes(v.migratingTo)) add(v.migratingTo, v.name);
    }
    return load;
  }

  /** I5: groups with a host out of the pool, overall, per class and per failure domain. */
  private groupLimits(out: ReadonlySet<string>): void {
    const { groups, groupsAtOnce, classes, groupsPerDomain, domainOf } = this.o.pool;
    const outGroups = groups.filter((g) => g.hosts.some((h) => out.has(h)));
    const list = (gs: typeof outGroups) => gs.map((g) => g.name).join(', ');
    if (outGroups.length > groupsAtOnce) this.fail('I5', `${outGroups.length} groups out of the pool at once (concurrency.groups ${groupsAtOnce}): ${list(outGroups)}`);
    for (const [cls, max] of Object.entries(classes)) {
      const mine = outGroups.filter((g) => g.class === cls);
      if (mine.length > max) this.fail('I5', `${mine.length} groups of class ${cls} out of the pool at once (maxConcurrentGroups ${max}): ${list(mine)}`);
    }
    if (groupsPerDomain === null) return;
    for (const d of new Set(domainOf.values())) {
      const mine = outGroups.filter((g) => g.hosts.some((h) => domainOf.get(h) === d));
      if (mine.length > groupsPerDomain) this.fail('I5', `${mine.length} groups of ${d} out of the pool at once (groupsPerDomain ${groupsPerDomain}): ${list(mine)}`);
    }
  }

  /** Per failure domain: (1 − headroom) × capacity in the pool − load in the pool, memory and vCPUs; negative: over. */
  private slack(hosts: readonly HostFacts[], vms: readonly VmFacts[]): Map<string, [number, number]> {
    const load = this.hostLoads(vms);
    const keepMem = 1 - this.o.pool.headroom.memoryPercent / 100;
    const keepCpu = 1 - this.o.pool.headroom.vcpuPercent / 100;
    const out = new Map<string, [number, number]>();
    for (const h of hosts) {
      const d = this.o.pool.domainOf.get(h.name) ?? 'fleet';
      const s = out.get(d) ?? [0, 0];
      out.set(d, s);
      if (h.disabled && !this.initialDisabled.has(h.name)) continue;
      const cap = this.o.capacity.get(h.name) ?? { memoryMiB: 0, vcpus: 0 };
      const l = load.get(h.name) ?? { memoryMiB: 0, vcpus: 0 };
      s[0] += keepMem * cap.memoryMiB - l.memoryMiB;
      s[1] += keepCpu * cap.vcpus - l.vcpus;
    }
    return out;
  }

  /** I5: no failure domain over its headroom, unless it was so before the campaign (then no worse). */
  private headroom(hosts: readonly HostFacts[], vms: readonly VmFacts[]): void {
    for (const [d, [mem, cpu]] of this.slack(hosts, vms)) {
      const [mem0, cpu0] = this.initialSlack.get(d) ?? [0, 0];
      const over = (now: number, before: number) => now < -EPSILON && now < Math.min(0, before) - EPSILON;
      if (over(mem, mem0) || over(cpu, cpu0)) {
        this.fail('I5', `${d} is over its headroom (keep ${this.o.pool.headroom.memoryPercent} % of memory, ${this.o.pool.headroom.vcpuPercent} % of vCPUs free in the pool): ${Math.round(-Math.min(mem, 0))} MiB, ${Math.round(-Math.min(cpu, 0) * 10) / 10} vCPU too many on its hosts in the pool`);
      }
    }
  }

  /**
   * I6: what each host received is, in order, the argv of the journal entries for that host (progress polls
   * named in `unjournalled` excepted). Call when no command is in flight.
   */
  argvMatchesJournal(journal: readonly JournalFacts[], unjournalled: (argv: readonly string[]) => boolean = () => false): void {
    const byHost = new Map<string, string[][]>();
    for (const e of journal) {
      if (!e.argv) continue;
      let l = byHost.get(e.host);
      if (!l) byHost.set(e.host, (l = []));
      l.push(e.argv);
    }
    for (const host of new Set([...byHost.keys(), ...this.received.keys()])) {
      const got = (this.received.get(host) ?? []).filter((a) => !unjournalled(a));
      const want = byHost.get(host) ?? [];
      // A journalled intent may never have reached the host (a kill right after writing it): skip those.
      let j = 0;
      for (const argv of got) {
        while (j < want.length && !same(want[j]!, argv)) j++;
        if (j === want.length) {
          this.fail('I6', `${host} received \`${argv.join(' ')}\` with no matching journal intent (in order)`);
          break;
        }
        j++;
      }
    }
  }

  /**
   * At the end of the campaign: I3's final set, I7's broken hosts out of the pool and named, and when every
   * group finished (`done`: none failed), every host upgraded and rebooted once, every VM where the plan put it.
   */
  final(o: { done: boolean; reportedOutOfPool: readonly string[]; expectedPlacement?: ReadonlyMap<string, string> }): void {
    const hosts = this.o.world.hosts();
    const named = new Set(o.reportedOutOfPool);
    const allowed = new Set([...this.initialDisabled, ...named]);
    for (const h of hosts) {
      if (h.disabled && !allowed.has(h.name)) this.fail('I3', `${h.name} is left out of the pool at the end and the campaign did not say so`);
      if (!h.disabled && this.initialDisabled.has(h.name)) this.fail('I3', `${h.name} was disabled before the campaign and is enabled after it`);
      if (h.disabled && !this.initialDisabled.has(h.name)) this.takenOut.add(h.name);
      if (!broken(h) || !this.takenOut.has(h.name)) continue;
      if (!h.disabled) this.fail('I7', `${h.name} is broken (${brokenWhy(h)}) and in the pool at the end`);
      else if (!named.has(h.name)) this.fail('I7', `${h.name} is broken (${brokenWhy(h)}) and out of the pool at the end, but the campaign did not name it`);
    }
    if (!o.done) return;
    if (o.reportedOutOfPool.length > 0) this.fail('I3', `a finished campaign left ${o.reportedOutOfPool.join(', ')} out of the pool`);
    for (const h of hosts) {
      if (h.version !== this.o.targetVersion) this.fail('I2', `${h.name} runs ${h.version} after a finished campaign`);
      if (h.bootId === this.initialBoot.get(h.name)) this.fail('I2', `${h.name} was never rebooted`);
    }
    for (const v of this.o.world.vms()) {
      if ((v.stoppedCopies ?? []).length > 0) this.fail('I1', `${v.name} still has a stopped copy on ${v.stoppedCopies!.join(', ')} after a finished campaign`);
      const want = o.expectedPlacement?.get(v.name);
      if (want !== undefined && v.on[0] !== want) this.fail('I1', `${v.name} ended on ${v.on.join(', ')}, the plan put it on ${want}`);
    }
  }
}

/** The libvirt runbook's progress poll (steps.migrate.progress): a read, not journalled. Its argv is exact. */
export function isProgressPoll(argv: readonly string[]): boolean {
  return argv.length === 3 && argv[0] === 'virsh' && argv[1] === 'domjobinfo';
}

function same(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Hosts whose last disable command is not followed by a successful enable or rollback command. */
export function openDisables(journal: readonly JournalFacts[]): Set<string> {
  const open = new Set<string>();
  for (const e of journal) {
    if (!SIDE_EFFECT_STEPS.has(e.step)) continue;
    if (e.step === 'disable') open.add(e.host);
    else if ((e.step === 'enable' || e.step === 'rollback') && e.outcome?.exitCode === 0) open.delete(e.host);
  }
  return open;
}
