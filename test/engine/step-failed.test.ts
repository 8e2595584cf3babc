// When several VMs of one group fail to migrate, the failure names the host they were leaving (for chat,
// status and the failure budget), not a VM as if it were a host.
import test from 'ava';
import { runCampaign } from '../../src/engine/campaign-runner.ts';
import type { EngineEvent } from '../../src/model/events.ts';
import { startRig } from './campaign-fixture.ts';

test('two failed migrations of one group: step.failed names the source host; the error lists the VMs', async (t) => {
  const rig = await startRig({ hosts: 2, vmsPerHost: 2, retries: { migrate: 0 } });
  t.teardown(() => rig.close());
  rig.fleet.model.failNextMigrations(20);
  const events: EngineEvent[] = [];
  const outcome = await runCampaign(rig.deps, { controlPollMs: 50, listener: (e) => void events.push(e) });
  t.is(outcome.state, 'stopped');
  const failed = events.find((e): e is Extract<EngineEvent, { type: 'step.failed' }> => e.type === 'step.failed');
  t.truthy(failed);
  t.is(failed!.host, 'hv-1');
  t.is(failed!.step, 'migrate');
  const snap = rig.deps.store.groupSnapshot('hv-1')!.snapshot as { context: { error: { details: { hosts: string[]; vms?: string[] } } } };
  t.deepEqual(snap.context.error.details.hosts, ['hv-1']);
  t.deepEqual([...(snap.context.error.details.vms ?? [])].sort(), ['vm-0', 'vm-1']);
});
