// Usage errors at every level of the command line, `notify test` included, are exit 2 with a hint — not
// commander's own process.exit(1) — and a bad option value is refused before anything is sent.

import test from 'ava';
import { STACK_FRAME, hvrollCli } from '../helpers/cli.ts';

const hvroll = (args: string[]) => hvrollCli(args);

const cases: [string[], RegExp][] = [
  [['notify', 'test', '--timeout', 'soon'], /option '--timeout <seconds>' argument 'soon' is invalid\. expected a positive number/],
  [['notify', 'test', '--timeout', '0'], /expected a positive number, got "0"/],
  [['notify', 'test', '--no-such-flag'], /unknown option '--no-such-flag'/],
  [['notify', 'test'], /no notification targets: add rules\.notifications to the inventory, or pass --notify <file>/],
  [['notify', 'tset'], /unknown command 'tset'/],
  [['run', '--plan', 'plan.json', '--set', 'version'], /option '--set <name=value>' argument 'version' is invalid\. expected name=value, e\.g\. --set version=/],
  [['discover', '--set', '=x'], /option '--set <name=value>' argument '=x' is invalid/],
  // Refused before any host is read (the example's hosts do not exist: reading them would time out).
  [['discover', '--runbook', 'runbooks/libvirt.yaml', '--known-hosts', '/dev/null', '--out', '/nonexistent-dir/vms.yaml'], /cannot write \/nonexistent-dir\/vms\.yaml: its directory does not exist\n {2}fix: choose an --out file/],
];

for (const [args, message] of cases) {
  test(`hvroll ${args.join(' ')}: exit 2, says what is wrong`, async (t) => {
    const r = await hvroll(args);
    t.is(r.code, 2, r.stderr);
    t.regex(r.stderr, message);
    t.notRegex(r.stderr, STACK_FRAME);
  });
}

test('hvroll notify test --help: exit 0, usage on stdout', async (t) => {
  const r = await hvroll(['notify', 'test', '--help']);
  t.is(r.code, 0);
  t.regex(r.stdout, /Usage: hvroll notify test/);
});
