import test from 'ava';
import { lookalikeKey, quoteName, showName, showNames } from '../../src/model/show-name.ts';
import { VM2_LOOKALIKES } from '../helpers/lookalike-names.ts';


test('a plain name prints as it is', (t) => {
  for (const name of ['vm-2', 'web-01.example', 'db:1@rack', 'x_y', '101', "a'b", 'a\\b']) t.is(showName(name), name);
});

test('a name with blanks, invisible, bidi, control or non-ASCII characters prints quoted and escaped', (t) => {
  t.is(showName('vm-2 '), '"vm-2 "');
  t.is(showName(' vm-3'), '" vm-3"');
  t.is(showName('vm-2\t'), '"vm-2\\t"');
  t.is(showName('vm-2\r'), '"vm-2\\r"');
  t.is(showName('vm-2\u00a0'), '"vm-2\\u00A0"');
  t.is(showName('vm-2\u200b'), '"vm-2\\u200B"');
  t.is(showName('\u202evm-2'), '"\\u202Evm-2"');
  t.is(showName('vm-\u0430'), '"vm-\\u0430"', 'Cyrillic а');
  t.is(showName('vm-\u00e9'), '"vm-\\u00E9"', 'NFC é');
  t.is(showName('vm-e\u0301'), '"vm-e\\u0301"', 'NFD é');
  t.is(showName('\uff56\uff4d'), '"\\uFF56\\uFF4D"', 'fullwidth');
  t.is(showName('vm-\u{1F600}'), '"vm-\\u{1F600}"');
  t.is(showName(''), '""');
  t.is(showName('"vm-2"'), '"\\"vm-2\\""', 'a name that starts with a quote is quoted itself');
  t.is(quoteName('vm-2'), '"vm-2"');
});

test('look-alikes of one name never print the same, and print as one line of printable ASCII', (t) => {
  const names = ['vm-2', ...VM2_LOOKALIKES, 'vm-2'.normalize('NFD'), 'vm-\u00e9', 'vm-e\u0301', '"vm-2"', '"vm-2 "', 'vm-2\\'];
  const printed = new Map<string, string>();
  for (const name of new Set(names)) {
    const out = showName(name);
    t.regex(out, /^[\x20-\x7e]+$/, `${JSON.stringify(name)} prints ${JSON.stringify(out)}`);
    t.false(printed.has(out), `${JSON.stringify(name)} and ${JSON.stringify(printed.get(out))} both print ${out}`);
    printed.set(out, name);
  }
});

test('lookalikeKey sets aside blanks, invisible characters, case, NFC/NFD, compatibility forms and look-alike letters', (t) => {
  for (const name of VM2_LOOKALIKES.filter((n) => n !== 'vm\u20102' && n !== 'vm-2\u0301')) t.is(lookalikeKey(name), 'vm-2', JSON.stringify(name));
  t.is(lookalikeKey('vm-e\u0301'), lookalikeKey('vm-\u00e9'));
  t.is(lookalikeKey('VM-\u0412'), 'vm-b', 'Cyrillic В');
  t.not(lookalikeKey('vm-3'), lookalikeKey('vm-2'));
});

test('showNames escapes each name and says how many more there are', (t) => {
  t.is(showNames(['a', 'b '], 5), 'a, "b "');
  t.is(showNames(['a', 'b', 'c'], 2), 'a, b and 1 more');
});
