// Fault matrix 10: hostile names — in the inventory, and as they would come back from a host — are either
// refused by validation or travel as exactly one quoted argument through a real POSIX shell. A canary file
// that every payload tries to create never appears, and a log line stays one JSON line that round-trips.
// Names a host reports come back exactly (no trimming, no normalising): one that differs from every planned
// name in any character is unknown and stops its group, and it prints escaped, never like the planned one.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { quoteArgv } from '../../src/drivers/ssh/quote.ts';
import { runCampaign } from '../../src/engine/campaign-runner.ts';
import { compareWithPlan, parseDiscovery } from '../../src/engine/discovery.ts';
import { mulberry32 } from '../../src/fleet/random.ts';
import { parseInventory } from '../../src/inventory/parse.ts';
import { createLogger } from '../../src/log/logger.ts';
import { HvrollError } from '../../src/model/errors.ts';
import { showName } from '../../src/model/show-name.ts';
import { rig } from '../drivers/ssh/fixture.ts';
import { startRig } from '../engine/campaign-fixture.ts';
import { HypervisorModel } from '../helpers/ssh-hypervisor.ts';
import { VM2_LOOKALIKES } from '../helpers/lookalike-names.ts';

const canaryDir = mkdtempSync(join(tmpdir(), 'hvroll-canary-'));
const canary = join(canaryDir, 'pwned');

const FRAGMENTS = [
  `; touch ${canary}`,
  `$(touch ${canary})`,
  `\`touch ${canary}\``,
  `'; touch ${canary}; '`,
  `"; touch ${canary}; "`,
  `| touch ${canary}`,
  `&& touch ${canary}`,
  `\ntouch ${canary}\n`,
  `$(IFS=_;cmd=touch_${canary};$cmd)`,
  '; rm -rf /',
  '--help',
  '-rf',
  ' ',
  '\t',
  '*',
  '?',
  '~',
  '$HOME',
  '${PATH}',
  '\\',
  "'",
  '"',
  '\0',
  'é',
  '名',
  '\u202e',
  'vm-01',
  '>',
  '<',
  '#',
  '!',
  '%s',
  '\r',
];

/** ≥ 10,000 names: every fragment alone, then seeded random concatenations of 2–4 fragments and plain words. */
function corpus(): string[] {
  const r = mulberry32(7);
  const out = new Set<string>(FRAGMENTS);
  while (out.size < 10_500) {
    const parts = 2 + Math.floor(r() * 3);
    let s = '';
    for (let i = 0; i < parts; i++) s += r() < 0.3 ? `w${Math.floor(r() * 100)}` : FRAGMENTS[Math.floor(r() * FRAGMENTS.length)]!;
    out.add(s);
  }
  return [...out];
}

const names = corpus();

test('every hostile VM name is refused by inventory validation, with the place and a fix', (t) => {
  let refused = 0;
  let accepted = 0;
  for (const name of names) {
    const doc = JSON.stringify({ hosts: [{ name: 'hv-1', address: '10.0.0.1', capacity: { vcpus: 8, memoryMiB: 8192 } }], vms: [{ name, host: 'hv-1', vcpus: 1, memoryMiB: 512 }] });
    const r = parseInventory([{ file: 'inv.json', text: doc }]);
    if (r.ok) {
      accepted++;
      t.regex(name, /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/, `accepted name ${JSON.stringify(name)} must be plain`);
    } else {
      refused++;
      const issue = r.error.find((i) => i.path === 'vms[0].name');
      t.truthy(issue, `no issue on vms[0].name for ${JSON.stringify(name)}`);
      t.truthy(issue?.fix);
    }
  }
  t.true(names.length >= 10_000);
  t.log(`${names.length} names: ${refused} refused, ${accepted} accepted (plain ones)`);
});

test('as remote arguments (e.g. names reported by a host), each travels through /bin/sh as exactly one argument', (t) => {
  let nul = 0;
  const plain: string[] = [];
  for (const name of names) {
    try {
      quoteArgv([name]);
      plain.push(name);
    } catch (e) {
      t.true(e instanceof HvrollError);
      nul++;
    }
  }
  // Batches of 400 arguments per shell: `printf '%s\0' <quoted...>` prints each argument NUL-terminated.
  for (let i = 0; i < plain.length; i += 400) {
    const batch = plain.slice(i, i + 400);
    const out = execFileSync('/bin/sh', ['-c', quoteArgv(['printf', '%s\\0', ...batch])], { maxBuffer: 64 << 20 });
    const back = out.toString('utf8').split('\0').slice(0, -1);
    t.deepEqual(back, batch);
  }
  t.false(existsSync(canary), 'the canary file was never created');
  t.log(`${plain.length} names round-tripped through /bin/sh; ${nul} with NUL refused before any command`);
});

test('a hostile name in a log line stays one JSON line and round-trips', (t) => {
  let text = '';
  const sink = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  const log = createLogger({ destination: sink as never });
  for (const name of names.slice(0, 2000)) log.info({ vm: name }, 'migrating');
  const lines = text.split('\n').filter(Boolean);
  t.is(lines.length, 2000);
  lines.forEach((line, i) => t.is((JSON.parse(line) as { vm: string }).vm, names[i] ?? ''));
});

