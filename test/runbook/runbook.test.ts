import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/model/errors.ts';
import { unmet } from '../../src/runbook/expect.ts';
import { loadRunbook } from '../../src/runbook/load.ts';
import { parseRunbook } from '../../src/runbook/parse.ts';
import { placeholders, render } from '../../src/runbook/template.ts';

for (const platform of ['libvirt', 'openstack', 'proxmox']) {
  test(`the shipped ${platform} runbook loads, and every step that changes a host has a check`, async (t) => {
    const rb = await loadRunbook(`runbooks/${platform}.yaml`);
    t.is(rb.platform, platform);
    t.true(rb.required.includes('version'));
    for (const name of ['disable', 'migrate', 'upgrade', 'enable'] as const) {
      const step = rb.steps[name]!;
      t.true(step.run.length > 0, name);
      t.true(step.check.length > 0, name);
    }
    t.true(rb.steps.verify!.confirm.length > 0);
  });
}

test('libvirt migrate is virsh migrate --live --p2p --persistent --undefinesource over qemu+ssh, on the source', async (t) => {
  const rb = await loadRunbook('runbooks/libvirt.yaml');
  const run = rb.steps.migrate!.run[0]!;
  t.is(run.on, 'source');
  const argv = render(run.argv, { vm: "x'; touch /tmp/pwned; '", 'target.address': '10.0.0.2' }, 'test');
  t.deepEqual(argv, ['virsh', 'migrate', '--live', '--p2p', '--persistent', '--undefinesource', '--verbose', "x'; touch /tmp/pwned; '", 'qemu+ssh://10.0.0.2/system']);
});

test('a placeholder always becomes exactly one argument, and ${...} formats of remote tools are left alone', (t) => {
  t.deepEqual(render(['a', '{vm}', '-f=${Version}'], { vm: 'two words; rm -rf /' }, 'x'), ['a', 'two words; rm -rf /', '-f=${Version}']);
  t.deepEqual(placeholders(['{a}', 'x{b.c}y', '${Version}']), ['a', 'b.c']);
  t.throws(() => render(['{missing}'], {}, 'steps.migrate'), { message: /placeholder \{missing\} has no value/ });
  t.throws(() => render(['{v}'], { v: 'a\0b' }, 'x'), { message: /NUL/ });
});

test('expectations: exit code, exact output, contains, lacks, matches — with placeholders', (t) => {
  t.is(unmet({ exitCode: 0, stdout: '{version}' }, { exitCode: 0, stdout: '1.2\n' }, { version: '1.2' }, 'x'), null);
  t.regex(unmet({ exitCode: 0 }, { exitCode: 1, stdout: '' }, {}, 'x')!, /exit code 1, expected 0/);
  t.regex(unmet({ stdout: '{version}' }, { exitCode: 0, stdout: '1.1' }, { version: '1.2' }, 'x')!, /expected "1.2"/);
  t.is(unmet({ stdoutContains: 'running' }, { exitCode: 0, stdout: 'running' }, {}, 'x'), null);
  t.truthy(unmet({ stdoutLacks: 'maintenance' }, { exitCode: 0, stdout: 'lrm a (maintenance mode)' }, {}, 'x'));
  t.is(unmet({ stdoutMatches: 'Quorate:\\s+Yes' }, { exitCode: 0, stdout: 'x\nQuorate:   Yes\n' }, {}, 'x'), null);
});

test('an unmet expectation on the output says what the host printed, not only what was wanted', (t) => {
  const daemon = { exitCode: 0, stdout: 'Using library: libvirt 9.0.0\nRunning against daemon: 1.0\n' };
  t.is(
    unmet({ stdoutMatches: '^Running against daemon: {v}$' }, daemon, { v: '1.1' }, 'x'),
    'output does not match /^Running against daemon: 1\\.1$/; it printed "Using library: libvirt 9.0.0\\nRunning against daemon: 1.0"',
  );
  t.is(unmet({ stdoutContains: 'running' }, { exitCode: 0, stdout: 'shut off\n' }, {}, 'x'), 'output lacks "running"; it printed "shut off"');
  t.is(unmet({ stdoutLacks: 'maintenance' }, { exitCode: 0, stdout: 'lrm a (maintenance mode)' }, {}, 'x'), 'output contains "maintenance"; it printed "lrm a (maintenance mode)"');
  t.is(unmet({ stdoutContains: 'x' }, { exitCode: 0, stdout: 'y'.repeat(500) }, {}, 'x'), `output lacks "x"; it printed "${'y'.repeat(200)}"`);
});

