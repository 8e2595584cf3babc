import test from 'ava';
import { join } from 'node:path';
import { BASE, HOSTS, VMS, at, loadFails, loadOk, tempDir } from './helpers.ts';

test('duplicate host names name both places', async (t) => {
  const dir = await tempDir(t, { 'inv.yaml': `${HOSTS}  - { name: hv-01, address: 10.0.0.9, capacity: { vcpus: 1, memoryMiB: 1 } }\n` });
  const issue = at(t, await loadFails(t, [dir]), 'hosts[2]');
  t.regex(issue.message, /host "hv-01" is defined twice \(also at .*inv\.yaml:2 hosts\[0\]\)/);
  t.is(issue.line, 10);
  t.regex(issue.fix, /unique/);
});

test('a duplicate host is reported even when one of the two entries is invalid', async (t) => {
  const dir = await tempDir(t, { 'inv.yaml': `${HOSTS}  - { name: hv-01, address: 10.0.0.9, capacity: { vcpus: 0, memoryMiB: 1 } }\n` });
  const issues = await loadFails(t, [dir]);
  t.truthy(at(t, issues, 'hosts[2].capacity.vcpus'));
  t.regex(at(t, issues, 'hosts[2]').message, /defined twice/);
});

test('duplicate VM names across files name both files and lines', async (t) => {
  const dir = await tempDir(t, { 'a.yaml': BASE, 'b.yaml': 'vms:\n  - { name: x, host: hv-01, vcpus: 1, memoryMiB: 1 }\n  - { name: db-1, host: hv-01, vcpus: 1, memoryMiB: 1 }\n' });
  const issue = at(t, await loadFails(t, [dir]), 'vms[1].name', 'b.yaml');
  t.is(issue.line, 3);
  t.regex(issue.message, /VM "db-1" is defined twice \(also at .*a\.yaml:12 vms\[1\]\)/);
});

test('a VM on an unknown host suggests the closest name and lists the hosts', async (t) => {
  const dir = await tempDir(t, { 'inv.yaml': `${HOSTS}vms:\n  - { name: a, host: hv-1, vcpus: 1, memoryMiB: 1 }\n  - { name: b, host: zzz, vcpus: 1, memoryMiB: 1 }\n` });
  const issues = await loadFails(t, [dir]);
  const near = at(t, issues, 'vms[0].host');
  t.is(near.message, 'unknown host "hv-1"');
  t.is(near.line, 11);
  t.regex(near.fix, /did you mean "hv-01"\?/);
  t.regex(at(t, issues, 'vms[1].host').fix, /use one of the names under hosts: \(hv-01, hv-02\) or add the host/);
});

test('the host list in an unknown-host fix names each host once and gives the real count', async (t) => {
  const hosts = Array.from({ length: 8 }, (_, i) => `  - { name: hv-${i + 10}, address: 10.0.1.${i + 10}, capacity: { vcpus: 8, memoryMiB: 8192 } }\n`).join('');
  const dupe = '  - { name: hv-10, address: 10.0.1.99, capacity: { vcpus: 8, memoryMiB: 8192 } }\n';
  const dir = await tempDir(t, { 'inv.yaml': `hosts:\n${hosts}${dupe}vms:\n  - { name: a, host: zzz, vcpus: 1, memoryMiB: 1 }\n` });
  const fix = at(t, await loadFails(t, [dir]), 'vms[0].host').fix;
  t.regex(fix, /use one of the names under hosts: \(hv-10, hv-11, hv-12, hv-13, hv-14, … \(8 in all\)\) or add the host/);
});

test('a VM on a host whose entry is invalid is not also reported as on an unknown host', async (t) => {
  const dir = await tempDir(t, { 'inv.yaml': 'hosts:\n  - { name: hv-01, address: 10.0.0.1, capacity: { vcpus: 0, memoryMiB: 1 } }\nvms:\n  - { name: a, host: hv-01, vcpus: 1, memoryMiB: 1 }\n' });
  const issues = await loadFails(t, [dir]);
  t.deepEqual(issues.map((i) => i.path), ['hosts[0].capacity.vcpus']);
});

