// The events a chat target can subscribe to, with their severity. Filters in the inventory name these.

import type { NotifySeverity } from './inventory.ts';

export const NOTICE_KINDS = [
  'campaign.started',
  'campaign.paused',
  'campaign.resumed',
  'campaign.aborted',
  'campaign.finished',
  'wave.started',
  'group.started',
  'group.done',
  'approval.needed',
  'step.failed',
  'budget.reached',
  'eta.changed',
] as const;

export type NoticeKind = (typeof NOTICE_KINDS)[number];

export const SEVERITIES: readonly NotifySeverity[] = ['info', 'warning', 'error'];

export const severityRank = (s: NotifySeverity): number => SEVERITIES.indexOf(s);

/** `group.done`, `group.*` or `*`: does `pattern` select `kind`? */
export function kindMatches(pattern: string, kind: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return kind.startsWith(pattern.slice(0, -1));
  return pattern === kind;
}

/** Whether a filter entry can ever match (for validation). */
export function knownPattern(pattern: string): boolean {
  return NOTICE_KINDS.some((k) => kindMatches(pattern, k));
}
