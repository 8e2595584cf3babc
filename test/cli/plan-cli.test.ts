// `hvroll plan` end to end, as an operator or a script runs it: a child process, its output and exit code.

import test from 'ava';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PlanFile } from '../../src/model/plan.ts';
import { readPlanFile } from '../../src/plan-file/plan-file.ts';
import { STACK_FRAME, hvrollCli } from '../helpers/cli.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

const hvroll = hvrollCli;

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hvroll-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Stack frames look like `    at fn (file:line:col)`. */

test('plan on the example inventory: exit 0 and a summary', async (t) => {
  const r = await hvroll(['plan']);
  t.is(r.code, 0, r.stderr);
  for (const label of ['Hosts', 'VMs', 'Groups', 'Waves', 'Migrations', 'lower bound', 'Est. duration', 'Runnable']) t.true(r.stdout.includes(label), label);
  t.regex(r.stdout, /Hosts\s+12\b/);
  t.regex(r.stdout, /Runnable\s+yes/);
  t.regex(r.stdout, /Moved > once\s+none/);
  t.false(r.stdout.includes('\u001b['), 'no colour when stdout is not a terminal');
});

test('--json: only JSON on stdout, groups in campaign order with their moves', async (t) => {
  const r = await hvroll(['plan', 'inventory/example.yaml', '--json']);
  t.is(r.code, 0, r.stderr);
  const plan = JSON.parse(r.stdout) as PlanFile;
  t.is(plan.schemaVersion, 2);
  t.regex(plan.fingerprint, /^sha256:[0-9a-f]{64}$/);
  t.deepEqual(plan.groups.map((g) => g.index), plan.groups.map((_, i) => i));
  const tiers = plan.groups.map((g) => g.tier);
  t.is(tiers[0], 'spare', 'the empty host goes first');
  t.is(tiers[tiers.length - 1], 'last', 'databases go last');
  t.true(plan.groups.every((g) => g.reason.length > 0));
  const moves = plan.groups.flatMap((g) => g.moves);
  t.is(moves.length, plan.summary.migrations);
  t.true(moves.length > 0);
  for (const m of moves) {
    t.truthy(m.vm);
    t.not(m.from, m.to);
  }
  // Waves list groups in the same order.
  t.deepEqual(plan.waves.flatMap((w) => w.groups), plan.groups.map((g) => g.name));
});

test('--out writes a plan file whose fingerprint follows the inventory', async (t) => {
  const dir = await tempDir(t);
  const inventory = join(dir, 'fleet.yaml');
  const text = await readFile(join(root, 'inventory/example.yaml'), 'utf8');
  await writeFile(inventory, text);
  const out = join(dir, 'plan.json');

  const first = await hvroll(['plan', inventory, '--out', out]);
  t.is(first.code, 0, first.stderr);
  t.true(first.stdout.includes(`Plan written to ${out}`));
  const a = await readPlanFile(out);
  t.regex(a.fingerprint, /^sha256:[0-9a-f]{64}$/);
  t.deepEqual(a.inputs, { inventory: [inventory], ansible: null, runbook: null });

  // Same inputs, same fingerprint (the time it was made does not count).
  t.is((await hvroll(['plan', inventory, '--out', out])).code, 0);
  t.is((await readPlanFile(out)).fingerprint, a.fingerprint);

  // A VM grows: another fingerprint.
  await writeFile(inventory, text.replace('name: etl-01, host: hv-r1-02, vcpus: 8, memoryMiB: 32768', 'name: etl-01, host: hv-r1-02, vcpus: 8, memoryMiB: 36864'));
  t.is((await hvroll(['plan', inventory, '--out', out])).code, 0);
  t.not((await readPlanFile(out)).fingerprint, a.fingerprint);

  // Planning options count too.
  t.is((await hvroll(['plan', inventory, '--out', out, '--bandwidth', '500'])).code, 0);
  const slower = await readPlanFile(out);
  t.not(slower.fingerprint, a.fingerprint);
  t.is(slower.settings.estimates.migrationBandwidthMiBps, 500);
});

test('a broken inventory: exit 2, names the file, the place and the fix, no stack trace', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'broken.yaml');
  await writeFile(
    file,
    [
      'hosts:',
      '  - { name: hv-01, address: 10.0.0.1, capacity: { vcpus: 32, memoryMiB: 65536 } }',
      'vms:',
      '  - { name: web-1, host: hv-02, vcpus: 2, memoryMiB: 4096 }',
      '',
    ].join('\n'),
  );
  const r = await hvroll(['plan', file]);
  t.is(r.code, 2);
  t.is(r.stdout, '', 'nothing is planned');
  t.true(r.stderr.includes(file), r.stderr);
  t.true(r.stderr.includes('vms[0].host'), r.stderr);
  t.regex(r.stderr, /fix: /);
  t.notRegex(r.stderr, STACK_FRAME);
});

