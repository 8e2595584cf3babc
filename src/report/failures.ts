// Which journal entries are failures. A command that changes a host (`migrate`, `upgrade`, …) failed when it
// exited non-zero or never answered. A probe is a question: it failed only when its expectation did not hold
// and the engine took that as the step failing — a requirement, a confirm, a boot id or a VM's size it could
// not read. A check ("already done?"), a leftover's check, a confirm read again until it holds, and the
// removal of a leftover (whose confirm decides) are never failures by their answer. `virsh domstate` exiting
// 1 on the source is an expected "gone", not a failure: the entry's verdict (`held`) says so.
//
// Entries written before the journal recorded what they are (no `effect`, no `held`) are judged as before,
// from their text: a probe counts as a failure only when the engine acted on it as one — the step ran again
// for the same host or VM after it (a retry), or the group failed with an error that names its host (and VM).
// Pure: one pass over the journal plus a per-key index.

import { isTyped, journalStepOf, type JournalEntry, type Probe } from '../model/journal.ts';

/** Probes whose unmet answer fails the step (or makes it run again). */
const FAILS_WHEN_UNMET = new Set<Probe | undefined>(['require', 'confirm', 'boot-id', 'inspect']);

/** Commands that change a host and are judged by their exit code. */
const JUDGED_BY_EXIT = new Set<Probe | undefined>([undefined, 'abort']);

function typedFailure(e: JournalEntry): boolean {
  const o = e.outcome;
  if (!o) return false;
  if (o.error !== undefined) return true;
  const { probe } = journalStepOf(e);
  if (FAILS_WHEN_UNMET.has(probe)) return o.held === false;
  return JUDGED_BY_EXIT.has(probe) && o.exitCode !== 0;
}

export function failedEntries(journal: readonly JournalEntry[], groupError: (group: string) => string | null): JournalEntry[] {
  const legacy = legacyFailures(journal.filter((e) => !isTyped(e)), groupError);
  return journal.filter((e) => (isTyped(e) ? typedFailure(e) : legacy.has(e)));
}

const subject = (e: JournalEntry) => `${e.group}\u0000${journalStepOf(e).step}\u0000${e.vm ?? e.host}`;

/** Old entries: the journal did not record whether a probe met its expectation (see the top of this file). */
function legacyFailures(journal: readonly JournalEntry[], groupError: (group: string) => string | null): Set<JournalEntry> {
  // Last position at which the step's own command (not a probe) ran, per group + step + VM (or host).
  const lastRun = new Map<string, number>();
  journal.forEach((e, i) => {
    if (journalStepOf(e).probe === undefined) lastRun.set(subject(e), i);
  });
  const failed = journal.filter((e, i) => {
    const o = e.outcome;
    if (!o) return false;
    if (o.error !== undefined) return true;
    if (o.exitCode === 0) return false;
    const { probe } = journalStepOf(e);
    if (probe === undefined) return true;
    if (probe === 'check' || probe === 'leftover-check' || probe === 'pre-disabled-check') return false;
    if (probe !== 'require' && (lastRun.get(subject(e)) ?? -1) > i) return true;
    const err = groupError(e.group);
    return err !== null && names(err, e.host) && (e.vm === undefined || names(err, e.vm));
  });
  return new Set(failed);
}

/** `text` names `name` as a whole word (hv-1 is not named by "hv-10"; VM "c" not by "active"). */
function names(text: string, name: string): boolean {
  let at = text.indexOf(name);
  while (at !== -1) {
    const before = text[at - 1];
    const after = text[at + name.length];
    // A full stop ending a sentence is not part of the name.
    const endsSentence = after === '.' && !NAME_CHAR.test(text[at + name.length + 1] ?? ' ');
    if ((before === undefined || !NAME_CHAR.test(before)) && (after === undefined || !NAME_CHAR.test(after) || endsSentence)) return true;
    at = text.indexOf(name, at + 1);
  }
  return false;
}

const NAME_CHAR = /[A-Za-z0-9._-]/;
