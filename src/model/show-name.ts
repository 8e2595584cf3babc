// How a name an operator reads (a VM or domain name as a host reported it, a host, a group) is printed.
// Hosts accept names with blanks, invisible, bidi or look-alike characters; printed raw, `vm-2 ` and `vm-2`,
// or `vm-а` (Cyrillic а) and `vm-a`, look the same. So a name that is not plain printable ASCII is printed
// quoted, with every character outside printable ASCII escaped: two names that differ in any character never
// print the same, and nothing printed can hide, reorder or fake the rest of a line.

/** Printable ASCII without the space, not starting with `"` (so a plain name is never read as a quoted one). */
const PLAIN = /^[!#-~][!-~]*$/;

const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeChar(ch: string): string {
  const short = SHORT_ESCAPES[ch];
  if (short !== undefined) return short;
  const code = ch.codePointAt(0)!;
  if (code >= 0x20 && code <= 0x7e) return ch;
  return code > 0xffff ? `\\u{${code.toString(16).toUpperCase()}}` : `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The name in double quotes, every character outside printable ASCII escaped (`\u0430`, `\u00A0`, `\t`). */
export function quoteName(name: string): string {
  let out = '"';
  // By code point; a lone surrogate comes out as its own \uXXXX.
  for (const ch of name) out += escapeChar(ch);
  return `${out}"`;
}

/** The name as-is when it is plain printable ASCII, else quoted and escaped (see quoteName). */
export function showName(name: string): string {
  return PLAIN.test(name) ? name : quoteName(name);
}

/** Several names for a message: the first `max`, escaped, then how many more. */
export function showNames(names: readonly string[], max = 10): string {
  const shown = names.slice(0, max).map(showName).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

// Format characters (zero-width space and joiners, bidi controls, BOM, soft hyphen…) and control characters:
// invisible, so two names that differ only by them look the same.
const INVISIBLE = /[\p{Cf}\p{Cc}]/gu;

// Letters of other scripts that print like a Latin letter, lower-cased (Cyrillic В and Greek Η look like B and
// H, so в and η map to b and h). Not every confusable in Unicode: the common ones a name picks up from a
// keyboard layout or a copy and paste.
const LATIN_LOOKALIKE: Record<string, string> = {
  а: 'a', в: 'b', е: 'e', һ: 'h', і: 'i', ј: 'j', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x', ѕ: 's', ԁ: 'd', ԛ: 'q', ԝ: 'w', ӏ: 'l',
  α: 'a', β: 'b', ε: 'e', ζ: 'z', η: 'h', ι: 'i', κ: 'k', μ: 'm', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', ı: 'i',
};
const LOOKALIKE_CHARS = new RegExp(`[${Object.keys(LATIN_LOOKALIKE).join('')}]`, 'gu');

/**
 * What a name looks like once look-alike differences are taken out: compatibility forms (fullwidth, NBSP,
 * U+2009, U+3000 → ASCII), NFC vs NFD, invisible characters, leading and trailing whitespace, letter case, and
 * Cyrillic or Greek letters that look Latin. Two different names with the same key look alike to a reader.
 */
export function lookalikeKey(name: string): string {
  return name
    .normalize('NFKC')
    .replace(INVISIBLE, '')
    .trim()
    .toLowerCase()
    .replace(LOOKALIKE_CHARS, (ch) => LATIN_LOOKALIKE[ch] ?? ch);
}
