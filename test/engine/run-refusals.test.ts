// `hvroll run` refuses before anything exists or is sent: no campaign store, not one SSH command. Every
// refusal is recorded in the state root's audit file (there is no campaign to hold it), and `hvroll audit
// --all` shows it.
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AuditEvent } from '../../src/model/campaign.ts';
import type { PlanFile } from '../../src/model/plan.ts';
import { cli, startCliRig, type CliRig } from './cli-rig.ts';

let rig: CliRig;
test.before(async () => {
  rig = await startCliRig(3, 1);
});
test.after.always(async () => {
  await rig?.stop();
});

const KIND_OF_CODE: Record<number, string[]> = { 2: ['usage', 'invalid-input'], 3: ['infeasible-plan'], 4: ['stale-plan'] };

async function refused(t: import('ava').ExecutionContext, args: string[], code: number, message: RegExp, env: Record<string, string> = {}, plan = rig.plan): Promise<string> {
  const state = mkdtempSync(join(rig.dir, 'refused-'));
  const before = rig.fleet.allReceived().length;
  const r = await cli(['run', '--plan', plan, '--state', state, '--campaign', 'c1', ...rig.sshFlags, ...args], env);
  t.is(r.code, code, r.stderr);
  t.regex(r.stderr, message);
  t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
  t.false(existsSync(join(state, 'c1')), 'no campaign store created');
  t.is(rig.fleet.allReceived().length, before, 'no SSH command sent');
  // Audited: one line in <state>/audit.ndjson with who, what, and why.
  const lines = readFileSync(join(state, 'audit.ndjson'), 'utf8').split('\n').filter(Boolean);
  t.is(lines.length, 1);
  const event = JSON.parse(lines[0]!) as AuditEvent & { details: { plan: string; kind: string; message: string } };
  const operator = args.includes('--operator') ? args[args.indexOf('--operator') + 1] : 'tester';
  t.like(event, { operator, action: 'run-refused', details: { plan: resolve(plan), result: 'refused' } });
  t.true(KIND_OF_CODE[code]!.includes(event.details.kind), event.details.kind);
  t.regex(event.details.message, message);
  return state;
}

/** The rig's plan, edited as an operator might by hand, in a new file. */
function edited(name: string, edit: (p: PlanFile) => void): string {
  const plan = JSON.parse(readFileSync(rig.plan, 'utf8')) as PlanFile;
  edit(plan);
  const file = join(rig.dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(plan, null, 2));
  return file;
}

test.serial('a required runbook variable that is missing', async (t) => {
  await refused(t, [], 2, /needs --set version=/);
});

test.serial('a webhook URL from an unset environment variable', async (t) => {
  const notify = join(rig.dir, 'notify.yaml');
  writeFileSync(notify, 'notifications:\n  - { name: ops, type: slack, url: env:HVROLL_TEST_UNSET_HOOK }\n');
  await refused(t, ['--set', 'version=2.0', '--notify', notify], 2, /HVROLL_TEST_UNSET_HOOK is not set/);
});

test.serial('a plan whose inventory changed since it was reviewed', async (t) => {
  const inv = join(rig.dir, 'inventory.yaml');
  const original = readFileSync(inv, 'utf8');
  writeFileSync(inv, original.replace('memoryMiB: 4096', 'memoryMiB: 8192'));
  t.teardown(() => writeFileSync(inv, original));
  await refused(t, ['--set', 'version=2.0'], 4, /no longer matches its inputs/);
});

// The issue: with one group allowed at a time, an edited plan.json let four groups into maintenance together
// and rebooted hosts half a second after they received VMs.
test.serial('plan.json with concurrency.groups raised: refused with exit 4 naming the path and both values', async (t) => {
  const plan = edited('more-groups', (p) => (p.settings.concurrency.groups = 4));
  await refused(t, ['--set', 'version=2.0'], 4, /stale or altered plan: .*settings\.concurrency\.groups: the plan file says 4, its inputs give 1/, {}, plan);
});

test.serial('plan.json with a group\'s after cleared: refused with exit 4', async (t) => {
  const plan = edited('no-after', (p) => (p.groups[2]!.after = []));
  await refused(t, ['--set', 'version=2.0'], 4, /groups\[2\]\.after\[0\]: the plan file says \(absent\), its inputs give "hv-1"/, {}, plan);
});

