// An approval recorded while no runner holds the campaign is weighed against the stored plan (the two-person
// rule, the groups that need approval). That plan must be the one `run` sealed: with plan.json edited inside
// the store (the two-person rule switched off, checksum made valid again), `approve` by the operator who
// started the campaign is refused as an altered plan and records nothing — it would otherwise stay recorded
// after the plan is put back, and the runner would honour it.

import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProgram } from '../../src/cli/program.ts';
import { GROUP_MACHINE_VERSION } from '../../src/machines/group-machine.ts';
import { HvrollError } from '../../src/model/errors.ts';
import type { PlanFile } from '../../src/model/plan.ts';
import { canonicalJson } from '../../src/plan-file/canonical-json.ts';
import { fingerprint } from '../../src/plan-file/fingerprint.ts';
import { toPlanFile } from '../../src/plan-file/plan-file.ts';
import { sealPlan } from '../../src/plan-file/seal.ts';
import { buildPlan } from '../../src/planner/plan.ts';
import { campaignDir } from '../../src/store/paths.ts';
import { decodeSealed, encodeSealed } from '../../src/store/sealed-file.ts';
import { CampaignStore } from '../../src/store/store.ts';
import { host, inventory, vm } from '../planner/fixtures.ts';

async function hvroll(args: string[]): Promise<HvrollError | null> {
  const io = { stdout: { write: () => true }, stderr: { write: () => true }, stdoutIsTTY: false, env: {} };
  try {
    await createProgram(io).parseAsync(args, { from: 'user' });
    return null;
  } catch (e) {
    if (e instanceof HvrollError) return e;
    throw e;
  }
}

/** A campaign stored as `hvroll run` stores it (canonical plan, seal in campaign.json and in the run record), by alice. */
async function sealedCampaign(t: { teardown(fn: () => void): void }): Promise<{ root: string; group: string }> {
  const root = mkdtempSync(join(tmpdir(), 'hvroll-approve-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const inv = inventory([host('hv-1', { rack: 'r1' }, 8, 4096), host('hv-2', { rack: 'r1' }, 8, 4096)], [vm('vm-0', 'hv-1', 512, 1)], {
    sensitivity: [{ class: 'critical', match: {}, order: 'last' as const, approval: true }],
    twoPersonRule: true,
  });
  const file = toPlanFile(buildPlan(inv), { fingerprint: fingerprint({ inventory: inv, options: {} }), inputs: { inventory: ['<test>'], ansible: null, runbook: null } });
  const sealed = sealPlan(file);
  const store = await CampaignStore.create(campaignDir(root, 'c1'), { campaignId: 'c1', operator: 'alice', plan: file, planJson: sealed.json, planFingerprint: file.fingerprint, planSeal: sealed.seal, machineVersion: GROUP_MACHINE_VERSION });
  await store.recordAudit({ at: new Date().toISOString(), operator: 'alice', action: 'run', details: { plan: 'plan.json', planSeal: sealed.seal } });
  await store.close();
  return { root, group: file.groups.find((g) => g.approval)!.name };
}

async function approvals(root: string): Promise<string[]> {
  const store = await CampaignStore.open(campaignDir(root, 'c1'), { readOnly: true });
  try {
    return store.approvals().map((a) => a.operator);
  } finally {
    await store.close();
  }
}

test('plan.json edited in the store to lift the two-person rule: the starter\'s approve is refused (exit 4) and nothing is recorded', async (t) => {
  const { root, group } = await sealedCampaign(t);
  const file = join(campaignDir(root, 'c1'), 'plan.json');
  const original = readFileSync(file);
  const doc = decodeSealed(original, file, 'hvroll-plan');
  const plan = doc.data as PlanFile;
  plan.settings.twoPersonRule = false;
  writeFileSync(file, encodeSealed('hvroll-plan', {}, canonicalJson(plan)));

  const edited = await hvroll(['approve', 'c1', group, '--state', root, '--operator', 'alice']);
  t.is(edited?.kind, 'stale-plan');
  t.regex(edited!.message, new RegExp(`stale or altered plan: ${file.replace(/[.]/g, '\\.')} changed since campaign c1 started`));
  t.deepEqual(await approvals(root), [], 'nothing recorded');

  writeFileSync(file, original);
  const self = await hvroll(['approve', 'c1', group, '--state', root, '--operator', 'alice']);
  t.is(self?.kind, 'usage');
  t.regex(self!.message, /two-person rule is on/);
  t.is(await hvroll(['approve', 'c1', group, '--state', root, '--operator', 'bob']), null);
  t.deepEqual(await approvals(root), ['bob']);
});
