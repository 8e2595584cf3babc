// What a journal entry is: typed when this hvroll wrote it, read from its text when an older one did — and
// the text is the same either way (it is the journal key, and what status and audit show).
import test from 'ava';
import { isTyped, journalStep, journalStepName, journalStepOf, MIGRATE_CONFIRMED, PRE_DISABLED, type Probe } from '../../src/model/journal.ts';

test('the text of each part of a step is the one the journal always had', (t) => {
  const names = (['require', 'check', 'confirm', 'await', 'leftover-check', 'leftover', 'boot-id', 'abort', 'inspect', 'pre-disabled-check'] as Probe[]).map((p) => journalStepName(journalStep('migrate', p)));
  t.deepEqual(names, ['migrate:require', 'migrate:check', 'migrate:confirm', 'migrate:confirm', 'migrate:leftover:check', 'migrate:leftover', 'migrate:boot-id', 'migrate:abort', 'migrate:inspect', 'migrate:pre-disabled:check']);
  t.is(journalStepName(journalStep('migrate')), 'migrate');
  t.is(MIGRATE_CONFIRMED, 'migrate:confirmed');
  t.is(PRE_DISABLED, 'disable:pre-disabled');
});

test('only the step\'s own command, a leftover removal and an abort change the host; discovery and probes only read', (t) => {
  t.true(journalStep('reboot').effect);
  t.true(journalStep('migrate', 'leftover').effect);
  t.true(journalStep('migrate', 'abort').effect);
  t.false(journalStep('discover').effect);
  t.false(journalStep('discover', 'inspect').effect);
  for (const p of ['require', 'check', 'confirm', 'await', 'leftover-check', 'boot-id', 'pre-disabled-check', 'pre-disabled', 'confirmed'] as Probe[]) t.false(journalStep('migrate', p).effect, p);
});

test('a typed entry is read from its fields; its step is its text without the part', (t) => {
  const e = { step: 'shutdown:confirm', probe: 'await' as const, effect: false };
  t.true(isTyped(e));
  t.deepEqual(journalStepOf(e), { step: 'shutdown', probe: 'await', effect: false });
  t.deepEqual(journalStepOf({ step: 'migrate', effect: true }), { step: 'migrate', effect: true });
});

test('an entry of an older store is read from its text, the longest part first', (t) => {
  const old = (step: string) => journalStepOf({ step });
  const written = { step: 'migrate:check' };
  t.false(isTyped(written));
  t.deepEqual(old('migrate:leftover:check'), { step: 'migrate', probe: 'leftover-check', effect: false });
  t.deepEqual(old('migrate:leftover'), { step: 'migrate', probe: 'leftover', effect: true });
  t.deepEqual(old('disable:pre-disabled:check'), { step: 'disable', probe: 'pre-disabled-check', effect: false });
  t.deepEqual(old('reboot:boot-id'), { step: 'reboot', probe: 'boot-id', effect: false });
  t.deepEqual(old('discover:inspect'), { step: 'discover', probe: 'inspect', effect: false });
  t.deepEqual(old('discover'), { step: 'discover', effect: false });
  t.deepEqual(old('upgrade'), { step: 'upgrade', effect: true });
});