test('runbook mistakes are reported with file, path, line and a fix', (t) => {
  const bad = `platform: x
discover: { run: [virsh, list] }
steps:
  migrate:
    run: [[virsh, migrate, "{vm}", "{nope}"]]
  upgrade:
    check: [{ run: [true] }]
    run: [[apt-get, install]]
    timeoutSeconds: -3
`;
  const r = parseRunbook('rb.yaml', bad);
  t.false(r.ok);
  if (r.ok) return;
  const timeout = r.error.find((i) => i.path === 'steps.upgrade.timeoutSeconds')!;
  t.is(timeout.line, 9);
  t.truthy(timeout.fix);
  const fixed = parseRunbook('rb.yaml', bad.replace('-3', '30'));
  t.false(fixed.ok);
  if (fixed.ok) return;
  t.true(fixed.error.some((i) => i.path === 'steps.migrate' && /unknown placeholder \{nope\}/.test(i.message)));
  t.true(fixed.error.some((i) => i.path === 'steps.migrate' && /has no check/.test(i.message)));
});

test('a YAML syntax error names the line; a missing file says which runbooks exist', async (t) => {
  const r = parseRunbook('rb.yaml', 'platform: x\nsteps: [\n');
  t.false(r.ok);
  if (!r.ok) t.truthy(r.error[0]!.line);
  const dir = mkdtempSync(join(tmpdir(), 'hvroll-rb-'));
  const e = await t.throwsAsync(loadRunbook(join(dir, 'missing.yaml')));
  t.true(e instanceof InputError);
  t.regex((e as InputError).issues[0]!.fix, /runbooks\/libvirt.yaml/);
  writeFileSync(join(dir, 'bad.yaml'), 'platform: [');
  await t.throwsAsync(loadRunbook(join(dir, 'bad.yaml')), { instanceOf: InputError });
});

test('missing keys, wrong types and an inventory passed as a runbook are said in the runbook\'s words', (t) => {
  const r = parseRunbook('rb.yaml', 'platform: libvirt\nsteps:\n  migrate:\n    check: [{ name: x }]\n    run: 5\n');
  t.false(r.ok);
  if (r.ok) return;
  const byPath = (p: string) => r.error.find((i) => i.path === p)!;
  t.is(byPath('discover').message, 'discover is missing');
  t.regex(byPath('discover').fix, /add `discover: \{ run: \[virsh, list, --all, --name\] \}`/);
  t.is(byPath('steps.migrate.check[0].run').message, 'run is missing');
  t.is(byPath('steps.migrate.run').message, 'run must be a list, not number 5');
  t.is(byPath('steps.migrate.run').line, 5);
  t.is(byPath('steps.upgrade').message, 'step upgrade is missing');
  t.false(r.error.some((i) => /Invalid input|received undefined/.test(i.message)), JSON.stringify(r.error));

  const inv = parseRunbook('inv.yaml', 'hosts:\n  - { name: hv-1 }\nvms: []\n');
  t.false(inv.ok);
  if (!inv.ok) {
    t.is(inv.error.length, 1);
    t.regex(inv.error[0]!.message, /this is an inventory .*not a runbook/);
    t.regex(inv.error[0]!.fix, /--runbook runbooks\/libvirt\.yaml/);
  }
  const empty = parseRunbook('empty.yaml', '');
  t.false(empty.ok);
  if (!empty.ok) t.regex(empty.error[0]!.message, /a runbook is a mapping with platform:, discover: and steps:, not empty/);
});

test('libvirt leftovers: a shut-off source copy is only undefined; a paused one is destroyed and undefined only with no job left on the source', async (t) => {
  const rb = await loadRunbook('runbooks/libvirt.yaml');
  const [shutOff, paused] = rb.steps.migrate!.leftover;
  t.deepEqual(shutOff!.when.map((c) => [c.command.on, c.command.argv.join(' '), c.expect]), [
    ['target', 'virsh domstate {vm}', { exitCode: 0, stdout: 'running' }],
    ['source', 'virsh domstate {vm}', { exitCode: 0, stdout: 'shut off' }],
  ]);
  t.deepEqual(shutOff!.run, [{ on: 'source', argv: ['virsh', 'undefine', '{vm}'] }]);
  t.deepEqual(paused!.when.map((c) => c.command.on), ['target', 'source', 'source']);
  t.is(unmet(paused!.when[2]!.expect, { exitCode: 0, stdout: 'Job type:         None        \n\n' }, {}, 't'), null, 'real virsh pads the value');
  t.not(unmet(paused!.when[2]!.expect, { exitCode: 0, stdout: 'Job type:         Unbounded\nOperation:        Outgoing migration\n' }, {}, 't'), null);
  t.deepEqual(paused!.run.map((c) => [c.on, c.argv.join(' ')]), [
    ['source', 'virsh destroy {vm}'],
    ['source', 'virsh undefine {vm}'],
  ]);
});

