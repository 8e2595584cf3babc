// `hvroll report <campaign|plan.json> --out report.html`: one self-contained HTML file with the summary,
// the timeline (planned vs actual), groups, failures with output, migrations per VM and the audit trail.

import { existsSync, statSync } from 'node:fs';
import { Command } from 'commander';
import { hostsOutOfPool } from '../../engine/out-of-pool.ts';
import { HvrollError } from '../../model/errors.ts';
import { readPlanFile } from '../../plan/plan-file.ts';
import { renderReport } from '../../report/html.ts';
import { buildReport, type StoreView } from '../../report/model.ts';
import { writeOutputFile } from '../../io/output-file.ts';
import { campaignDir } from '../../store/paths.ts';
import { CampaignStore } from '../../store/store.ts';
import { stateRoot, withCampaignFlags, type CampaignFlags } from '../campaign-flags.ts';
import type { CliIo } from '../io.ts';

function groupState(store: CampaignStore) {
  return (group: string) => {
    const s = store.groupSnapshot(group)?.snapshot as { value?: unknown; context?: { error?: { message?: string } | null } } | undefined;
    return s ? { state: String(s.value), error: s.context?.error?.message ?? null } : undefined;
  };
}

/** A file that exists, or anything that reads as a path rather than a campaign id (ids have no '/'). */
function isPlanPath(source: string): boolean {
  if (existsSync(source)) return statSync(source).isFile();
  return source.includes('/') || source.endsWith('.json');
}

export function reportCommand(io: CliIo): Command {
  return withCampaignFlags(new Command('report'))
    .description('Write a self-contained HTML report of a campaign (or of a plan, before it runs)')
    .argument('<campaign|plan.json>', 'a campaign id (see hvroll list) or a plan file')
    .requiredOption('--out <file>', 'the HTML file to write')
    .action(async (source: string, flags: CampaignFlags & { out: string }) => {
      let html: string;
      if (isPlanPath(source)) {
        // readPlanFile says what is wrong with a missing file, a YAML inventory, a JSON that is not a plan.
        html = renderReport(buildReport(await readPlanFile(source), null));
      } else {
        const dir = campaignDir(stateRoot(flags, io), source);
        if (!existsSync(dir)) throw new HvrollError('usage', `${source} is neither a plan file nor a campaign in ${stateRoot(flags, io)} (see hvroll list)`);
        const store = await CampaignStore.open(dir, { readOnly: true });
        try {
          const plan = store.plan();
          const view: StoreView = {
            meta: store.meta(),
            journal: await store.journal(),
            audit: store.audit(),
            notifications: store.notifications(),
            groupState: groupState(store),
            outOfPool: hostsOutOfPool(store, plan),
            releases: store.releases(),
          };
          html = renderReport(buildReport(plan, view));
        } finally {
          await store.close();
        }
      }
      await writeOutputFile(flags.out, html);
      io.stderr.write(`report written to ${flags.out}\n`);
    });
}
