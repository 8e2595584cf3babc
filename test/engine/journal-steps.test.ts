// Every journal entry a campaign writes says what it is — its step, which part of the step, whether it changes
// the host — and every probe's outcome says whether its expectation held, so a reader (the report, the fault
// checkers) never parses the step text nor guesses from exit codes.
import test from 'ava';
import { runCampaign } from '../../src/engine/campaign-runner.ts';
import { journalStepName, journalStepOf } from '../../src/model/journal.ts';
import { failedEntries } from '../../src/report/failures.ts';
import { startRig } from './campaign-fixture.ts';

test('a campaign journals typed steps with probe verdicts; an expected non-zero answer is no failure', async (t) => {
  const rig = await startRig({ hosts: 2, vmsPerHost: 2 });
  t.teardown(() => rig.close());
  const outcome = await runCampaign(rig.deps, { controlPollMs: 50 });
  t.is(outcome.state, 'done');
  const journal = await rig.deps.store.journal();
  t.true(journal.length > 20);
  for (const e of journal) {
    t.is(typeof e.effect, 'boolean', `${e.step} says whether it changes the host`);
    t.is(journalStepName(journalStepOf(e)), e.step, `${e.step}: its text is derived from what it is`);
  }
  const byStep = (step: string) => journal.filter((e) => e.step === step);
  t.true(byStep('migrate').every((e) => e.effect === true && e.probe === undefined));
  t.true(byStep('migrate:check').every((e) => e.probe === 'check' && e.effect === false && typeof e.outcome?.held === 'boolean'));
  t.true(byStep('reboot:boot-id').every((e) => e.probe === 'boot-id' && e.outcome?.held === true));
  t.true(byStep('migrate:confirmed').every((e) => e.probe === 'confirmed' && e.effect === false && e.argv === undefined));
  t.true(byStep('discover').every((e) => e.probe === undefined && e.effect === false));
  t.true(byStep('upgrade:require').every((e) => e.probe === 'require' && e.outcome?.held === true));
  // "Gone from the source" is `virsh domstate` exiting non-zero: expected, held, and not a failure.
  const expectedNonZero = journal.filter((e) => e.outcome?.exitCode !== 0 && e.outcome?.held === true);
  t.true(expectedNonZero.length > 0, 'some probes hold by a non-zero exit');
  t.deepEqual(failedEntries(journal, () => null), []);
});
