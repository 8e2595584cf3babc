// `hvroll status [campaign]` and `hvroll list`: read-only views of the campaign store (safe while a run holds
// the lock). Status shows groups by state, the step each active group is in, failures, hosts out of the pool,
// progress and an ETA scaled by how the campaign has gone so far.

import { Command } from 'commander';
import { CAMPAIGN_KEY } from '../../engine/campaign-runner.ts';
import { stillOut, type OutOfPoolHost } from '../../engine/out-of-pool.ts';
import { MIGRATE_CONFIRMED } from '../../model/journal.ts';
import { showName } from '../../model/show-name.ts';
import { HvrollError } from '../../model/errors.ts';
import type { PlanFile } from '../../model/plan.ts';
import { campaignDir } from '../../store/paths.ts';
import type { HostRelease } from '../../model/campaign.ts';
import { CampaignStore, listCampaigns, type CampaignSummary } from '../../store/store.ts';
import { stateRoot, withCampaignFlags, type CampaignFlags } from '../campaign-flags.ts';
import type { CliIo } from '../io.ts';

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

function runnerOf(summary: CampaignSummary | undefined): string {
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

function renderStatus(s: CampaignStatus): string {
  const eta = s.etaSeconds === null ? 'unknown' : `${Math.floor(s.etaSeconds / 3600)}h ${Math.round((s.etaSeconds % 3600) / 60)}m`;
  const lines = [
    `campaign ${s.campaign} — ${s.state}, ${s.runner}`,
    `  started ${s.createdAt} by ${s.operator}`,
    `  groups: ${Object.entries(s.groups.byState).map(([k, v]) => `${k} ${v}`).join(', ')} (of ${s.groups.total})`,
    `  migrations: ${s.migrations.done}/${s.migrations.planned}, ETA ${eta}`,
    ...s.active.map((a) => `  active: ${showName(a.group)} — ${a.state}${a.step ? ` (now: ${a.step})` : ''}`),
    ...s.awaitingApproval.map((g) => `  awaiting approval: ${showName(g)} — hvroll approve ${s.campaign} ${g}`),
    ...s.failed.map((f) => `  FAILED: ${showName(f.group)} — ${f.error}`),
    ...s.outOfPool.map((o) => `  OUT OF POOL: ${showName(o.host)} (group ${showName(o.group)}) — ${o.why}; once fixed: hvroll release ${s.campaign} ${o.host}`),
    ...s.released.map((r) => `  released: ${showName(r.host)} (group ${showName(r.group)}) by ${r.operator} at ${r.at}${r.comment ? ` — ${r.comment}` : ''}`),
  ];
  return `${lines.join('\n')}\n`;
}

export function statusCommand(io: CliIo): Command {
  return withCampaignFlags(new Command('status'))
    .description('Show a campaign: groups by state, current steps, failures, hosts out of the pool, progress and ETA')
    .argument('[campaign]', 'campaign id (default: the most recent)')
    .option('--json', 'print the status as JSON')
    .action(async (campaign: string | undefined, flags: CampaignFlags & { json?: boolean }) => {
      const root = stateRoot(flags, io);
      let id = campaign;
      if (!id) {
        const all = (await listCampaigns(root)).filter((c) => c.meta).sort((a, b) => a.meta!.createdAt.localeCompare(b.meta!.createdAt));
        id = all.at(-1)?.id;
        if (!id) throw new HvrollError('usage', `no campaign in ${root}; start one with hvroll run`);
      }
      const s = await campaignStatus(root, id);
      io.stdout.write(flags.json ? `${JSON.stringify(s, null, 2)}\n` : renderStatus(s));
    });
}

export function listCommand(io: CliIo): Command {
  return withCampaignFlags(new Command('list'))
    .description('List campaigns in the state directory')
    .option('--json', 'print as JSON')
    .action(async (flags: CampaignFlags & { json?: boolean }) => {
      const all = await listCampaigns(stateRoot(flags, io));
      if (flags.json) {
        io.stdout.write(`${JSON.stringify(all.map((c) => ({ id: c.id, createdAt: c.meta?.createdAt ?? null, operator: c.meta?.operator ?? null, runner: runnerOf(c), problem: c.problem ?? null })), null, 2)}\n`);
        return;
      }
      if (all.length === 0) io.stdout.write('no campaigns\n');
      for (const c of all) io.stdout.write(`${c.id}  ${c.meta?.createdAt ?? '?'}  ${c.meta?.operator ?? '?'}  ${runnerOf(c)}${c.problem ? `  PROBLEM: ${c.problem}` : ''}\n`);
    });
}
