// Which journal entries are failures. A command that changes a host (`migrate`, `upgrade`, …) failed when it
// exited non-zero or never answered. A probe (`migrate:confirm`, `verify:confirm`, `reboot:boot-id`) is only
// a question: `virsh domstate` exiting 1 on the source is the expected "gone", and a `:check` exiting non-zero
// means "not done yet"; a `:require` that does not hold fails its step for good (never retried), so only the
// group's error can make it a failure (`cat` of an absent marker exits 1 and holds). The journal does not record whether a probe met its runbook expectation, so a probe
// counts as a failure only when the engine acted on it as one: the step ran again for the same host or VM
// after it (a retry), or the group failed with an error that names its host (and VM).
// Pure: one pass over the journal plus a per-key index.

import type { JournalEntry } from '../model/journal.ts';

const stepBase = (step: string) => step.split(':')[0]!;
const subject = (e: JournalEntry) => `${e.group}\u0000${stepBase(e.step)}\u0000${e.vm ?? e.host}`;

export function failedEntries(journal: readonly JournalEntry[], groupError: (group: string) => string | null): JournalEntry[] {
  // Last position at which the step's own command (not a probe) ran, per group + step + VM (or host).
  const lastRun = new Map<string, number>();
  journal.forEach((e, i) => {
    if (!e.step.includes(':')) lastRun.set(subject(e), i);
  });
  return journal.filter((e, i) => {
    const o = e.outcome;
    if (!o) return false;
    if (o.error !== undefined) return true;
    if (o.exitCode === 0) return false;
    if (!e.step.includes(':')) return true;
    if (e.step.endsWith(':check')) return false;
    if (!e.step.endsWith(':require') && (lastRun.get(subject(e)) ?? -1) > i) return true;
    const err = groupError(e.group);
    return err !== null && names(err, e.host) && (e.vm === undefined || names(err, e.vm));
  });
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
