// `hvroll notify test`: sends one sample of every message to the configured chat targets (app/notify-test.ts)
// and says, per target, what came back.

import { Command } from 'commander';
import { sendTestNotices } from '../../app/notify-test.ts';
import { HvrollError } from '../../model/errors.ts';
import type { CliIo } from '../io.ts';
import { positiveNumber } from '../options.ts';

interface NotifyTestFlags {
  notify?: string;
  plan?: string;
  timeout: number;
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
      const results = await sendTestNotices({ inventory: paths, ...(flags.plan ? { plan: flags.plan } : {}), ...(flags.notify ? { notify: flags.notify } : {}), timeoutMs: flags.timeout * 1000, env: io.env });
      let bad = 0;
      for (const { target: t, records } of results) {
        const failed = records.filter((r) => r.status !== 'sent');
        bad += failed.length;
        io.stdout.write(`${t.name} (${t.type}, url from ${t.source}): ${records.length - failed.length}/${records.length} sent\n`);
        for (const f of failed) io.stdout.write(`  ${f.event}: ${f.detail ?? 'failed'}\n`);
      }
      if (bad > 0) throw new HvrollError('remote', `${bad} test message(s) were not delivered; check the target's URL (hvroll never prints it) and that this machine can reach it`);
    });
  return cmd;
}
