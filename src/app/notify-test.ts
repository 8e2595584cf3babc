// `hvroll notify test`: one sample of every message to every configured chat target (the inventory's
// rules.notifications, a plan's inventory, and/or a --notify file), and what came back, per target — so a
// wrong URL shows up before a campaign, not during one.

import { loadInventory } from '../inventory/load.ts';
import type { NotificationRecord } from '../model/campaign.ts';
import { HvrollError } from '../model/errors.ts';
import type { NotificationTarget } from '../model/inventory.ts';
import { combineTargets, loadNotifyFile, resolveTargets, type ResolvedTarget } from '../notify/config.ts';
import { Notifier } from '../notify/notifier.ts';
import { toNotice } from '../notify/notice.ts';
import { sampleEvents } from '../notify/samples.ts';
import { readPlanFile } from '../plan-file/plan-file.ts';
import type { Env } from './env.ts';
import { silentLogger } from './logging.ts';

export interface NotifyTestRequest {
  /** Inventory files or directories whose rules.notifications to use. */
  inventory: string[];
  /** Use the inventory this plan was made from, too. */
  plan?: string;
  /** A file with a `notifications:` list. */
  notify?: string;
  timeoutMs: number;
  env: Env;
}

export interface TargetResult {
  target: ResolvedTarget;
  /** Every message sent to it, with its result. */
  records: NotificationRecord[];
}

async function inventoryTargets(paths: string[], plan: string | undefined): Promise<NotificationTarget[]> {
  if (plan) {
    const p = await readPlanFile(plan);
    paths = [...paths, ...p.inputs.inventory];
  }
  if (paths.length === 0) return [];
  const { inventory } = await loadInventory(paths);
  return inventory.rules.notifications ?? [];
}

export async function sendTestNotices(r: NotifyTestRequest): Promise<TargetResult[]> {
  const fromFile = r.notify ? await loadNotifyFile(r.notify) : [];
  const targets = resolveTargets(combineTargets(await inventoryTargets(r.inventory, r.plan), fromFile), r.env);
  if (targets.length === 0) throw new HvrollError('usage', 'no notification targets: add rules.notifications to the inventory, or pass --notify <file>');
  const records: NotificationRecord[] = [];
  const notifier = new Notifier({
    campaignId: 'notify-test',
    targets,
    log: silentLogger(),
    record: (rec) => {
      records.push(rec);
      return Promise.resolve();
    },
  });
  // One message per sample: flushing after each keeps them from being coalesced into one. Each headline
  // says it is a test, so nobody watching the channel takes "failure budget reached" for a real alarm.
  for (const e of sampleEvents('notify-test')) {
    const notice = toNotice(e, { campaignId: 'notify-test', at: new Date().toISOString(), approveCommand: (g) => `hvroll approve notify-test ${g}` });
    if (notice) notifier.notify({ ...notice, headline: `[test] ${notice.headline}` });
    notifier.flushNow();
  }
  await notifier.close(r.timeoutMs);
  return targets.map((target) => ({ target, records: records.filter((rec) => rec.channel === target.name) }));
}
