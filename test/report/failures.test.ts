// The report's failures: commands that changed nothing they should have, and probes the engine acted on as
// failures — never an expected answer (`virsh domstate` exiting 1 on the source once the VM left) nor a
// `:check` saying "not done yet".

import test from 'ava';
import { failedEntries } from '../../src/report/failures.ts';
import type { JournalEntry } from '../../src/model/journal.ts';

let id = 0;
function e(group: string, step: string, host: string, exitCode: number | null, o: { vm?: string; error?: string } = {}): JournalEntry {
  return {
    id: ++id,
    key: `c1/${group}/${step}/${o.vm ?? host}/${id}`,
    group,
    step,
    host,
    ...(o.vm ? { vm: o.vm } : {}),
    argv: ['x'],
    startedAt: '2026-01-01T00:00:00.000Z',
    operator: 'alice',
    outcome: { exitCode, outputTail: '', endedAt: '2026-01-01T00:00:01.000Z', ...(o.error ? { error: { kind: 'remote', message: o.error, retryable: true } } : {}) },
  };
}

test('expected non-zero answers are not failures; failed commands, errors, retried probes and the probe a group failed on are', (t) => {
  const journal = [
    e('g1', 'disable:check', 'hv-1', 1), // not disabled yet
    e('g1', 'migrate:check', 'hv-2', 1, { vm: 'a' }), // not on the target yet
    e('g1', 'migrate', 'hv-1', 1, { vm: 'a' }), // attempt 1 failed
    e('g1', 'migrate:confirm', 'hv-2', 1, { vm: 'b' }), // "running on target": no — then retried below
    e('g1', 'migrate', 'hv-1', 0, { vm: 'b' }),
    e('g1', 'migrate', 'hv-1', 0, { vm: 'a' }),
    e('g1', 'migrate:confirm', 'hv-1', 1, { vm: 'a' }), // "gone from source": yes (expected exit 1)
    e('g1', 'reboot:confirm', 'hv-1', null, { error: 'connection lost' }),
    e('g2', 'verify:confirm', 'hv-3', 0),
    e('g2', 'verify:confirm', 'hv-4', 3), // the group failed on this one
    e('g2', 'migrate:confirm', 'hv-4', 1, { vm: 'c' }), // expected "gone", in the failed group, not named by its error
  ];
  const errors: Record<string, string> = { g2: 'verify did not take: libvirtd active on hv-4: exit code 3, expected 0' };
  const failed = failedEntries(journal, (g) => errors[g] ?? null).map((x) => `${x.group} ${x.step} ${x.host} ${x.vm ?? ''}`.trim());
  t.deepEqual(failed, ['g1 migrate hv-1 a', 'g1 migrate:confirm hv-2 b', 'g1 reboot:confirm hv-1', 'g2 verify:confirm hv-4']);
});

test('a group error names a host as a whole word: hv-1 is not named by hv-10, a sentence may end after it', (t) => {
  const journal = [e('g', 'verify:confirm', 'hv-1', 3), e('g', 'verify:confirm', 'hv-10', 3)];
  const only = (err: string) => failedEntries(journal, () => err).map((x) => x.host);
  t.deepEqual(only('verify did not take on hv-10: exit code 3'), ['hv-10']);
  t.deepEqual(only('verify did not take on hv-1.'), ['hv-1']);
});

test('removing a stopped copy an interrupted migration left is not a failure: its checks answer questions, and an undefine that finds a transient copy already gone is expected', (t) => {
  const journal = [
    e('g1', 'migrate', 'hv-1', null, { vm: 'a', error: 'connection lost' }), // the run killed mid-migration
    e('g1', 'migrate:check', 'hv-1', 0, { vm: 'a' }), // resume: "gone from source"? no (exit 0: still defined)
    e('g1', 'migrate:leftover:check', 'hv-2', 1, { vm: 'a' }), // first case: not shut off on the source
    e('g1', 'migrate:leftover:check', 'hv-1', 0, { vm: 'a' }),
    e('g1', 'migrate:leftover', 'hv-1', 0, { vm: 'a' }), // virsh destroy
    e('g1', 'migrate:leftover', 'hv-1', 1, { vm: 'a' }), // virsh undefine: transient, gone with the destroy
    e('g1', 'migrate:confirm', 'hv-1', 1, { vm: 'a' }), // gone from source: yes
    e('g1', 'migrate:leftover:check', 'hv-2', 1, { vm: 'b' }), // no copy of b on its target: its migration is retried
    e('g1', 'migrate', 'hv-1', 0, { vm: 'b' }),
  ];
  t.deepEqual(
    failedEntries(journal, () => null).map((x) => `${x.step} ${x.vm}`),
    ['migrate a'],
  );
});

