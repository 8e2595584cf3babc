// `run` executes exactly the plan that was reviewed: a plan file edited after `hvroll plan` wrote it — a raised
// limit, a cleared dependency, a retargeted or removed move, a removed approval, a flipped `runnable` — is
// refused with exit 4 (stale-plan) naming the first differing JSON path and both values, before any store
// exists and before the executor is asked for anything. Other whitespace or key order is the same plan.
// In process (startCampaign is what `hvroll run` calls); run-refusals.test.ts checks the CLI over SSH.

import test from 'ava';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startCampaign } from '../../src/app/session.ts';
import type { Executor } from '../../src/executor/executor.ts';
import { HvrollError } from '../../src/model/errors.ts';
import type { PlanFile, PlannedGroup } from '../../src/model/plan.ts';
import { canonicalJson } from '../../src/plan-file/canonical-json.ts';
import { CampaignStore } from '../../src/store/store.ts';
import { hvrollCli } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'hvroll-altered-'));
const calls: string[] = [];
/** Any call is a host contacted: none may happen before every check has passed. */
const executor: Executor = {
  run: (host, cmd) => {
    calls.push(`${host.name}: ${cmd.argv.join(' ')}`);
    return Promise.reject(new Error('no host may be contacted'));
  },
  waitForHost: (host) => {
    calls.push(`${host.name}: wait`);
    return Promise.reject(new Error('no host may be contacted'));
  },
  close: () => Promise.resolve(),
};

let good: PlanFile;
let infeasible: PlanFile;
const goodPath = join(dir, 'plan.json');
const infeasiblePath = join(dir, 'infeasible.json');

