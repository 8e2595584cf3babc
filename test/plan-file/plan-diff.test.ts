// The first difference between a plan file and the plan its inputs give, as canonical JSON sees them: key
// order and whitespace never count, absent and undefined are the same, and the path says where to look.

import test from 'ava';
import { firstDifference } from '../../src/plan-file/plan-diff.ts';

test('equal canonical JSON is no difference, whatever the key order; undefined members count as absent', (t) => {
  t.is(firstDifference({ a: 1, b: { c: [1, 2], d: 'x' } }, { b: { d: 'x', c: [1, 2] }, a: 1 }), null);
  t.is(firstDifference({ a: 1, gone: undefined }, { a: 1 }), null);
  t.is(firstDifference({ a: 1 }, { a: 1, gone: undefined, f: () => 1 }), null);
  t.is(firstDifference({ n: null }, { n: Number.POSITIVE_INFINITY }), null, 'a non-finite number is written as null');
  t.is(firstDifference([null], [undefined]), null, 'inside an array undefined is written as null');
});

test('the path of the first difference, with both values', (t) => {
  const derived = { settings: { concurrency: { groups: 1 } }, groups: [{ name: 'g1', moves: [{ vm: 'a', to: 'hv-2' }] }] };
  const file = { settings: { concurrency: { groups: 1 } }, groups: [{ name: 'g1', moves: [{ vm: 'a', to: 'hv-9' }] }] };
  t.deepEqual(firstDifference(file, derived), { path: 'groups[0].moves[0].to', left: 'hv-9', right: 'hv-2' });
});

test('first in the order of the derived plan (the documented field order), then what only the file has', (t) => {
  const derived = { summary: { runnable: false }, problems: [{ kind: 'no-target' }] };
  t.is(firstDifference({ problems: [], summary: { runnable: true } }, derived)?.path, 'summary.runnable');
  t.deepEqual(firstDifference({ summary: { runnable: false }, problems: [{ kind: 'no-target' }], extra: 1 }, derived), { path: 'extra', left: 1, right: undefined });
});

test('a missing or extra element or member is absent (undefined) on its side', (t) => {
  t.deepEqual(firstDifference({ after: [] }, { after: ['g1'] }), { path: 'after[0]', left: undefined, right: 'g1' });
  t.deepEqual(firstDifference({ hosts: ['a', 'b'] }, { hosts: ['a'] }), { path: 'hosts[1]', left: 'b', right: undefined });
  t.deepEqual(firstDifference({ s: {} }, { s: { twoPersonRule: true } }), { path: 's.twoPersonRule', left: undefined, right: true });
});

test('a key that is not a plain word is bracketed; a type change is a difference at that path', (t) => {
  t.is(firstDifference({ b: { 'rack=r1': { m: 2 } } }, { b: { 'rack=r1': { m: 1 } } })?.path, 'b["rack=r1"].m');
  t.deepEqual(firstDifference({ x: [1] }, { x: { 0: 1 } }), { path: 'x', left: [1], right: { 0: 1 } });
  t.deepEqual(firstDifference({ x: '1' }, { x: 1 }), { path: 'x', left: '1', right: 1 });
  t.deepEqual(firstDifference(1, 2), { path: '', left: 1, right: 2 });
});
