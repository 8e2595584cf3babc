// Errors carry details typed per kind: a remote error's reason, a store error's file, an input error's issues.
// The pairing holds in both directions (checked by the type checker here too: npm test runs tsc first), and
// survives the trip into a record (machine context, the store).
import test from 'ava';
import { errorOfKind, fixOf, HvrollError, InputError, recordDetails, type ErrorRecord } from '../../src/model/errors.ts';

test('an error of a kind is read back with its details typed; another kind reads as undefined', (t) => {
  const e: unknown = new HvrollError('remote', 'hv-1: connection lost', { retryable: true, details: { host: 'hv-1', reason: 'disconnected' } });
  t.is(errorOfKind(e, 'remote')?.details?.reason, 'disconnected');
  t.is(errorOfKind(e, 'store'), undefined);
  t.is(errorOfKind(new Error('plain'), 'remote'), undefined);
});

test('instanceof gives the union of every kind, which the kind narrows', (t) => {
  const e: unknown = new HvrollError('store', 'damaged', { details: { file: '/s/c1/journal.ndjson', problem: 'cut short', fix: 'restore it' } });
  if (!(e instanceof HvrollError) || e.kind !== 'store') return t.fail('a store error');
  t.is(e.details?.file, '/s/c1/journal.ndjson');
  t.is(fixOf(e), 'restore it');
});

test('a record keeps the kind and its details; recordDetails reads them only for that kind', (t) => {
  const record: ErrorRecord = JSON.parse(JSON.stringify(new HvrollError('remote', 'x', { details: { hosts: ['hv-1', 'hv-2'], vms: ['a'] } }).toRecord()));
  t.deepEqual(recordDetails(record, 'remote')?.hosts, ['hv-1', 'hv-2']);
  t.is(recordDetails(record, 'store'), undefined);
  t.is(recordDetails(null, 'remote'), undefined);
});

test('an input error carries its issues as details, and has no single fix', (t) => {
  const e = new InputError([{ file: 'inv.yaml', path: 'hosts[0]', message: 'bad', fix: 'fix it' }]);
  t.is(e.kind, 'invalid-input');
  t.deepEqual(e.details, e.issues);
  t.is(fixOf(e), undefined);
});

test('details of another kind are refused by the type checker', (t) => {
  // @ts-expect-error a placeholder is an invalid-input detail, not a remote one
  const wrong = new HvrollError('remote', 'x', { details: { placeholder: 'vm' } });
  // @ts-expect-error campaign-failed carries no details: its message says it all
  const none = new HvrollError('campaign-failed', 'x', { details: { fix: 'y' } });
  t.is(wrong.kind, 'remote');
  t.is(none.kind, 'campaign-failed');
});
