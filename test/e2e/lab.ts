// The e2e test fleet from the test's side: test/fleet/setup.sh builds real hosts (network + mount + UTS
// namespaces, each with OpenSSH sshd and libvirtd running QEMU/TCG), hvroll runs as a child process in the lab
// namespace and reaches them over real SSH; the test looks at the hosts directly (nsenter + virsh), never
// through hvroll.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { CampaignStore } from '../../src/store/store.ts';
import { campaignDir } from '../../src/store/paths.ts';
import type { JournalEntry } from '../../src/model/journal.ts';

const run = promisify(execFile);
export const REPO = resolve(import.meta.dirname, '../..');
const FLEET = join(REPO, 'test/fleet');
export const LAB_DIR = process.env.HVLAB_DIR ?? '/run/hvroll-lab';
const LAB_NS = `${process.env.HVLAB_PREFIX ?? 'hvlab'}-lab`;
const NET = process.env.HVLAB_NET ?? '10.231.7';

export const HOSTS = ['hv-1', 'hv-2', 'hv-3'] as const;
export type HostName = (typeof HOSTS)[number];
export const address = (h: string) => `${NET}.${10 + Number(h.slice(3))}`;
export const hostDir = (h: string) => join(LAB_DIR, 'hosts', h);

/** The initial layout: two VMs on hv-1, two on hv-2, hv-3 empty. 32 MiB, 1 vCPU, no disk, no network. */
export const LAYOUT: ReadonlyMap<string, HostName> = new Map([
  ['vm-1', 'hv-1'],
  ['vm-2', 'hv-1'],
  ['vm-3', 'hv-2'],
  ['vm-4', 'hv-2'],
]);
export const VM_MIB = 32;
export const VERSION_FROM = '1.0';
export const VERSION_TO = '1.1';
export const PACKAGE = 'hvlab-hypervisor';

function fail(what: string, e: unknown): never {
  const x = e as { stderr?: string; stdout?: string; message?: string };
  throw new Error(`${what} failed: ${x.message ?? String(e)}\n${x.stdout ?? ''}\n${x.stderr ?? ''}`);
}

export function labUp(): void {
  try {
    execFileSync(join(FLEET, 'teardown.sh'), { stdio: 'pipe' }); // a lab a killed run left behind
    execFileSync(join(FLEET, 'setup.sh'), [String(HOSTS.length)], { stdio: 'pipe', timeout: 180_000 });
  } catch (e) {
    fail('test fleet setup (test/fleet/setup.sh)', e);
  }
}

export function labDown(): void {
  execFileSync(join(FLEET, 'teardown.sh'), { stdio: 'pipe', timeout: 60_000 });
}