test('a requirement that held with a non-zero exit (no marker to read) is not a failure; one the group failed on is', (t) => {
  const journal = [
    e('g1', 'disable:require', 'hv-1', 1), // `cat` of an absent marker: not disabled by another campaign
    e('g1', 'disable', 'hv-1', 0),
    e('g2', 'upgrade:require', 'hv-2', 1), // "host in maintenance": no marker — the group failed on it
  ];
  const errors: Record<string, string> = { g2: 'upgrade on hv-2: requirement "host in maintenance" does not hold (exit code 1, expected 0); seen: (no output).' };
  const failed = failedEntries(journal, (g) => errors[g] ?? null).map((x) => `${x.group} ${x.step} ${x.host}`);
  t.deepEqual(failed, ['g2 upgrade:require hv-2']);
});

/** An entry as this hvroll writes it: what it is (probe, effect) and, for a probe, whether its expectation held. */
function typed(group: string, step: string, probe: JournalEntry['probe'], host: string, exitCode: number | null, o: { vm?: string; held?: boolean; error?: string } = {}): JournalEntry {
  const entry = e(group, step, host, exitCode, o);
  const effect = probe === undefined ? step !== 'discover' : probe === 'leftover' || probe === 'abort';
  return { ...entry, ...(probe === undefined ? {} : { probe }), effect, outcome: { ...entry.outcome!, ...(o.held === undefined ? {} : { held: o.held }) } };
}

test('typed entries: a probe fails by its verdict, not by its exit code nor by the group error naming its host', (t) => {
  const journal = [
    typed('g1', 'verify:confirm', 'confirm', 'hv-1', 1, { held: true }), // expects exit 1 ("gone"), got it
    typed('g1', 'migrate:confirm', 'confirm', 'hv-2', 0, { vm: 'a', held: false }), // exit 0, but printed "paused", not "running"
    typed('g1', 'upgrade:require', 'require', 'hv-1', 0, { held: false }), // the marker says another campaign
    typed('g1', 'disable:require', 'require', 'hv-3', 1, { held: true }), // no marker to read: holds
    typed('g1', 'upgrade:check', 'check', 'hv-1', 0, { held: false }), // not done yet
    typed('g1', 'shutdown:confirm', 'await', 'hv-1', 0, { vm: 'b', held: false }), // still shutting down: read again
    typed('g1', 'reboot:boot-id', 'boot-id', 'hv-1', 0, { held: false }), // printed nothing
    typed('g1', 'discover:inspect', 'inspect', 'hv-2', 0, { vm: 'x', held: true }),
  ];
  // The group's error names hv-1 and hv-3: the old reading of the journal took that as "its probes failed".
  const failed = failedEntries(journal, () => 'requirement "host empty" does not hold on hv-1 and hv-3').map((x) => `${x.step} ${x.host} ${x.vm ?? ''}`.trim());
  t.deepEqual(failed, ['migrate:confirm hv-2 a', 'upgrade:require hv-1', 'reboot:boot-id hv-1']);
});

test('typed entries: commands that change a host fail by their exit code, except a leftover removal (its confirm decides)', (t) => {
  const journal = [
    typed('g1', 'migrate', undefined, 'hv-1', 1, { vm: 'a' }),
    typed('g1', 'migrate:leftover', 'leftover', 'hv-1', 1, { vm: 'a' }), // undefine of a transient copy already gone
    typed('g1', 'migrate:abort', 'abort', 'hv-1', 1, { vm: 'b' }),
    typed('g1', 'discover', undefined, 'hv-1', 2),
    typed('g1', 'reboot', undefined, 'hv-1', null, { error: 'connection lost' }),
    typed('g1', 'upgrade', undefined, 'hv-2', 0),
  ];
  t.deepEqual(
    failedEntries(journal, () => null).map((x) => x.step),
    ['migrate', 'migrate:abort', 'discover', 'reboot'],
  );
});
