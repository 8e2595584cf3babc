import test from 'ava';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HvrollError } from '../../src/model/errors.ts';
import { seal } from '../../src/store/crc.ts';
import { CampaignStore, breakLock } from '../../src/store/index.ts';
import type { LockEnv } from '../../src/store/index.ts';
import { crashCopy, fingerprint, makeLegacy, markerOf, sampleInit, tempRoot } from './helpers.ts';
import { hostname } from 'node:os';

/** A store as a crash leaves it: a compacted snapshot with content, plus journal records after it. */
async function crashedStore(root: string, name = 'crashed', keepLock = false): Promise<string> {
  const dir = join(root, `live-${name}`);
  const store = await CampaignStore.create(dir, sampleInit());
  await store.saveGroupSnapshot('g1', { machineVersion: 'group-v1', snapshot: { value: 'draining' } });
  await store.recordApproval({ group: 'g1', operator: 'alice', at: 't0' });
  await store.compact();
  for (let i = 0; i < 5; i++) {
    const id = await store.journalIntent({ key: `c1/g1/migrate/vm${i}`, group: 'g1', step: 'migrate', host: 'h1', vm: `vm${i}`, startedAt: `t${i}`, operator: 'alice' });
    await store.journalOutcome(id, { exitCode: 0, outputTail: 'ok', endedAt: `t${i}e` });
  }
  const copy = crashCopy(dir, join(root, name), keepLock);
  await store.close();
  return copy;
}

type Damage = (bytes: Buffer, file: string) => Buffer;

const swapFirst = (from: string, to: string): Damage => (b) => {
  const s = b.toString('utf8');
  if (!s.includes(from)) throw new Error(`fixture lacks ${from}`);
  return Buffer.from(s.replace(from, to));
};

const damages: Record<string, { damage: Damage; problem: RegExp }> = {
  'empty (0 bytes)': { damage: () => Buffer.alloc(0), problem: /empty \(0 bytes\)/ },
  'cut in half': { damage: (b) => b.subarray(0, Math.floor(b.length / 2)), problem: /cut short|truncated/ },
  'invalid JSON': {
    damage: (b, file) => (file === 'journal.ndjson' ? swapFirst('"seq":', '"seq" oops:')(b, file) : Buffer.from('{"kind": not json at all}\n')),
    problem: /invalid JSON|invalid content/,
  },
  'NUL-filled': { damage: (b) => Buffer.alloc(b.length), problem: /NUL bytes/ },
  'NUL block in the middle': {
    damage: (b) => {
      const c = Buffer.from(b);
      c.fill(0, Math.floor(c.length / 3), Math.floor(c.length / 3) + 16);
      return c;
    },
    problem: /NUL bytes/,
  },
  'checksum mismatch (one character changed)': {
    damage: (b, file) => (file === 'plan.json' ? swapFirst('"h1"', '"h9"')(b, file) : swapFirst('alice', 'alicf')(b, file)),
    problem: /checksum mismatch/,
  },
};

for (const file of ['snapshot.json', 'journal.ndjson', 'campaign.json', 'plan.json']) {
  for (const [name, { damage, problem }] of Object.entries(damages)) {
    test(`${file} ${name}: refused with the file, the problem and the fix named; nothing on disk changes`, async (t) => {
      const dir = await crashedStore(tempRoot(t));
      const path = join(dir, file);
      writeFileSync(path, damage(readFileSync(path), file));
      const before = fingerprint(dir);
      for (const readOnly of [false, true]) {
        const err = await t.throwsAsync(CampaignStore.open(dir, { readOnly }), { instanceOf: HvrollError });
        t.is(err?.kind, 'store');
        t.true(err?.message.includes(path), err?.message);
        t.regex(err?.message ?? '', problem);
        t.regex(err?.message ?? '', /Nothing was changed on disk/);
        t.regex(err?.message ?? '', /Restore|backup|hvroll version/);
        t.deepEqual(fingerprint(dir), before, 'no file written, none removed, no lock left behind');
      }
    });
  }
}

test('a journal record with a valid checksum but invalid JSON is refused as invalid JSON', async (t) => {
  const dir = await crashedStore(tempRoot(t));
  const path = join(dir, 'journal.ndjson');
  const lines = readFileSync(path, 'utf8').split('\n');
  lines[2] = seal('{"seq":3,"epoch":1,"op":}');
  writeFileSync(path, lines.join('\n'));
  await t.throwsAsync(CampaignStore.open(dir, { readOnly: true }), { message: /journal\.ndjson is damaged at line 3.*invalid JSON/ });
});

test('a journal with a record missing in the middle is refused (lost acknowledged write)', async (t) => {
  const dir = await crashedStore(tempRoot(t));
  const path = join(dir, 'journal.ndjson');
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.splice(3, 1);
  writeFileSync(path, lines.join('\n'));
  const before = fingerprint(dir);
  await t.throwsAsync(CampaignStore.open(dir), { message: /records are missing or duplicated/ });
  t.deepEqual(fingerprint(dir), before);
});

test('a snapshot older than its journal (restored from an old backup) is refused', async (t) => {
  const root = tempRoot(t);
  const dir = join(root, 'c1');
  const store = await CampaignStore.create(dir, sampleInit());
  const oldSnapshot = readFileSync(join(dir, 'snapshot.json'));
  await store.recordAudit({ at: 't', operator: 'alice', action: 'x' });
  await store.close();
  writeFileSync(join(dir, 'snapshot.json'), oldSnapshot);
  await t.throwsAsync(CampaignStore.open(dir), { message: /snapshot is older than the journal/ });
});

