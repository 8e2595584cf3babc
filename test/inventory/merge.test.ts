import test from 'ava';
import { join } from 'node:path';
import { parseInventory } from '../../src/inventory/parse.ts';
import { HOSTS, VMS, at, loadFails, loadOk, tempDir } from './helpers.ts';

test('a directory merges *.yaml, *.yml and *.json in name order and ignores other files', async (t) => {
  const dir = await tempDir(t, {
    '20-vms.yml': VMS,
    '10-hosts.yaml': HOSTS,
    '30-more.json': JSON.stringify({ vms: [{ name: 'j-1', host: 'hv-02', vcpus: 1, memoryMiB: 1, labels: { rack: 7 } }], rules: { failureBudget: 2 } }),
    'README.md': '# not inventory',
    '.hidden.yaml': 'garbage: [',
  });
  const { inventory } = await loadOk(t, [dir]);
  t.deepEqual(inventory.sources, ['10-hosts.yaml', '20-vms.yml', '30-more.json'].map((f) => join(dir, f)));
  t.deepEqual(inventory.vms.map((v) => v.name), ['web-1', 'db-1', 'j-1']);
  t.deepEqual(inventory.vms[2]!.labels, { rack: '7' });
  t.is(inventory.rules.failureBudget, 2);
});

test('several paths (files and directories) are read in the order given', async (t) => {
  const a = await tempDir(t, { 'h.yaml': HOSTS });
  const b = await tempDir(t, { 'v.yaml': VMS });
  const { inventory } = await loadOk(t, [join(b, 'v.yaml'), a]);
  t.deepEqual(inventory.sources, [join(b, 'v.yaml'), join(a, 'h.yaml')]);
  t.is(inventory.hosts.length, 2);
});

test('a rule defined in two files is an error naming both files', async (t) => {
  const dir = await tempDir(t, { 'a.yaml': `${HOSTS}rules:\n  headroom: { memoryPercent: 10 }\n`, 'b.yaml': 'rules:\n  failureBudget: 1\n  headroom: { memoryPercent: 20 }\n' });
  const issue = at(t, await loadFails(t, [dir]), 'rules.headroom', 'b.yaml');
  t.is(issue.line, 3);
  t.regex(issue.message, /defined in two files \(also at .*a\.yaml:11 rules\.headroom\)/);
  t.regex(issue.fix, /remove it from .*b\.yaml or .*a\.yaml/);
});

test('paths in issues are indices within the file that holds the entry', async (t) => {
  const dir = await tempDir(t, { 'a.yaml': HOSTS + VMS, 'b.yaml': 'vms:\n  - { name: ok, host: hv-01, vcpus: 1, memoryMiB: 1 }\n  - { name: bad, host: hv-77, vcpus: 1, memoryMiB: 1 }\n' });
  const issue = at(t, await loadFails(t, [dir]), 'vms[1].host', 'b.yaml');
  t.is(issue.line, 3);
});

test('a JSON syntax error gives the line and column', async (t) => {
  const dir = await tempDir(t, { 'inv.json': '{\n  "hosts": [\n    { "name": "hv-01", }\n  ]\n}\n' });
  const [issue, ...rest] = await loadFails(t, [dir]);
  t.is(rest.length, 0);
  t.regex(issue!.message, /JSON syntax error/);
  t.is(issue!.line, 3);
  t.is(issue!.column, 24);
  t.regex(issue!.fix, /trailing comma/);
});

test('schema and semantic issues in JSON files carry line and column too', async (t) => {
  const json = JSON.stringify({ hosts: [{ name: 'hv-01', address: '10.0.0.1', capacity: { vcpus: 1, memoryMiB: 1 } }], vms: [{ name: 'a', host: 'hv-01', vcpus: 1, memoryMiB: 1 }, { name: 'b', host: 'hv-x', vcpus: 1, memoryMiB: 1 }, { name: 'c', host: 'hv-01', vcpus: 1, memoryMiB: 1, colour: 'red' }] }, null, 2);
  const dir = await tempDir(t, { 'inv.json': json });
  const issues = await loadFails(t, [dir]);
  const host = at(t, issues, 'vms[1].host');
  const lines = json.split('\n');
  t.is(lines[host.line! - 1]!.trim(), '"host": "hv-x",');
  const colour = at(t, issues, 'vms[2].colour');
  t.is(lines[colour.line! - 1]!.slice(colour.column! - 1), '"colour": "red"');
});

test('missing paths and unreadable inputs are reported before anything is parsed', async (t) => {
  const dir = await tempDir(t, { 'h.yaml': HOSTS, 'empty/readme.txt': 'x' });
  const issues = await loadFails(t, [join(dir, 'nope.yaml'), join(dir, 'empty'), join(dir, 'h.yaml')]);
  t.deepEqual(
    issues.map((i) => [i.file, i.message]),
    [
      [join(dir, 'nope.yaml'), 'no such file or directory'],
      [join(dir, 'empty'), 'the directory holds no inventory files'],
    ],
  );
});

test('an empty file is a warning, a file that is not a mapping an error', async (t) => {
  const dir = await tempDir(t, { 'a.yaml': HOSTS, 'b.yaml': '# nothing yet\n' });
  const { warnings } = await loadOk(t, [dir]);
  t.regex(warnings[0]!.message, /empty/);
  const bad = await tempDir(t, { 'a.yaml': '- just\n- a list\n' });
  t.regex(at(t, await loadFails(t, [bad]), '').message, /must hold a mapping/);
});

test('parseInventory is pure: texts in, result out, warnings kept on success', (t) => {
  const r = parseInventory([{ file: 'mem.yaml', text: `${HOSTS}vms:\n  - { name: a, host: hv-01, vcpus: 20, memoryMiB: 1 }\n  - { name: b, host: hv-01, vcpus: 20, memoryMiB: 1 }\n` }]);
  t.true(r.ok);
  if (r.ok) {
    t.is(r.value.warnings.length, 1);
    t.is(r.value.warnings[0]!.file, 'mem.yaml');
    t.is(r.value.warnings[0]!.line, 2);
  }
  const bad = parseInventory([{ file: 'mem.yaml', text: 'hosts: 3\n' }]);
  t.false(bad.ok);
});
