// What a campaign report shows, computed from the plan and (when there is one) the campaign store's
// records: per group the planned and the actual timeline by phase, failures with their output, every VM's
// migrations, and the audit trail. Pure: one pass over the journal, so it scales with the campaign.

import { auditTrail, type AuditEntry } from '../audit/trail.ts';
import { failedEntries } from './failures.ts';
import type { OutOfPoolHost } from '../model/out-of-pool.ts';
import { MIGRATE_CONFIRMED } from '../model/journal.ts';
import type { PlanFile } from '../model/plan.ts';
import type { AuditEvent, CampaignMeta, HostRelease, NotificationRecord } from '../model/campaign.ts';
import { journalStepOf, type JournalEntry } from '../model/journal.ts';

export type Phase = 'disable' | 'drain' | 'upgrade' | 'reboot' | 'verify' | 'enable' | 'rollback';
export const PHASES: readonly Phase[] = ['disable', 'drain', 'upgrade', 'reboot', 'verify', 'enable', 'rollback'];

/** A journal entry (`migrate:check`, `reboot:boot-id` …) → the phase its step belongs to. */
export function phaseOf(e: Pick<JournalEntry, 'step' | 'probe' | 'effect'>): Phase {
  const s = journalStepOf(e).step;
  if (s === 'precheck' || s === 'disable') return 'disable';
  if (s === 'migrate' || s === 'discover') return 'drain';
  if (s === 'upgrade' || s === 'reboot' || s === 'verify' || s === 'enable' || s === 'rollback') return s;
  return 'enable';
}

export interface Span {
  phase: Phase;
  /** Seconds from the campaign's start. */
  start: number;
  end: number;
}

export interface GroupReport {
  name: string;
  wave: number;
  class: string;
  hosts: string[];
  approval: boolean;
  moves: number;
  planned: Span[];
  actual: Span[];
  /** done, failed, aborted, running, paused, pending — or `planned` for a plan-only report. */
  state: string;
  error: string | null;
  commands: number;
}

export interface Failure {
  group: string;
  host: string;
  step: string;
  at: string;
  exitCode: number | null;
  error: string | null;
  argv: string;
  output: string;
}

export interface VmMigration {
  vm: string;
  from: string;
  to: string;
  group: string;
  repeat: boolean;
  plannedSeconds: number;
  /** `done` (on its target by its migration, even one whose command failed late), `failed`, `already there`, `not started`, `planned`. */
  result: string;
  seconds: number | null;
}

export interface CampaignReport {
  title: string;
  generatedAt: string;
  campaign: CampaignMeta | null;
  plan: { fingerprint: string; generatedAt: string; hosts: number; vms: number; groups: number; waves: number; migrations: number; estimatedSeconds: number; twoPersonRule: boolean };
  /** Groups by state. */
  states: Record<string, number>;
  /** Seconds from the campaign's start to its last recorded command (null: plan only). */
  actualSeconds: number | null;
  groups: GroupReport[];
  failures: Failure[];
  migrations: VmMigration[];
  /** Hosts the campaign left out of the pool and not released, and those released (`hvroll release`). */
  outOfPool: OutOfPoolHost[];
  released: HostRelease[];
  audit: AuditEntry[];
  notifications: NotificationRecord[];
}

export interface StoreView {
  meta: CampaignMeta;
  journal: JournalEntry[];
  audit: AuditEvent[];
  notifications: NotificationRecord[];
  /** Final or current machine state per group (from its snapshot). */
  groupState: (group: string) => { state: string; error: string | null } | undefined;
  /** Hosts left out of the pool now (engine/out-of-pool.ts), and releases. */
  outOfPool?: OutOfPoolHost[];
  releases?: HostRelease[];
}

const secs = (iso: string, t0: number) => (Date.parse(iso) - t0) / 1000;

function plannedSpans(g: PlanFile['groups'][number]): Span[] {
  const e = g.estimate;
  const drainEnd = e.startSeconds + e.drainSeconds;
  return [
    { phase: 'drain', start: e.startSeconds, end: drainEnd },
    { phase: 'upgrade', start: drainEnd, end: e.endSeconds },
  ];
}

