// The js-yaml fast path must read every document exactly as the `yaml` parser (which locates errors) does.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { CORE_SCHEMA, load } from 'js-yaml';
import { parse } from 'yaml';

const samples: [string, string][] = [
  ...readdirSync('inventory').filter((f) => /\.ya?ml$/.test(f)).map((f) => [f, readFileSync(`inventory/${f}`, 'utf8')] as [string, string]),
  ['scalars', 'a: 03\nb: 0o17\nc: 0x1f\nd: yes\ne: ~\nf: 1e3\ng: .inf\nh: "quoted"\ni: 2024-01-01\nj: true\n'],
  ['anchors', 'base: &b { vcpus: 4, memoryMiB: 8192 }\nhosts:\n  - { name: a, capacity: *b }\n  - { name: b, capacity: *b }\n'],
  ['multiline', 'note: |\n  line one\n  line two\nfolded: >\n  a\n  b\n'],
];

for (const [name, text] of samples) {
  test(`js-yaml and yaml read ${name} identically`, (t) => {
    t.deepEqual(load(text, { schema: CORE_SCHEMA, json: false }), parse(text));
  });
}
