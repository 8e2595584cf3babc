import test from 'ava';
import { HeadBuffer, TailBuffer } from '../../src/executor/output-buffer.ts';

test('the tail buffer holds exactly the last N bytes whatever the chunking', (t) => {
  let seed = 7;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let round = 0; round < 200; round++) {
    const cap = 1 + Math.floor(rand() * 64);
    const tail = new TailBuffer(cap);
    let all = '';
    const chunks = Math.floor(rand() * 20);
    for (let i = 0; i < chunks; i++) {
      const s = Array.from({ length: Math.floor(rand() * 100) }, () => String.fromCharCode(97 + Math.floor(rand() * 26))).join('');
      all += s;
      tail.push(Buffer.from(s));
    }
    t.is(tail.toString(), all.slice(-cap));
    t.is(tail.bytesSeen, all.length);
  }
});

test('a tail cut inside a UTF-8 character drops the partial character, not the text', (t) => {
  const tail = new TailBuffer(4);
  tail.push(Buffer.from('ab日本')); // 日 and 本 are 3 bytes each: the last 4 bytes start mid-日
  t.is(tail.toString(), '本');
});

test('the head buffer keeps the first N bytes and says it cut the rest', (t) => {
  const head = new HeadBuffer(5);
  head.push(Buffer.from('abc'));
  t.false(head.truncated);
  head.push(Buffer.from('defg'));
  head.push(Buffer.from('h'));
  t.is(head.toString(), 'abcde');
  t.true(head.truncated);
});
