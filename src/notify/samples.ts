// One example of every message, for `hvroll notify test`: what operators will see, sent for real.

import type { EngineEvent } from '../model/events.ts';

export function sampleEvents(campaignId: string): EngineEvent[] {
  const outOfPool: { host: string; why: string }[] = [];
  return [
    { type: 'campaign.started', campaignId, resumed: false, waves: 4, groups: 12 },
    { type: 'wave.started', wave: 0, groups: ['canary/1'] },
    { type: 'group.started', group: 'canary/1', className: 'canary', hosts: ['hv-01'] },
    { type: 'group.finished', group: 'canary/1', state: 'done', outOfPool, durationMs: 754_000 },
    { type: 'group.awaiting-approval', group: 'db/1', className: 'critical' },
    {
      type: 'step.failed',
      group: 'r2/1',
      step: 'migrate',
      host: 'hv-07',
      exitCode: 1,
      outputTail: 'error: operation failed: migration job: unexpectedly failed\n(this is a test message from hvroll notify test)',
      error: 'migrate on hv-07 (VM web-12): `virsh migrate --live web-12 qemu+ssh://hv-03/system` exited 1',
    },
    { type: 'budget.reached', failed: 2, budget: 1 },
    { type: 'eta.changed', remainingSeconds: 5400, previousSeconds: 3600, finishAt: new Date(Date.now() + 5_400_000).toISOString() },
    { type: 'campaign.paused', operator: 'alice' },
    { type: 'campaign.started', campaignId, resumed: true, waves: 4, groups: 12 },
    { type: 'campaign.aborted', operator: 'bob' },
    { type: 'campaign.finished', state: 'done', failed: [], outOfPool, totals: { groups: 12, done: 12, failed: 0, aborted: 0 }, durationMs: 9_240_000 },
  ];
}
