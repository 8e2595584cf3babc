import test from 'ava';
import { BASE, HOSTS, VMS, at, loadFails, loadOk, tempDir } from './helpers.ts';
import { join } from 'node:path';

test('a valid YAML inventory loads with defaults filled in and label values as strings', async (t) => {
  const dir = await tempDir(t, { 'inv.yaml': BASE });
  const { inventory, warnings } = await loadOk(t, [join(dir, 'inv.yaml')]);
  t.deepEqual(warnings, []);
  t.is(inventory.hosts.length, 2);
  t.deepEqual(inventory.vms[0], { name: 'web-1', host: 'hv-01', vcpus: 2, memoryMiB: 4096, labels: { app: 'web', tier: '1' }, migratable: true });
  t.deepEqual(inventory.rules.grouping, { kind: 'per-host' });
  t.is(inventory.rules.cpuOvercommit, 1);
  t.deepEqual(inventory.sources, [join(dir, 'inv.yaml')]);
});

test('label values written as numbers and booleans become strings', async (t) => {
  const dir = await tempDir(t, {
    'inv.yaml': `${HOSTS}vms:\n  - { name: a, host: hv-01, vcpus: 1, memoryMiB: 1, labels: { rack: 3, ssd: true, ratio: 1.5, name: x } }\n`,
  });
  const { inventory } = await loadOk(t, [join(dir, 'inv.yaml')]);
  t.deepEqual(inventory.vms[0]!.labels, { rack: '3', ssd: 'true', ratio: '1.5', name: 'x' });
});

test('a YAML syntax error names the file and its line, and stops nothing else from being reported', async (t) => {
  const dir = await tempDir(t, { 'a.yaml': 'hosts:\n  - name: hv-01\n    address: "unclosed\n', 'b.yaml': 'vms: 3\n' });
  const issues = await loadFails(t, [dir]);
  const syntax = issues.find((i) => i.file.endsWith('a.yaml'))!;
  t.regex(syntax.message, /YAML syntax error/);
  t.is(typeof syntax.line, 'number');
  t.truthy(syntax.fix);
  const other = at(t, issues, 'vms', 'b.yaml');
  t.regex(other.message, /must be a list/);
  t.is(other.line, 1);
});

test('a duplicate key in a YAML mapping is a syntax error with its line', async (t) => {
  const dir = await tempDir(t, { 'inv.yaml': `${HOSTS}${VMS}vms: []\n` });
  const issues = await loadFails(t, [dir]);
  t.is(issues.length, 1);
  t.regex(issues[0]!.message, /unique/);
  t.is(issues[0]!.line, 13);
  t.regex(issues[0]!.fix, /remove or rename/);
});

test('unknown top-level keys and rule keys are errors with a typo suggestion, at the key', async (t) => {
  const dir = await tempDir(t, { 'inv.yaml': `${BASE}hsts: []\nheadroom: {}\nrules:\n  sensitivty: []\n` });
  const issues = await loadFails(t, [dir]);
  const top = at(t, issues, 'hsts');
  t.is(top.line, 13);
  t.is(top.column, 1);
  t.regex(top.fix, /did you mean "hosts"/);
  t.regex(at(t, issues, 'headroom').fix, /move it under `rules:`/);
  const rule = at(t, issues, 'rules.sensitivty');
  t.is(rule.line, 16);
  t.regex(rule.fix, /did you mean "sensitivity"/);
});

test('unknown keys inside a host or VM are errors with a suggestion', async (t) => {
  const dir = await tempDir(t, { 'inv.yaml': `${HOSTS}vms:\n  - { name: a, host: hv-01, vcpu: 2, vcpus: 2, memoryMiB: 1 }\n` });
  const issue = at(t, await loadFails(t, [dir]), 'vms[0].vcpu');
  t.regex(issue.message, /unknown key "vcpu"/);
  t.regex(issue.fix, /did you mean "vcpus"/);
  t.is(issue.line, 11);
});

