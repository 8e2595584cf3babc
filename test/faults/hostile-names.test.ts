// Fault matrix 10: hostile names — in the inventory, and as they would come back from a host — are either
// refused by validation or travel as exactly one quoted argument through a real POSIX shell. A canary file
// that every payload tries to create never appears, and a log line stays one JSON line that round-trips.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { quoteArgv } from '../../src/drivers/ssh/quote.ts';
import { mulberry32 } from '../../src/fleet/random.ts';
import { parseInventory } from '../../src/inventory/parse.ts';
import { createLogger } from '../../src/log/logger.ts';
import { HvrollError } from '../../src/model/errors.ts';

const canaryDir = mkdtempSync(join(tmpdir(), 'hvroll-canary-'));
const canary = join(canaryDir, 'pwned');

const FRAGMENTS = [
  `; touch ${canary}`,
  `$(touch ${canary})`,
  `\`touch ${canary}\``,
  `'; touch ${canary}; '`,
  `"; touch ${canary}; "`,
  `| touch ${canary}`,
  `&& touch ${canary}`,
  `\ntouch ${canary}\n`,
  `$(IFS=_;cmd=touch_${canary};$cmd)`,
  '; rm -rf /',
  '--help',
  '-rf',
  ' ',
  '\t',
  '*',
  '?',
  '~',
  '$HOME',
  '${PATH}',
  '\\',
  "'",
  '"',
  '\0',
  'é',
  '名',
  '\u202e',
  'vm-01',
  '>',
  '<',
  '#',
  '!',
  '%s',
  '\r',
];

/** ≥ 10,000 names: every fragment alone, then seeded random concatenations of 2–4 fragments and plain words. */
function corpus(): string[] {
  const r = mulberry32(7);
  const out = new Set<string>(FRAGMENTS);
  while (out.size < 10_500) {
    const parts = 2 + Math.floor(r() * 3);
    let s = '';
    for (let i = 0; i < parts; i++) s += r() < 0.3 ? `w${Math.floor(r() * 100)}` : FRAGMENTS[Math.floor(r() * FRAGMENTS.length)]!;
    out.add(s);
  }
  return [...out];
}

const names = corpus();

test('every hostile VM name is refused by inventory validation, with the place and a fix', (t) => {
  let refused = 0;
  let accepted = 0;
  for (const name of names) {
    const doc = JSON.stringify({ hosts: [{ name: 'hv-1', address: '10.0.0.1', capacity: { vcpus: 8, memoryMiB: 8192 } }], vms: [{ name, host: 'hv-1', vcpus: 1, memoryMiB: 512 }] });
    const r = parseInventory([{ file: 'inv.json', text: doc }]);
    if (r.ok) {
      accepted++;
      t.regex(name, /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/, `accepted name ${JSON.stringify(name)} must be plain`);
    } else {
      refused++;
      const issue = r.error.find((i) => i.path === 'vms[0].name');
      t.truthy(issue, `no issue on vms[0].name for ${JSON.stringify(name)}`);
      t.truthy(issue?.fix);
    }
  }
  t.true(names.length >= 10_000);
  t.log(`${names.length} names: ${refused} refused, ${accepted} accepted (plain ones)`);
});

test('as remote arguments (e.g. names reported by a host), each travels through /bin/sh as exactly one argument', (t) => {
  let nul = 0;
  const plain: string[] = [];
  for (const name of names) {
    try {
      quoteArgv([name]);
      plain.push(name);
    } catch (e) {
      t.true(e instanceof HvrollError);
      nul++;
    }
  }
  // Batches of 400 arguments per shell: `printf '%s\0' <quoted...>` prints each argument NUL-terminated.
  for (let i = 0; i < plain.length; i += 400) {
    const batch = plain.slice(i, i + 400);
    const out = execFileSync('/bin/sh', ['-c', quoteArgv(['printf', '%s\\0', ...batch])], { maxBuffer: 64 << 20 });
    const back = out.toString('utf8').split('\0').slice(0, -1);
    t.deepEqual(back, batch);
  }
  t.false(existsSync(canary), 'the canary file was never created');
  t.log(`${plain.length} names round-tripped through /bin/sh; ${nul} with NUL refused before any command`);
});

test('a hostile name in a log line stays one JSON line and round-trips', (t) => {
  let text = '';
  const sink = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  const log = createLogger({ destination: sink as never });
  for (const name of names.slice(0, 2000)) log.info({ vm: name }, 'migrating');
  const lines = text.split('\n').filter(Boolean);
  t.is(lines.length, 2000);
  lines.forEach((line, i) => t.is((JSON.parse(line) as { vm: string }).vm, names[i] ?? ''));
});
