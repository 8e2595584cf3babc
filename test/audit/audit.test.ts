// The audit trail and the two-person rule: an approval from the operator who started the campaign is
// refused (by `hvroll approve` and by the running engine) and recorded; `hvroll audit` shows who did what.
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProgram } from '../../src/cli/program.ts';
import { runCampaign } from '../../src/engine/campaign-runner.ts';
import { writeControlRequest } from '../../src/engine/control.ts';
import { GROUP_MACHINE_VERSION } from '../../src/machines/group-machine.ts';
import { HvrollError } from '../../src/model/errors.ts';
import { fingerprint } from '../../src/plan-file/fingerprint.ts';
import { toPlanFile } from '../../src/plan-file/plan-file.ts';
import { buildPlan } from '../../src/planner/plan.ts';
import { campaignDir } from '../../src/store/paths.ts';
import { CampaignStore } from '../../src/store/store.ts';
import { startRig } from '../engine/campaign-fixture.ts';
import { host, inventory, vm } from '../planner/fixtures.ts';

const CRITICAL = { sensitivity: [{ class: 'critical', match: {}, order: 'last' as const, approval: true }], twoPersonRule: true };

async function hvroll(args: string[]): Promise<{ out: string; err: string; error: HvrollError | null }> {
  let out = '';
  let err = '';
  const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, stdoutIsTTY: false, env: {} };
  try {
    await createProgram(io).parseAsync(args, { from: 'user' });
    return { out, err, error: null };
  } catch (e) {
    if (e instanceof HvrollError) return { out, err, error: e };
    throw e;
  }
}

async function stoppedCampaign(): Promise<{ root: string; group: string }> {
  const root = mkdtempSync(join(tmpdir(), 'hvroll-audit-'));
  const inv = inventory([host('hv-1', { rack: 'r1' }, 8, 4096), host('hv-2', { rack: 'r1' }, 8, 4096)], [vm('vm-0', 'hv-1', 512, 1)], CRITICAL);
  const file = toPlanFile(buildPlan(inv), { fingerprint: fingerprint({ inventory: inv, options: {} }), inputs: { inventory: ['<test>'], ansible: null, runbook: null } });
  t_assert(file.settings.twoPersonRule === true, 'the plan carries the two-person rule');
  const store = await CampaignStore.create(campaignDir(root, 'c9'), { campaignId: 'c9', operator: 'alice', plan: file, planFingerprint: file.fingerprint, machineVersion: GROUP_MACHINE_VERSION });
  await store.recordAudit({ at: new Date().toISOString(), operator: 'alice', action: 'run', details: { plan: 'plan.json' } });
  await store.close();
  return { root, group: file.groups.find((g) => g.approval)!.name };
}

function t_assert(cond: boolean, what: string): void {
  if (!cond) throw new Error(what);
}