/** A command inside a lab host's namespaces, as root, straight to its libvirtd: not over SSH. */
export async function onHost(h: string, argv: string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(join(FLEET, 'on-host.sh'), [h, ...argv], { timeout: timeoutMs });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code?: number | string; stdout?: string; stderr?: string };
    if (typeof x.code !== 'number') throw e;
    return { code: x.code, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

export async function mustOnHost(h: string, argv: string[]): Promise<string> {
  const r = await onHost(h, argv);
  if (r.code !== 0) throw new Error(`${h}: ${argv.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

export const hostd = (h: string, cmd: string) => mustOnHost(h, [join(FLEET, 'hostd.sh'), h, cmd]);

export function domainXml(name: string): string {
  return `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>${VM_MIB}</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <clock offset='utc'/>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
`;
}

const hmp = (h: string, vm: string, cmd: string) => mustOnHost(h, ['virsh', 'qemu-monitor-command', vm, '--hmp', cmd]);

/**
 * A byte the test writes into the guest's CMOS NVRAM (index 0x48, unused by QEMU and SeaBIOS) through the QEMU
 * monitor. CMOS contents travel with a live migration; a QEMU process started afresh has 0 there. So the same
 * byte read back at the end proves the guest state was carried, not restarted.
 */
/** The guest is paused around the two port accesses: its BIOS uses the same CMOS index register. */
async function paused<T>(h: string, vm: string, work: () => Promise<T>): Promise<T> {
  await mustOnHost(h, ['virsh', 'suspend', vm]);
  try {
    return await work();
  } finally {
    await mustOnHost(h, ['virsh', 'resume', vm]);
  }
}
export async function writeNonce(h: string, vm: string, value: number): Promise<void> {
  await paused(h, vm, async () => {
    await hmp(h, vm, 'o /b 0x70 0x48');
    await hmp(h, vm, `o /b 0x71 0x${value.toString(16)}`);
  });
}
export async function readNonce(h: string, vm: string): Promise<number> {
  const out = await paused(h, vm, async () => {
    await hmp(h, vm, 'o /b 0x70 0x48');
    return hmp(h, vm, 'i /b 0x71');
  });
  const m = /= 0x([0-9a-f]+)/.exec(out);
  if (!m) throw new Error(`${h}/${vm}: cannot read the CMOS byte: ${out}`);
  return parseInt(m[1]!, 16);
}
/** vm-1 → 0x41 …; a VM outside the LAYOUT gets a byte from its exact name (`"vm-2 "` differs from vm-2's). */
export const nonceOf = (vm: string) => (LAYOUT.has(vm) ? 0x40 + Number(vm.slice(3)) : 0x60 + ([...vm].reduce((s, c) => s + c.codePointAt(0)!, 0) % 0x20));

/** The pid of the QEMU that runs `vm` on `h` (libvirt's pid file, named by the exact domain name), if it runs. */
export function guestPid(h: string, vm: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(hostDir(h), 'run-libvirt', 'qemu', `${vm}.pid`), 'utf8').trim());
    return readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '').endsWith('/qemu-system-x86_64') ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The names `virsh list --name` printed, exactly: one a line, then an empty line. Never trimmed: libvirt accepts
 * a domain named `vm-2 ` beside `vm-2`, and the lab must see them as two.
 */
const names = (stdout: string) => stdout.split('\n').filter((line) => line !== '');

/** What runs where, straight from every libvirtd: exact name → [host, state reason] for every domain. */
export async function domains(): Promise<Map<string, { host: string; state: string }[]>> {
  const all = new Map<string, { host: string; state: string }[]>();
  for (const h of HOSTS) {
    const r = await onHost(h, ['virsh', 'list', '--all', '--name']);
    if (r.code !== 0) continue;
    for (const vm of names(r.stdout)) {
      const st = await onHost(h, ['virsh', 'domstate', '--reason', vm]);
      all.set(vm, [...(all.get(vm) ?? []), { host: h, state: st.stdout.trim() }]);
    }
  }
  return all;
}

/** The lab's switches a test may have left on a host (under its /opt/hvlab): a failing postinst, held gates. */
const SWITCHES = ['fail-postinst', 'hold-postinst', 'held-postinst', 'hold-migrate', 'held-migrate'];

/** What dpkg itself says of the lab package on `h` (not through SSH, so no wrapper of the host's bin): e.g. `ii 1.0`. */
export const dpkgStatus = async (h: string) => (await mustOnHost(h, ['dpkg-query', '-W', '-f=${db:Status-Abbrev}${Version}', PACKAGE])).trim();

/** Every host back to the initial state: package 1.0, no marker, no switch or lie, sshd + libvirtd up, the LAYOUT's VMs running. */
export async function resetFleet(extraVms: ReadonlyMap<string, HostName> = new Map()): Promise<void> {
  await Promise.all(
    HOSTS.map(async (h) => {
      await hostd(h, 'start');
      for (const vm of names(await mustOnHost(h, ['virsh', 'list', '--all', '--name']))) {
        await onHost(h, ['virsh', 'destroy', vm]);
        await onHost(h, ['virsh', 'undefine', vm]); // a transient domain is gone with its destroy
      }
      const left = names(await mustOnHost(h, ['virsh', 'list', '--all', '--name']));
      if (left.length > 0) throw new Error(`${h}: domains left after the reset: ${JSON.stringify(left)}`);
      await mustOnHost(h, ['rm', '-f', ...SWITCHES.map((s) => `/opt/hvlab/${s}`)]);
      for (const lie of LIES) rmSync(join(hostDir(h), 'bin', lie), { force: true });
      if ((await dpkgStatus(h)) !== `ii ${VERSION_FROM}`) {
        await mustOnHost(h, ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-q', '--allow-downgrades', `${PACKAGE}=${VERSION_FROM}`]);
      }
      // As after a boot at VERSION_FROM: the lab's daemon reports the version installed when it started.
      writeFileSync(join(hostDir(h), 'daemon-version'), `${VERSION_FROM}\n`);
      await mustOnHost(h, ['rm', '-f', '/var/lib/hvroll/maintenance']);
      writeFileSync(join(hostDir(h), 'log', 'reboot.log'), '');
    }),
  );
  for (const [vm, h] of [...LAYOUT, ...extraVms]) {
    const file = join(hostDir(h), 'root', `${vm}.xml`);
    writeFileSync(file, domainXml(vm));
    await mustOnHost(h, ['virsh', 'define', `/root/${vm}.xml`]);
    await mustOnHost(h, ['virsh', 'start', vm]);
    await writeNonce(h, vm, nonceOf(vm));
  }
}

/**
 * Host `h` lies about its upgrade, for commands that reach it over SSH (its sshd puts <host dir>/bin first on
 * PATH): `apt-get install` does nothing and says it did, and `dpkg-query -W -f=…` of the lab package prints it
 * installed and configured at `version` — status `ii `, `install ok installed`. dpkg itself, its daemon and
 * onHost (no wrapper) still tell the truth. resetFleet removes the lie.
 */
const LIES = ['apt-get', 'dpkg-query'];
export function makeHostLie(h: string, version: string): void {
  const bin = join(hostDir(h), 'bin');
  writeFileSync(join(bin, 'apt-get'), `#!/bin/sh
# hvroll lab host ${h}: a host that lies (test/e2e/lab.ts makeHostLie): apt-get install does nothing.
case " $* " in *" install "*) echo "apt-get $*: nothing to do"; exit 0 ;; esac
exec /usr/bin/apt-get "$@"
`, { mode: 0o755 });
  writeFileSync(join(bin, 'dpkg-query'), `#!/bin/sh
# hvroll lab host ${h}: a host that lies (test/e2e/lab.ts makeHostLie): ${PACKAGE} shows installed at ${version}.
fmt=; pkg=
for a in "$@"; do case $a in -f=*) fmt=\${a#-f=} ;; -*) ;; *) pkg=$a ;; esac; done
if [ -n "$fmt" ] && [ "$pkg" = ${PACKAGE} ]; then
  printf '%s' "$fmt" | sed -e 's/\\\${db:Status-Abbrev}/ii /g' -e 's/\\\${Status}/install ok installed/g' -e 's/\\\${Version}/${version}/g'
  exit 0
fi
exec /usr/bin/dpkg-query "$@"
`, { mode: 0o755 });
}

/** Host `h`'s package postinst fails from now on (setup.sh): apt-get exits 100, dpkg leaves the package `iF`. */
export const failPostinst = (h: string) => writeFileSync(join(hostDir(h), 'opt', 'fail-postinst'), '');

/** Host `h`'s maintenance marker (runbooks/libvirt.yaml: `hvroll:<campaign>:<group>` while out of the pool), or undefined. */
export function markerOf(h: string): string | undefined {
  try {
    return readFileSync(join(hostDir(h), 'hvroll', 'maintenance'), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** A gate of the lab (test/fleet/hold.sh): while it is closed, `what` (migrate | postinst) waits on host `h`. */
export const holdOn = (h: string, what: 'migrate' | 'postinst') => writeFileSync(join(hostDir(h), 'opt', `hold-${what}`), '');
export const letGo = (h: string, what: 'migrate' | 'postinst') => rmSync(join(hostDir(h), 'opt', `hold-${what}`), { force: true });
export const isHeld = (h: string, what: 'migrate' | 'postinst') => existsSync(join(hostDir(h), 'opt', `held-${what}`));

export const bootId = (h: string) => readFileSync(join(hostDir(h), 'boot_id'), 'utf8').trim();
export const reboots = (h: string) => readFileSync(join(hostDir(h), 'log', 'reboot.log'), 'utf8').split('\n').filter((l) => l.includes(': rebooting')).length;

/** Inventory + plan for the lab, made by `hvroll plan` with the production runbook. */
export interface PlanOptions {
  approval?: boolean;
  oneMigrationAtATime?: boolean;
  /** rules.failureBudget: groups that may fail before the campaign stops (default 0). */
  failureBudget?: number;
  /** hv-3 (empty, upgraded first) is declared with room for all four VMs: hv-1's and hv-2's groups both send theirs there and wait for hv-3's group alone. */
  roomySpare?: boolean;
}

export async function makePlan(dir: string, opts: PlanOptions = {}): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const capacity = (h: string) => (opts.roomySpare && h === 'hv-3' ? { vcpus: 8, memoryMiB: 256 } : { vcpus: 4, memoryMiB: 128 });
  const inventory = {
    hosts: HOSTS.map((h) => ({ name: h, address: address(h), ssh: { user: 'root' }, labels: { rack: 'lab' }, capacity: capacity(h) })),
    vms: [...LAYOUT].map(([vm, h]) => ({ name: vm, host: h, vcpus: 1, memoryMiB: VM_MIB, labels: { tier: 'web' } })),
    // approval: every group holding VMs waits for `hvroll approve` before it is drained (the empty spare does
    // not): the failure tests break a target at that point, after it was itself upgraded, before VMs move onto it.
    rules: {
      ...(opts.failureBudget === undefined ? {} : { failureBudget: opts.failureBudget }),
      concurrency: { groups: 1, migrations: opts.oneMigrationAtATime ? 1 : 2, migrationsPerHost: opts.oneMigrationAtATime ? 1 : 2 },
      ...(opts.approval ? { sensitivity: [{ class: 'gated', match: { tier: 'web' }, order: 'normal', approval: true }] } : {}),
    },
  };
  writeFileSync(join(dir, 'inventory.yaml'), stringify(inventory));
  const plan = join(dir, 'plan.json');
  const r = await hvroll(['plan', join(dir, 'inventory.yaml'), '--runbook', 'runbooks/libvirt.yaml', '--out', plan, '--json']);
  if (r.code !== 0) throw new Error(`hvroll plan exited ${r.code}: ${r.stderr}`);
  return plan;
}

/**
 * A command typed by an operator on host `h` over SSH from the controller's side of the lab (OpenSSH client,
 * the controller's key, the lab's known_hosts, no prompts): what "the same command by hand" means on a fleet.
 */
export async function sshToHost(h: string, argv: string[], timeoutMs = 120_000): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  const remote = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  try {
    const { stdout, stderr } = await run('ip', [
      'netns', 'exec', LAB_NS, 'ssh', '-i', join(LAB_DIR, 'keys', 'controller'), '-o', `UserKnownHostsFile=${join(LAB_DIR, 'known_hosts')}`,
      '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', `root@${address(h)}`, remote,
    ], { timeout: timeoutMs });
    return { code: 0, stdout, stderr, ms: Date.now() - started };
  } catch (e) {
    const x = e as { code?: number | string; stdout?: string; stderr?: string };
    if (typeof x.code !== 'number') throw e;
    return { code: x.code, stdout: x.stdout ?? '', stderr: x.stderr ?? '', ms: Date.now() - started };
  }
}

export const sshFlags = () => ['--known-hosts', join(LAB_DIR, 'known_hosts'), '--identity', join(LAB_DIR, 'keys', 'controller'), '--no-progress'];
export const runArgs = (plan: string, state: string, campaign: string) => [
  'run', '--plan', plan, '--set', `version=${VERSION_TO}`, '--set', `package=${PACKAGE}`, '--state', state, '--campaign', campaign, ...sshFlags(),
];

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * What a test started and must not outlive it: hvroll children and watchers. A test that throws half-way
 * (a host command failing) would otherwise leave them running, and a live child or timer keeps the ava worker
 * from ever exiting — the suite then hangs until CI's limit instead of failing.
 */
const children = new Set<ChildProcess>();
const watchers = new Set<Watcher>();

/** Kill every hvroll child still running and stop every watcher (test.after.always, and each test's teardown). */
export async function stopEverything(): Promise<void> {
  for (const c of children) c.kill('SIGKILL');
  await Promise.all([...watchers].map((w) => w.stop()));
}

/** hvroll as a child process in the lab namespace (the controller's side of the lab network). */
export function hvrollChild(args: string[]): ChildProcess {
  const child = spawn('ip', ['netns', 'exec', LAB_NS, process.execPath, '--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: REPO,
    env: { ...process.env, NO_COLOR: '1', HVROLL_OPERATOR: 'e2e' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

/** Everything `child` printed so far (stdout and stderr), for a test that watches a run as it goes. */
export function outputOf(child: ChildProcess): () => string {
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  return () => text;
}

/** Polls `holds` until it is true; throws, saying `what`, when `child` exits first or `timeoutMs` passes. */
export async function waitUntil(what: string, holds: () => boolean | Promise<boolean>, child?: ChildProcess, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await holds())) {
    if (child && child.exitCode !== null) throw new Error(`waiting for ${what}: hvroll exited ${child.exitCode} first`);
    if (Date.now() > deadline) throw new Error(`waiting for ${what}: not seen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Host `h` refuses SSH logins with the lab's host-to-host key (the one `virsh migrate --p2p` uses from the
 * source's libvirtd); the controller's key still works. Returns the undo.
 */
export function refuseHostToHost(h: string): () => void {
  const file = join(hostDir(h), 'ssh', 'authorized_keys');
  const keys = readFileSync(file, 'utf8');
  writeFileSync(file, keys.split('\n').filter((k) => !k.endsWith(' hvroll-lab-hosts')).join('\n'));
  return () => writeFileSync(file, keys);
}

export function hvroll(args: string[], timeoutMs = 600_000, child = hvrollChild(args)): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolvePromise, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hvroll ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stderr.slice(-4000)}`));
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

export async function journal(state: string, campaign: string): Promise<JournalEntry[]> {
  const store = await CampaignStore.open(campaignDir(state, campaign), { readOnly: true, acceptTornTail: true });
  try {
    return await store.journal();
  } finally {
    await store.close();
  }
}

/**
 * A memory cgroup (v1 controller, or v2 where the memory controller can be delegated) under this process's own
 * cgroup, with a hard limit: a process moved into it can allocate at most `limitBytes` more before the kernel's
 * OOM killer ends it. Undefined when the machine offers no writable memory cgroup.
 */
export function memoryCgroupRoot(): { dir: string; limitFile: string; v: 1 | 2 } | undefined {
  try {
    const lines = readFileSync('/proc/self/cgroup', 'utf8').split('\n');
    const v1 = lines.map((l) => /^\d+:([^:]*\bmemory\b[^:]*):(.*)$/.exec(l)).find(Boolean);
    if (v1 && existsSync('/sys/fs/cgroup/memory')) return { dir: join('/sys/fs/cgroup/memory', v1[2]!), limitFile: 'memory.limit_in_bytes', v: 1 };
    const v2 = lines.map((l) => /^0::(.*)$/.exec(l)).find(Boolean);
    const root = existsSync('/sys/fs/cgroup/unified/cgroup.controllers') ? '/sys/fs/cgroup/unified' : '/sys/fs/cgroup';
    if (v2 && readFileSync(join(root, v2[1]!, 'cgroup.subtree_control'), 'utf8').includes('memory')) return { dir: join(root, v2[1]!), limitFile: 'memory.max', v: 2 };
  } catch {
    return undefined;
  }
  return undefined;
}

/** Can this machine run the out-of-memory test? Creates and removes a probe cgroup. */
export function memoryCgroupWorks(): boolean {
  const root = memoryCgroupRoot();
  if (!root) return false;
  const probe = join(root.dir, `hvlab-probe-${process.pid}`);
  try {
    mkdirSync(probe);
    writeFileSync(join(probe, root.limitFile), String(1 << 20));
    return true;
  } catch {
    return false;
  } finally {
    try {
      rmdirSync(probe);
    } catch {
      /* not created */
    }
  }
}

/**
 * Host `h` runs out of memory for new guests: every QEMU its libvirtd starts from now on (an incoming migration
 * starts one) is moved, as soon as its pid file appears, into a memory cgroup that lets it allocate `limitBytes`
 * more; receiving the guest's memory then exceeds that and the kernel OOM-kills it. Returns the undo.
 */
export function starveHost(h: string, limitBytes: number): { oomKills: () => number; moved: number[]; undo: () => void } {
  const root = memoryCgroupRoot();
  if (!root) throw new Error('no writable memory cgroup on this machine');
  const cg = join(root.dir, `hvlab-oom-${h}-${process.pid}`);
  mkdirSync(cg);
  writeFileSync(join(LAB_DIR, 'cgroups'), `${cg}\n`, { flag: 'a' }); // teardown.sh removes it if the test dies
  writeFileSync(join(cg, root.limitFile), String(limitBytes));
  try {
    // no swapping around the limit either (where swap accounting exists)
    writeFileSync(join(cg, root.v === 1 ? 'memory.memsw.limit_in_bytes' : 'memory.swap.max'), root.v === 1 ? String(limitBytes) : '0');
  } catch {
    /* no swap accounting */
  }
  const qdir = join(hostDir(h), 'run-libvirt', 'qemu');
  const known = new Set(existsSync(qdir) ? readdirSync(qdir).filter((f) => f.endsWith('.pid')).map((f) => readFileSync(join(qdir, f), 'utf8').trim()) : []);
  const moved: number[] = [];
  const timer = setInterval(() => {
    let files: string[];
    try {
      files = readdirSync(qdir).filter((f) => f.endsWith('.pid'));
    } catch {
      return;
    }
    for (const f of files) {
      let pid: string;
      try {
        pid = readFileSync(join(qdir, f), 'utf8').trim();
      } catch {
        continue;
      }
      if (!pid || known.has(pid)) continue;
      known.add(pid);
      try {
        writeFileSync(join(cg, 'cgroup.procs'), pid);
        moved.push(Number(pid));
      } catch {
        /* gone already */
      }
    }
  }, 5);
  const oomKills = () => {
    const file = root.v === 1 ? 'memory.oom_control' : 'memory.events';
    const m = /oom_kill (\d+)/.exec(readFileSync(join(cg, file), 'utf8'));
    return m ? Number(m[1]) : 0;
  };
  return {
    oomKills,
    moved,
    undo: () => {
      clearInterval(timer);
      const parent = join(root.dir, 'cgroup.procs');
      for (const p of readFileSync(join(cg, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) writeFileSync(parent, p);
      rmdirSync(cg);
    },
  };
}

/** Command lines of processes running on the machine (all namespaces share the PID namespace). */
export function processes(): string[] {
  return execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' }).split('\n');
}

/** `virsh list --name` per state, and the state a domain listed there is in. */
const LISTED_STATES = [
  ['running', 'running'],
  ['paused', 'paused'],
  ['shutoff', 'shut off'],
  ['other', 'other'], // crashed, in shutdown, pmsuspended, …
] as const;
const END_OF_STATE = 'hvlab:end-of-state';

/**
 * Host `h`'s domains by exact name, each `running`, `paused`, `shut off` or `other`; undefined when libvirtd does
 * not answer. `virsh list --all`'s table cannot tell `vm-2 ` from `vm-2` (it pads names with blanks), so this
 * reads `virsh list --name` once per state, in one virsh process (commands separated by `;`). A domain that
 * changes state between two of those lists keeps the first state it was seen in.
 */
export async function listDomains(h: string): Promise<Map<string, string> | undefined> {
  const script = LISTED_STATES.map(([s]) => `list --name --state-${s}; echo ${END_OF_STATE}`).join('; ');
  const r = await onHost(h, ['virsh', script], 10_000).catch(() => undefined);
  if (!r || r.code !== 0) return undefined;
  const listed = new Map<string, string>();
  const sections = r.stdout.split(`${END_OF_STATE}\n`);
  LISTED_STATES.forEach(([, state], i) => {
    for (const vm of names(sections[i] ?? '')) if (!listed.has(vm)) listed.set(vm, state);
  });
  return listed;
}

/**
 * Samples every host's libvirtd every ~300 ms while a campaign runs, and records any VM seen shut off or
 * crashed, and any sample where a VM is missing from every host.
 */
export class Watcher {
  readonly problems: string[] = [];
  samples = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;
  start(): this {
    watchers.add(this);
    this.loop = (async () => {
      while (!this.stopped) {
        const seen = new Map<string, string[]>();
        for (const h of HOSTS) {
          const listed = await listDomains(h);
          if (!listed) continue; // libvirtd restarting ("reboot")
          for (const [vm, state] of listed) seen.set(vm, [...(seen.get(vm) ?? []), `${h}:${state}`]);
        }
        this.samples++;
        // A copy seen shut off or crashed is an outage unless another host holds a live QEMU for the VM in the
        // same sample: the source's definition in the last instant of a migration. Hosts are read one after
        // another, so a target read just before its resume still shows the incoming copy paused.
        for (const [vm, where] of seen) if (where.some((w) => /:(shut off|other)$/.test(w)) && !where.some((w) => /:(running|paused)/.test(w))) this.problems.push(`${vm}: ${where.join(', ')}`);
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    return this;
  }
  async stop(): Promise<void> {
    this.stopped = true;
    watchers.delete(this);
    await this.loop;
  }
}