test('a VM larger than every host is an error, counting cpuOvercommit', async (t) => {
  const vms = `vms:
  - { name: big-mem, host: hv-01, vcpus: 1, memoryMiB: 70000 }
  - { name: big-cpu, host: hv-01, vcpus: 40, memoryMiB: 1 }
`;
  const dir = await tempDir(t, { 'inv.yaml': HOSTS + vms });
  const issues = await loadFails(t, [dir]);
  t.regex(at(t, issues, 'vms[0]').message, /larger than every host: it needs 70000 MiB but the largest host has 65536 MiB/);
  const cpu = at(t, issues, 'vms[1]');
  t.regex(cpu.fix, /cpuOvercommit/);
  t.is(cpu.line, 12);
  const ok = await tempDir(t, { 'inv.yaml': `${HOSTS}${vms.split('\n').filter((l) => !l.includes('big-mem')).join('\n')}rules:\n  cpuOvercommit: 2\n` });
  t.deepEqual((await loadOk(t, [ok])).warnings, []); // 40 vCPUs fit on 32 × 2
});

test('a VM fitting only a host with both enough memory and enough vCPUs is accepted (not per-dimension maxima)', async (t) => {
  const hosts = 'hosts:\n  - { name: a, address: 10.0.0.1, capacity: { vcpus: 64, memoryMiB: 1024 } }\n  - { name: b, address: 10.0.0.2, capacity: { vcpus: 2, memoryMiB: 65536 } }\n';
  const bad = await tempDir(t, { 'inv.yaml': `${hosts}vms:\n  - { name: v, host: a, vcpus: 8, memoryMiB: 8192 }\n` });
  t.regex(at(t, await loadFails(t, [bad]), 'vms[0]').message, /no host with ≥ 8192 MiB has more than 2 vCPUs/);
});

test('an inventory without hosts is an error', async (t) => {
  const dir = await tempDir(t, { 'inv.yaml': 'rules:\n  failureBudget: 1\n' });
  const issue = at(t, await loadFails(t, [dir]), '');
  t.regex(issue.message, /no hosts/);
  t.regex(issue.fix, /hosts:/);
});

test('hosts lacking the grouping.by label are errors at the host; a label no host has is one error at grouping.by', async (t) => {
  const dir = await tempDir(t, {
    'inv.yaml': `${HOSTS}  - { name: hv-03, address: 10.0.0.3, capacity: { vcpus: 1, memoryMiB: 1 } }\n${VMS}rules:\n  grouping: { by: rack }\n`,
  });
  const issue = at(t, await loadFails(t, [dir]), 'hosts[2]');
  t.regex(issue.message, /host "hv-03" lacks the label "rack"/);
  t.regex(issue.fix, /add `rack: <value>` under its labels/);
  t.is(issue.line, 10);

  const typo = await tempDir(t, { 'inv.yaml': `${BASE}rules:\n  grouping: { by: rakc }\n` });
  const one = await loadFails(t, [typo]);
  t.is(one.length, 1);
  t.is(one[0]!.path, 'rules.grouping.by');
  t.regex(one[0]!.fix, /did you mean "rack"/);
});

test('explicit groups: unknown hosts and a host in two groups are errors; hosts in no group are a warning', async (t) => {
  const dir = await tempDir(t, {
    'inv.yaml': `${BASE}rules:\n  grouping:\n    groups:\n      - { name: g1, hosts: [hv-01, hv-99] }\n      - { name: g2, hosts: [hv-01] }\n`,
  });
  const issues = await loadFails(t, [dir]);
  const unknown = at(t, issues, 'rules.grouping.groups[0].hosts[1]');
  t.regex(unknown.message, /unknown host "hv-99"/);
  t.is(unknown.line, 16);
  const twice = at(t, issues, 'rules.grouping.groups[1].hosts[0]');
  t.regex(twice.message, /host "hv-01" is in two groups: "g1" and "g2"/);
  t.regex(twice.fix, /keep it in one group/);

  const ok = await tempDir(t, { 'inv.yaml': `${BASE}rules:\n  grouping: { groups: [{ name: g1, hosts: [hv-01] }] }\n` });
  const { warnings } = await loadOk(t, [ok]);
  t.is(warnings.length, 1);
  t.regex(warnings[0]!.message, /1 host is in no group: hv-02/);
  t.regex(warnings[0]!.fix, /group of its own/);
});

