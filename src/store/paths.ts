// Where stores live: one directory per campaign under a state root (`--state <dir>`; its default is the
// app's, src/app/env.ts).

import { basename, dirname, join } from 'node:path';
import { HvrollError } from '../model/errors.ts';

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** A campaign id becomes a directory name, so it must not be able to escape the root. */
export function campaignDir(root: string, campaignId: string): string {
  if (!SAFE_ID.test(campaignId)) {
    throw new HvrollError('usage', `campaign id ${JSON.stringify(campaignId)} is not usable as a directory name`, {
      details: { campaignId, fix: 'use letters, digits, ".", "_" and "-" only (at most 128, not starting with "." or "-")' },
    });
  }
  return join(root, campaignId);
}

/**
 * The files of one store. Written once: campaign.json, plan.json, and each history-<seq>.ndjson (history-file.ts).
 * Rewritten atomically: snapshot.json. Appended: journal.ndjson. Rewritten in place after every append: the
 * durability marker, which lives outside the campaign directory, in the state root (<root>/.marks/<id>.mark,
 * marker.ts), so that neither a cut journal nor a campaign directory restored from an older backup can take
 * it along.
 */
export const FILES = {
  meta: 'campaign.json',
  plan: 'plan.json',
  snapshot: 'snapshot.json',
  journal: 'journal.ndjson',
  lock: 'lock',
} as const;

/** Directory of the durability markers, in the state root (hidden: `hvroll list` skips dot names). */
export const MARKS_DIR = '.marks';

export function storeFiles(dir: string) {
  return {
    dir,
    meta: join(dir, FILES.meta),
    plan: join(dir, FILES.plan),
    snapshot: join(dir, FILES.snapshot),
    journal: join(dir, FILES.journal),
    lock: join(dir, FILES.lock),
    marks: join(dirname(dir), MARKS_DIR),
    marker: join(dirname(dir), MARKS_DIR, `${basename(dir)}.mark`),
  };
}

export type StoreFiles = ReturnType<typeof storeFiles>;

/** A unique name next to `path` for write-then-rename. */
export function tempName(path: string): string {
  return `${path}.tmp-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}
