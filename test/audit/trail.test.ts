// The audit trail's command text shows the arguments as the host's shell received them: an argument with a
// space or shell syntax is one quoted word, so the trail never misreads one argument as several.

import test from 'ava';
import { commandEntry } from '../../src/audit/trail.ts';
import type { JournalEntry } from '../../src/model/journal.ts';

function entry(argv: string[]): JournalEntry {
  return { id: 1, key: 'c1/g/disable/hv-1', group: 'g', step: 'disable', host: 'hv-1', argv, startedAt: '2026-01-01T00:00:00.000Z', operator: 'alice' };
}

test('plain words stay plain; a word with a space, $ or a quote is single-quoted the POSIX way', (t) => {
  const e = commandEntry(entry(['openstack', 'compute', 'service', 'set', '--disable-reason', 'hvroll campaign c1', 'hv-1', 'nova-compute']));
  t.is(e.what, "openstack compute service set --disable-reason 'hvroll campaign c1' hv-1 nova-compute");
  t.is(commandEntry(entry(['dpkg-query', '-W', '-f=${Version}', 'libvirt-daemon-system'])).what, "dpkg-query -W '-f=${Version}' libvirt-daemon-system");
  t.is(commandEntry(entry(['virsh', 'domstate', "x'; touch /tmp/pwned; '"])).what, `virsh domstate 'x'\\''; touch /tmp/pwned; '\\'''`);
  t.is(commandEntry(entry(['virsh', 'migrate', '--live', 'vm-1', 'qemu+ssh://10.0.0.2/system'])).what, 'virsh migrate --live vm-1 qemu+ssh://10.0.0.2/system');
  t.like(commandEntry(entry(['true'])), { operator: 'alice', host: 'hv-1', result: 'no outcome (in flight when the runner stopped)' });
});
