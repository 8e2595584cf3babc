import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { quoteArg, quoteArgv } from '../../../src/drivers/ssh/quote.ts';
import { mulberry32 } from '../../../src/fleet/random.ts';
import { HvrollError } from '../../../src/model/errors.ts';
import { splitWords } from '../../helpers/ssh-words.ts';

// Pieces chosen to hit every shell metacharacter and quoting edge, plus random code points.
const PIECES = ["'", '"', '\\', '$', '$(', ')', '`', '${HOME}', '\n', '\t', ' ', ';', '&&', '|', '>', '<', '*', '?', '[a]', '{a,b}', '~', '#', '!', '=', '-', '--', '-rf', "'\\''", 'é', '日本', '🙂', '%s', '\r', 'x'];

function randomArg(rand: () => number): string {
  const n = Math.floor(rand() * 8);
  let s = '';
  for (let i = 0; i < n; i++) {
    if (rand() < 0.7) s += PIECES[Math.floor(rand() * PIECES.length)];
    else s += String.fromCodePoint(1 + Math.floor(rand() * 0x2ff)); // never NUL
  }
  return s;
}

function randomArgv(rand: () => number): string[] {
  const n = 1 + Math.floor(rand() * 5);
  return Array.from({ length: n }, () => randomArg(rand));
}

test('quoted argv splits back into exactly the same words (2000 random argv)', (t) => {
  const rand = mulberry32(0x5eed);
  for (let i = 0; i < 2000; i++) {
    const argv = randomArgv(rand);
    const split = splitWords(quoteArgv(argv));
    if (!split.ok || JSON.stringify(split.words) !== JSON.stringify(argv)) {
      t.fail(`round trip failed for ${JSON.stringify(argv)}: ${JSON.stringify(split)}`);
      return;
    }
  }
  t.pass();
});

test('a real /bin/sh receives each quoted argument as one word and runs nothing (150 random argv)', (t) => {
  const rand = mulberry32(0xbeef);
  const dir = mkdtempSync(join(tmpdir(), 'hvroll-quote-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const canary = join(dir, 'pwned');
  for (let i = 0; i < 150; i++) {
    const argv = [...randomArgv(rand), `x'; touch ${canary}; '`, `$(touch ${canary})`, `\`touch ${canary}\``];
    // printf '%s\0' prints every argument NUL-terminated: the shell's word split, made visible.
    const script = quoteArgv(['printf', '%s\\0', ...argv]);
    const out = execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8' });
    const words = out.split('\0').slice(0, -1);
    if (JSON.stringify(words) !== JSON.stringify(argv)) {
      t.fail(`sh split ${JSON.stringify(argv)} into ${JSON.stringify(words)}`);
      return;
    }
  }
  t.false(existsSync(canary), 'an argument was executed by the shell');
});

test('quoting is exactly POSIX single quotes with the quote escaped as close-escape-reopen', (t) => {
  t.is(quoteArg(''), "''");
  t.is(quoteArg('plain'), "'plain'");
  t.is(quoteArg("it's"), "'it'\\''s'");
  t.is(quoteArg('-rf'), "'-rf'");
  t.is(quoteArgv(['virsh', 'dominfo', 'a b']), "'virsh' 'dominfo' 'a b'");
});

test('a NUL byte in any argument is refused before anything is sent', (t) => {
  const err = t.throws(() => quoteArgv(['echo', 'a\0b']), { instanceOf: HvrollError });
  t.is(err?.kind, 'invalid-input');
  t.throws(() => quoteArgv([]), { instanceOf: HvrollError });
});

test('the test shell refuses what a real shell would expand instead of guessing', (t) => {
  for (const s of ['echo $HOME', 'echo `id`', 'a; b', 'a | b', 'a > f', 'ls *', 'echo "$(id)"', "echo 'open", 'FOO=1 cmd', '~/x', 'a\nb', 'echo {a,b}', '']) {
    t.false(splitWords(s).ok, s);
  }
  t.deepEqual(splitWords(`a "b c" 'd e' f\\ g "h\\"i" ''`), { ok: true, words: ['a', 'b c', 'd e', 'f g', 'h"i', ''] });
});
