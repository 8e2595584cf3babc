import test from 'ava';
import { join } from 'node:path';
import { expandHostPattern, looksLikeIni } from '../../src/inventory/ansible.ts';
import { HOSTS, at, loadFails, loadOk, tempDir } from './helpers.ts';

const ANSIBLE = `all:
  vars:
    ansible_user: ops
    hvroll_vcpus: 32
    hvroll_memory_mib: 131072
    hvroll_labels: { dc: fra1 }
  children:
    rack_a:
      vars:
        hvroll_labels: { rack: a }
        ansible_port: 2222
      hosts:
        hv-01: { ansible_host: 10.0.0.1 }
        hv-02:
          ansible_host: 10.0.0.2
          ansible_user: root
          hvroll_vcpus: 64
    rack_b:
      hosts:
        hv-[03:04]: {}
      children:
        gpu:
          vars:
            hvroll_capacity: { vcpus: 128, memoryMiB: 524288 }
            hvroll_labels: { gpu: true }
          hosts:
            hv-04:
`;

test('an Ansible inventory becomes the host list: address, ssh, capacity, labels, with vars inherited all → parents → children → host', async (t) => {
  const dir = await tempDir(t, { 'hosts.yml': ANSIBLE, 'inv.yaml': 'vms:\n  - { name: a, host: hv-04, vcpus: 100, memoryMiB: 1024 }\n' });
  const { inventory, warnings } = await loadOk(t, [join(dir, 'inv.yaml')], { ansible: join(dir, 'hosts.yml') });
  t.deepEqual(warnings, []);
  t.deepEqual(inventory.sources, [join(dir, 'hosts.yml'), join(dir, 'inv.yaml')]);
  const byName = new Map(inventory.hosts.map((h) => [h.name, h]));
  t.deepEqual([...byName.keys()], ['hv-01', 'hv-02', 'hv-03', 'hv-04']);
  t.deepEqual(byName.get('hv-01'), {
    name: 'hv-01',
    address: '10.0.0.1',
    ssh: { user: 'ops', port: 2222 },
    labels: { dc: 'fra1', rack: 'a', ansible_group: 'rack_a' },
    capacity: { vcpus: 32, memoryMiB: 131072 },
  });
  // host vars win over group vars
  t.deepEqual(byName.get('hv-02')!.ssh, { user: 'root', port: 2222 });
  t.is(byName.get('hv-02')!.capacity.vcpus, 64);
  // no ansible_host: the name is the address; a range pattern expands
  t.is(byName.get('hv-03')!.address, 'hv-03');
  t.deepEqual(byName.get('hv-03')!.labels, { dc: 'fra1', ansible_group: 'rack_b' });
  // listed in two groups: one host, the innermost group names it, child group vars beat the parent's
  t.deepEqual(byName.get('hv-04')!.labels, { dc: 'fra1', gpu: 'true', ansible_group: 'gpu' });
  t.deepEqual(byName.get('hv-04')!.capacity, { vcpus: 128, memoryMiB: 524288 }, 'the child group\'s hvroll_capacity beats hvroll_vcpus from all');
});

test('hvroll_capacity alone gives the capacity', async (t) => {
  const dir = await tempDir(t, { 'hosts.yml': 'all:\n  hosts:\n    hv-01: { hvroll_capacity: { vcpus: 8, memoryMiB: 1024 } }\n' });
  const { inventory } = await loadOk(t, [], { ansible: join(dir, 'hosts.yml') });
  t.deepEqual(inventory.hosts[0]!.capacity, { vcpus: 8, memoryMiB: 1024 });
  t.is(inventory.hosts[0]!.labels.ansible_group, 'all');
});