test('a leftover outside migrate, with an unknown placeholder, with no when or no name is refused with its place and the fix', (t) => {
  const text = (extra: string) => `platform: x
discover: { run: [ls] }
steps:
  migrate:
    check: [{ run: [a, "{vm}"] }]
    run: [[m, "{vm}"]]
${extra}
  upgrade:
    check: [{ run: [v] }]
    run: [[u]]
    leftover: [{ name: junk, when: [{ run: [x] }], run: [[y]] }]
`;
  const r = parseRunbook('rb.yaml', text('    leftover: [{ name: copy, when: [{ on: source, run: [s, "{vm}", "{bogus}"] }], run: [[d, "{vm}"]] }]'));
  t.false(r.ok);
  if (r.ok) return;
  const outside = r.error.find((i) => i.path === 'steps.upgrade.leftover')!;
  t.regex(outside.message, /only understood in steps.migrate/);
  t.is(outside.line, 11);
  t.true(r.error.some((i) => i.path === 'steps.migrate' && /unknown placeholder \{bogus\}/.test(i.message)));
  const empty = parseRunbook('rb.yaml', text('    leftover: [{ name: copy, when: [], run: [[d]] }]'));
  t.false(empty.ok);
  if (!empty.ok) t.true(empty.error.some((i) => i.path === 'steps.migrate.leftover[0].when'));
  const noName = parseRunbook('rb.yaml', text('    leftover: [{ when: [{ run: [s] }], run: [[d]] }]'));
  t.false(noName.ok);
  if (!noName.ok) t.true(noName.error.some((i) => i.path === 'steps.migrate.leftover[0].name' && /name is missing/.test(i.message)), JSON.stringify(noName.error));
});

test('shutdown and start are per-VM steps: {vm} is known there and nowhere outside migrate; each needs a check', (t) => {
  const base = (extra: string) =>
    `platform: x\ndiscover: { run: [virsh, list, --all, --name] }\nsteps:\n  migrate: { check: [{ run: [virsh, domstate, "{vm}"] }], run: [[virsh, migrate, "{vm}"]] }\n  upgrade: { check: [{ run: [true] }], run: [[true]] }\n${extra}`;
  const ok = parseRunbook('rb.yaml', base('  shutdown: { check: [{ run: [virsh, domstate, "{vm}"], expect: { stdout: shut off } }], run: [[virsh, shutdown, "{vm}"]] }\n  start: { check: [{ run: [virsh, domstate, "{vm}"] }], run: [[virsh, start, "{vm}"]] }\n'));
  t.true(ok.ok, JSON.stringify(!ok.ok && ok.error));
  if (ok.ok) t.deepEqual(render(ok.value.steps.shutdown!.run[0]!.argv, { vm: 'vm-2 ' }, 'x'), ['virsh', 'shutdown', 'vm-2 ']);
  const outside = parseRunbook('rb.yaml', base('  verify: { confirm: [{ run: [virsh, domstate, "{vm}"] }] }\n'));
  t.false(outside.ok);
  if (!outside.ok) t.regex(outside.error[0]!.message, /unknown placeholder \{vm\}/);
  const unchecked = parseRunbook('rb.yaml', base('  shutdown: { run: [[virsh, shutdown, "{vm}"]] }\n'));
  t.false(unchecked.ok);
  if (!unchecked.ok) t.regex(unchecked.error[0]!.message, /step shutdown changes hosts but has no check/);
});

test('the shipped libvirt runbook shuts a VM down gracefully and starts it, each with a check of its state', async (t) => {
  const rb = await loadRunbook('runbooks/libvirt.yaml');
  t.deepEqual(rb.steps.shutdown!.run.map((c) => c.argv), [['virsh', 'shutdown', '{vm}']]);
  t.deepEqual(rb.steps.shutdown!.check.map((c) => [c.command.argv, c.expect.stdout]), [[['virsh', 'domstate', '{vm}'], 'shut off']]);
  t.deepEqual(rb.steps.start!.run.map((c) => c.argv), [['virsh', 'start', '{vm}']]);
  t.deepEqual(rb.steps.start!.check.map((c) => [c.command.argv, c.expect.stdout]), [[['virsh', 'domstate', '{vm}'], 'running']]);
});