test('two-person rule: hvroll approve refuses the operator who started the campaign, accepts another; both are audited', async (t) => {
  const { root, group } = await stoppedCampaign();
  const self = await hvroll(['approve', 'c9', group, '--state', root, '--operator', 'alice']);
  t.is(self.error?.kind, 'usage');
  t.regex(self.error!.message, /two-person rule is on: alice started campaign c9/);
  const other = await hvroll(['approve', 'c9', group, '--state', root, '--operator', 'bob', '--comment', 'change CHG-42']);
  t.is(other.error, null);

  const store = await CampaignStore.open(campaignDir(root, 'c9'), { readOnly: true });
  t.deepEqual(store.approvals().map((a) => a.operator), ['bob']);
  await store.close();

  const json = await hvroll(['audit', 'c9', '--state', root, '--json']);
  const doc = JSON.parse(json.out) as { startedBy: string; entries: { operator: string; action: string; group: string | null; result: string }[] };
  t.is(doc.startedBy, 'alice');
  const approvals = doc.entries.filter((e) => e.action === 'approve');
  t.is(approvals.length, 2);
  t.like(approvals[0], { operator: 'alice', group });
  t.regex(approvals[0]!.result, /^refused: the two-person rule/);
  t.like(approvals[1], { operator: 'bob', group, result: 'applied' });
  t.deepEqual(doc.entries.map((e) => e.action).slice(0, 2), ['campaign-created', 'run']);

  const text = await hvroll(['audit', 'c9', '--state', root]);
  t.regex(text.out, /campaign c9 \(started by alice/);
  t.regex(text.out, /bob\s+ACTION\s+approve\s+group \S+: group=\S+ -> applied/);
});

test('two-person rule in a running campaign: the starter\'s approval is refused and audited; another operator\'s lets the group run', async (t) => {
  const rig = await startRig({ hosts: 2, vmsPerHost: 1, patch: CRITICAL });
  t.teardown(() => rig.close());
  let asked = 0;
  const outcome = await runCampaign(rig.deps, {
    controlPollMs: 20,
    listener: (e) => {
      if (e.type !== 'group.awaiting-approval') return;
      asked++;
      // First the starter (refused), then bob a moment later.
      void writeControlRequest(rig.dir, { action: 'approve', operator: 'tester', group: e.group, at: new Date().toISOString() });
      setTimeout(() => void writeControlRequest(rig.dir, { action: 'approve', operator: 'bob', group: e.group, at: new Date().toISOString() }), 150);
    },
  });
  t.is(outcome.state, 'done');
  t.true(asked >= 1);
  t.true(rig.deps.store.approvals().every((a) => a.operator === 'bob'));
  const audit = rig.deps.store.audit().filter((a) => a.action === 'approve');
  t.true(audit.some((a) => a.operator === 'tester' && /refused/.test((a.details as { result: string }).result)));
  t.true(audit.some((a) => a.operator === 'bob' && (a.details as { result: string }).result === 'applied'));
});

test('the audit trail lists every remote command with who, when, host and result, next to the operator actions', async (t) => {
  const rig = await startRig({ hosts: 2, vmsPerHost: 1 });
  t.teardown(() => rig.close());
  await writeControlRequest(rig.dir, { action: 'pause', operator: 'carol', at: new Date().toISOString() });
  await runCampaign(rig.deps, { controlPollMs: 20 });
  await runCampaign(rig.deps, { controlPollMs: 20 });
  const { auditTrail } = await import('../../src/audit/trail.ts');
  const trail = auditTrail(rig.deps.store.audit(), await rig.deps.store.journal());
  const commands = trail.filter((e) => e.kind === 'command');
  t.is(commands.length, (await rig.deps.store.journal()).length);
  t.true(commands.every((c) => c.operator === 'tester' && c.host !== null && /^exit \d+$|^error: /.test(c.result) && c.what.length > 0));
  t.true(commands.some((c) => c.action === 'migrate' && c.vm === 'vm-0' && /virsh migrate/.test(c.what)));
  t.true(trail.some((e) => e.kind === 'action' && e.action === 'pause' && e.operator === 'carol' && e.result === 'applied'));
  const times = trail.map((e) => e.at);
  t.deepEqual(times, [...times].sort());
});

test('a command word outside printable ASCII (a name a host reported) is written $\'…\' with the character escaped; a record without a command says what it noted', async (t) => {
  const { commandEntry } = await import('../../src/audit/trail.ts');
  const base = { id: 1, key: 'c1/g/discover:inspect/x', group: 'g', step: 'discover:inspect', host: 'hv-1', startedAt: '2026-01-01T00:00:00.000Z', operator: 'tester' };
  const out = { exitCode: 0, outputTail: '', endedAt: '2026-01-01T00:00:01.000Z' };
  t.is(commandEntry({ ...base, vm: 'x\u200b', argv: ['virsh', 'dominfo', 'x\u200b'], outcome: out }).what, "virsh dominfo $'x\\u200B'");
  t.is(commandEntry({ ...base, argv: ['virsh', 'dominfo', "it's \u202eme\n"], outcome: out }).what, "virsh dominfo $'it\\'s \\u202Eme\\n'");
  t.is(commandEntry({ ...base, argv: ['openstack', '--disable-reason', 'hvroll campaign c1'], outcome: out }).what, "openstack --disable-reason 'hvroll campaign c1'");
  const record = commandEntry({ ...base, step: 'migrate:confirmed', vm: 'vm-0', outcome: { ...out, outputTail: 'runs on hv-2 (done)' } });
  t.is(record.what, '(no command sent; recorded: runs on hv-2 (done))');
});