test('a missing inventory file and a bad option value are exit 2 without a stack trace', async (t) => {
  const missing = await hvroll(['plan', 'no/such/inventory.yaml']);
  t.is(missing.code, 2);
  t.true(missing.stderr.includes('no/such/inventory.yaml'));
  t.notRegex(missing.stderr, STACK_FRAME);

  const badOption = await hvroll(['plan', '--strategy', 'fastest']);
  t.is(badOption.code, 2);
  t.true(badOption.stderr.includes('--strategy'));
  t.notRegex(badOption.stderr, STACK_FRAME);

  const unknownCommand = await hvroll(['plna']);
  t.is(unknownCommand.code, 2);
});

test('an infeasible fleet: exit 3, the plan is still shown with the problem first', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'full.yaml');
  // Two hosts, each three-quarters full: neither can take the other's VM.
  await writeFile(
    file,
    [
      'hosts:',
      '  - { name: hv-01, address: 10.0.0.1, capacity: { vcpus: 32, memoryMiB: 65536 } }',
      '  - { name: hv-02, address: 10.0.0.2, capacity: { vcpus: 32, memoryMiB: 65536 } }',
      'vms:',
      '  - { name: big-1, host: hv-01, vcpus: 4, memoryMiB: 49152 }',
      '  - { name: big-2, host: hv-02, vcpus: 4, memoryMiB: 49152 }',
      '',
    ].join('\n'),
  );
  const out = join(dir, 'plan.json');
  const r = await hvroll(['plan', file, '--out', out]);
  t.is(r.code, 3, r.stderr);
  const problems = r.stdout.indexOf('Problems');
  t.true(problems >= 0 && problems < r.stdout.indexOf('Summary'), 'problems come before the summary');
  t.true(r.stdout.includes('big-1'));
  t.regex(r.stdout, /fix: /);
  t.regex(r.stdout, /Runnable\s+NO/);
  t.regex(r.stderr, /cannot run/);
  t.notRegex(r.stderr, STACK_FRAME);
  // Written anyway, so it can be reviewed; `run` will refuse it (summary.runnable false).
  const written = await readPlanFile(out);
  t.false(written.summary.runnable);
  t.true(written.problems.some((p) => p.vm === 'big-1'));

  const json = await hvroll(['plan', file, '--json']);
  t.is(json.code, 3);
  t.false((JSON.parse(json.stdout) as PlanFile).summary.runnable);
});

test('--ansible: the Ansible host list with the example workloads plans like the example', async (t) => {
  const a = await hvroll(['plan', '--ansible', 'inventory/ansible-example.yml', 'inventory/ansible-example-workloads.yaml', '--json']);
  const b = await hvroll(['plan', 'inventory/example.yaml', '--json']);
  t.is(a.code, 0, a.stderr);
  t.is(b.code, 0, b.stderr);
  const pa = JSON.parse(a.stdout) as PlanFile;
  const pb = JSON.parse(b.stdout) as PlanFile;
  t.is(pa.inputs.ansible, 'inventory/ansible-example.yml');
  t.deepEqual(pa.summary, pb.summary);
  t.deepEqual(
    pa.groups.map((g) => [g.name, g.hosts, g.moves.map((m) => `${m.vm}>${m.to}`)]),
    pb.groups.map((g) => [g.name, g.hosts, g.moves.map((m) => `${m.vm}>${m.to}`)]),
  );
});

test('--strategy naive plans the example too', async (t) => {
  const r = await hvroll(['plan', '--strategy', 'naive', '--json']);
  t.is(r.code, 0, r.stderr);
  const plan = JSON.parse(r.stdout) as PlanFile;
  t.is(plan.settings.strategy, 'naive');
  t.true(plan.summary.migrations >= plan.summary.migrationsLowerBound);
});

test('an --out path that cannot be written: exit 2 with a fix, no stack trace', async (t) => {
  // A directory cannot be replaced by the plan file: an operator mistake.
  const dir = await tempDir(t);
  const r = await hvroll(['plan', '--out', dir]);
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, /cannot write the plan/);
  t.notRegex(r.stderr, STACK_FRAME);
});