test('a host without capacity is an error at its entry in the Ansible file', async (t) => {
  const dir = await tempDir(t, { 'hosts.yml': 'all:\n  children:\n    rack_a:\n      hosts:\n        hv-01: { hvroll_vcpus: 4 }\n' });
  const issue = at(t, await loadFails(t, [], { ansible: join(dir, 'hosts.yml') }), 'all.children.rack_a.hosts.hv-01');
  t.true(issue.file.endsWith('hosts.yml'));
  t.is(issue.line, 5);
  t.regex(issue.message, /host "hv-01" has no capacity \(hvroll_memory_mib not set/);
  t.is(issue.fix, 'add hvroll_vcpus and hvroll_memory_mib to its host or group vars');
});

test('an invalid var is reported where it is defined, even in a group', async (t) => {
  const dir = await tempDir(t, {
    'hosts.yml': 'all:\n  vars: { hvroll_vcpus: 4, hvroll_memory_mib: 1 }\n  children:\n    r:\n      vars: { ansible_port: 99999, hvroll_labels: { "bad key!": x } }\n      hosts:\n        hv-01: { ansible_host: "not an address" }\n',
  });
  const issues = await loadFails(t, [], { ansible: join(dir, 'hosts.yml') });
  t.is(at(t, issues, 'all.children.r.vars.ansible_port').line, 5);
  t.regex(at(t, issues, 'all.children.r.vars.ansible_port').message, /host "hv-01": ansible_port is 99999/);
  t.regex(at(t, issues, 'all.children.r.vars.ansible_port').fix, /e\.g\. `ansible_port: 22`/);
  t.regex(at(t, issues, 'all.children.r.hosts.hv-01.ansible_host').message, /contains a space/);
  t.truthy(at(t, issues, 'all.children.r.vars.hvroll_labels["bad key!"]'));
});

test('fixes speak of the Ansible variables: hvroll_vcpus, and hvroll_labels for a missing grouping label', async (t) => {
  const dir = await tempDir(t, {
    'hosts.yml': 'all:\n  vars: { hvroll_vcpus: 4, hvroll_memory_mib: 1024 }\n  hosts:\n    hv-01: { hvroll_vcpus: -2 }\n    hv-02: { hvroll_labels: { rack: a } }\n    hv-03: {}\n',
    'rules.yaml': 'rules:\n  grouping: { by: rack }\n',
  });
  const issues = await loadFails(t, [join(dir, 'rules.yaml')], { ansible: join(dir, 'hosts.yml') });
  const vcpus = at(t, issues, 'all.hosts.hv-01.hvroll_vcpus');
  t.regex(vcpus.message, /host "hv-01": hvroll_vcpus is -2/);
  t.regex(vcpus.fix, /`hvroll_vcpus: 64`/);
  t.regex(at(t, issues, 'all.hosts.hv-03').fix, /add `hvroll_labels: \{ rack: <value> \}` to its host vars, or to a group/);
});

test('the same host in the Ansible inventory and the YAML hosts is an error naming both files', async (t) => {
  const dir = await tempDir(t, { 'hosts.yml': 'all:\n  vars: { hvroll_vcpus: 4, hvroll_memory_mib: 1024 }\n  hosts:\n    hv-01: {}\n    hv-09: {}\n', 'inv.yaml': HOSTS });
  const issue = at(t, await loadFails(t, [join(dir, 'inv.yaml')], { ansible: join(dir, 'hosts.yml') }), 'hosts[0]', 'inv.yaml');
  t.regex(issue.message, /host "hv-01" is defined twice \(also at .*hosts\.yml:4 all\.hosts\.hv-01\)/);
});

test('an INI inventory is refused with the command that converts it', async (t) => {
  const dir = await tempDir(t, { hosts: '[rack_a]\nhv-01 ansible_host=10.0.0.1\n' });
  const issues = await loadFails(t, [], { ansible: join(dir, 'hosts') });
  t.is(issues.length, 1);
  t.is(issues[0]!.fix, 'convert it: ansible-inventory -i hosts.ini --list -y > hosts.yml');
  t.true(looksLikeIni('hosts.ini', 'all:\n'));
  t.false(looksLikeIni('hosts.yml', '# c\nall:\n  hosts: {}\n'));
});

test('the JSON of ansible-inventory --list is read too (host lists, _meta.hostvars)', async (t) => {
  const json = { _meta: { hostvars: { 'hv-01': { ansible_host: '10.0.0.1', hvroll_vcpus: 8, hvroll_memory_mib: 1024 } } }, all: { children: ['ungrouped', 'rack_a'] }, rack_a: { hosts: ['hv-01'] } };
  const dir = await tempDir(t, { 'inv.json': JSON.stringify(json) });
  const { inventory } = await loadOk(t, [], { ansible: join(dir, 'inv.json') });
  t.deepEqual(inventory.hosts[0], { name: 'hv-01', address: '10.0.0.1', labels: { ansible_group: 'rack_a' }, capacity: { vcpus: 8, memoryMiB: 1024 } });
});

test('unknown keys in an Ansible group are errors with a suggestion', async (t) => {
  const dir = await tempDir(t, { 'hosts.yml': 'all:\n  host:\n    hv-01: {}\n' });
  const issue = at(t, await loadFails(t, [], { ansible: join(dir, 'hosts.yml') }), 'all.host');
  t.regex(issue.fix, /did you mean "hosts"/);
});

test('host patterns: numeric ranges keep zero padding, letter ranges and strides work, bad ranges are refused', (t) => {
  t.deepEqual(expandHostPattern('hv-[08:11]'), ['hv-08', 'hv-09', 'hv-10', 'hv-11']);
  t.deepEqual(expandHostPattern('db-[a:c].x'), ['db-a.x', 'db-b.x', 'db-c.x']);
  t.deepEqual(expandHostPattern('n[1:5:2]'), ['n1', 'n3', 'n5']);
  t.deepEqual(expandHostPattern('r[1:2]-[a:b]'), ['r1-a', 'r1-b', 'r2-a', 'r2-b']);
  t.deepEqual(expandHostPattern('plain'), ['plain']);
  t.is(expandHostPattern('x[5:1]'), null);
});
