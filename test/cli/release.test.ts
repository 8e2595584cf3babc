// `hvroll release` as an operator types it, against in-process SSH hosts: through a live `hvroll run` (the
// runner verifies and enables the host, and the CLI waits for its answer), and with no runner (the CLI opens
// the store and does it itself); verify failing (exit 6, the host stays out and holds its slot) and passing
// (exit 0, waiting groups start); status, report and audit show it; hosts that are not out are refused (exit 2).
import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeControlRequest } from '../../src/engine/control.ts';
import { CampaignStore } from '../../src/store/store.ts';
import { cli, startCliRig, type CliRig } from '../engine/cli-rig.ts';

/** hv-1 … hv-3 hold one VM each that stays put (policy shutdown: no group waits for another); hv-4 is empty. */
async function rig(groups: number, approval: boolean): Promise<CliRig> {
  return startCliRig(4, 1, {
    retryDelays: { verify: 0.1 },
    inventory: (inv) => {
      for (const v of inv.vms) v.migratable = false;
      inv.rules = {
        ...inv.rules,
        concurrency: { groups, migrations: 2, migrationsPerHost: 1 },
        failureBudget: 1,
        nonMigratable: { policy: 'shutdown', groups: {} },
        ...(approval ? { sensitivity: [{ class: 'gated', match: {}, order: 'normal', approval: true }] } : {}),
      };
    },
  });
}

/** libvirtd does not come back after hv-1's reboot: its verification fails and it stays out of the pool. */
function breakVerifyOfHv1(r: CliRig): void {
  const changes = r.hosts.changes;
  const push = changes.push.bind(changes);
  changes.push = (...items: string[]) => {
    if (items.includes('hv-1 reboot')) r.hosts.host('hv-1').libvirtd = false;
    return push(...items);
  };
}

/** Group states as the store has them; empty until `run` has created the store. */
async function groupStates(dir: string): Promise<Record<string, string>> {
  let store: CampaignStore;
  try {
    store = await CampaignStore.open(dir, { readOnly: true });
  } catch {
    return {};
  }
  try {
    return Object.fromEntries(['hv-1', 'hv-2', 'hv-3', 'hv-4'].map((g) => [g, String((store.groupSnapshot(g)?.snapshot as { value?: unknown } | undefined)?.value ?? 'pending')]));
  } finally {
    await store.close();
  }
}

/** The SSH flags `release` shares with `resume` (not the live view's). */
const ssh = (r: CliRig) => r.sshFlags.filter((f) => f !== '--no-progress');

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('through a live runner: a failed verify keeps the host out (exit 6); once fixed, release (exit 0) frees its slot and the waiting group starts', async (t) => {
  const r = await rig(2, true);
  t.teardown(() => r.stop());
  breakVerifyOfHv1(r);
  const state = mkdtempSync(join(r.dir, 'state-'));
  const dir = join(state, 'c1');
  const run = cli(['run', '--plan', r.plan, '--set', 'version=2.0', '--state', state, '--campaign', 'c1', ...r.sshFlags], { HVROLL_OPERATOR: 'alice' }, 120_000);
  // hv-1 is approved and fails; hv-2 waits for its approval: both slots are taken, hv-3 must wait.
  await until('hv-1 and hv-2 to await approval', async () => {
    const s = await groupStates(dir);
    return s['hv-1'] === 'awaitingApproval' && s['hv-2'] === 'awaitingApproval';
  });
  await writeControlRequest(dir, { action: 'approve', group: 'hv-1', operator: 'bob', at: new Date().toISOString() });
  await until('hv-1 to fail', async () => (await groupStates(dir))['hv-1'] === 'failed');
  t.is((await groupStates(dir))['hv-3'], 'pending', 'hv-1 left out of the pool still holds its slot');

  const refused = await cli(['release', 'c1', 'hv-1', '--state', state, '--comment', 'first try', ...ssh(r)], { HVROLL_OPERATOR: 'carol' });
  t.is(refused.code, 6, refused.stderr);
  t.regex(refused.stderr, /sent to the runner of campaign c1/);
  t.regex(refused.stderr, /error: host hv-1 failed verification, so it stays out of the pool: .*libvirtd/);
  t.true(r.hosts.host('hv-1').marker, 'hv-1 still disabled');
  t.is((await groupStates(dir))['hv-3'], 'pending');

  r.hosts.host('hv-1').libvirtd = true;
  const ok = await cli(['release', 'c1', 'hv-1', '--state', state, '--comment', 'restarted libvirtd', ...ssh(r)], { HVROLL_OPERATOR: 'carol' });
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stderr, /host hv-1 verified and back in the pool \(released by carol\); group hv-1 no longer holds its slot/);
  t.false(r.hosts.host('hv-1').marker, 'hv-1 enabled');
  await until('hv-3 to start', async () => (await groupStates(dir))['hv-3'] !== 'pending');

  const status = await cli(['status', 'c1', '--state', state, '--json']);
  const s = JSON.parse(status.stdout) as { outOfPool: unknown[]; released: { host: string; operator: string; comment: string }[] };
  t.deepEqual(s.outOfPool, []);
  t.deepEqual(s.released.map((x) => [x.host, x.operator, x.comment]), [['hv-1', 'carol', 'restarted libvirtd']]);

  for (const g of ['hv-2', 'hv-3']) await writeControlRequest(dir, { action: 'approve', group: g, operator: 'bob', at: new Date().toISOString() });
  const done = await run;
  t.is(done.code, 7, `one group failed (within the budget): ${done.stderr}`);
  t.regex(done.stderr, /finished with 1 failed group\(s\): hv-1/);
  t.notRegex(done.stderr, /OUT OF THE POOL/, 'hv-1 is back');
  const audit = await cli(['audit', 'c1', '--state', state, '--json']);
  const releases = (JSON.parse(audit.stdout) as { entries: { action: string; operator: string; result: string }[] }).entries.filter((a) => a.action === 'release');
  t.deepEqual(releases.map((a) => [a.operator, a.result.replace(/:.*/, '')]), [['carol', 'verify failed'], ['carol', 'released']]);
});

