// Bursts → few messages: the notices gathered in one window are merged by kind, so a wave of 50 groups
// finishing is one message ("50 groups done"), not 50. Pure.

import { severityRank } from '../model/notice-kinds.ts';
import type { Notice } from './notice.ts';

export interface Message extends Notice {
  /** How many notices it stands for (1: not merged). */
  count: number;
  /** One line per merged notice (empty when count is 1). */
  items: string[];
}

/** Most items listed in a merged message; the rest are counted. */
export const MAX_ITEMS = 20;

function plural(kind: Notice['kind'], list: Notice[]): string {
  const n = list.length;
  switch (kind) {
    case 'group.done': {
      const bad = list.filter((x) => x.severity !== 'info').length;
      return `${n} groups finished${bad > 0 ? ` (${bad} not done)` : ''}`;
    }
    case 'group.started':
      return `${n} groups started`;
    case 'approval.needed':
      return `Approval needed for ${n} groups`;
    case 'step.failed':
      return `${n} steps failed`;
    case 'wave.started':
      return `${n} waves started`;
    default:
      return `${n} × ${list[list.length - 1]!.headline}`;
  }
}

function merge(list: Notice[]): Message {
  const last = list[list.length - 1]!;
  if (list.length === 1) return { ...last, count: 1, items: [] };
  const worst = list.reduce((a, b) => (severityRank(b.severity) > severityRank(a.severity) ? b : a));
  const lines = list.map((x) => x.headline);
  const items = lines.length > MAX_ITEMS ? [...lines.slice(0, MAX_ITEMS), `… and ${lines.length - MAX_ITEMS} more`] : lines;
  const msg: Message = {
    kind: last.kind,
    severity: worst.severity,
    at: last.at,
    campaign: last.campaign,
    headline: plural(last.kind, list),
    fields: [['Campaign', last.campaign], ['Count', String(list.length)]],
    count: list.length,
    items,
  };
  // The worst one's details stay visible (a failure's output matters more than a success's).
  for (const k of ['group', 'host', 'step', 'error', 'output'] as const) if (worst[k] !== undefined) msg[k] = worst[k];
  if (last.kind === 'approval.needed') msg.command = list.map((x) => x.command).filter(Boolean).join('\n');
  return msg;
}

/** Merge by kind, in the order each kind first appeared. */
export function coalesce(notices: readonly Notice[]): Message[] {
  const byKind = new Map<string, Notice[]>();
  for (const n of notices) {
    const list = byKind.get(n.kind);
    if (list) list.push(n);
    else byKind.set(n.kind, [n]);
  }
  return [...byKind.values()].map(merge);
}