test.serial('plan.json with a move retargeted: refused with exit 4', async (t) => {
  const plan = edited('retargeted', (p) => (p.groups[2]!.moves[0]!.to = 'hv-3'));
  await refused(t, ['--set', 'version=2.0'], 4, /groups\[2\]\.moves\[0\]\.to: the plan file says "hv-3", its inputs give "hv-1"/, {}, plan);
});

test.serial('plan.json with approval added and failureBudget raised: refused with exit 4 at the first of them', async (t) => {
  const plan = edited('budget', (p) => {
    p.settings.failureBudget = 5;
    p.groups[1]!.approval = true;
  });
  await refused(t, ['--set', 'version=2.0'], 4, /settings\.failureBudget: the plan file says 5, its inputs give 0/, {}, plan);
});

test.serial('hvroll audit --all shows refused runs with every campaign\'s trail, in time order (text and JSON)', async (t) => {
  const state = await refused(t, ['--set', 'version=2.0', '--operator', 'dave'], 4, /stale or altered plan/, {}, edited('audited', (p) => (p.settings.concurrency.groups = 3)));
  const json = await cli(['audit', '--all', '--state', state, '--json']);
  t.is(json.code, 0, json.stderr);
  const doc = JSON.parse(json.stdout) as { auditFile: string; campaigns: string[]; entries: { campaign: string | null; action: string; operator: string; what: string; result: string }[] };
  t.is(doc.auditFile, join(state, 'audit.ndjson'));
  t.deepEqual(doc.campaigns, []);
  t.is(doc.entries.length, 1);
  t.like(doc.entries[0], { campaign: null, action: 'run-refused', operator: 'dave', result: 'refused' });
  t.regex(doc.entries[0]!.what, /^plan .*audited\.json: stale-plan: stale or altered plan: .*settings\.concurrency\.groups: the plan file says 3, its inputs give 1/);
  const text = await cli(['audit', '--all', '--state', state]);
  t.is(text.code, 0, text.stderr);
  t.regex(text.stdout, /dave\s+ACTION\s+run-refused\s+plan .*audited\.json: stale-plan: stale or altered plan: .* -> refused/);
});

test.serial('the same plan with other whitespace and key order is not refused: it runs to the end', async (t) => {
  t.timeout(120_000);
  rig.reset();
  const plan = JSON.parse(readFileSync(rig.plan, 'utf8')) as Record<string, unknown>;
  const reversed = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(reversed) : typeof v === 'object' && v !== null ? Object.fromEntries(Object.keys(v).reverse().map((k) => [k, reversed((v as Record<string, unknown>)[k])])) : v;
  const file = join(rig.dir, 'reformatted.json');
  writeFileSync(file, `${JSON.stringify(reversed(plan), null, '\t')}\n\n`);
  const state = mkdtempSync(join(rig.dir, 'reformatted-'));
  const r = await cli(['run', '--plan', file, '--set', 'version=2.0', '--state', state, '--campaign', 'c1', ...rig.sshFlags]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /campaign c1 done/);
  t.false(existsSync(join(state, 'audit.ndjson')), 'nothing refused');
});

test.serial('a plan that cannot run (problems) is refused with exit 3, and audited', async (t) => {
  const inv = join(rig.dir, 'full.yaml');
  writeFileSync(
    inv,
    [
      'hosts:',
      '  - { name: a, address: 10.0.0.1, capacity: { vcpus: 8, memoryMiB: 4096 } }',
      '  - { name: b, address: 10.0.0.2, capacity: { vcpus: 8, memoryMiB: 4096 } }',
      'vms:',
      '  - { name: x, host: a, vcpus: 1, memoryMiB: 3000 }',
      '  - { name: y, host: b, vcpus: 1, memoryMiB: 3000 }',
      '',
    ].join('\n'),
  );
  const plan = join(rig.dir, 'infeasible.json');
  t.is((await cli(['plan', inv, '--runbook', 'runbooks/libvirt.yaml', '--out', plan])).code, 3);
  await refused(t, ['--set', 'version=2.0'], 3, /infeasible\.json cannot run: \d+ problem\(s\)/, {}, plan);
});

test.serial('an unknown --set variable is refused with exit 2, and audited', async (t) => {
  await refused(t, ['--set', 'version=2.0', '--set', 'verison=2.1'], 2, /--set verison: not a variable of/);
});

test.serial('a known_hosts file that does not exist is refused with exit 2, and audited', async (t) => {
  await refused(t, ['--set', 'version=2.0', '--known-hosts', join(rig.dir, 'no-such-known-hosts')], 2, /known_hosts file .*no-such-known-hosts does not exist/);
});
