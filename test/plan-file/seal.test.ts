// The seal is sha256 of the plan's canonical body (everything but generatedAt). `run` stores the plan as
// canonical JSON and `resume` gets the seal from those bytes without re-serialising; both must agree with
// the definition, and any change to the body must change the seal.

import test from 'ava';
import { createHash } from 'node:crypto';
import { generateFleet } from '../../src/fleet/generate.ts';
import type { PlanFile } from '../../src/model/plan.ts';
import { canonicalJson } from '../../src/plan-file/canonical-json.ts';
import { toPlanFile } from '../../src/plan-file/plan-file.ts';
import { planSeal, sealPlan, storedPlanSeal } from '../../src/plan-file/seal.ts';
import { buildPlan } from '../../src/planner/plan.ts';

function plan(): PlanFile {
  const inventory = generateFleet({ hosts: 40, vmsPerHost: 6, utilisation: 0.7, seed: 3 });
  return toPlanFile(buildPlan(inventory), { fingerprint: `sha256:${'ab'.repeat(32)}`, inputs: { inventory: ['fleet.yaml'], ansible: null, runbook: 'runbooks/libvirt.yaml' }, generatedAt: new Date('2026-03-01T10:00:00Z') });
}

const definition = (file: PlanFile) => {
  const { generatedAt: _generatedAt, ...body } = file;
  return `sha256:${createHash('sha256').update(canonicalJson(body)).digest('hex')}`;
};

test('the seal is sha256 of the canonical body, from the stored text, its bytes, or the plan itself', (t) => {
  const file = plan();
  const sealed = sealPlan(file);
  t.is(sealed.seal, definition(file));
  t.is(sealed.json, canonicalJson(file), 'the store keeps the whole plan file as canonical JSON');
  t.is(storedPlanSeal(Buffer.from(sealed.json), file), sealed.seal);
  t.is(planSeal(file), sealed.seal);
});

test('generatedAt is outside the seal; every other member is inside', (t) => {
  const file = plan();
  const seal = sealPlan(file).seal;
  t.is(sealPlan({ ...file, generatedAt: '1999-01-01T00:00:00.000Z' }).seal, seal);
  const edits: ((p: PlanFile) => void)[] = [
    (p) => (p.fingerprint = `sha256:${'cd'.repeat(32)}`),
    (p) => (p.inputs.inventory = ['other.yaml']),
    (p) => (p.inputs.runbook = 'runbooks/proxmox.yaml'),
    (p) => (p.settings.concurrency.groups += 1),
    (p) => (p.groups[1]!.after = []),
    (p) => (p.groups.at(-1)!.moves[0]!.to = 'elsewhere'),
    (p) => (p.summary.runnable = !p.summary.runnable),
  ];
  for (const edit of edits) {
    const p = structuredClone(file);
    edit(p);
    t.not(sealPlan(p).seal, seal);
  }
});

test('stored text that does not open as canonical JSON of the plan gives no seal from its bytes', (t) => {
  const file = plan();
  t.is(storedPlanSeal(JSON.stringify(file, null, 2), file), null);
  t.is(storedPlanSeal(Buffer.from(JSON.stringify(file)), file), null, 'documented field order is not canonical order');
  t.is(storedPlanSeal(Buffer.from(sealPlan(file).json), { ...file, generatedAt: 'another time' }), null);
  t.is(storedPlanSeal(new Uint8Array(3), file), null);
});
