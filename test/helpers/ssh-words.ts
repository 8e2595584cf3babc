// How a POSIX shell would split an exec string into words, for the simulated hosts. It NEVER evaluates:
// anything a shell would expand or interpret (variables, command substitution, globs, redirections,
// separators, brace/tilde expansion, assignments) is refused, so every string it accepts means exactly
// the words it returns — to /bin/sh as much as to us.

export type SplitResult = { ok: true; words: string[] } | { ok: false; reason: string };

const UNQUOTED_SPECIAL = new Set(['$', '`', ';', '&', '|', '<', '>', '(', ')', '*', '?', '[', ']', '{', '}', '\n']);

export function splitWords(input: string): SplitResult {
  const words: string[] = [];
  let word = '';
  let inWord = false; // a word exists even if empty (`''`)
  let firstWordHasBareEquals = false;
  let i = 0;
  const refuse = (reason: string): SplitResult => ({ ok: false, reason: `${reason} at offset ${i}` });

  while (i < input.length) {
    const c = input[i] as string;
    if (c === ' ' || c === '\t') {
      if (inWord) {
        words.push(word);
        word = '';
        inWord = false;
      }
      i++;
      continue;
    }
    if (c === "'") {
      const end = input.indexOf("'", i + 1);
      if (end === -1) return refuse('unterminated single quote');
      word += input.slice(i + 1, end);
      inWord = true;
      i = end + 1;
      continue;
    }
    if (c === '"') {
      i++;
      for (;;) {
        if (i >= input.length) return refuse('unterminated double quote');
        const d = input[i] as string;
        if (d === '"') break;
        if (d === '$' || d === '`') return refuse(`expansion ${d} inside double quotes`);
        if (d === '\\') {
          const n = input[i + 1];
          if (n === undefined) return refuse('unterminated double quote');
          if (n === '\n') {
            i += 2; // line continuation
            continue;
          }
          if (n === '$' || n === '`' || n === '"' || n === '\\') {
            word += n;
            i += 2;
            continue;
          }
        }
        word += d;
        i++;
      }
      inWord = true;
      i++;
      continue;
    }
    if (c === '\\') {
      const n = input[i + 1];
      if (n === undefined) return refuse('trailing backslash');
      if (n !== '\n') {
        word += n;
        inWord = true;
      }
      i += 2;
      continue;
    }
    if (UNQUOTED_SPECIAL.has(c)) return refuse(`unquoted ${JSON.stringify(c)}`);
    if (!inWord && (c === '#' || c === '~')) return refuse(`unquoted ${c} at the start of a word`);
    if (c === '=' && words.length === 0) firstWordHasBareEquals = true;
    word += c;
    inWord = true;
    i++;
  }
  if (inWord) words.push(word);
  if (firstWordHasBareEquals) return { ok: false, reason: 'unquoted = in the first word (would be an assignment)' };
  if (words.length === 0) return { ok: false, reason: 'empty command' };
  return { ok: true, words };
}
