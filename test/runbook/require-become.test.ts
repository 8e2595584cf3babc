// The runbook format's guards and privileges: `require` lists, `become: sudo`, the `|upstream` filter, variables
// whose default derives from another, and placeholders inside regular expressions being literal text.
import test from 'ava';
import { unmet } from '../../src/runbook/expect.ts';
import { loadRunbook } from '../../src/runbook/load.ts';
import { parseRunbook } from '../../src/runbook/parse.ts';
import { debianUpstream, render, resolveVars } from '../../src/runbook/template.ts';
import { CLEAR_MARKER_SCRIPT, SET_MARKER_SCRIPT } from '../../src/sim/libvirt-commands.ts';

const minimal = (extra: string, steps = '') => `platform: x
${extra}
discover: { run: [virsh, list] }
steps:
  migrate:
    check: [{ run: [virsh, domstate, "{vm}"] }]
    run: [[virsh, migrate, "{vm}"]]
  upgrade:
    require:
      - { name: host empty, run: [virsh, list, --name], expect: { stdout: "" } }
    check: [{ run: [dpkg-query, -W, p] }]
    run: [[apt-get, install, p]]
${steps}`;

function parsed(text: string) {
  const r = parseRunbook('rb.yaml', text);
  if (!r.ok) throw new Error(r.error.map((i) => `${i.path}: ${i.message}`).join('\n'));
  return r.value;
}

function issues(text: string) {
  const r = parseRunbook('rb.yaml', text);
  if (r.ok) throw new Error('expected the runbook to be refused');
  return r.error;
}

test('require is read per step, in order, running on the host by default; a step without it has none', (t) => {
  const rb = parsed(minimal(''));
  t.deepEqual(rb.steps.upgrade!.require, [{ name: 'host empty', command: { argv: ['virsh', 'list', '--name'], on: 'host' }, expect: { stdout: '' } }]);
  t.deepEqual(rb.steps.migrate!.require, []);
});

test('a require with an unknown placeholder or a mistyped key is refused with its place and the fix', (t) => {
  const bad = issues(minimal('').replace('[virsh, list, --name]', '[virsh, list, "{nope}"]'));
  t.true(bad.some((i) => i.path === 'steps.upgrade' && /unknown placeholder \{nope\}/.test(i.message) && /declare it under vars/.test(i.fix)));
  const typo = issues(minimal('').replace('expect: { stdout: "" }', 'expects: { stdout: "" }'));
  t.true(typo.some((i) => i.path === 'steps.upgrade.require[0]' && /unknown key "expects"/.test(i.message) && i.line === 10));
});

test('become: sudo puts sudo -n -- before every host command (steps, discovery, boot id, progress, leftovers), never before a controller command', async (t) => {
  const text = (await import('node:fs/promises')).readFile('runbooks/libvirt.yaml', 'utf8');
  const rb = parsed((await text).replace('# become: sudo', 'become: sudo'));
  t.is(rb.become, 'sudo');
  const sudo = ['sudo', '-n', '--'];
  t.deepEqual(rb.bootId.argv.slice(0, 3), sudo);
  t.deepEqual(rb.discover.command.argv, [...sudo, 'virsh', 'list', '--all', '--name']);
  t.deepEqual(rb.discover.inspect!.command.argv.slice(0, 4), [...sudo, 'virsh']);
  for (const step of Object.values(rb.steps)) {
    const checks = [...step.require, ...step.check, ...step.confirm, ...step.leftover.flatMap((l) => l.when)];
    for (const c of [...checks.map((x) => x.command), ...step.run, ...step.leftover.flatMap((l) => l.run)]) t.deepEqual(c.argv.slice(0, 3), sudo, `${step.name}: ${c.argv.join(' ')}`);
  }
  t.deepEqual(rb.steps.migrate!.progress!.command.argv.slice(0, 3), sudo);
  t.deepEqual(rb.steps.migrate!.progress!.abort.argv.slice(0, 3), sudo);

  const os = parsed((await (await import('node:fs/promises')).readFile('runbooks/openstack.yaml', 'utf8')).replace('# become: sudo', 'become: sudo'));
  t.deepEqual(os.discover.command.argv.slice(0, 2), ['openstack', 'server'], 'discovery runs on the controller: no sudo');
  t.deepEqual(os.steps.disable!.run[0]!.argv[0], 'openstack');
  t.deepEqual(os.steps.upgrade!.run[0]!.argv.slice(0, 4), [...sudo, 'env'], 'the hypervisor: sudo');
  t.deepEqual(os.steps.verify!.confirm.map((c) => c.command.argv[0]), ['sudo', 'openstack', 'sudo', 'sudo', 'sudo']);
});

test('become takes only sudo; anything else is refused with its line and the fix', (t) => {
  const bad = issues(minimal('become: doas'));
  t.is(bad[0]!.path, 'become');
  t.is(bad[0]!.line, 2);
  t.regex(bad[0]!.fix, /use one of: sudo/);
});

test('the upstream filter: a Debian version without epoch, revision, repack or pre-release mark', (t) => {
  const cases: [string, string][] = [
    ['1:9.0.0-4+deb12u2', '9.0.0'],
    ['9.0.0-4', '9.0.0'],
    ['9.0.0+dfsg-1', '9.0.0'],
    ['10.0.0~rc1-1', '10.0.0'],
    ['2:27.1.0-0ubuntu1.1', '27.1.0'],
    ['1.1', '1.1'],
    ['2.0', '2.0'],
    ['8.2.4', '8.2.4'],
  ];
  for (const [version, upstream] of cases) {
    t.is(debianUpstream(version), upstream, version);
    t.deepEqual(render(['v={version|upstream}'], { version }, 'x'), [`v=${upstream}`]);
  }
});

