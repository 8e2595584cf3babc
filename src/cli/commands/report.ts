// `hvroll report <campaign|plan.json> --out report.html`: one self-contained HTML file (app/report.ts).

import { Command } from 'commander';
import { writeReport } from '../../app/report.ts';
import { stateRoot, withCampaignFlags, type CampaignFlags } from '../campaign-flags.ts';
import type { CliIo } from '../io.ts';

export function reportCommand(io: CliIo): Command {
  return withCampaignFlags(new Command('report'))
    .description('Write a self-contained HTML report of a campaign (or of a plan, before it runs)')
    .argument('<campaign|plan.json>', 'a campaign id (see hvroll list) or a plan file')
    .requiredOption('--out <file>', 'the HTML file to write')
    .action(async (source: string, flags: CampaignFlags & { out: string }) => {
      await writeReport(source, stateRoot(flags, io), flags.out);
      io.stderr.write(`report written to ${flags.out}\n`);
    });
}
