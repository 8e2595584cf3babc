// sudo's refusals told from a command's own failures, and another campaign's disable reason found in what a
// probe printed.
import test from 'ava';
import { otherCampaign, seenText, sudoRefusal } from '../../src/engine/step-errors.ts';

const viaSudo = ['sudo', '-n', '--', 'virsh', 'list', '--name'];

test('sudo refusing (password, tty, sudoers) is recognised; a command failing on its own through sudo is not', (t) => {
  for (const line of [
    'sudo: a password is required',
    'sudo: a terminal is required to read the password; either use the -S option to read from standard input or configure an askpass helper',
    'sudo: sorry, you must have a tty to run sudo',
    'hvroll is not in the sudoers file.  This incident will be reported.',
    'Sorry, user hvroll is not allowed to execute \'/usr/bin/virsh list --name\' as root on hv-1.',
  ]) {
    t.is(sudoRefusal(viaSudo, { exitCode: 1, stderrTail: `${line}\n` }), line);
  }
  t.is(sudoRefusal(viaSudo, { exitCode: 1, stderrTail: 'error: failed to connect to the hypervisor\n' }), null);
  t.is(sudoRefusal(['virsh', 'list'], { exitCode: 1, stderrTail: 'sudo: a password is required\n' }), null, 'not sent through sudo');
  t.is(sudoRefusal(viaSudo, { exitCode: 0, stderrTail: 'sudo: a password is required\n' }), null);
});

test('another campaign is read from hvroll:<campaign>:<group> in a marker or a nova disable reason; our own is not another', (t) => {
  t.deepEqual(otherCampaign('hvroll:night-run:r1/2\n', 'c1'), { campaign: 'night-run', group: 'r1/2' });
  t.deepEqual(otherCampaign('disabled hvroll:c7:rack a', 'c1'), { campaign: 'c7', group: 'rack a' });
  t.is(otherCampaign('hvroll:c1:g1', 'c1'), null);
  t.is(otherCampaign('ops: disk swap', 'c1'), null);
  t.is(seenText({ stdoutTail: 'a\nb\n', stderrTail: '' }), '"a, b"');
  t.is(seenText({ stdoutTail: '', stderrTail: '' }), '(no output)');
});
