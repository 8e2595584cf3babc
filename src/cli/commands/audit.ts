// `hvroll audit <campaign> [--json]`: who did what, when, on which host, and the result — every operator
// action and every remote command of a campaign, read from its store (read-only; works while it runs).

import { Command } from 'commander';
import { showName } from '../../model/show-name.ts';
import { auditTrail } from '../../audit/trail.ts';
import { campaignDir } from '../../store/paths.ts';
import { CampaignStore } from '../../store/store.ts';
import { stateRoot, withCampaignFlags, type CampaignFlags } from '../campaign-flags.ts';
import type { CliIo } from '../io.ts';

export function auditCommand(io: CliIo): Command {
  return withCampaignFlags(new Command('audit'))
    .description('Print the audit trail of a campaign: every operator action and every remote command, with who, when, where and the result')
    .argument('<campaign>')
    .option('--json', 'one JSON document on stdout: {campaign, entries[], notifications[]}')
    .action(async (id: string, flags: CampaignFlags & { json?: boolean }) => {
      const store = await CampaignStore.open(campaignDir(stateRoot(flags, io), id), { readOnly: true });
      try {
        const entries = auditTrail(store.audit(), await store.journal());
        if (flags.json) {
          io.stdout.write(`${JSON.stringify({ campaign: id, startedBy: store.meta().operator, entries, notifications: store.notifications() }, null, 2)}\n`);
          return;
        }
        io.stdout.write(`campaign ${id} (started by ${store.meta().operator} at ${store.meta().createdAt})\n`);
        for (const e of entries) {
          const where = [e.group && `group ${showName(e.group)}`, e.host && `on ${showName(e.host)}`, e.vm && `vm ${showName(e.vm)}`].filter(Boolean).join(' ');
          const what = e.what.length > 120 ? `${e.what.slice(0, 117)}...` : e.what;
          io.stdout.write(`${e.at}  ${e.operator.padEnd(10)} ${e.kind === 'action' ? 'ACTION ' : 'command'} ${e.action.padEnd(16)} ${where}${where ? ': ' : ''}${what} -> ${e.result}\n`);
        }
        const n = store.notifications();
        if (n.length > 0) io.stdout.write(`notifications: ${n.filter((x) => x.status === 'sent').length} sent, ${n.filter((x) => x.status !== 'sent').length} failed (--json for each)\n`);
      } finally {
        await store.close();
      }
    });
}
