import test from 'ava';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadInventory } from '../../src/inventory/load.ts';
import { InputError } from '../../src/model/errors.ts';
import { tempDir } from './helpers.ts';

function fleet(hosts: number, vms: number) {
  return {
    hosts: Array.from({ length: hosts }, (_, i) => ({
      name: `hv-${i}`,
      address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      labels: { rack: `r${i % 500}`, az: `az${i % 3}` },
      capacity: { vcpus: 128, memoryMiB: 1048576 },
    })),
    vms: Array.from({ length: vms }, (_, i) => ({ name: `vm-${i}`, host: `hv-${i % hosts}`, vcpus: 2, memoryMiB: 4096, labels: { app: `app${i % 50}`, tier: i % 3 } })),
    rules: { grouping: { by: 'rack', maxHostsPerGroup: 10 }, sensitivity: [{ class: 'critical', match: { tier: 2 }, order: 'last' }] },
  };
}

test('a generated 20,000-host / 400,000-VM JSON inventory loads', async (t) => {
  const dir = await tempDir(t, {});
  const file = join(dir, 'fleet.json');
  await writeFile(file, JSON.stringify(fleet(20_000, 400_000)));
  const { inventory, warnings } = await loadInventory([file]);
  t.is(inventory.hosts.length, 20_000);
  t.is(inventory.vms.length, 400_000);
  t.is(inventory.vms[399_999]!.labels.tier, '0');
  t.deepEqual(warnings, []);
});

test('errors deep in a 400,000-VM JSON inventory get their line numbers', async (t) => {
  const dir = await tempDir(t, {});
  const file = join(dir, 'fleet.json');
  const doc = fleet(20_000, 400_000);
  doc.vms[123_456]!.host = 'hv-missing';
  await writeFile(file, JSON.stringify(doc, null, 1));
  const e = await t.throwsAsync(loadInventory([file]), { instanceOf: InputError });
  const [issue] = (e as InputError).issues;
  t.is(issue!.path, 'vms[123456].host');
  t.true((issue!.line ?? 0) > 1_000_000);
});
