// The `hvroll` command line: global settings and one sub-command per file under commands/.

import { Command } from 'commander';
import { auditCommand } from './commands/audit.ts';
import { notifyCommand } from './commands/notify.ts';
import { reportCommand } from './commands/report.ts';
import { abortCommand, approveCommand, pauseCommand, unlockCommand } from './commands/control.ts';
import { discoverCommand } from './commands/discover.ts';
import { planCommand } from './commands/plan.ts';
import { releaseCommand } from './commands/release.ts';
import { resumeCommand, runCommand } from './commands/run.ts';
import { simulateCommand } from './commands/simulate.ts';
import { listCommand, statusCommand } from './commands/status.ts';
import type { CliIo } from './io.ts';

export const VERSION = '0.1.0';
const HELP_HINT = '(add --help for usage)';

export function createProgram(io: CliIo): Command {
  const program = new Command('hvroll')
    .description('Rolling, workload-safe upgrades of hypervisor fleets: plan which hosts to drain when, and where every VM goes')
    .version(VERSION)
    .showHelpAfterError(HELP_HINT)
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    // Throw instead of exiting, so the entry's single catch decides the exit code.
    .exitOverride();
  program.addCommand(planCommand(io));
  program.addCommand(runCommand(io));
  program.addCommand(resumeCommand(io));
  program.addCommand(statusCommand(io));
  program.addCommand(listCommand(io));
  program.addCommand(discoverCommand(io));
  program.addCommand(pauseCommand(io));
  program.addCommand(abortCommand(io));
  program.addCommand(approveCommand(io));
  program.addCommand(releaseCommand(io));
  program.addCommand(unlockCommand(io));
  program.addCommand(auditCommand(io));
  program.addCommand(reportCommand(io));
  program.addCommand(notifyCommand(io));
  program.addCommand(simulateCommand(io));
  // Every level, `notify test` included: a usage error deep down is exit 2 too, never commander's own exit(1).
  const configure = (cmd: Command): void => {
    for (const sub of cmd.commands) {
      sub.exitOverride().showHelpAfterError(HELP_HINT).configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
      configure(sub);
    }
  };
  configure(program);
  return program;
}