test('every hostile name prints as one line of printable ASCII, and no two names print the same', (t) => {
  const all = new Set([...names, ...VM2_LOOKALIKES, 'vm-2', 'vm-\u00e9', 'vm-e\u0301', 'vm-\u0430', 'vm-a']);
  const printed = new Map<string, string>();
  for (const name of all) {
    const out = showName(name);
    t.regex(out, /^[\x20-\x7e]+$/);
    if (printed.has(out)) t.fail(`${JSON.stringify(name)} and ${JSON.stringify(printed.get(out))} both print as ${out}`);
    printed.set(out, name);
  }
  t.is(printed.size, all.size);
});

test('names a host lists over SSH come back exactly, and every one but the planned name is unknown to the plan', async (t) => {
  // libvirt refuses a newline in a domain name; NUL cannot be in one either.
  const domains = [...new Set([...names, ...VM2_LOOKALIKES, 'vm-2'])].filter((n) => n !== '' && !n.includes('\n') && !n.includes('\0'));
  const model = new HypervisorModel().addHost('hv1');
  for (const name of domains) model.addVm({ name, host: 'hv1', vcpus: 1, memoryMiB: 64 });
  const { fleet, exec } = await rig(t, { hosts: ['hv1'], model });
  const listed = await exec.run(fleet.hostRef('hv1'), { argv: ['virsh', 'list', '--all', '--name'], timeoutMs: 10_000 });
  t.false(listed.stdoutTruncated);
  const found = parseDiscovery({ command: { argv: [], on: 'host' }, format: 'lines', field: 'name', timeoutSeconds: 10 }, listed.stdout, 'hv1');
  t.deepEqual([...found].sort(), [...domains].sort());
  t.deepEqual(compareWithPlan(found, new Set(['vm-2'])).unknown.sort(), domains.filter((n) => n !== 'vm-2').sort());
  t.log(`${domains.length} domain names listed over SSH, all back exactly`);
});

test('domains "vm-2 " and " vm-3" beside the planned vm-2 and vm-3 stop their group: nothing migrated, upgraded or rebooted, both guests alive', async (t) => {
  const r = await startRig({ hosts: 3, vmsPerHost: 2 });
  t.teardown(() => r.close());
  const model = r.fleet.model;
  t.deepEqual(model.vmsOn('hv-2').map((v) => v.name), ['vm-2', 'vm-3']);
  model.addVm({ name: 'vm-2 ', host: 'hv-2', vcpus: 1, memoryMiB: 256 });
  model.addVm({ name: ' vm-3', host: 'hv-2', vcpus: 1, memoryMiB: 256 });
  const outcome = await runCampaign(r.deps, { controlPollMs: 50 });
  t.true(outcome.failed.includes('hv-2'), `hv-2 failed (${JSON.stringify(outcome)})`);
  t.false(model.migrations.some((m) => m.from === 'hv-2'), 'nothing left hv-2');
  t.is(r.hosts.host('hv-2').upgrades, 0);
  t.is(r.hosts.host('hv-2').reboots, 0);
  t.deepEqual(model.harmed, [], 'no guest killed');
  for (const name of ['vm-2 ', ' vm-3']) t.is(model.vms.get(name)?.state, 'running');
  t.false(r.hosts.host('hv-2').marker, 'hv-2 back in the pool');
  const snap = r.deps.store.groupSnapshot('hv-2')!.snapshot as { context: { error: { message: string; details: { unknown: string[] } } } };
  t.regex(snap.context.error.message, /the plan does not know: " vm-3" \(looks like vm-3, but is another VM\), "vm-2 " \(looks like vm-2, but is another VM\)|the plan does not know: "vm-2 " \(looks like vm-2, but is another VM\), " vm-3" \(looks like vm-3, but is another VM\)/);
  t.deepEqual([...snap.context.error.details.unknown].sort(), [' vm-3', 'vm-2 ']);
});

test('every look-alike of a planned VM (other blanks, zero-width, bidi, NFD, case, Cyrillic, fullwidth) stops the group, named exactly', async (t) => {
  const r = await startRig({ hosts: 3, vmsPerHost: 2 });
  t.teardown(() => r.close());
  const model = r.fleet.model;
  for (const name of VM2_LOOKALIKES) model.addVm({ name, host: 'hv-2', vcpus: 1, memoryMiB: 64 });
  const outcome = await runCampaign(r.deps, { controlPollMs: 50 });
  t.true(outcome.failed.includes('hv-2'));
  t.false(model.migrations.some((m) => m.from === 'hv-2'));
  t.is(r.hosts.host('hv-2').reboots, 0);
  t.deepEqual(model.harmed, []);
  const error = (r.deps.store.groupSnapshot('hv-2')!.snapshot as { context: { error: { message: string; details: { unknown: string[] } } } }).context.error;
  t.deepEqual([...error.details.unknown].sort(), [...VM2_LOOKALIKES].sort());
  t.regex(error.message, /^[\x20-\x7e]+$/, 'the message is one line of printable ASCII: nothing in it hides or reorders text');
  t.regex(error.message, / and \d+ more\./);
});
