// `hvroll report <campaign|plan.json> --out report.html`: one self-contained HTML file with the summary, the
// timeline (planned vs actual), groups, failures with output, migrations per VM and the audit trail — of a
// campaign from its store (read-only), or of a plan before it runs.

import { existsSync, statSync } from 'node:fs';
import { hostsOutOfPool } from '../model/out-of-pool.ts';
import { writeOutputFile } from '../io/output-file.ts';
import { HvrollError } from '../model/errors.ts';
import { readPlanFile } from '../plan-file/plan-file.ts';
import { renderReport } from '../report/html.ts';
import { buildReport, type StoreView } from '../report/model.ts';
import { campaignDir } from '../store/paths.ts';
import { CampaignStore } from '../store/store.ts';

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

/** Writes the report of `source` (a campaign id under `stateRoot`, or a plan file) to `out`. */
export async function writeReport(source: string, stateRoot: string, out: string): Promise<void> {
  let html: string;
  if (isPlanPath(source)) {
    // readPlanFile says what is wrong with a missing file, a YAML inventory, a JSON that is not a plan.
    html = renderReport(buildReport(await readPlanFile(source), null));
  } else {
    const dir = campaignDir(stateRoot, source);
    if (!existsSync(dir)) throw new HvrollError('usage', `${source} is neither a plan file nor a campaign in ${stateRoot} (see hvroll list)`);
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
  await writeOutputFile(out, html);
}