test('missing required fields name the field and show an example to add', async (t) => {
  const dir = await tempDir(t, { 'inv.yaml': 'hosts:\n  - name: hv-01\n    capacity: { vcpus: 4 }\nvms:\n  - { name: a, host: hv-01, memoryMiB: 1 }\n' });
  const issues = await loadFails(t, [dir]);
  const address = at(t, issues, 'hosts[0].address');
  t.regex(address.message, /missing required field "address"/);
  t.regex(address.fix, /add `address: 10\.0\.0\.1`/);
  t.is(address.line, 2); // the entry that lacks it
  t.regex(at(t, issues, 'hosts[0].capacity.memoryMiB').fix, /add `memoryMiB:/);
  t.is(at(t, issues, 'hosts[0].capacity.memoryMiB').line, 3);
  t.regex(at(t, issues, 'vms[0].vcpus').message, /missing required field "vcpus"/);
});

test('wrong types say what was found and what is expected', async (t) => {
  const dir = await tempDir(t, { 'inv.yaml': `${HOSTS}vms:\n  - { name: a, host: hv-01, vcpus: two, memoryMiB: 1, migratable: maybe, labels: [a] }\n` });
  const issues = await loadFails(t, [dir]);
  const vcpus = at(t, issues, 'vms[0].vcpus');
  t.regex(vcpus.message, /vcpus must be a whole number ≥ 1, not the text "two"/);
  t.regex(vcpus.fix, /e\.g\. `vcpus: 2`/);
  t.regex(at(t, issues, 'vms[0].migratable').fix, /true or false/);
  t.regex(at(t, issues, 'vms[0].labels').message, /must be a mapping/);
});

test('negative, zero and fractional sizes are rejected with the bound', async (t) => {
  const dir = await tempDir(t, {
    'inv.yaml': 'hosts:\n  - { name: hv-01, address: 10.0.0.1, capacity: { vcpus: 0, memoryMiB: -5 } }\nvms:\n  - { name: a, host: hv-01, vcpus: 1.5, memoryMiB: 1 }\n',
  });
  const issues = await loadFails(t, [dir]);
  t.regex(at(t, issues, 'hosts[0].capacity.vcpus').message, /is 0; it must be ≥ 1/);
  t.regex(at(t, issues, 'hosts[0].capacity.memoryMiB').message, /is -5; it must be ≥ 1/);
  const frac = at(t, issues, 'vms[0].vcpus');
  t.regex(frac.message, /whole number, not 1\.5/);
  t.is(frac.line, 4);
});

for (const [bad, why] of [
  ['"hv 01"', /a space/],
  ['"-rf"', /starts with '-'/],
  ['"hv;reboot"', /shell metacharacter ';'/],
  ['"$(id)"', /shell metacharacter '\$'/],
  ['"a`b`"', /shell metacharacter '`'/],
  ['"hv\\x00"', /NUL/],
  ['"hv\\nx"', /newline/],
  ['"hv\\u0007"', /control character/],
  ['""', /is empty/],
  ['"hé"', /non-ASCII character 'é' \(U\+00E9\)/],
  ['"hv-\\u0430"', /"hv-\\u0430" contains the non-ASCII character 'а' \(U\+0430\)/],
  ['"hv-1\\u200b"', /"hv-1\\u200B" contains an invisible character \(U\+200B\)/],
  ['"hv-1\\u202e"', /"hv-1\\u202E" contains a bidirectional-text control \(U\+202E\)/],
  ['"hv-1\\u00a0"', /"hv-1\\u00A0" contains whitespace \(U\+00A0\)/],
  ['"hv-e\\u0301"', /"hv-e\\u0301" contains a combining mark \(U\+0301\)/],
] as const) {
  test(`host name ${bad} is rejected because it ${String(why)}`, async (t) => {
    const dir = await tempDir(t, { 'inv.yaml': `hosts:\n  - { name: ${bad}, address: 10.0.0.1, capacity: { vcpus: 1, memoryMiB: 1 } }\n` });
    const issue = at(t, await loadFails(t, [dir]), 'hosts[0].name');
    t.regex(issue.message, why);
    t.regex(issue.fix, /letters, digits and \. _ : @ -/);
    t.is(issue.line, 2);
  });
}

test('VM, group and class names are held to the same rule', async (t) => {
  const dir = await tempDir(t, {
    'inv.yaml': `${HOSTS}vms:\n  - { name: "a|b", host: hv-01, vcpus: 1, memoryMiB: 1 }\nrules:\n  grouping: { groups: [{ name: "g 1", hosts: [hv-01] }] }\n  sensitivity: [{ class: "c&", match: {} }]\n`,
  });
  const issues = await loadFails(t, [dir]);
  t.regex(at(t, issues, 'vms[0].name').message, /'\|'/);
  t.regex(at(t, issues, 'rules.grouping.groups[0].name').message, /a space/);
  t.regex(at(t, issues, 'rules.sensitivity[0].class').message, /'&'/);
});

for (const [address, ok] of [
  ['10.0.0.1', true],
  ['hv-01.example.com', true],
  ['fe80::1', true],
  ['2001:db8::10.0.0.1', true],
  ['::', true],
  ['10.0.0.256', false],
  ['hv_01', false],
  ['host:22', false],
  ['[::1]', false],
  ['ssh://hv', false],
  ['-oProxyCommand=x', false],
  ['1:2:3:4:5:6:7:8:9', false],
] as const) {
  test(`address ${address} is ${ok ? 'accepted' : 'rejected'}`, async (t) => {
    const dir = await tempDir(t, { 'inv.yaml': `hosts:\n  - { name: hv-01, address: "${address}", capacity: { vcpus: 1, memoryMiB: 1 } }\n` });
    if (ok) {
      t.is((await loadOk(t, [dir])).inventory.hosts[0]!.address, address);
    } else {
      const issue = at(t, await loadFails(t, [dir]), 'hosts[0].address');
      t.regex(issue.fix, /hostname .* or an IPv4\/IPv6 address/);
    }
  });
}

test('ssh user and port are checked', async (t) => {
  const dir = await tempDir(t, { 'inv.yaml': 'hosts:\n  - { name: hv-01, address: 10.0.0.1, ssh: { user: "root;x", port: 70000 }, capacity: { vcpus: 1, memoryMiB: 1 } }\n' });
  const issues = await loadFails(t, [dir]);
  t.regex(at(t, issues, 'hosts[0].ssh.user').fix, /POSIX user name/);
  t.regex(at(t, issues, 'hosts[0].ssh.port').message, /70000; it must be ≤ 65535/);
});

test('rules are normalised: grouping forms, defaults, estimates merged over the defaults', async (t) => {
  const dir = await tempDir(t, {
    'inv.yaml': `${BASE}rules:
  grouping: { by: rack, maxHostsPerGroup: 2 }
  sensitivity:
    - { class: critical, match: { tier: [3, 4] }, order: last, approval: true }
    - { class: web, match: { app: web } }
  antiAffinity:
    - match: { app: db }
    - { name: web-spread, match: { app: web } }
  headroom: { memoryPercent: 20 }
  concurrency: { groups: 2 }
  failureBudget: 1
  cpuOvercommit: 1.5
  migrationDomain: az
  nonMigratable: { policy: shutdown }
  estimates: { upgradeSeconds: 900 }
`,
  });
  const { rules } = (await loadOk(t, [dir])).inventory;
  t.deepEqual(rules.grouping, { kind: 'by-label', by: 'rack', maxHostsPerGroup: 2 });
  t.deepEqual(rules.sensitivity[0], { class: 'critical', match: { tier: ['3', '4'] }, order: 'last', approval: true });
  t.deepEqual(rules.sensitivity[1], { class: 'web', match: { app: 'web' }, order: 'normal', approval: false });
  t.deepEqual(rules.antiAffinity.map((r) => r.name), ['antiAffinity[0]', 'web-spread']);
  t.deepEqual(rules.headroom, { memoryPercent: 20, vcpuPercent: 0 });
  t.deepEqual(rules.concurrency, { groups: 2, migrations: 4, migrationsPerHost: 2 });
  t.is(rules.failureBudget, 1);
  t.is(rules.cpuOvercommit, 1.5);
  t.is(rules.migrationDomain, 'az');
  t.deepEqual(rules.nonMigratable, { policy: 'shutdown', groups: {} });
  t.is(rules.estimates.upgradeSeconds, 900);
  t.is(rules.estimates.rebootSeconds, 300);
});

test('explicit groups normalise to the explicit grouping', async (t) => {
  const dir = await tempDir(t, { 'inv.yaml': `${BASE}rules:\n  grouping: { groups: [{ name: g1, hosts: [hv-01, hv-02] }] }\n` });
  t.deepEqual((await loadOk(t, [dir])).inventory.rules.grouping, { kind: 'explicit', groups: [{ name: 'g1', hosts: ['hv-01', 'hv-02'] }] });
});

test('rule values out of range: headroom ≥ 100, maxConcurrentGroups < 1, concurrency 0, overcommit < 1, bad order', async (t) => {
  const dir = await tempDir(t, {
    'inv.yaml': `${BASE}rules:
  headroom: { memoryPercent: 100, vcpuPercent: -1 }
  sensitivity: [{ class: c, match: {}, maxConcurrentGroups: 0, order: lats }]
  concurrency: { groups: 0, migrations: 1.5 }
  cpuOvercommit: 0.5
  failureBudget: -1
  grouping: { by: rack, groups: [] }
`,
  });
  const issues = await loadFails(t, [dir]);
  const headroom = at(t, issues, 'rules.headroom.memoryPercent');
  t.regex(headroom.message, /is 100; it must be below 100/);
  t.is(headroom.line, 14);
  t.regex(at(t, issues, 'rules.headroom.vcpuPercent').message, /≥ 0/);
  t.regex(at(t, issues, 'rules.sensitivity[0].maxConcurrentGroups').message, /is 0; it must be ≥ 1/);
  t.regex(at(t, issues, 'rules.sensitivity[0].order').fix, /did you mean "last"/);
  t.truthy(at(t, issues, 'rules.concurrency.groups'));
  t.regex(at(t, issues, 'rules.concurrency.migrations').message, /whole number/);
  t.regex(at(t, issues, 'rules.cpuOvercommit').message, /≥ 1/);
  t.truthy(at(t, issues, 'rules.failureBudget'));
  t.regex(at(t, issues, 'rules.grouping').message, /both `by` and `groups`/);
});

test('an empty list in match is an error: it would match nothing', async (t) => {
  const dir = await tempDir(t, { 'inv.yaml': `${BASE}rules:\n  antiAffinity: [{ match: { app: [] } }]\n` });
  t.regex(at(t, await loadFails(t, [dir]), 'rules.antiAffinity[0].match.app').message, /empty list/);
});

test('an anti-affinity rule with an empty match is an error: it would keep every VM apart', async (t) => {
  const dir = await tempDir(t, { 'inv.yaml': `${BASE}rules:\n  antiAffinity:\n    - { name: spread, match: {} }\n` });
  const issue = at(t, await loadFails(t, [dir]), 'rules.antiAffinity[0].match');
  t.regex(issue.message, /empty match puts every VM in this rule/);
  t.regex(issue.fix, /match: \{ cluster: orders-db \}/);
  t.is(issue.line, BASE.split('\n').length - 1 + 3);
});

test('a list entry of the wrong type is said as an entry, with a list item as the example', async (t) => {
  const dir = await tempDir(t, { 'inv.yaml': `${BASE.replace('vms:\n', 'vms:\n  - 7\n')}` });
  const issues = await loadFails(t, [dir]);
  const entry = at(t, issues, 'vms[0]');
  t.is(entry.message, 'each entry of vms must be a VM, not number 7');
  t.regex(entry.fix, /^write it as a list item: `- \{ name: web-1, host: hv-01/);
});
