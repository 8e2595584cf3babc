import test from 'ava';
import { fastHost, fastVm } from '../../src/inventory/fast.ts';
import { hostSchema, vmSchema } from '../../src/inventory/schema.ts';

// The fast path must accept exactly what the zod schema accepts, with the same output; otherwise a 400k-VM
// fleet and a 4-VM fleet would be validated differently.
const vmVariants: unknown[] = [
  { name: 'a', host: 'h', vcpus: 1, memoryMiB: 1 },
  { name: 'a', host: 'h', vcpus: 1, memoryMiB: 1, labels: { x: 1, y: true, z: 'z' }, migratable: false },
  { name: 'a', host: 'h', vcpus: 0, memoryMiB: 1 },
  { name: 'a', host: 'h', vcpus: 1.5, memoryMiB: 1 },
  { name: 'a', host: 'h', vcpus: '1', memoryMiB: 1 },
  { name: 'a', host: 'h', vcpus: 1, memoryMiB: Number.MAX_SAFE_INTEGER + 2 },
  { name: 'a', host: 'h', vcpus: 1, memoryMiB: 1, extra: 1 },
  { name: '-a', host: 'h', vcpus: 1, memoryMiB: 1 },
  { name: 'a b', host: 'h', vcpus: 1, memoryMiB: 1 },
  { name: 'a', host: 3, vcpus: 1, memoryMiB: 1 },
  { name: 'a', host: 'h', vcpus: 1, memoryMiB: 1, labels: { 'bad key': 'v' } },
  { name: 'a', host: 'h', vcpus: 1, memoryMiB: 1, labels: { k: null } },
  { name: 'a', host: 'h', vcpus: 1, memoryMiB: 1, labels: { k: Infinity } },
  { name: 'a', host: 'h', vcpus: 1, memoryMiB: 1, labels: { k: 'a\u0000b' } },
  { name: 'a', host: 'h', vcpus: 1, memoryMiB: 1, labels: [] },
  { name: 'a', host: 'h', vcpus: 1, memoryMiB: 1, migratable: 'no' },
  null,
  [],
  'vm',
];

const hostVariants: unknown[] = [
  { name: 'h', address: '10.0.0.1', capacity: { vcpus: 1, memoryMiB: 1 } },
  { name: 'h', address: 'h.example', ssh: { user: 'root', port: 22 }, labels: { rack: 3 }, capacity: { vcpus: 1, memoryMiB: 1 } },
  { name: 'h', address: 'h', ssh: {}, capacity: { vcpus: 1, memoryMiB: 1 } },
  { name: 'h', address: 'h', ssh: { port: 0 }, capacity: { vcpus: 1, memoryMiB: 1 } },
  { name: 'h', address: 'h', ssh: { user: 'r;m' }, capacity: { vcpus: 1, memoryMiB: 1 } },
  { name: 'h', address: 'h', ssh: { key: 'x' }, capacity: { vcpus: 1, memoryMiB: 1 } },
  { name: 'h', address: 'a b', capacity: { vcpus: 1, memoryMiB: 1 } },
  { name: 'h', address: 'h', capacity: { vcpus: 1, memoryMiB: 1, disk: 3 } },
  { name: 'h', address: 'h', capacity: { vcpus: 1 } },
  { name: 'h', address: 'h' },
  { name: 'h', address: 'h', capacity: { vcpus: 1, memoryMiB: 1 }, labels: { 'x/y': 'z' } },
];

const clone = (v: unknown): unknown => structuredClone(v);

test('the fast VM path accepts exactly what the zod schema accepts, with the same output', (t) => {
  for (const v of vmVariants) {
    const viaZod = vmSchema.safeParse(clone(v));
    const fast = fastVm(clone(v));
    t.is(fast !== undefined, viaZod.success, JSON.stringify(v));
    if (fast && viaZod.success) t.deepEqual(fast, viaZod.data);
  }
});

test('the fast host path accepts exactly what the zod schema accepts, with the same output', (t) => {
  for (const h of hostVariants) {
    const viaZod = hostSchema.safeParse(clone(h));
    const fast = fastHost(clone(h));
    t.is(fast !== undefined, viaZod.success, JSON.stringify(h));
    if (fast && viaZod.success) t.deepEqual(fast, viaZod.data);
  }
});
