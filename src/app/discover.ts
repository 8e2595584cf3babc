// `hvroll discover`: read what runs on every host (read-only, over SSH) and compare it with the inventory;
// with `out`, write the refreshed `vms:` list for the operator to review and put in place.

import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { stringify } from 'yaml';
import { discoverFleet, type DiscoveryResult } from '../engine/discover-fleet.ts';
import { loadInventory } from '../inventory/load.ts';
import { writeOutputFile } from '../io/output-file.ts';
import { HvrollError } from '../model/errors.ts';
import { loadRunbook } from '../runbook/load.ts';
import type { Env } from './env.ts';
import { buildSshExecutor, type SshSettings } from './ssh.ts';

export interface DiscoverRequest {
  inventory: string[];
  ansible?: string;
  runbook: string;
  /** Runbook variables (`--set`). */
  sets: Record<string, string>;
  /** Where the refreshed `vms:` list goes. */
  out?: string;
  ssh: SshSettings;
  env: Env;
  log: Logger;
}

export interface Discovered extends DiscoveryResult {
  /** Hosts in the inventory. */
  hosts: number;
}

export async function discover(r: DiscoverRequest): Promise<Discovered> {
  const { inventory } = await loadInventory(r.inventory, r.ansible ? { ansible: r.ansible } : {});
  const runbook = await loadRunbook(r.runbook);
  // Said before reading every host, not after.
  if (r.out && !existsSync(dirname(r.out))) throw new HvrollError('usage', `cannot write ${r.out}: its directory does not exist`, { details: { fix: 'choose an --out file in an existing directory you can write to' } });
  const executor = buildSshExecutor(r.ssh, { env: r.env, log: r.log });
  try {
    const result = await discoverFleet({ executor, inventory, runbook, vars: { ...runbook.vars, ...r.sets }, controller: null });
    // Whole or not at all, and an --out that cannot be written is said with a fix (exit 2), not a stack.
    if (r.out) await writeOutputFile(r.out, stringify({ vms: result.vms }));
    return { ...result, hosts: inventory.hosts.length };
  } finally {
    await executor.close();
  }
}
