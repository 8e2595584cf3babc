// `hvroll status [campaign]` and `hvroll list`: read-only views of the campaign store (app/status.ts reads
// them; this renders them, or prints them as JSON).

import { Command } from 'commander';
import { campaigns, campaignStatus, latestCampaign, runnerOf, type CampaignStatus } from '../../app/status.ts';
import { HvrollError } from '../../model/errors.ts';
import { showName } from '../../model/show-name.ts';
import { stateRoot, withCampaignFlags, type CampaignFlags } from '../campaign-flags.ts';
import type { CliIo } from '../io.ts';

function renderStatus(s: CampaignStatus): string {
  const eta = s.etaSeconds === null ? 'unknown' : `${Math.floor(s.etaSeconds / 3600)}h ${Math.round((s.etaSeconds % 3600) / 60)}m`;
  const lines = [
    `campaign ${s.campaign} — ${s.state}, ${s.runner}`,
    `  started ${s.createdAt} by ${s.operator}`,
    `  groups: ${Object.entries(s.groups.byState).map(([k, v]) => `${k} ${v}`).join(', ')} (of ${s.groups.total})`,
    `  migrations: ${s.migrations.done}/${s.migrations.planned}, ETA ${eta}`,
    ...s.active.map((a) => `  active: ${showName(a.group)} — ${a.state}${a.step ? ` (now: ${a.step})` : ''}`),
    ...s.awaitingApproval.map((g) => `  awaiting approval: ${showName(g)} — hvroll approve ${s.campaign} ${g}`),
    ...s.failed.map((f) => `  FAILED: ${showName(f.group)} — ${f.error}`),
    ...s.outOfPool.map((o) => `  OUT OF POOL: ${showName(o.host)} (group ${showName(o.group)}) — ${o.why}; once fixed: hvroll release ${s.campaign} ${o.host}`),
    ...s.released.map((r) => `  released: ${showName(r.host)} (group ${showName(r.group)}) by ${r.operator} at ${r.at}${r.comment ? ` — ${r.comment}` : ''}`),
  ];
  return `${lines.join('\n')}\n`;
}

export function statusCommand(io: CliIo): Command {
  return withCampaignFlags(new Command('status'))
    .description('Show a campaign: groups by state, current steps, failures, hosts out of the pool, progress and ETA')
    .argument('[campaign]', 'campaign id (default: the most recent)')
    .option('--json', 'print the status as JSON')
    .action(async (campaign: string | undefined, flags: CampaignFlags & { json?: boolean }) => {
      const root = stateRoot(flags, io);
      const id = campaign ?? (await latestCampaign(root));
      if (!id) throw new HvrollError('usage', `no campaign in ${root}; start one with hvroll run`);
      const s = await campaignStatus(root, id);
      io.stdout.write(flags.json ? `${JSON.stringify(s, null, 2)}\n` : renderStatus(s));
    });
}

export function listCommand(io: CliIo): Command {
  return withCampaignFlags(new Command('list'))
    .description('List campaigns in the state directory')
    .option('--json', 'print as JSON')
    .action(async (flags: CampaignFlags & { json?: boolean }) => {
      const all = await campaigns(stateRoot(flags, io));
      if (flags.json) {
        io.stdout.write(`${JSON.stringify(all.map((c) => ({ id: c.id, createdAt: c.meta?.createdAt ?? null, operator: c.meta?.operator ?? null, runner: runnerOf(c), problem: c.problem ?? null })), null, 2)}\n`);
        return;
      }
      if (all.length === 0) io.stdout.write('no campaigns\n');
      for (const c of all) io.stdout.write(`${c.id}  ${c.meta?.createdAt ?? '?'}  ${c.meta?.operator ?? '?'}  ${runnerOf(c)}${c.problem ? `  PROBLEM: ${c.problem}` : ''}\n`);
    });
}
