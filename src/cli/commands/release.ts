// `hvroll release <campaign> <host>`: put a host the campaign left out of the pool back in it, once an operator
// has looked at it (app/release.ts: through the live runner, or here over SSH). Exit codes: 0 released; 6 the
// host failed its verify or enable and stays out; otherwise the kind of the refusal.

import { Command } from 'commander';
import { releaseOutOfPool } from '../../app/release.ts';
import { HvrollError } from '../../model/errors.ts';
import { operatorOf, stateRoot, withCampaignFlags, type CampaignFlags } from '../campaign-flags.ts';
import type { CliIo } from '../io.ts';
import { sshSettings, withSshOptions, type SshOptionFlags } from '../ssh-flags.ts';

interface ReleaseFlags extends CampaignFlags, SshOptionFlags {
  comment?: string;
  runbook?: string;
  logFile?: string;
}

async function release(io: CliIo, flags: ReleaseFlags, id: string, host: string): Promise<void> {
  const answer = await releaseOutOfPool({
    stateRoot: stateRoot(flags, io),
    campaignId: id,
    host,
    operator: operatorOf(flags, io),
    ...(flags.comment ? { comment: flags.comment } : {}),
    ...(flags.runbook ? { runbookPath: flags.runbook } : {}),
    ...sshSettings(flags),
    env: io.env,
    ...(flags.logFile ? { logFile: flags.logFile } : {}),
    say: (line) => io.stderr.write(`${line}\n`),
  });
  if (answer.result === 'released') {
    io.stderr.write(`${answer.message}\n`);
    return;
  }
  if (answer.result === 'verify-failed' || answer.result === 'enable-failed') throw new HvrollError('remote', answer.message);
  throw new HvrollError(answer.kind ?? 'internal', answer.message);
}

export function releaseCommand(io: CliIo): Command {
  return withSshOptions(withCampaignFlags(new Command('release')))
    .description("Put a host the campaign left out of the pool back in it: run the runbook's verify step on it, and its enable step only if verify passes (audited). Its group's slot is freed: waiting groups can start")
    .argument('<campaign>', 'campaign id (see hvroll list)')
    .argument('<host>', 'a host the campaign left out of the pool (see hvroll status)')
    .option('--comment <text>', 'what was wrong and what you did, for the audit trail')
    .option('--runbook <file>', 'path of the runbook if it moved (its content must be unchanged)')
    .option('--log-file <file>', 'also write JSON logs to this file')
    .action((id: string, host: string, flags: ReleaseFlags) => release(io, flags, id, host));
}
