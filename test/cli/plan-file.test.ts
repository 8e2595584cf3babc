import test from 'ava';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateFleet } from '../../src/fleet/generate.ts';
import { InputError } from '../../src/model/errors.ts';
import { canonicalJson } from '../../src/plan-file/canonical-json.ts';
import { fingerprint } from '../../src/plan-file/fingerprint.ts';
import { readPlanFile, toPlanFile, writePlanFile } from '../../src/plan-file/plan-file.ts';
import { buildPlan } from '../../src/planner/plan.ts';

const fleet = () => generateFleet({ hosts: 40, vmsPerHost: 10, utilisation: 0.5, seed: 3 });

test('canonical JSON sorts keys at every depth and drops undefined members', (t) => {
  t.is(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: undefined }], c: null } }), '{"a":{"c":null,"d":[3,{"z":1}]},"b":1}');
});

test('fingerprint: stable across key order and file names; changes with VMs, rules, options and runbook', (t) => {
  const inv = fleet();
  const base = fingerprint({ inventory: inv, options: {} });
  t.regex(base, /^sha256:[0-9a-f]{64}$/);
  const reordered = { ...inv, sources: ['elsewhere.yaml'], rules: Object.fromEntries(Object.entries(inv.rules).reverse()) as typeof inv.rules };
  t.is(fingerprint({ inventory: reordered, options: {} }), base);
  t.is(fingerprint({ inventory: inv, options: { strategy: 'upgrade-aware' } }), base, 'the default strategy spelled out is the same plan');

  const bigger = structuredClone(inv);
  bigger.vms[0]!.memoryMiB += 1024;
  t.not(fingerprint({ inventory: bigger, options: {} }), base);
  const stricter = structuredClone(inv);
  stricter.rules.headroom.memoryPercent = 20;
  t.not(fingerprint({ inventory: stricter, options: {} }), base);
  t.not(fingerprint({ inventory: inv, options: { strategy: 'naive' } }), base);
  t.not(fingerprint({ inventory: inv, options: { estimates: { upgradeSeconds: 900 } } }), base);
  t.not(fingerprint({ inventory: inv, options: {}, runbook: 'steps: []' }), base);
});

test('a plan file round-trips, and the write leaves no temp file behind', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hvroll-planfile-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const inv = fleet();
  const file = toPlanFile(buildPlan(inv), { fingerprint: fingerprint({ inventory: inv, options: {} }), inputs: { inventory: ['gen'], ansible: null, runbook: null } });
  const path = join(dir, 'plan.json');
  await writePlanFile(path, file);
  await writePlanFile(path, file);
  t.deepEqual(await readPlanFile(path), file);
  t.deepEqual(await readdir(dir), ['plan.json']);
  t.deepEqual(Object.keys(file).slice(0, 4), ['schemaVersion', 'fingerprint', 'generatedAt', 'inputs']);
});

test('reading something that is not a plan is a clear InputError', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hvroll-planfile-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const cases: [string, string, RegExp][] = [
    ['garbage.json', '{ not json', /not JSON/],
    ['inventory.json', '{"hosts": []}', /not an hvroll plan/],
    ['future.json', '{"schemaVersion": 99, "groups": []}', /schema version 99/],
    ['wave-barriers.json', '{"schemaVersion": 1, "groups": []}', /schema version 1 is not supported \(this hvroll reads version 2\)/],
    ['damaged.json', '{"schemaVersion": 2, "groups": [{}]}', /fingerprint|groups\[0\]/],
  ];
  for (const [name, text, message] of cases) {
    const path = join(dir, name);
    await writeFile(path, text);
    const err = await t.throwsAsync(readPlanFile(path), { instanceOf: InputError });
    t.regex(err!.issues.map((i) => `${i.path} ${i.message}`).join('\n'), message, name);
    t.true(err!.issues.every((i) => i.file === path && i.fix.length > 0));
  }
  await t.throwsAsync(readPlanFile(join(dir, 'missing.json')), { instanceOf: InputError });
});
