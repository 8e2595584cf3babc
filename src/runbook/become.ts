// `become: sudo`: the login is not root, so every command that runs on a host gains `sudo -n --` in front.
// Applied once, to the parsed runbook, so everything that sends a command (reconcile, reboot, discovery,
// progress polls) sends the prefixed argv and the journal records exactly what was sent. `-n`: sudo never
// prompts — a host that wants a password answers at once (remote.ts turns that into an error with the fix);
// `--`: nothing after it is an option of sudo. Commands on a controller keep their argv: they talk to an API.

import { SUDO_PREFIX, type Check, type Command, type Leftover, type Runbook, type Step } from './model.ts';

function command(c: Command): Command {
  return c.on === 'controller' ? c : { ...c, argv: [...SUDO_PREFIX, ...c.argv] };
}

const check = (c: Check): Check => ({ ...c, command: command(c.command) });
const leftover = (l: Leftover): Leftover => ({ ...l, when: l.when.map(check), run: l.run.map(command) });

function step(s: Step): Step {
  return {
    ...s,
    require: s.require.map(check),
    check: s.check.map(check),
    run: s.run.map(command),
    confirm: s.confirm.map(check),
    leftover: s.leftover.map(leftover),
    ...(s.progress ? { progress: { ...s.progress, command: command(s.progress.command), abort: command(s.progress.abort) } } : {}),
  };
}

export function applyBecome(rb: Runbook): Runbook {
  if (rb.become !== 'sudo') return rb;
  const d = rb.discover;
  return {
    ...rb,
    bootId: command(rb.bootId),
    discover: { ...d, command: command(d.command), ...(d.inspect ? { inspect: { ...d.inspect, command: command(d.inspect.command) } } : {}) },
    steps: Object.fromEntries(Object.entries(rb.steps).map(([name, s]) => [name, step(s)])),
  };
}
