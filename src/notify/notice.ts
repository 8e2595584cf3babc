// Engine events → notices: one headline line, then named fields, with a kind and a severity the targets
// filter on. Pure; the same function feeds every target format.

import type { EngineEvent } from '../model/events.ts';
import type { NotifySeverity } from '../model/inventory.ts';
import type { NoticeKind } from '../model/notice-kinds.ts';

export interface Notice {
  kind: NoticeKind;
  severity: NotifySeverity;
  /** ISO time the event happened. */
  at: string;
  campaign: string;
  headline: string;
  /** Ordered name → value pairs shown under the headline. */
  fields: [string, string][];
  group?: string;
  host?: string;
  step?: string;
  error?: string;
  /** Last lines of a failed command's output. */
  output?: string;
  /** What to type next, when an operator must act. */
  command?: string;
}

export interface NoticeContext {
  campaignId: string;
  at: string;
  /** The command that approves `group` (it may need --state). */
  approveCommand: (group: string) => string;
}

export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

const short = (list: readonly string[], n = 10) => (list.length <= n ? list.join(', ') : `${list.slice(0, n).join(', ')} … (+${list.length - n})`);

/** The notice for an engine event, or null for events chat does not need (state changes). */
export function toNotice(e: EngineEvent, c: NoticeContext): Notice | null {
  const base = { at: c.at, campaign: c.campaignId };
  const camp: [string, string] = ['Campaign', c.campaignId];
  switch (e.type) {
    case 'campaign.started':
      return e.resumed
        ? { ...base, kind: 'campaign.resumed', severity: 'info', headline: `Campaign ${c.campaignId} resumed`, fields: [camp, ['Groups', String(e.groups)], ['Waves', String(e.waves)]] }
        : { ...base, kind: 'campaign.started', severity: 'info', headline: `Campaign ${c.campaignId} started`, fields: [camp, ['Groups', String(e.groups)], ['Waves', String(e.waves)]] };
    case 'campaign.paused':
      return { ...base, kind: 'campaign.paused', severity: 'warning', headline: `Campaign ${c.campaignId} pausing (requested by ${e.operator})`, fields: [camp, ['Operator', e.operator]], command: `hvroll resume ${c.campaignId}` };
    case 'campaign.aborted':
      return { ...base, kind: 'campaign.aborted', severity: 'warning', headline: `Campaign ${c.campaignId} aborting (requested by ${e.operator})`, fields: [camp, ['Operator', e.operator]] };
    case 'campaign.finished': {
      const t = e.totals;
      const fields: [string, string][] = [camp, ['Result', e.state]];
      if (t) fields.push(['Groups', `${t.done} done, ${t.failed} failed, ${t.aborted} aborted of ${t.groups}`]);
      if (e.durationMs !== undefined) fields.push(['Duration', duration(e.durationMs)]);
      if (e.failed.length > 0) fields.push(['Failed', short(e.failed)]);
      if (e.outOfPool.length > 0) fields.push(['Out of pool', short(e.outOfPool.map((o) => o.host))]);
      const bad = e.state !== 'done' || e.failed.length > 0 || e.outOfPool.length > 0;
      const word = e.state === 'done' ? (e.failed.length > 0 ? 'finished with failures' : 'finished') : e.state;
      return { ...base, kind: 'campaign.finished', severity: e.state === 'paused' ? 'warning' : bad ? 'error' : 'info', headline: `Campaign ${c.campaignId} ${word}`, fields };
    }
    case 'wave.started':
      return { ...base, kind: 'wave.started', severity: 'info', headline: `Wave ${e.wave + 1} started: ${e.groups.length} group(s)`, fields: [camp, ['Wave', String(e.wave + 1)], ['Groups', short(e.groups)]] };
    case 'group.started':
      return { ...base, kind: 'group.started', severity: 'info', group: e.group, headline: `Group ${e.group} started`, fields: [camp, ['Group', e.group], ['Class', e.className], ['Hosts', short(e.hosts)]] };
    case 'group.finished': {
      const fields: [string, string][] = [camp, ['Group', e.group], ['Result', e.state]];
      if (e.durationMs !== undefined) fields.push(['Duration', duration(e.durationMs)]);
      if (e.outOfPool.length > 0) fields.push(['Out of pool', short(e.outOfPool.map((o) => `${o.host} (${o.why})`), 3)]);
      return {
        ...base,
        kind: 'group.done',
        severity: e.state === 'done' ? 'info' : e.state === 'aborted' ? 'warning' : 'error',
        group: e.group,
        headline: `Group ${e.group} ${e.state === 'done' ? 'done' : e.state}${e.durationMs !== undefined ? ` in ${duration(e.durationMs)}` : ''}`,
        fields,
        ...(e.error ? { error: e.error } : {}),
      };
    }
    case 'group.awaiting-approval': {
      const command = c.approveCommand(e.group);
      return {
        ...base,
        kind: 'approval.needed',
        severity: 'warning',
        group: e.group,
        headline: `Approval needed: group ${e.group} (class ${e.className})`,
        fields: [camp, ['Group', e.group], ['Why', `class ${e.className} requires an approval before its hosts are drained`], ['Approve with', command]],
        command,
      };
    }
    case 'step.failed':
      return {
        ...base,
        kind: 'step.failed',
        severity: 'error',
        group: e.group,
        step: e.step,
        ...(e.host ? { host: e.host } : {}),
        headline: `Step ${e.step} failed on ${e.host ?? `group ${e.group}`}${e.exitCode !== null ? ` (exit ${e.exitCode})` : ''}`,
        fields: [camp, ['Group', e.group], ['Host', e.host ?? '-'], ['Step', e.step], ['Exit code', e.exitCode === null ? 'none (timeout or connection lost)' : String(e.exitCode)]],
        error: e.error,
        ...(e.outputTail.trim() ? { output: e.outputTail } : {}),
      };
    case 'budget.reached':
      return {
        ...base,
        kind: 'budget.reached',
        severity: 'error',
        headline: `Failure budget reached: ${e.failed} group(s) failed, budget ${e.budget}; no new group starts`,
        fields: [camp, ['Failed', String(e.failed)], ['Budget', String(e.budget)]],
        command: `hvroll status ${c.campaignId}`,
      };
    case 'eta.changed':
      return {
        ...base,
        kind: 'eta.changed',
        severity: 'info',
        headline: `ETA changed: ${duration(e.remainingSeconds * 1000)} left (was ${duration(e.previousSeconds * 1000)})`,
        fields: [camp, ['Remaining', duration(e.remainingSeconds * 1000)], ['Was', duration(e.previousSeconds * 1000)], ['Finish at', e.finishAt]],
      };
    default:
      return null;
  }
}
