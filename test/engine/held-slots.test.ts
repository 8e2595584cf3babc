// A group that fails after its upgrade leaves its hosts out of the pool, and they hold the group's slots until
// an operator releases them — in a live runner, across a restart (the runner rebuilds who holds what from the
// store), and when the release's verification fails. Over real SSH (in-process hosts), the shipped runbook,
// the real store.
import test from 'ava';
import { runCampaign } from '../../src/engine/campaign-runner.ts';
import { takeControlResult, writeControlRequest } from '../../src/engine/control.ts';
import type { EngineEvent } from '../../src/model/events.ts';
import { releaseHost } from '../../src/engine/release.ts';
import { startRig, type CampaignRig } from './campaign-fixture.ts';

/** Empty hosts (no VMs, so no group waits for another), one group each, `groups` at once; hv-1 fails verification after its reboot. */
async function rig(groups: number): Promise<CampaignRig> {
  return startRig({ hosts: 4, vmsPerHost: 0, patch: { concurrency: { groups, migrations: 2, migrationsPerHost: 1 }, failureBudget: 1 } });
}

/** libvirtd does not come back after hv-1's reboot: its verification fails, and its host stays out of the pool. */
function breakVerifyOf(r: CampaignRig, host: string): (e: EngineEvent) => void {
  return (e) => {
    if (e.type === 'group.state' && e.group === host && e.state === 'rebooting') r.hosts.host(host).libvirtd = false;
  };
}

test('a live runner: the failed group holds its slot until the host is released through the runner, then the waiting group starts', async (t) => {
  const r = await rig(2);
  t.teardown(() => r.close());
  // hv-2 waits for an approval the whole time: with hv-1 left out of the pool, both slots are taken.
  r.deps.plan.groups.find((g) => g.name === 'hv-2')!.approval = true;
  const breakHv1 = breakVerifyOf(r, 'hv-1');
  let releasesWhenHv3Started = null as number | null;
  let released = null as Promise<unknown> | null;
  const outcome = await runCampaign(r.deps, {
    controlPollMs: 20,
    listener: (e) => {
      breakHv1(e);
      if (e.type === 'group.finished' && e.group === 'hv-1') {
        t.is(e.state, 'failed');
        r.hosts.host('hv-1').libvirtd = true; // the operator fixed it
        released = writeControlRequest(r.dir, { action: 'release', host: 'hv-1', operator: 'bob', comment: 'libvirtd restarted', at: new Date().toISOString() }).then(async (id) => {
          for (;;) {
            const answer = await takeControlResult(r.dir, id);
            if (answer) return answer;
            await new Promise((res) => setTimeout(res, 20));
          }
        });
      }
      if (e.type === 'group.started' && e.group === 'hv-3') {
        releasesWhenHv3Started = r.deps.store.releases().length;
        void writeControlRequest(r.dir, { action: 'approve', group: 'hv-2', operator: 'bob', at: new Date().toISOString() });
      }
    },
  });
  t.is(releasesWhenHv3Started, 1, 'hv-3 started only once hv-1 was released');
  t.deepEqual(await released, { result: 'released', message: 'host hv-1 verified and back in the pool (released by bob); group hv-1 no longer holds its slot' });
  t.is(outcome.state, 'done');
  t.deepEqual(outcome.failed, ['hv-1']);
  t.deepEqual(outcome.outOfPool, [], 'hv-1 is back');
  t.false(r.hosts.host('hv-1').marker, 'hv-1 enabled');
  for (const h of ['hv-2', 'hv-3', 'hv-4']) t.is(r.hosts.host(h).upgrades, 1, h);
  const audit = r.deps.store.audit().filter((a) => a.action === 'release');
  t.deepEqual(audit.map((a) => [a.operator, a.details]), [['bob', { host: 'hv-1', group: 'hv-1', comment: 'libvirtd restarted', result: 'released' }]]);
  const journal = await r.deps.store.journal({ host: 'hv-1' });
  t.true(journal.some((j) => j.step === 'enable' && j.operator === 'bob'), 'the enable command is journalled under the releasing operator');
});

test('nothing else runs: the campaign pauses naming the host; a restarted runner still holds the slot; released without a runner, the rest runs', async (t) => {
  const r = await rig(1);
  t.teardown(() => r.close());
  const first = await runCampaign(r.deps, { controlPollMs: 20, listener: breakVerifyOf(r, 'hv-1') });
  t.is(first.state, 'paused');
  t.deepEqual(first.failed, ['hv-1']);
  t.deepEqual(first.waitingForRelease?.groups, ['hv-2']);
  t.deepEqual(first.waitingForRelease?.hosts.map((h) => h.host), ['hv-1']);
  t.deepEqual(first.outOfPool.map((h) => [h.host, h.group]), [['hv-1', 'hv-1']]);
  t.is(r.hosts.host('hv-2').upgrades, 0, 'hv-2 did not take the failed group\'s slot');

  // A new runner (as after a restart) rebuilds the hold from the store: it pauses again, starting nothing.
  const again = await runCampaign(r.deps, { controlPollMs: 20 });
  t.is(again.state, 'paused');
  t.is(r.hosts.host('hv-2').upgrades, 0);

  // Verification still fails: the host stays out, and says why.
  const refused = await releaseHost(r.deps, { host: 'hv-1', operator: 'carol' });
  t.is(refused.result, 'verify-failed');
  t.regex(refused.message, /host hv-1 failed verification, so it stays out of the pool: .*libvirtd/);
  t.true(r.hosts.host('hv-1').marker, 'still disabled');
  t.deepEqual(r.deps.store.releases(), []);

  r.hosts.host('hv-1').libvirtd = true;
  const ok = await releaseHost(r.deps, { host: 'hv-1', operator: 'carol', comment: 'fixed' });
  t.is(ok.result, 'released');
  t.false(r.hosts.host('hv-1').marker);
  const last = await runCampaign(r.deps, { controlPollMs: 20 });
  t.is(last.state, 'done');
  t.deepEqual(last.outOfPool, []);
  for (const h of ['hv-2', 'hv-3', 'hv-4']) t.is(r.hosts.host(h).upgrades, 1, h);
  t.deepEqual(
    r.deps.store.audit().filter((a) => a.action === 'release').map((a) => (a.details as { result: string }).result.replace(/:.*/, '')),
    ['verify failed', 'released'],
  );
});

test('release refuses a host the campaign did not leave out of the pool, and one already released', async (t) => {
  const r = await rig(1);
  t.teardown(() => r.close());
  await t.throwsAsync(releaseHost(r.deps, { host: 'hv-2', operator: 'bob' }), { message: /host hv-2 cannot be released from campaign c1: its group hv-2 did not leave it out of the pool.*no host is out of the pool/ });
  await t.throwsAsync(releaseHost(r.deps, { host: 'nope', operator: 'bob' }), { message: /it is not a host of the campaign/ });
  await runCampaign(r.deps, { controlPollMs: 20, listener: breakVerifyOf(r, 'hv-1') });
  r.hosts.host('hv-1').libvirtd = true;
  t.is((await releaseHost(r.deps, { host: 'hv-1', operator: 'bob' })).result, 'released');
  await t.throwsAsync(releaseHost(r.deps, { host: 'hv-1', operator: 'bob' }), { message: /host hv-1 of campaign c1 was already released by bob at .*; nothing to do/ });
  t.is(r.hosts.host('hv-1').upgrades, 1);
});
