// `hvroll status` and `hvroll list`: read-only views of the campaign store (safe while a run holds the lock).
// Status gives groups by state, the step each active group is in, failures, hosts out of the pool, progress
// and an ETA scaled by how the campaign has gone so far.

import { CAMPAIGN_KEY } from '../engine/campaign-runner.ts';
import { stillOut, type OutOfPoolHost } from '../model/out-of-pool.ts';
import type { HostRelease } from '../model/campaign.ts';
import { MIGRATE_CONFIRMED } from '../model/journal.ts';
import type { PlanFile } from '../model/plan.ts';
import { showName } from '../model/show-name.ts';
import { campaignDir } from '../store/paths.ts';
import { CampaignStore, listCampaigns, type CampaignSummary } from '../store/store.ts';

interface SnapshotLike {
  value?: unknown;
  context?: { error?: { message?: string } | null; outOfPool?: { host: string; why: string }[]; approvedBy?: string | null; wave?: number; phase?: string };
}

/** Phases (the last step a group completed) from which every VM of its drain is confirmed on its target. */
const DRAINED = new Set(['draining', 'upgrading', 'rebooting', 'verifying', 'rejoining', 'done']);

/**
 * VMs of `group` confirmed on their target: all of its moves once its drain completed, else those with a
 * `migrate:confirmed` record (in memory: only groups that reached `done` leave the live journal).
 */
function confirmedMoves(store: CampaignStore, group: PlanFile['groups'][number], snap: SnapshotLike | undefined): number {
  if (DRAINED.has(snap?.context?.phase ?? '') || snap?.value === 'done') return group.moves.length;
  if (group.moves.length === 0 || !snap) return 0;
  return new Set(store.liveJournal({ group: group.name, step: MIGRATE_CONFIRMED }).flatMap((e) => (e.outcome?.exitCode === 0 && e.vm !== undefined ? [e.vm] : []))).size;
}

export interface CampaignStatus {
  campaign: string;
  operator: string;
  createdAt: string;
  state: string;
  runner: string;
  groups: { total: number; byState: Record<string, number> };
  /** `step`: the command in flight right now (its journal intent has no outcome yet), when there is one. */
  active: { group: string; state: string; step?: string }[];
  awaitingApproval: string[];
  failed: { group: string; error: string }[];
  /** Hosts the campaign left out of the pool, not released yet: each holds its group's slots. */
  outOfPool: OutOfPoolHost[];
  /** Hosts an operator put back with `hvroll release`. */
  released: HostRelease[];
  /** `done`: planned migrations whose VM is confirmed on its target (moved, found there, or its leftover removed). */
  migrations: { done: number; planned: number };
  etaSeconds: number | null;
}

/** Whether a runner holds the campaign, in words (`running (pid 42)`, `NOT running: …`). */
export function runnerOf(summary: CampaignSummary | undefined): string {
  const lock = summary?.lock;
  if (!lock) return 'not running';
  if (lock.state === 'alive') return `running (pid ${lock.info.pid})`;
  if (lock.state === 'remote') return `running on ${lock.info.hostname} (pid ${lock.info.pid})`;
  if (lock.state === 'stale') return `NOT running: its process ${lock.info.pid} died; continue with hvroll resume (the stale lock is reported, not broken)`;
  return 'lock unreadable';
}

export async function campaignStatus(root: string, id: string, now = Date.now()): Promise<CampaignStatus> {
  const store = await CampaignStore.open(campaignDir(root, id), { readOnly: true });
  try {
    const plan = store.plan();
    const meta = store.meta();
    const byState: Record<string, number> = {};
    const active: CampaignStatus['active'] = [];
    const failed: CampaignStatus['failed'] = [];
    const awaiting: string[] = [];
    const outOfPool: CampaignStatus['outOfPool'] = [];
    const released = store.releases();
    const releasedHosts = new Set(released.map((r) => r.host));
    // How far along the plan's timeline the finished groups got (groups overlap: their durations do not add up).
    let plannedDone = 0;
    let migrationsDone = 0;
    for (const g of plan.groups) {
      const snap = store.groupSnapshot(g.name)?.snapshot as SnapshotLike | undefined;
      const state = snap ? String(snap.value) : 'pending';
      byState[state] = (byState[state] ?? 0) + 1;
      if (state === 'failed') failed.push({ group: g.name, error: snap?.context?.error?.message ?? 'unknown' });
      if (state === 'awaitingApproval') awaiting.push(g.name);
      if (!['pending', 'done', 'failed', 'aborted', 'awaitingApproval'].includes(state)) active.push({ group: g.name, state });
      outOfPool.push(...stillOut(g.name, snap, releasedHosts));
      if (state === 'done') plannedDone = Math.max(plannedDone, g.estimate.endSeconds);
      migrationsDone += confirmedMoves(store, g, snap);
    }
    // The command each active group has in flight: its latest intent without an outcome.
    const inFlight = new Map<string, string>();
    for (const e of store.openIntents()) inFlight.set(e.group, `${e.step}${e.vm ? ` ${showName(e.vm)}` : ''} on ${showName(e.host)}`);
    for (const a of active) {
      const step = inFlight.get(a.group);
      if (step) a.step = step;
    }
    const campaignSnap = store.groupSnapshot(CAMPAIGN_KEY)?.snapshot as SnapshotLike | undefined;
    const elapsed = (now - Date.parse(meta.createdAt)) / 1000;
    // Scale what is left of the plan's timeline by how fast it went so far; with nothing finished, trust the plan.
    const pace = plannedDone > 0 ? elapsed / plannedDone : 1;
    const state = campaignSnap ? String(campaignSnap.value) : 'not started';
    const summaries = await listCampaigns(root);
    return {
      campaign: id,
      operator: meta.operator,
      createdAt: meta.createdAt,
      state,
      runner: runnerOf(summaries.find((s) => s.id === id)),
      groups: { total: plan.groups.length, byState },
      active,
      awaitingApproval: awaiting,
      failed,
      outOfPool,
      released,
      migrations: { done: migrationsDone, planned: plan.summary.migrations },
      etaSeconds: ['done', 'stopped', 'aborted'].includes(state) ? 0 : Math.round(Math.max(0, plan.summary.estimatedSeconds - plannedDone) * pace),
    };
  } finally {
    await store.close();
  }
}

/** The campaigns under a state root, by id (what `hvroll list` shows), with their lock's state. */
export async function campaigns(root: string): Promise<CampaignSummary[]> {
  return listCampaigns(root);
}

/** The most recently created campaign's id, or undefined when there is none. */
export async function latestCampaign(root: string): Promise<string | undefined> {
  const all = (await listCampaigns(root)).filter((c) => c.meta).sort((a, b) => a.meta!.createdAt.localeCompare(b.meta!.createdAt));
  return all.at(-1)?.id;
}
