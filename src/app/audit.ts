// `hvroll audit`: who did what, when, on which host, and the result — every operator action and every remote
// command of a campaign, read from its store (read-only; works while it runs); with --all, every campaign under
// the state root and the refused run/resume attempts of the state root's own audit file, in one time-ordered
// list, with what could not be read listed, never skipped silently.

import { readStateAudit } from '../audit/state-audit.ts';
import { actionEntry, auditTrail, byTime, type AuditEntry } from '../audit/trail.ts';
import type { NotificationRecord } from '../model/campaign.ts';
import { campaignDir } from '../store/paths.ts';
import { CampaignStore, listCampaigns } from '../store/store.ts';

/** An entry of `audit --all`: the campaign it belongs to, null for a refused attempt with no campaign (a run). */
export type StateAuditEntry = AuditEntry & { campaign: string | null };

export interface CampaignAudit {
  campaign: string;
  startedBy: string;
  createdAt: string;
  entries: AuditEntry[];
  notifications: NotificationRecord[];
}

/** One campaign's trail, from its store. */
export async function campaignAudit(root: string, id: string): Promise<CampaignAudit> {
  const store = await CampaignStore.open(campaignDir(root, id), { readOnly: true });
  try {
    const meta = store.meta();
    return { campaign: id, startedBy: meta.operator, createdAt: meta.createdAt, entries: auditTrail(store.audit(), await store.journal()), notifications: store.notifications() };
  } finally {
    await store.close();
  }
}

/** Every campaign's trail and the state audit file's events; what could not be read is listed, never skipped silently. */
export async function collectAll(root: string): Promise<{ file: string; campaigns: string[]; entries: StateAuditEntry[]; problems: string[] }> {
  const state = await readStateAudit(root);
  const problems = [...state.problems];
  const entries: StateAuditEntry[] = state.events.map((e) => {
    const campaign = (e.details as { campaign?: unknown } | undefined)?.campaign;
    return { ...actionEntry(e), campaign: typeof campaign === 'string' ? campaign : null };
  });
  const campaigns: string[] = [];
  for (const c of await listCampaigns(root)) {
    campaigns.push(c.id);
    try {
      const store = await CampaignStore.open(c.dir, { readOnly: true });
      try {
        for (const e of auditTrail(store.audit(), await store.journal())) entries.push({ ...e, campaign: c.id });
      } finally {
        await store.close();
      }
    } catch (e) {
      problems.push(`campaign ${c.id}: its audit trail cannot be read: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return { file: state.file, campaigns, entries: byTime(entries), problems };
}