test('duplicate group names and duplicate class names are errors naming the first', async (t) => {
  const dir = await tempDir(t, {
    'inv.yaml': `${BASE}rules:
  grouping: { groups: [{ name: g, hosts: [hv-01] }, { name: g, hosts: [hv-02] }] }
  sensitivity:
    - { class: c, match: { app: web } }
    - { class: c, match: { app: db } }
    - { class: default, match: {} }
`,
  });
  const issues = await loadFails(t, [dir]);
  t.regex(at(t, issues, 'rules.grouping.groups[1].name').message, /group "g" is listed twice/);
  const cls = at(t, issues, 'rules.sensitivity[1].class');
  t.regex(cls.message, /class "c" is defined twice \(also at .*:16 rules\.sensitivity\[0\]\.class\)/);
  t.regex(at(t, issues, 'rules.sensitivity[2].class').message, /reserved/);
});

test('nonMigratable.groups naming an unknown explicit group is an error; with label grouping it is a warning', async (t) => {
  const explicit = await tempDir(t, {
    'inv.yaml': `${BASE}rules:\n  grouping: { groups: [{ name: g1, hosts: [hv-01, hv-02] }] }\n  nonMigratable: { policy: block, groups: { g2: skip } }\n`,
  });
  const issue = at(t, await loadFails(t, [explicit]), 'rules.nonMigratable.groups.g2');
  t.regex(issue.message, /unknown group "g2"/);
  t.regex(issue.fix, /did you mean "g1"/);
  t.is(issue.line, 15);

  const byLabel = await tempDir(t, { 'inv.yaml': `${BASE}rules:\n  grouping: { by: rack }\n  nonMigratable: { policy: block, groups: { r1: shutdown, r9: skip } }\n` });
  const { warnings, inventory } = await loadOk(t, [byLabel]);
  t.deepEqual(inventory.rules.nonMigratable.groups, { r1: 'shutdown', r9: 'skip' });
  t.is(warnings.length, 1);
  t.is(warnings[0]!.path, 'rules.nonMigratable.groups.r9');
});

test('warnings: host already over capacity, anti-affinity already violated, a match label no VM has', async (t) => {
  const dir = await tempDir(t, {
    'inv.yaml': `${HOSTS}vms:
  - { name: db-1, host: hv-01, vcpus: 20, memoryMiB: 1024, labels: { app: db } }
  - { name: db-2, host: hv-01, vcpus: 20, memoryMiB: 1024, labels: { app: db } }
rules:
  antiAffinity: [{ name: db-spread, match: { app: db } }]
  sensitivity: [{ class: crit, match: { tierr: gold } }]
`,
  });
  const { warnings } = await loadOk(t, [dir]);
  t.is(warnings.length, 3);
  const over = at(t, warnings, 'hosts[0]');
  t.regex(over.message, /host "hv-01" already runs more than its capacity: its VMs use 40 vCPUs/);
  const aa = at(t, warnings, 'rules.antiAffinity[0]');
  t.regex(aa.message, /"db-spread" is already violated: hv-01 runs db-1, db-2/);
  t.is(aa.line, 14);
  const label = at(t, warnings, 'rules.sensitivity[0].match.tierr');
  t.regex(label.message, /no VM has the label "tierr"/);
});

test('a migration or headroom domain label no host has is an error; some hosts lacking it is a warning', async (t) => {
  const none = await tempDir(t, { 'inv.yaml': `${BASE}rules:\n  migrationDomain: zone\n  headroom: { memoryPercent: 10, vcpuPercent: 10, domain: zone }\n` });
  const issues = await loadFails(t, [none]);
  t.truthy(at(t, issues, 'rules.migrationDomain'));
  t.truthy(at(t, issues, 'rules.headroom.domain'));
  const some = await tempDir(t, { 'inv.yaml': `${HOSTS}  - { name: hv-03, address: 10.0.0.3, capacity: { vcpus: 1, memoryMiB: 1 } }\n${VMS}rules:\n  migrationDomain: az\n` });
  const { warnings } = await loadOk(t, [some]);
  t.regex(warnings[0]!.message, /1 host lacks the label "az" that migrationDomain names: hv-03/);
});