test('without a runner: run pauses naming the host; release refuses other hosts (exit 2), keeps a host that fails verify (exit 6), releases a fixed one (exit 0); resume runs the rest', async (t) => {
  const r = await rig(1, false);
  t.teardown(() => r.stop());
  breakVerifyOfHv1(r);
  const state = mkdtempSync(join(r.dir, 'state-'));
  const run = await cli(['run', '--plan', r.plan, '--set', 'version=2.0', '--state', state, '--campaign', 'c1', ...r.sshFlags], { HVROLL_OPERATOR: 'alice' }, 120_000);
  t.is(run.code, 7, run.stderr);
  t.regex(run.stderr, /host hv-1 is OUT OF THE POOL/);
  t.regex(run.stderr, /campaign c1 paused: 1 group\(s\) wait for host\(s\) left out of the pool \(hv-1\).*hvroll release c1 <host>, then hvroll resume c1/);
  t.is(r.hosts.host('hv-2').upgrades, 0, 'hv-2 did not take hv-1\'s slot');

  const status = await cli(['status', 'c1', '--state', state]);
  t.regex(status.stdout, /OUT OF POOL: hv-1 \(group hv-1\) — .*; once fixed: hvroll release c1 hv-1/);

  const other = await cli(['release', 'c1', 'hv-2', '--state', state, ...ssh(r)]);
  t.is(other.code, 2, other.stderr);
  t.regex(other.stderr, /host hv-2 cannot be released from campaign c1: its group hv-2 did not leave it out of the pool\. Only a host the campaign left out of the pool can be released \(hosts out of the pool: hv-1/);
  const unknown = await cli(['release', 'nope', 'hv-1', '--state', state, ...ssh(r)]);
  t.is(unknown.code, 2, unknown.stderr);

  const failing = await cli(['release', 'c1', 'hv-1', '--state', state, ...ssh(r)], { HVROLL_OPERATOR: 'carol' });
  t.is(failing.code, 6, failing.stderr);
  t.regex(failing.stderr, /campaign c1 is not running: verifying hv-1/);
  t.regex(failing.stderr, /error: host hv-1 failed verification, so it stays out of the pool/);
  t.true(r.hosts.host('hv-1').marker);

  r.hosts.host('hv-1').libvirtd = true;
  const ok = await cli(['release', 'c1', 'hv-1', '--state', state, '--comment', 'swapped the NIC', ...ssh(r)], { HVROLL_OPERATOR: 'carol' });
  t.is(ok.code, 0, ok.stderr);
  t.false(r.hosts.host('hv-1').marker);
  const again = await cli(['release', 'c1', 'hv-1', '--state', state, ...ssh(r)]);
  t.is(again.code, 2);
  t.regex(again.stderr, /already released by carol/);

  const report = join(r.dir, 'report.html');
  t.is((await cli(['report', 'c1', '--state', state, '--out', report])).code, 0);
  const html = readFileSync(report, 'utf8');
  t.regex(html, /<h2 id="out-of-pool">Hosts out of the pool<\/h2><table>.*<td>hv-1<\/td><td>hv-1<\/td><td>released<\/td><td>by carol at [^<]*: swapped the NIC<\/td>/s);

  const resumed = await cli(['resume', 'c1', '--state', state, ...r.sshFlags], { HVROLL_OPERATOR: 'alice' }, 120_000);
  t.is(resumed.code, 7, resumed.stderr);
  t.regex(resumed.stderr, /finished with 1 failed group\(s\): hv-1/);
  for (const h of ['hv-2', 'hv-3', 'hv-4']) t.is(r.hosts.host(h).upgrades, 1, h);
});
