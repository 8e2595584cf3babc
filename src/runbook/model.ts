// A runbook: per platform, the commands of each phase. Commands are argv arrays (or templates split into
// words before substitution), so a placeholder always becomes exactly one argument — never shell text.

// shutdown and start: per VM, for the VMs of a `shutdown` non-migratable policy (stopped after the drain,
// started after the rejoin).
export type StepName = 'precheck' | 'discover' | 'disable' | 'migrate' | 'shutdown' | 'upgrade' | 'reboot' | 'verify' | 'enable' | 'start' | 'rollback';
export const STEP_NAMES: readonly StepName[] = ['precheck', 'discover', 'disable', 'migrate', 'shutdown', 'upgrade', 'reboot', 'verify', 'enable', 'start', 'rollback'];

/** Where a command runs: the host being worked on, the migration source or target, or a fixed controller. */
export type RunOn = 'host' | 'source' | 'target' | 'controller';

/** What a check expects of a command's result. All given fields must hold. */
export interface Expect {
  exitCode?: number;
  stdout?: string;
  stdoutMatches?: string;
  stdoutContains?: string;
  stdoutLacks?: string;
}

export interface Command {
  argv: string[];
  on: RunOn;
}

export interface Check {
  name: string;
  command: Command;
  expect: Expect;
}

/** Watches a long-running `run` command (a live migration) and aborts it when it stops making progress. */
export interface Progress {
  /** Prints the job's progress; `remainingKey: <number> <unit>` tells what is left to copy. */
  command: Command;
  remainingKey: string;
  everySeconds: number;
  /** Abort when what is left has not decreased for this long. */
  stallSeconds: number;
  abort: Command;
}

/**
 * A known remnant of the step done half-way by a run that was cut short (a live migration killed after the
 * target took the VM over but before the source dropped its copy). When every `when` check holds, the work
 * itself is done and only the remnant is left: `run` removes it, then the step's confirm must hold. The exit
 * codes of `run` are recorded, not judged (a transient copy is gone after destroy, so undefine fails): confirm
 * is what decides.
 */
export interface Leftover {
  name: string;
  when: Check[];
  run: Command[];
}

export interface Step {
  name: StepName;
  /**
   * Must hold before anything else of the step runs (a drained host is empty, the host is disabled by this
   * campaign). One that does not hold fails the step at once, without retry: what it guards against does not
   * go away by trying again, and it needs an operator's eyes.
   */
  require: Check[];
  /** Tells whether the step is already done (reconcile): when every check holds, `run` is skipped. */
  check: Check[];
  run: Command[];
  /** Checks that must hold after `run` (verify steps, or confirmation that the change took). */
  confirm: Check[];
  timeoutSeconds: number;
  retries: number;
  /** Seconds between retries (grows linearly with the attempt). */
  retryDelaySeconds: number;
  progress?: Progress;
  /** Tried in order after the check fails; the first whose `when` all holds is removed. */
  leftover: Leftover[];
}

export interface Discover {
  command: Command;
  /** lines: one VM name per non-empty line; json: a list of objects, the VM name in `field`. */
  format: 'lines' | 'json';
  field: string;
  inspect?: { command: Command; memoryKey: string; memoryUnit: 'KiB' | 'MiB' | 'bytes'; vcpusKey: string };
  timeoutSeconds: number;
}

/** How host commands gain root: `sudo -n --` before every command that runs on a host (never a controller's). */
export type Become = 'sudo';
export const SUDO_PREFIX: readonly string[] = ['sudo', '-n', '--'];

export interface Runbook {
  platform: string;
  description: string;
  file: string;
  /** Set: every host command's argv (as parsed here, and so as journalled and sent) starts with SUDO_PREFIX. */
  become?: Become;
  /** Template variables with defaults; `--set name=value` overrides. */
  vars: Record<string, string>;
  /** Variables that must have a value before `run` (e.g. the target version). */
  required: string[];
  durations: { upgradeSeconds?: number; rebootSeconds?: number; verifySeconds?: number };
  /** Lists the VMs that really run on a host. */
  discover: Discover;
  /** Boot id command (to tell a reboot happened without issuing a second one). */
  bootId: Command;
  steps: Partial<Record<StepName, Step>>;
  /** The file's text, part of the plan fingerprint. */
  text: string;
}