test('label values used as group names must be safe names', async (t) => {
  const dir = await tempDir(t, { 'inv.yaml': `hosts:\n  - { name: hv-01, address: 10.0.0.1, labels: { rack: "r 1" }, capacity: { vcpus: 1, memoryMiB: 1 } }\nrules:\n  grouping: { by: rack }\n` });
  t.regex(at(t, await loadFails(t, [dir]), 'hosts[0]').message, /names its group, and the value contains a space/);
});

test('issues are collected, not stopped at the first: many classes of error in one run', async (t) => {
  const dir = await tempDir(t, {
    'inv.yaml': `hosts:
  - { name: hv-01, address: 10.0.0.1, capacity: { vcpus: 4, memoryMiB: 4096 } }
  - { name: hv-01, address: 10.0.0.2, capacity: { vcpus: 4, memoryMiB: 4096 } }
vms:
  - { name: a, host: nope, vcpus: 1, memoryMiB: 1 }
  - { name: a, host: hv-01, vcpus: 99, memoryMiB: 1 }
  - { name: "b c", host: hv-01, vcpus: 1, memoryMiB: 1 }
rules:
  headroom: { memoryPercent: 150, vcpuPercent: 0 }
`,
  });
  const issues = await loadFails(t, [join(dir, 'inv.yaml')]);
  t.deepEqual(
    issues.map((i) => [i.path, i.line]),
    [
      ['hosts[1]', 3],
      ['vms[0].host', 5],
      ['vms[1]', 6],
      ['vms[1].name', 6],
      ['vms[2].name', 7],
      ['rules.headroom.memoryPercent', 9],
    ],
  );
  t.true(issues.every((i) => i.fix.length > 0));
});

test('names that differ only in letter case are refused: hosts (one machine) and VMs (mixed up by a reader)', async (t) => {
  const dir = await tempDir(t, {
    'inv.yaml': `${HOSTS}  - { name: HV-01, address: 10.0.0.3, capacity: { vcpus: 8, memoryMiB: 8192 } }\nvms:\n  - { name: web-1, host: hv-01, vcpus: 1, memoryMiB: 1 }\n  - { name: Web-1, host: hv-02, vcpus: 1, memoryMiB: 1 }\n  - { name: DB-1, host: hv-02, vcpus: 1, memoryMiB: 1 }\n  - { name: db-1, host: hv-02, vcpus: 1, memoryMiB: 1 }\n  - { name: db-2, host: hv-02, vcpus: 1, memoryMiB: 1 }\n`,
  });
  const issues = await loadFails(t, [dir]);
  t.regex(at(t, issues, 'hosts[2]').message, /host "HV-01" differs from host "hv-01" \(at .*inv\.yaml:2 hosts\[0\]\) only in letter case/);
  t.regex(at(t, issues, 'vms[1].name').message, /VM "Web-1" differs from VM "web-1" \(at .*vms\[0\]\) only in letter case/);
  t.regex(at(t, issues, 'vms[3].name').message, /VM "db-1" differs from VM "DB-1" \(at .*vms\[2\]\) only in letter case/);
  t.regex(at(t, issues, 'vms[1].name').fix, /rename one of the two/);
  t.false(issues.some((i) => i.path === 'vms[4].name'), 'db-2 is a name of its own');
  t.is(issues.filter((i) => /letter case/.test(i.message)).length, 3);
});

test('one name twice in the same case is a duplicate, not a case twin', async (t) => {
  const dir = await tempDir(t, { 'inv.yaml': `${HOSTS}vms:\n  - { name: Web-1, host: hv-01, vcpus: 1, memoryMiB: 1 }\n  - { name: Web-1, host: hv-02, vcpus: 1, memoryMiB: 1 }\n` });
  const issues = await loadFails(t, [dir]);
  t.regex(at(t, issues, 'vms[1].name').message, /defined twice/);
  t.false(issues.some((i) => /letter case/.test(i.message)));
});