export function buildReport(plan: PlanFile, store: StoreView | null, now = new Date()): CampaignReport {
  const t0 = store ? Date.parse(store.meta.createdAt) : 0;
  const byGroup = new Map<string, JournalEntry[]>();
  let last = t0;
  for (const e of store?.journal ?? []) {
    let list = byGroup.get(e.group);
    if (!list) byGroup.set(e.group, (list = []));
    list.push(e);
    last = Math.max(last, Date.parse(e.outcome?.endedAt ?? e.startedAt));
  }
  const groups: GroupReport[] = plan.groups.map((g) => {
    const entries = byGroup.get(g.name) ?? [];
    const spans = new Map<Phase, Span>();
    for (const e of entries) {
      const phase = phaseOf(e);
      const start = secs(e.startedAt, t0);
      const end = secs(e.outcome?.endedAt ?? e.startedAt, t0);
      const s = spans.get(phase);
      if (!s) spans.set(phase, { phase, start, end });
      else {
        s.start = Math.min(s.start, start);
        s.end = Math.max(s.end, end);
      }
    }
    const st = store?.groupState(g.name);
    return {
      name: g.name,
      wave: g.wave,
      class: g.class,
      hosts: g.hosts,
      approval: g.approval,
      moves: g.moves.length,
      planned: plannedSpans(g),
      actual: [...spans.values()].sort((a, b) => a.start - b.start),
      state: store ? (st?.state ?? 'pending') : 'planned',
      error: st?.error ?? null,
      commands: entries.length,
    };
  });

  const failures: Failure[] = [];
  for (const e of store ? failedEntries(store.journal, (g) => store.groupState(g)?.error ?? null) : []) {
    const o = e.outcome!;
    failures.push({ group: e.group, host: e.host, step: e.step, at: e.startedAt, exitCode: o.exitCode, error: o.error?.message ?? null, argv: (e.argv ?? []).join(' '), output: o.outputTail.split('\n').slice(-30).join('\n') });
  }

  const migrateRuns = new Map<string, JournalEntry[]>();
  // VMs the engine confirmed on their target, however they got there (migrate:confirmed records).
  const confirmed = new Set<string>();
  for (const e of store?.journal ?? []) {
    if (!e.vm) continue;
    const k = `${e.group}\u0000${e.vm}`;
    if (e.step === MIGRATE_CONFIRMED && e.outcome?.exitCode === 0) confirmed.add(k);
    if (e.step !== 'migrate') continue;
    migrateRuns.set(k, [...(migrateRuns.get(k) ?? []), e]);
  }
  const migrations: VmMigration[] = plan.groups.flatMap((g) =>
    g.moves.map((m) => {
      const k = `${g.name}\u0000${m.vm}`;
      const runs = migrateRuns.get(k) ?? [];
      const ok = runs.find((r) => r.outcome?.exitCode === 0 && !r.outcome.error);
      const state = store?.groupState(g.name)?.state;
      // Past its drain, every VM of a group is on its target (journals older than migrate:confirmed).
      const there = confirmed.has(k) || (state !== undefined && ['upgrading', 'rebooting', 'verifying', 'rejoining', 'done'].includes(state));
      // A migrate command that failed while the VM still reached its target (cut short, its leftover removed) is done.
      const result = !store ? 'planned' : ok ? 'done' : there ? (runs.length > 0 ? 'done' : 'already there') : runs.length > 0 ? 'failed' : 'not started';
      const seconds = ok?.outcome ? (Date.parse(ok.outcome.endedAt) - Date.parse(ok.startedAt)) / 1000 : null;
      return { vm: m.vm, from: m.from, to: m.to, group: g.name, repeat: m.repeat, plannedSeconds: m.seconds, result, seconds };
    }),
  );

  const states: Record<string, number> = {};
  for (const g of groups) states[g.state] = (states[g.state] ?? 0) + 1;
  return {
    title: store ? `Campaign ${store.meta.campaignId}` : 'Campaign plan',
    generatedAt: now.toISOString(),
    campaign: store?.meta ?? null,
    plan: {
      fingerprint: plan.fingerprint,
      generatedAt: plan.generatedAt,
      hosts: plan.summary.hosts,
      vms: plan.summary.vms,
      groups: plan.summary.groups,
      waves: plan.summary.waves,
      migrations: plan.summary.migrations,
      estimatedSeconds: plan.summary.estimatedSeconds,
      twoPersonRule: plan.settings.twoPersonRule === true,
    },
    states,
    actualSeconds: store && store.journal.length > 0 ? (last - t0) / 1000 : null,
    groups,
    failures,
    migrations,
    outOfPool: store?.outOfPool ?? [],
    released: store?.releases ?? [],
    audit: store ? auditTrail(store.audit, store.journal) : [],
    notifications: store?.notifications ?? [],
  };
}
