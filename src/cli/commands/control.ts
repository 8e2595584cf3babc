// `hvroll pause|abort|approve|unlock`: requests to a campaign, and breaking the lock of one whose runner died
// (app/control.ts does them; this says what happened).

import { Command } from 'commander';
import { request, unlock } from '../../app/control.ts';
import type { ControlAction } from '../../engine/control.ts';
import { operatorOf, stateRoot, withCampaignFlags, type CampaignFlags } from '../campaign-flags.ts';
import type { CliIo } from '../io.ts';

function send(io: CliIo, flags: CampaignFlags, id: string, action: ControlAction, group?: string, comment?: string): Promise<void> {
  return request({
    stateRoot: stateRoot(flags, io),
    campaignId: id,
    operator: operatorOf(flags, io),
    action,
    ...(group === undefined ? {} : { group }),
    ...(comment === undefined ? {} : { comment }),
    say: (line) => io.stderr.write(`${line}\n`),
  });
}

export function pauseCommand(io: CliIo): Command {
  return withCampaignFlags(new Command('pause'))
    .description('Pause a campaign: running groups stop after their current step; resume with hvroll resume')
    .argument('<campaign>')
    .action((id: string, flags: CampaignFlags) => send(io, flags, id, 'pause'));
}

export function abortCommand(io: CliIo): Command {
  return withCampaignFlags(new Command('abort'))
    .description('Abort a campaign: running groups finish their step, then drained hosts not yet upgraded are re-enabled; hosts mid-upgrade are left out and named')
    .argument('<campaign>')
    .action((id: string, flags: CampaignFlags) => send(io, flags, id, 'abort'));
}

export function approveCommand(io: CliIo): Command {
  return withCampaignFlags(new Command('approve'))
    .description('Approve a group whose class needs approval before it is drained (records who approved)')
    .argument('<campaign>')
    .argument('<group>')
    .option('--comment <text>', 'why, for the audit trail')
    .action((id: string, group: string, flags: CampaignFlags & { comment?: string }) => send(io, flags, id, 'approve', group, flags.comment));
}

export function unlockCommand(io: CliIo): Command {
  return withCampaignFlags(new Command('unlock'))
    .description('Break the lock of a campaign whose runner died (kill -9, crash, power loss); recorded in the audit trail')
    .argument('<campaign>')
    .option('--force', 'also break a lock held on another machine, which cannot be checked from here (make sure nothing runs the campaign there); never a runner alive on this machine')
    .option('--adopt', 'accept the campaign directory as it is although its durability marker is missing or unreadable (moved here without it): only if you know it is the newest copy; recorded in the audit trail')
    .option('--reason <text>', 'why, for the audit trail')
    .action((id: string, flags: CampaignFlags & { force?: boolean; adopt?: boolean; reason?: string }) =>
      unlock({
        stateRoot: stateRoot(flags, io),
        campaignId: id,
        operator: operatorOf(flags, io),
        force: flags.force === true,
        adopt: flags.adopt === true,
        ...(flags.reason === undefined ? {} : { reason: flags.reason }),
        say: (line) => io.stderr.write(`${line}\n`),
      }),
    );
}
