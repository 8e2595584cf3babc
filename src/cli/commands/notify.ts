// `hvroll notify test`: sends one sample of every message to the configured chat targets and says, per
// target, what came back — so a wrong URL shows up before a campaign, not during one.

import { Command } from 'commander';
import { loadInventory } from '../../inventory/load.ts';
import { silentLogger } from '../../app/logging.ts';
import { HvrollError } from '../../model/errors.ts';
import type { NotificationTarget } from '../../model/inventory.ts';
import { readPlanFile } from '../../plan/plan-file.ts';
import { combineTargets, loadNotifyFile, resolveTargets } from '../../notify/config.ts';
import { Notifier } from '../../notify/notifier.ts';
import { toNotice } from '../../notify/notice.ts';
import { sampleEvents } from '../../notify/samples.ts';
import type { NotificationRecord } from '../../model/campaign.ts';
import type { CliIo } from '../io.ts';
import { positiveNumber } from '../options.ts';

interface NotifyTestFlags {
  notify?: string;
  plan?: string;
  timeout: number;
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

export function notifyCommand(io: CliIo): Command {
  const cmd = new Command('notify').description('Chat notifications');
  cmd
    .command('test')
    .description('Send a sample of every message to the configured targets (inventory rules.notifications and/or --notify)')
    .argument('[inventory...]', 'inventory files or directories whose rules.notifications to use')
    .option('--notify <file>', 'a file with a `notifications:` list')
    .option('--plan <file>', 'use the inventory the plan was made from')
    .option('--timeout <seconds>', 'give up on a target after this long', positiveNumber, 30)
    .action(async (paths: string[], flags: NotifyTestFlags) => {
      const fromFile = flags.notify ? await loadNotifyFile(flags.notify) : [];
      const targets = resolveTargets(combineTargets(await inventoryTargets(paths, flags.plan), fromFile), io.env);
      if (targets.length === 0) throw new HvrollError('usage', 'no notification targets: add rules.notifications to the inventory, or pass --notify <file>');
      const records: NotificationRecord[] = [];
      const notifier = new Notifier({
        campaignId: 'notify-test',
        targets,
        log: silentLogger(),
        record: (r) => {
          records.push(r);
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
      await notifier.close(flags.timeout * 1000);
      let bad = 0;
      for (const t of targets) {
        const mine = records.filter((r) => r.channel === t.name);
        const failed = mine.filter((r) => r.status !== 'sent');
        bad += failed.length;
        io.stdout.write(`${t.name} (${t.type}, url from ${t.source}): ${mine.length - failed.length}/${mine.length} sent\n`);
        for (const f of failed) io.stdout.write(`  ${f.event}: ${f.detail ?? 'failed'}\n`);
      }
      if (bad > 0) throw new HvrollError('remote', `${bad} test message(s) were not delivered; check the target's URL (hvroll never prints it) and that this machine can reach it`);
    });
  return cmd;
}
