// Options shared by the commands that touch a campaign (run, resume, status, pause, abort, approve, list).

import { Command, InvalidArgumentError } from 'commander';
import { defaultOperator, defaultStateRoot } from '../app/env.ts';
import type { CliIo } from './io.ts';

export interface CampaignFlags {
  state?: string;
  operator?: string;
}

export function withCampaignFlags(cmd: Command): Command {
  return cmd
    .option('--state <dir>', 'where campaigns are kept (default: $XDG_DATA_HOME/hvroll/campaigns or ~/.local/share/hvroll/campaigns)')
    .option('--operator <name>', 'who is acting, recorded in the journal and audit trail (default: your login name)');
}

export function stateRoot(flags: CampaignFlags, io: CliIo): string {
  return flags.state ?? defaultStateRoot(io.env);
}

export function operatorOf(flags: CampaignFlags, io: CliIo): string {
  return flags.operator ?? defaultOperator(io.env);
}

/** `--set name=value`, repeatable. */
export function collectSet(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const i = value.indexOf('=');
  // commander reports this as a usage error naming the option (exit 2), not as a bug in hvroll.
  if (i <= 0) throw new InvalidArgumentError(`expected name=value, e.g. --set version=10.0.0-3, got "${value}"`);
  return { ...previous, [value.slice(0, i)]: value.slice(i + 1) };
}