test.before(async () => {
  // The example fleet with every limit set: a domain limit and the two-person rule on top of its class limit,
  // approvals and dependencies.
  const example = readFileSync('inventory/example.yaml', 'utf8')
    .replace('concurrency: { groups: 2, migrations: 8, migrationsPerHost: 2 }', 'concurrency: { groups: 2, migrations: 8, migrationsPerHost: 2, groupsPerDomain: 1 }\n  twoPersonRule: true');
  writeFileSync(join(dir, 'inventory.yaml'), example);
  cpSync('runbooks/libvirt.yaml', join(dir, 'libvirt.yaml'));
  cpSync('runbooks/openstack.yaml', join(dir, 'openstack.yaml'));
  const planned = await hvrollCli(['plan', join(dir, 'inventory.yaml'), '--runbook', join(dir, 'libvirt.yaml'), '--out', goodPath, '--json']);
  if (planned.code !== 0) throw new Error(planned.stderr);
  good = JSON.parse(readFileSync(goodPath, 'utf8')) as PlanFile;
  // Two hosts, each too full to take the other's VM: no target, so the plan has problems and cannot run.
  writeFileSync(
    join(dir, 'full.yaml'),
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
  const blocked = await hvrollCli(['plan', join(dir, 'full.yaml'), '--runbook', join(dir, 'libvirt.yaml'), '--out', infeasiblePath, '--json']);
  if (blocked.code !== 3) throw new Error(`expected an infeasible plan: ${blocked.stderr}`);
  infeasible = JSON.parse(readFileSync(infeasiblePath, 'utf8')) as PlanFile;
});

let n = 0;
/** Writes the plan (edited by `edit`) to a new file and starts a campaign from it, as `hvroll run` does. */
async function runEdited(base: PlanFile, edit: (p: PlanFile) => void, extra: { runbookPath?: string; text?: (p: PlanFile) => string } = {}) {
  const plan = structuredClone(base);
  edit(plan);
  const planPath = join(dir, `edited-${++n}.json`);
  writeFileSync(planPath, extra.text ? extra.text(plan) : JSON.stringify(plan, null, 2));
  const stateRoot = join(dir, `state-${n}`);
  const before = calls.length;
  const started = startCampaign({
    stateRoot,
    operator: 'tester',
    log: pino({ level: 'silent' }),
    executor,
    planPath,
    sets: { version: '2.0' },
    campaignId: 'c1',
    ...(extra.runbookPath ? { runbookPath: extra.runbookPath } : {}),
  });
  return { started, stateRoot, planPath, contacted: () => calls.slice(before) };
}

async function refused(t: import('ava').ExecutionContext, base: PlanFile, edit: (p: PlanFile) => void, expected: RegExp, extra: { runbookPath?: string } = {}): Promise<void> {
  const r = await runEdited(base, edit, extra);
  const err = await t.throwsAsync(r.started);
  t.true(err instanceof HvrollError && err.kind === 'stale-plan', `${err?.message}`);
  t.regex(err!.message, expected);
  t.false(existsSync(join(r.stateRoot, 'c1')), 'no campaign store created');
  t.deepEqual(r.contacted(), [], 'no host contacted');
}

const groupWhere = (p: PlanFile, ok: (g: PlannedGroup) => boolean): PlannedGroup => {
  const g = p.groups.find(ok);
  if (!g) throw new Error('the test plan has no such group');
  return g;
};
const says = (path: string, inFile: string, inputs: string) => new RegExp(`stale or altered plan: .*${path.replace(/[.[\]]/g, '\\$&')}: the plan file says ${inFile}, its inputs give ${inputs}`);

// Settings: every limit `run` enforces.
const settings: [string, (p: PlanFile) => void, RegExp][] = [
  ['concurrency.groups raised', (p) => (p.settings.concurrency.groups = 8), says('settings.concurrency.groups', '8', '2')],
  ['concurrency.migrations raised', (p) => (p.settings.concurrency.migrations = 64), says('settings.concurrency.migrations', '64', '8')],
  ['concurrency.migrationsPerHost raised', (p) => (p.settings.concurrency.migrationsPerHost = 9), says('settings.concurrency.migrationsPerHost', '9', '2')],
  ['concurrency.groupsPerDomain lifted', (p) => (p.settings.concurrency.groupsPerDomain = null), says('settings.concurrency.groupsPerDomain', 'null', '1')],
  ['concurrency.classes limit raised', (p) => (p.settings.concurrency.classes['db-critical'] = 3), says('settings.concurrency.classes.db-critical', '3', '1')],
  ['concurrency.classes limit removed', (p) => delete p.settings.concurrency.classes['db-critical'], says('settings.concurrency.classes.db-critical', '\\(absent\\)', '1')],
  ['failureBudget raised', (p) => (p.settings.failureBudget = 50), says('settings.failureBudget', '50', '1')],
  ['maintenanceBudget raised', (p) => (p.settings.maintenanceBudget['rack=r3']!.memoryMiB += 100_000), /settings\.maintenanceBudget\["rack=r3"\]\.memoryMiB: the plan file says \d+, its inputs give -?\d+/],
  ['twoPersonRule removed', (p) => delete p.settings.twoPersonRule, says('settings.twoPersonRule', '\\(absent\\)', 'true')],
  ['twoPersonRule off', (p) => (p.settings.twoPersonRule = false), says('settings.twoPersonRule', 'false', 'true')],
  ['cpuOvercommit raised', (p) => (p.settings.cpuOvercommit = 16), says('settings.cpuOvercommit', '16', '4')],
  ['failureDomain changed', (p) => (p.settings.failureDomain = 'site'), says('settings.failureDomain', '"site"', '"rack"')],
  ['migrationDomain cleared', (p) => (p.settings.migrationDomain = null), says('settings.migrationDomain', 'null', '"site"')],
];
for (const [what, edit, expected] of settings) {
  test(`settings: ${what} is refused, naming the path and both values`, async (t) => {
    await refused(t, good, edit, expected);
  });
}

// The strategy and estimates are inputs of the fingerprint: the fingerprint check refuses them first.
for (const [what, edit] of [
  ['estimates.upgradeSeconds', (p: PlanFile) => (p.settings.estimates.upgradeSeconds = 1)],
  ['estimates.migrationBandwidthMiBps', (p: PlanFile) => (p.settings.estimates.migrationBandwidthMiBps *= 10)],
  ['strategy', (p: PlanFile) => (p.settings.strategy = 'naive')],
] as const) {
  test(`settings: ${what} changed is refused by the fingerprint check`, async (t) => {
    await refused(t, good, edit, /no longer matches its inputs.*settings\.strategy or settings\.estimates were edited/);
  });
}

// Groups: what each group does, and when.
const groups: [string, (p: PlanFile) => void, RegExp][] = [
  [
    'after cleared',
    (p) => (groupWhere(p, (g) => g.after.length > 0).after = []),
    /stale or altered plan: .*groups\[\d+\]\.after\[0\]: the plan file says \(absent\), its inputs give "[^"]+"/,
  ],
  [
    'moves[].to retargeted',
    (p) => {
      const g = groupWhere(p, (x) => x.moves.length > 0);
      g.moves[0]!.to = g.moves[0]!.from;
    },
    /groups\[\d+\]\.moves\[0\]\.to: the plan file says "hv-[^"]+", its inputs give "hv-[^"]+"/,
  ],
  ['a move removed', (p) => groupWhere(p, (x) => x.moves.length > 1).moves.shift(), /groups\[\d+\]\.moves\[0\]\.\w+: the plan file says/],
  [
    'a move added',
    (p) => {
      const g = groupWhere(p, (x) => x.moves.length > 0);
      g.moves.push({ ...g.moves[0]!, vm: 'stowaway' });
    },
    /groups\[\d+\]\.moves\[\d+\]: the plan file says \{"vm":"stowaway".*, its inputs give \(absent\)/,
  ],
  ['a host added', (p) => groupWhere(p, (x) => x.hosts.length > 0).hosts.push('hv-r9-99'), /groups\[\d+\]\.hosts\[\d+\]: the plan file says "hv-r9-99", its inputs give \(absent\)/],
  ['a host removed', (p) => groupWhere(p, (x) => x.hosts.length > 1).hosts.pop(), /groups\[\d+\]\.hosts\[1\]: the plan file says \(absent\), its inputs give "hv-[^"]+"/],
  ['approval removed', (p) => (groupWhere(p, (x) => x.approval).approval = false), /groups\[\d+\]\.approval: the plan file says false, its inputs give true/],
  ['tier changed', (p) => (groupWhere(p, (x) => x.tier === 'last').tier = 'normal'), /groups\[\d+\]\.tier: the plan file says "normal", its inputs give "last"/],
  ['class changed', (p) => (groupWhere(p, (x) => x.class === 'db-critical').class = 'standard'), /groups\[\d+\]\.class: the plan file says "standard", its inputs give "db-critical"/],
  [
    'groups reordered',
    (p) => {
      const [a, b] = [p.groups[1]!, p.groups[2]!];
      p.groups[1] = b;
      p.groups[2] = a;
    },
    /groups\[1\]\.name: the plan file says "[^"]+", its inputs give "[^"]+"/,
  ],
  [
    'a group renamed everywhere',
    (p) => {
      const old = p.groups[2]!.name;
      const rename = (s: string) => (s === old ? 'renamed' : s);
      for (const g of p.groups) g.after = g.after.map(rename);
      for (const w of p.waves) w.groups = w.groups.map(rename);
      p.groups[2]!.name = 'renamed';
    },
    /groups\[2\]\.name: the plan file says "renamed", its inputs give "[^"]+"|waves\[\d+\]\.groups\[\d+\]: the plan file says "renamed"/,
  ],
  [
    'a group removed',
    (p) => {
      const [gone] = p.groups.splice(p.groups.length - 1, 1);
      for (const w of p.waves) w.groups = w.groups.filter((x) => x !== gone!.name);
      p.summary.groups--;
    },
    /stale or altered plan: .*(summary\.groups|waves\[\d+\]\.groups\[0\]|groups\[\d+\]): the plan file says/,
  ],
  ['wave changed', (p) => (p.groups[3]!.wave = 99), /groups\[3\]\.wave: the plan file says 99, its inputs give \d+/],
  ['estimate changed', (p) => (p.groups[3]!.estimate.endSeconds += 1), /groups\[3\]\.estimate\.endSeconds: the plan file says [\d.]+, its inputs give [\d.]+/],
  ['status changed', (p) => (p.groups[3]!.status = 'skipped'), /groups\[3\]\.status: the plan file says "skipped", its inputs give "ready"/],
  ['a wave merged into the first', (p) => p.waves[0]!.groups.push(...p.waves[1]!.groups), /waves\[0\]\.groups\[\d+\]: the plan file says "[^"]+", its inputs give \(absent\)/],
  ['summary.migrations changed', (p) => (p.summary.migrations = 1), /summary\.migrations: the plan file says 1, its inputs give \d+/],
  ['a warning removed', (p) => p.warnings.pop(), /warnings\[\d+\]: the plan file says \(absent\), its inputs give "/],
];
for (const [what, edit, expected] of groups) {
  test(`plan body: ${what} is refused, naming the path and both values`, async (t) => {
    await refused(t, good, edit, expected);
  });
}

test('an infeasible plan with summary.runnable flipped to true is refused as altered, not run', async (t) => {
  await refused(t, infeasible, (p) => (p.summary.runnable = true), /summary\.runnable: the plan file says true, its inputs give false/);
});

test('an infeasible plan with its problems emptied (and runnable flipped) is refused as altered', async (t) => {
  await refused(
    t,
    infeasible,
    (p) => {
      p.problems = [];
      p.summary.runnable = true;
    },
    /summary\.runnable: the plan file says true, its inputs give false/,
  );
  await refused(t, infeasible, (p) => (p.problems = []), /problems\[0\]: the plan file says \(absent\), its inputs give \{"kind":"no-target"/);
});

test('an unaltered infeasible plan is still refused as one that cannot run (exit 3)', async (t) => {
  const r = await runEdited(infeasible, () => undefined);
  const err = await t.throwsAsync(r.started);
  t.true(err instanceof HvrollError && err.kind === 'infeasible-plan', err?.message);
  t.deepEqual(r.contacted(), []);
});

// Inputs: the fingerprint covers what the files hold, so pointing the plan at other files is refused too.
test('inputs.runbook swapped to another runbook is refused', async (t) => {
  await refused(t, good, (p) => (p.inputs.runbook = join(dir, 'openstack.yaml')), /no longer matches its inputs/);
});

test('inputs.inventory swapped to another inventory is refused', async (t) => {
  const other = join(dir, 'other-inventory.yaml');
  writeFileSync(other, readFileSync(join(dir, 'inventory.yaml'), 'utf8').replace('failureBudget: 1', 'failureBudget: 3'));
  await refused(t, good, (p) => (p.inputs.inventory = [other]), /no longer matches its inputs/);
});

test('run --runbook pointing at another runbook is refused', async (t) => {
  await refused(t, good, () => undefined, /no longer matches its inputs/, { runbookPath: join(dir, 'openstack.yaml') });
});

/** Keys in reverse order at every level, as another tool might write them. */
function reversedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reversedKeys);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.keys(v).reverse().map((k) => [k, reversedKeys((v as Record<string, unknown>)[k])]));
}

test('the same plan re-serialised with other whitespace and key order runs, and its seal is sha256 of the canonical body', async (t) => {
  const r = await runEdited(good, () => undefined, { text: (p) => `\n${JSON.stringify(reversedKeys(p), null, '\t')}\n\n` });
  const session = await r.started;
  try {
    const { generatedAt: _generatedAt, ...body } = good;
    const seal = `sha256:${createHash('sha256').update(canonicalJson(body)).digest('hex')}`;
    t.is(session.deps.store.meta().planSeal, seal);
    t.like(session.deps.store.audit().find((a) => a.action === 'run')?.details, { planSeal: seal });
    t.deepEqual(session.deps.store.plan(), good, 'the store holds the plan as reviewed');
  } finally {
    await session.close();
  }
  t.deepEqual(r.contacted(), []);
  const reopened = await CampaignStore.open(join(r.stateRoot, 'c1'), { readOnly: true });
  t.deepEqual(reopened.plan(), good);
  await reopened.close();
});

test('a changed generatedAt (no input decides it) is the same plan and runs', async (t) => {
  const r = await runEdited(good, (p) => (p.generatedAt = '2000-01-01T00:00:00.000Z'));
  const session = await r.started;
  await session.close();
  t.pass();
});
