// The generic JSON webhook: a flat, stable document for scripts (every key always present, null when it
// does not apply).

import type { Message } from './coalesce.ts';

export interface WebhookPayload {
  event: string;
  severity: string;
  at: string;
  campaign: string;
  group: string | null;
  host: string | null;
  step: string | null;
  error: string | null;
  headline: string;
  fields: Record<string, string>;
  output: string | null;
  command: string | null;
  /** Notices merged into this one (1: not merged), and one line each. */
  count: number;
  items: string[];
}

export function webhookPayload(m: Message): WebhookPayload {
  return {
    event: m.kind,
    severity: m.severity,
    at: m.at,
    campaign: m.campaign,
    group: m.group ?? null,
    host: m.host ?? null,
    step: m.step ?? null,
    error: m.error ?? null,
    headline: m.headline,
    fields: Object.fromEntries(m.fields),
    output: m.output ?? null,
    command: m.command ?? null,
    count: m.count,
    items: m.items,
  };
}