test('a journal of another campaign is refused', async (t) => {
  const root = tempRoot(t);
  const a = await crashedStore(root, 'a');
  const other = await CampaignStore.create(join(root, 'b'), sampleInit('other'));
  await other.close();
  writeFileSync(join(a, 'journal.ndjson'), readFileSync(join(root, 'b', 'journal.ndjson')));
  await t.throwsAsync(CampaignStore.open(a, { readOnly: true }), { message: /belongs to campaign "other"/ });
});

const deadHolder: LockEnv = { hostname: hostname(), pid: process.pid, isAlive: () => false };

test('torn last line (crash mid-append, lock left behind): ignored with a warning, cut off only when a writer takes over', async (t) => {
  const root = tempRoot(t);
  const dir = await crashedStore(root, 'torn', true);
  const expected = await CampaignStore.open(dir, { readOnly: true, lockEnv: deadHolder });
  const journalBefore = await expected.journal();
  await expected.close();
  const path = join(dir, 'journal.ndjson');
  appendFileSync(path, '{"seq":99,"epoch":1,"op":{"t":"aud');
  const before = fingerprint(dir);

  const ro = await CampaignStore.open(dir, { readOnly: true, lockEnv: deadHolder });
  t.deepEqual(await ro.journal(), journalBefore);
  t.regex(ro.warnings().join('\n'), /torn last line \(\d+ bytes/);
  await ro.close();
  t.deepEqual(fingerprint(dir), before, 'a reader never repairs');

  await t.throwsAsync(CampaignStore.open(dir, { lockEnv: deadHolder }), { message: /stale lock/ });
  t.deepEqual(fingerprint(dir), before);

  await breakLock(dir, 'bob', { lockEnv: deadHolder });
  t.true(readFileSync(path, 'utf8').endsWith('\n'), 'torn tail cut off by the writer that took over');
  const after = await CampaignStore.open(dir, { readOnly: true });
  t.deepEqual(await after.journal(), journalBefore);
  t.deepEqual(after.warnings(), []);
  t.is(after.audit().at(-1)?.action, 'lock-broken');
});

test('a store without a durability marker (written before markers): a cut-off last line with no lock behind it is refused', async (t) => {
  const dir = await crashedStore(tempRoot(t));
  makeLegacy(dir);
  appendFileSync(join(dir, 'journal.ndjson'), '{"seq":13,"epo');
  const before = fingerprint(dir);
  await t.throwsAsync(CampaignStore.open(dir, { readOnly: true }), { message: /cut short .* no writer holds the campaign lock/ });
  await t.throwsAsync(CampaignStore.open(dir), { message: /cut short/ });
  t.deepEqual(fingerprint(dir), before);
  t.false(existsSync(markerOf(dir)), 'a refused open creates no marker');
  const accepted = await CampaignStore.open(dir, { acceptTornTail: true });
  t.regex(accepted.warnings().join('\n'), /cut off the torn last line/);
  t.regex(accepted.warnings().join('\n'), /durability marker created at record/);
  await accepted.close();
  t.true(existsSync(markerOf(dir)), 'the first writer gives an old store its marker');
});

test('with a durability marker, a cut-off line after the last acknowledged record is an unacknowledged write, lock or not: dropped with a warning', async (t) => {
  const dir = await crashedStore(tempRoot(t));
  const expected = await CampaignStore.open(dir, { readOnly: true });
  const journalBefore = await expected.journal();
  await expected.close();
  appendFileSync(join(dir, 'journal.ndjson'), '{"seq":13,"epo');
  const ro = await CampaignStore.open(dir, { readOnly: true });
  t.deepEqual(await ro.journal(), journalBefore);
  t.regex(ro.warnings().join('\n'), /torn last line/);
  const w = await CampaignStore.open(dir);
  t.regex(w.warnings().join('\n'), /cut off the torn last line/);
  await w.close();
  t.true(readFileSync(join(dir, 'journal.ndjson'), 'utf8').endsWith('\n'));
});

test('a deleted store never looks like a new campaign: open refuses, and creates nothing', async (t) => {
  const root = tempRoot(t);
  const missing = join(root, 'never');
  for (const readOnly of [false, true]) {
    await t.throwsAsync(CampaignStore.open(missing, { readOnly }), { instanceOf: HvrollError, message: /no campaign store at .*never/ });
  }
  t.false(existsSync(missing));

  const emptied = await crashedStore(root, 'emptied');
  rmSync(emptied, { recursive: true });
  mkdirSync(emptied);
  await t.throwsAsync(CampaignStore.open(emptied), { message: /no campaign store/ });
  t.deepEqual(fingerprint(emptied), {});

  for (const file of ['snapshot.json', 'journal.ndjson', 'plan.json', 'campaign.json']) {
    const dir = await crashedStore(root, `no-${file}`);
    rmSync(join(dir, file));
    const before = fingerprint(dir);
    for (const readOnly of [false, true]) {
      const err = await t.throwsAsync(CampaignStore.open(dir, { readOnly }));
      t.is(err?.message.includes(join(dir, file)), true, err?.message);
      t.regex(err?.message ?? '', /incomplete: missing|no campaign store/);
    }
    t.deepEqual(fingerprint(dir), before, `${file}: nothing recreated`);
  }
});
