// What a host lists is compared with the plan by exact name: a domain named "vm-2 " beside vm-2 is another
// VM, and so is every name that differs in any character.
import test from 'ava';
import { compareWithPlan, describeUnknown, parseDiscovery } from '../../src/engine/discovery.ts';
import type { Discover } from '../../src/runbook/model.ts';
import { VM2_LOOKALIKES } from '../helpers/lookalike-names.ts';

const lines: Discover = { command: { argv: ['virsh', 'list', '--all', '--name'], on: 'host' }, format: 'lines', field: 'name', timeoutSeconds: 10 };
const json = (field: string): Discover => ({ ...lines, format: 'json', field });

test('lines: every name comes back exactly as the host printed it; only empty lines are dropped', (t) => {
  const names = ['vm-2', 'vm-2 ', ' vm-3', 'vm-3', '\tvm-4\t', 'vm-5\r', ' ', 'vm-\u00a0'];
  t.deepEqual(parseDiscovery(lines, `${names.join('\n')}\n\n`, 'hv-1'), names);
  t.deepEqual(parseDiscovery(lines, '\n', 'hv-1'), []);
});

test('a planned name and its look-alikes side by side: each look-alike is unknown to the plan', (t) => {
  const listed = parseDiscovery(lines, `${['vm-2', ...VM2_LOOKALIKES].join('\n')}\n\n`, 'hv-1');
  t.deepEqual(compareWithPlan(listed, new Set(['vm-2'])).unknown, VM2_LOOKALIKES);
});

test('JSON (OpenStack, Proxmox): names are exact too; numbers become their decimal text', (t) => {
  t.deepEqual(parseDiscovery(json('ID'), JSON.stringify([{ ID: 'abc' }, { ID: 'abc ' }, { ID: ' abc' }, { ID: 'ABC' }, { ID: 'a\u200bbc' }]), 'hv-1'), ['abc', 'abc ', ' abc', 'ABC', 'a\u200bbc']);
  t.deepEqual(parseDiscovery(json('vmid'), '[{"vmid": 101}, {"vmid": "101 "}]', 'hv-1'), ['101', '101 ']);
  t.deepEqual(compareWithPlan(['101', '101 ', '0101'], new Set(['101'])).unknown, ['101 ', '0101']);
});

test('an unknown name is shown escaped, with the planned name it looks like', (t) => {
  t.is(describeUnknown('vm-2 ', ['vm-1', 'vm-2']), '"vm-2 " (looks like vm-2, but is another VM)');
  t.is(describeUnknown('v\u043c-2', ['vm-2']), '"v\\u043C-2" (looks like vm-2, but is another VM)');
  t.is(describeUnknown('stranger', ['vm-2']), 'stranger');
  t.is(describeUnknown('\u202estranger', []), '"\\u202Estranger"');
});