test('a default may derive from another variable; a --set value is taken as written', (t) => {
  const defaults = { version: '', daemonVersion: '{version|upstream}' };
  t.deepEqual(resolveVars(defaults, { version: '1:9.0.0-4', daemonVersion: '{version|upstream}' }), { version: '1:9.0.0-4', daemonVersion: '9.0.0' });
  t.deepEqual(resolveVars(defaults, { version: '1:9.0.0-4', daemonVersion: '9.0.1' }), { version: '1:9.0.0-4', daemonVersion: '9.0.1' });
  const rb = parsed(minimal('vars: { version: "", daemonVersion: "{version|upstream}" }\nrequired: [version]'));
  t.is(rb.vars.daemonVersion, '{version|upstream}');
});

test('unknown filters and defaults that name no variable, themselves or another derived one are refused with the fix', (t) => {
  const filter = issues(minimal('vars: { v: "" }').replace('[apt-get, install, p]', '[apt-get, install, "p={v|lower}"]'));
  t.true(filter.some((i) => i.path === 'steps.upgrade' && /unknown filter \|lower/.test(i.message) && /\|upstream/.test(i.fix)));
  const host = issues(minimal('vars: { v: "{host}" }'));
  t.true(host.some((i) => i.path === 'vars.v' && /names \{host\}, which is not another variable/.test(i.message)));
  const self = issues(minimal('vars: { v: "x{v}" }'));
  t.true(self.some((i) => i.path === 'vars.v' && /not another variable/.test(i.message)));
  const nested = issues(minimal('vars: { a: "1", b: "{a}", c: "{b|upstream}" }'));
  t.true(nested.some((i) => i.path === 'vars.c' && /whose own default names other variables/.test(i.message) && i.line === 2));
  const badFilter = issues(minimal('vars: { a: "1", b: "{a|nope}" }'));
  t.true(badFilter.some((i) => i.path === 'vars.b' && /unknown filter \|nope/.test(i.message)));
});

test('placeholders inside stdoutMatches are literal text: a name with regex syntax matches itself, never breaks the pattern', (t) => {
  const expect = { stdoutMatches: '^lrm {host} \\(maintenance' };
  t.is(unmet(expect, { exitCode: 0, stdout: 'lrm pve(1)+.x (maintenance mode)' }, { host: 'pve(1)+.x' }, 'x'), null);
  t.truthy(unmet(expect, { exitCode: 0, stdout: 'lrm pve11+yx (maintenance mode)' }, { host: 'pve(1)+.x' }, 'x'), 'the dot and the brackets are not wildcards');
  t.truthy(unmet({ stdoutMatches: '^Running against daemon: {v}$' }, { exitCode: 0, stdout: 'Running against daemon: 1.10' }, { v: '1.1' }, 'x'));
  t.is(unmet({ stdoutMatches: '^Running against daemon: {v|upstream}$' }, { exitCode: 0, stdout: 'x\nRunning against daemon: 9.0.0\n' }, { v: '1:9.0.0-4' }, 'x'), null);
});

test('the shipped marker scripts are the ones the simulated and in-process hosts model', async (t) => {
  for (const platform of ['libvirt', 'proxmox']) {
    const rb = await loadRunbook(`runbooks/${platform}.yaml`);
    const scripts = [...rb.steps.disable!.run, ...rb.steps.enable!.run, ...rb.steps.rollback!.run].filter((c) => c.argv[0] === 'sh').map((c) => c.argv);
    t.deepEqual(scripts, [
      ['sh', '-c', SET_MARKER_SCRIPT, 'sh', '{maintenanceFile}', 'hvroll:{campaign}:{group}'],
      ['sh', '-c', CLEAR_MARKER_SCRIPT, 'sh', '{maintenanceFile}', 'hvroll:{campaign}:{group}'],
      ['sh', '-c', CLEAR_MARKER_SCRIPT, 'sh', '{maintenanceFile}', 'hvroll:{campaign}:{group}'],
    ]);
  }
});

for (const platform of ['libvirt', 'openstack', 'proxmox']) {
  test(`the shipped ${platform} runbook requires, before upgrade and before reboot, the host out of the pool and empty`, async (t) => {
    const rb = await loadRunbook(`runbooks/${platform}.yaml`);
    for (const step of ['upgrade', 'reboot'] as const) {
      const names = rb.steps[step]!.require.map((c) => c.name).join(' | ');
      t.regex(names, /maintenance|disabled/, `${step}: ${names}`);
      t.regex(names, /no (running or paused VM|instance)/, `${step}: ${names}`);
    }
    t.regex(rb.steps.disable!.require.map((c) => c.name).join(' | '), /not disabled by another hvroll campaign/);
    t.regex(rb.steps.disable!.check.map((c) => c.name).join(' | '), /disabled by this campaign/);
    for (const step of ['enable', 'rollback'] as const) t.regex(rb.steps[step]!.require.map((c) => c.name).join(' | '), /disabled by this campaign or not at all/);
  });
}

test('an exact-output expectation compares trimmed with trimmed: a disable reason whose group name ends in a blank still matches the marker read back', (t) => {
  const expect = { exitCode: 0, stdout: 'hvroll:{campaign}:{group}' };
  t.is(unmet(expect, { exitCode: 0, stdout: 'hvroll:c1:rack a \n' }, { campaign: 'c1', group: 'rack a ' }, 'x'), null);
  t.truthy(unmet(expect, { exitCode: 0, stdout: 'hvroll:c1:rack a\n' }, { campaign: 'c1', group: 'rack b' }, 'x'));
});
