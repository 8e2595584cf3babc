// `hvroll audit <campaign> [--json]`: who did what, when, on which host, and the result — every operator
// action and every remote command of a campaign, read from its store (read-only; works while it runs).
// `hvroll audit --all`: the same for every campaign under the state root, with the refused run/resume
// attempts of the state root's own audit file, in one time-ordered list.

import { Command } from 'commander';
import { campaignAudit, collectAll } from '../../app/audit.ts';
import type { AuditEntry } from '../../audit/trail.ts';
import { HvrollError } from '../../model/errors.ts';
import { showName } from '../../model/show-name.ts';
import { stateRoot, withCampaignFlags, type CampaignFlags } from '../campaign-flags.ts';
import type { CliIo } from '../io.ts';

interface AuditFlags extends CampaignFlags {
  json?: boolean;
  all?: boolean;
}

const COMMAND_TEXT_MAX = 120;

function line(e: AuditEntry, prefix = ''): string {
  const where = [e.group && `group ${showName(e.group)}`, e.host && `on ${showName(e.host)}`, e.vm && `vm ${showName(e.vm)}`].filter(Boolean).join(' ');
  // A command line can be long; an action's text (a refusal's reason above all) is shown whole.
  const what = e.kind === 'command' && e.what.length > COMMAND_TEXT_MAX ? `${e.what.slice(0, COMMAND_TEXT_MAX - 3)}...` : e.what;
  return `${e.at}  ${prefix}${e.operator.padEnd(10)} ${e.kind === 'action' ? 'ACTION ' : 'command'} ${e.action.padEnd(16)} ${where}${where ? ': ' : ''}${what} -> ${e.result}\n`;
}

async function auditOne(io: CliIo, root: string, id: string, json: boolean): Promise<void> {
  const a = await campaignAudit(root, id);
  if (json) {
    io.stdout.write(`${JSON.stringify({ campaign: a.campaign, startedBy: a.startedBy, entries: a.entries, notifications: a.notifications }, null, 2)}\n`);
    return;
  }
  io.stdout.write(`campaign ${id} (started by ${a.startedBy} at ${a.createdAt})\n`);
  for (const e of a.entries) io.stdout.write(line(e));
  const n = a.notifications;
  if (n.length > 0) io.stdout.write(`notifications: ${n.filter((x) => x.status === 'sent').length} sent, ${n.filter((x) => x.status !== 'sent').length} failed (--json for each)\n`);
}

async function auditAll(io: CliIo, root: string, json: boolean): Promise<void> {
  const all = await collectAll(root);
  if (json) {
    io.stdout.write(`${JSON.stringify({ stateRoot: root, auditFile: all.file, campaigns: all.campaigns, entries: all.entries, problems: all.problems }, null, 2)}\n`);
  } else {
    io.stdout.write(`state ${root}: ${all.campaigns.length} campaign(s); refused attempts without a campaign store in ${all.file}\n`);
    for (const e of all.entries) io.stdout.write(line(e, `${(e.campaign ?? '-').padEnd(14)} `));
    for (const p of all.problems) io.stderr.write(`warning: ${p}\n`);
  }
  if (all.problems.length > 0) {
    throw new HvrollError('store', `the audit is incomplete: ${all.problems.length} part(s) could not be read (listed above)`, {
      details: { problems: all.problems, fix: 'restore the damaged campaign directory or audit file from a backup; everything readable was shown' },
    });
  }
}

export function auditCommand(io: CliIo): Command {
  return withCampaignFlags(new Command('audit'))
    .description('Print the audit trail of a campaign (every operator action and every remote command, with who, when, where and the result), or with --all of every campaign and every refused run/resume')
    .argument('[campaign]', 'campaign id (see hvroll list)')
    .option('--all', 'every campaign under --state, and the refused run/resume attempts recorded in its audit.ndjson, in time order')
    .option('--json', 'one JSON document on stdout: {campaign, startedBy, entries[], notifications[]}; with --all {stateRoot, auditFile, campaigns[], entries[] (each with its campaign), problems[]}')
    .action(async (id: string | undefined, flags: AuditFlags) => {
      const root = stateRoot(flags, io);
      if (flags.all === true && id !== undefined) throw new HvrollError('usage', `give a campaign id or --all, not both (hvroll audit ${id}, or hvroll audit --all)`);
      if (flags.all === true) return auditAll(io, root, flags.json === true);
      if (id === undefined) throw new HvrollError('usage', 'which campaign? give its id (see hvroll list), or --all for every campaign and the refused run/resume attempts');
      return auditOne(io, root, id, flags.json === true);
    });
}
