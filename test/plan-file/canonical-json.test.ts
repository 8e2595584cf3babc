// canonicalJson (a sorted copy printed by JSON.stringify, for speed) writes exactly what the streaming
// writer writes — the definition the fingerprint and the seal rest on — for every value, odd ones included.

import test from 'ava';
import { mulberry32 } from '../../src/fleet/random.ts';
import { canonicalJson, writeCanonicalJson } from '../../src/plan-file/canonical-json.ts';

function streamed(value: unknown): string {
  const parts: string[] = [];
  writeCanonicalJson(value, (c) => parts.push(c));
  return parts.join('');
}

const KEYS = ['a', 'b', 'Z', '', 'é', '0', '1', '9', '10', '01', '-1', '-', ' ', 'toJSON', 'rack=r1', 'hv-10', 'hv-9'];

function randomValue(r: () => number, depth: number): unknown {
  const pick = r();
  if (depth <= 0 || pick < 0.35) {
    const scalars = [null, true, false, 0, -0, 1.5, -3, 1e21, Number.NaN, Number.POSITIVE_INFINITY, undefined, 'x', 'a "quoted" \\ line\n', 'é✓'];
    return scalars[Math.floor(r() * scalars.length)];
  }
  if (pick < 0.6) return Array.from({ length: Math.floor(r() * 5) }, () => randomValue(r, depth - 1));
  const out: Record<string, unknown> = {};
  const n = Math.floor(r() * 6);
  for (let i = 0; i < n; i++) out[KEYS[Math.floor(r() * KEYS.length)]!] = randomValue(r, depth - 1);
  return out;
}

test('the same text as the streaming writer for 2,000 random JSON-like values (integer-like keys, undefined, NaN, unicode)', (t) => {
  const r = mulberry32(7);
  for (let i = 0; i < 2000; i++) {
    const v = randomValue(r, 4);
    t.is(canonicalJson(v), streamed(v), JSON.stringify(v));
  }
});

test('the same text for values JSON.stringify would print otherwise: holes, __proto__, symbols, functions, Dates, toJSON', (t) => {
  const odd: unknown[] = [
    // eslint-disable-next-line no-sparse-arrays
    [1, , 3],
    JSON.parse('{"__proto__":{"a":1},"b":2}'),
    { s: Symbol('x') },
    { f: () => 1, g: undefined },
    () => 1,
    undefined,
    { when: new Date(0) },
    { a: { toJSON: () => 5 } },
    { a: { toJSON: 'data' } },
    { '10': 1, '9': 2, a: 3 },
    { '-': 1, '0': 2 },
    new Uint8Array(12),
  ];
  for (const v of odd) t.is(canonicalJson(v), streamed(v));
  t.throws(() => canonicalJson({ n: 1n }), { instanceOf: TypeError });
});
