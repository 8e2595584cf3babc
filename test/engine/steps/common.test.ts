// What every step shares: work on every host (or VM) of a group settles all of it and fails with one error
// that names every one that failed — retryable only when each failure is.
import test from 'ava';
import { forEachHost } from '../../../src/engine/steps/common.ts';
import { HvrollError } from '../../../src/model/errors.ts';

const fail = (message: string, retryable: boolean) => Promise.reject(new HvrollError('remote', message, { retryable }));

test('all work settles; one failure is thrown as it is', async (t) => {
  const done: string[] = [];
  const only = new HvrollError('remote', 'hv-2: exit 1', { retryable: true });
  const err = await t.throwsAsync(forEachHost(['hv-1', 'hv-2', 'hv-3'], async (h) => (h === 'hv-2' ? Promise.reject(only) : void done.push(h))));
  t.is(err, only);
  t.deepEqual(done, ['hv-1', 'hv-3']);
});

test('several failures are one error naming each, with the hosts in its details; retryable only if every one is', async (t) => {
  const err = await t.throwsAsync(forEachHost(['hv-1', 'hv-2'], (h) => fail(`${h} down`, h === 'hv-1')));
  t.true(err instanceof HvrollError);
  t.is(err!.message, 'hv-1: hv-1 down; hv-2: hv-2 down');
  t.false((err as HvrollError).retryable);
  t.deepEqual((err as HvrollError<'remote'>).details, { hosts: ['hv-1', 'hv-2'] });
  const both = await t.throwsAsync(forEachHost(['hv-1', 'hv-2'], (h) => fail(h, true)));
  t.true((both as HvrollError).retryable);
});

test('work on VMs names their hosts in details.hosts, and the VMs in details.vms', async (t) => {
  const hostOf: Record<string, string> = { a: 'hv-1', b: 'hv-1', c: 'hv-2' };
  const err = (await t.throwsAsync(forEachHost(['a', 'b', 'c'], (vm) => (vm === 'c' ? Promise.resolve() : fail(`${vm} failed`, true)), (vm) => hostOf[vm]!))) as HvrollError<'remote'>;
  t.deepEqual(err.details, { hosts: ['hv-1'], vms: ['a', 'b'] });
});
