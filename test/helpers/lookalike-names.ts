// Names a host may report beside `vm-2` that a reader would take for it: other whitespace (tab, CR, NBSP,
// U+2009, U+3000), zero-width and bidi characters, case, a Unicode hyphen, a Cyrillic letter, NFD, fullwidth.
export const VM2_LOOKALIKES = [
  'vm-2 ', ' vm-2', 'vm-2\t', '\tvm-2', 'vm-2\r', 'vm-2\u00a0', 'vm-2\u2009', '\u3000vm-2', 'vm-2\u200b', '\ufeffvm-2', 'vm\u200d-2',
  '\u202evm-2', 'vm-2\u2066', 'VM-2', 'Vm-2', 'vm\u20102', 'v\u043c-2', 'vm-2\u0301', '\uff56\uff4d-\uff12', 'vm-\uff12', 'vm-2\u00ad',
];
