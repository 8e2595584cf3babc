// Store files cut short anywhere — the journal at every record boundary and inside every record, the sealed
// files, the history segments, the durability marker itself — and a campaign directory restored from an
// older backup. Only the one unacknowledged write after the last durable record may be missing; anything
// shorter is refused with the file named, and nothing on disk is changed.
import test from 'ava';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { HvrollError } from '../../src/model/errors.ts';
import { CampaignStore, adoptStore, breakLock } from '../../src/store/index.ts';
import type { LockEnv } from '../../src/store/index.ts';
import { copyMarker, crashCopy, fingerprint, markerOf, sampleInit, tempRoot } from './helpers.ts';

/** The writer that left the lock behind is dead (kill -9). */
const deadHolder: LockEnv = { hostname: hostname(), pid: process.pid, isAlive: () => false };

async function step(store: CampaignStore, n: number): Promise<void> {
  const group = `g${n % 3}`;
  await store.saveGroupSnapshot(group, { machineVersion: 'group-v1', snapshot: { value: 'draining', n } });
  const id = await store.journalIntent({ key: `c1/${group}/migrate/vm${n}`, group, step: 'migrate', host: `h${n % 3}`, vm: `vm${n}`, startedAt: `t${n}`, operator: 'alice' });
  await store.journalOutcome(id, { exitCode: 0, outputTail: `migrated vm${n}`, endedAt: `t${n}e` });
}

/** A store as kill -9 leaves it (lock of a dead writer, records since the last compaction), in `root/name`. */
async function killedStore(root: string, name: string, steps = 6): Promise<string> {
  const live = join(root, `live-${name}`);
  const store = await CampaignStore.create(live, sampleInit());
  await step(store, 0);
  await store.compact();
  for (let n = 1; n <= steps; n++) await step(store, n);
  const dir = crashCopy(live, join(root, name), true);
  await store.close();
  return dir;
}

/** Byte offsets where journal lines end (just past each newline). */
function lineEnds(bytes: Buffer): number[] {
  const ends: number[] = [];
  for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) ends.push(i + 1);
  return ends;
}

async function refused(t: import('ava').ExecutionContext, dir: string, file: string, problem: RegExp, what: string): Promise<void> {
  const before = fingerprint(dir);
  const marker = existsSync(markerOf(dir)) ? readFileSync(markerOf(dir)) : null;
  for (const attempt of ['read-only open', 'unlock'] as const) {
    const err =
      attempt === 'read-only open'
        ? await t.throwsAsync(CampaignStore.open(dir, { readOnly: true, lockEnv: deadHolder }), { instanceOf: HvrollError }, `${what}: ${attempt}`)
        : await t.throwsAsync(breakLock(dir, 'bob', { lockEnv: deadHolder }), { instanceOf: HvrollError }, `${what}: ${attempt}`);
    t.is(err?.kind, 'store', what);
    t.true(err?.message.includes(file) ?? false, `${what}: names ${file}: ${err?.message}`);
    t.regex(err?.message ?? '', problem, what);
    t.regex(err?.message ?? '', /Nothing was changed on disk/, what);
  }
  t.deepEqual(fingerprint(dir), before, `${what}: nothing written, the lock left as it was`);
  if (marker) t.deepEqual(readFileSync(markerOf(dir)), marker, `${what}: the marker untouched`);
}

test('journal cut at every record boundary and inside every record (kill -9, lock left behind): refused, naming the journal; only the complete journal opens', async (t) => {
  t.timeout(120_000);
  const root = tempRoot(t);
  const original = await killedStore(root, 'original');
  const journal = readFileSync(join(original, 'journal.ndjson'));
  const ends = lineEnds(journal);
  t.true(ends.length >= 15, `${ends.length} lines`);
  const cuts = new Set<number>();
  for (let i = 0; i < ends.length; i++) {
    const start = i === 0 ? 0 : ends[i - 1]!;
    const end = ends[i]!;
    if (end < journal.length) cuts.add(end); // at a boundary: whole records lost
    for (const c of [start + 1, Math.floor((start + end) / 2), end - 1]) cuts.add(c); // inside a record (or the header)
  }
  let n = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    const dir = join(root, `cut-${cut}`);
    cpSync(original, dir, { recursive: true });
    copyMarker(original, dir);
    truncateSync(join(dir, 'journal.ndjson'), cut);
    await refused(t, dir, join(dir, 'journal.ndjson'), cut < ends[0]! ? /header|truncated/ : /acknowledged|cut short/, `cut at byte ${cut} of ${journal.length}`);
    rmSync(dir, { recursive: true });
    n++;
  }
  t.log(`${n} cuts of a ${journal.length}-byte journal (${ends.length} lines), all refused`);
  // The uncut journal opens, and unlock + open works.
  await breakLock(original, 'bob', { lockEnv: deadHolder });
  const store = await CampaignStore.open(original);
  t.is((await store.journal()).length, 7);
  await store.close();
});

test('only the write that was never acknowledged may be missing: a record appended after the marker (its writer killed before the marker update) is kept or dropped, whole or torn', async (t) => {
  const root = tempRoot(t);
  const live = join(root, 'live');
  const store = await CampaignStore.create(live, sampleInit());
  for (let n = 0; n < 4; n++) await step(store, n);
  const acknowledged = await store.journal();
  const journal = readFileSync(join(live, 'journal.ndjson'));
  const marker = readFileSync(markerOf(live));
  await store.recordAudit({ at: 't', operator: 'alice', action: 'past-the-mark' });
  const tail = readFileSync(join(live, 'journal.ndjson')).subarray(journal.length);
  t.true(tail.length > 0);
  // What a writer killed between its journal fdatasync and its marker update leaves: the old mark, and all,
  // part or none of the new record after it.
  for (const keep of [0, 1, Math.floor(tail.length / 2), tail.length - 1, tail.length]) {
    const d = crashCopy(live, join(root, `tail-${keep}`), true);
    writeFileSync(markerOf(d), marker);
    writeFileSync(join(d, 'journal.ndjson'), Buffer.concat([journal, tail.subarray(0, keep)]));
    await breakLock(d, 'bob', { lockEnv: deadHolder });
    const s = await CampaignStore.open(d, { readOnly: true });
    t.deepEqual(await s.journal(), acknowledged, `${keep} of ${tail.length} bytes of the unacknowledged write: every acknowledged entry there`);
    t.is(s.audit().some((a) => a.action === 'past-the-mark'), keep === tail.length, 'a complete record past the mark is kept, a torn one dropped');
    await s.close();
  }
  await store.close();
});

test('snapshot.json, campaign.json and plan.json cut anywhere: refused, naming the file', async (t) => {
  t.timeout(120_000);
  const root = tempRoot(t);
  const original = await killedStore(root, 'original');
  for (const file of ['snapshot.json', 'campaign.json', 'plan.json']) {
    const bytes = readFileSync(join(original, file));
    const cuts = new Set([0, 1, bytes.length - 2, bytes.length - 1]);
    for (let c = 7; c < bytes.length; c += Math.max(1, Math.floor(bytes.length / 40))) cuts.add(c);
    for (const cut of cuts) {
      const dir = join(root, `${file}-${cut}`);
      cpSync(original, dir, { recursive: true });
      copyMarker(original, dir);
      truncateSync(join(dir, file), cut);
      await refused(t, dir, join(dir, file), /cut short|truncated|empty|invalid|checksum/, `${file} cut at byte ${cut} of ${bytes.length}`);
      rmSync(dir, { recursive: true });
    }
  }
});

test('a history segment cut at a line boundary or inside a line: resume still opens, and whoever reads the history gets the segment named', async (t) => {
  const root = tempRoot(t);
  const dir = join(root, 'c1');
  const store = await CampaignStore.create(dir, sampleInit());
  for (let n = 0; n < 4; n++) {
    await step(store, n);
    await store.saveGroupSnapshot(`g${n % 3}`, { machineVersion: 'group-v1', snapshot: { value: 'done' }, settled: true });
  }
  await store.close(); // the clean close compacts: the settled groups' entries go to a history segment
  const segment = readdirSync(dir).find((n) => n.startsWith('history-'))!;
  const bytes = readFileSync(join(dir, segment));
  const ends = lineEnds(bytes);
  const cuts = new Set([0, ...ends.slice(0, -1), ...ends.map((e) => e - 5)]);
  for (const cut of cuts) {
    const d = join(root, `h-${cut}`);
    cpSync(dir, d, { recursive: true });
    copyMarker(dir, d);
    truncateSync(join(d, segment), cut);
    const s = await CampaignStore.open(d);
    const err = await t.throwsAsync(s.journal(), { instanceOf: HvrollError });
    t.true(err?.message.includes(join(d, segment)), err?.message);
    t.regex(err?.message ?? '', /bytes, but snapshot\.json recorded|cut short/);
    await s.close();
  }
});

test('the durability marker itself: missing, corrupt, cut short, of another campaign, older or newer than the journal', async (t) => {
  const root = tempRoot(t);
  const base = await killedStore(root, 'base');
  const copy = (name: string) => {
    const d = join(root, name);
    cpSync(base, d, { recursive: true });
    copyMarker(base, d);
    return d;
  };
  const marker = readFileSync(markerOf(base));
  const all = await CampaignStore.open(base, { readOnly: true, lockEnv: deadHolder }).then((s) => s.journal());
  const opensWithAll = async (d: string, what: string) => {
    await breakLock(d, 'bob', { lockEnv: deadHolder });
    const s = await CampaignStore.open(d, { readOnly: true });
    t.deepEqual(await s.journal(), all, what);
    await s.close();
  };

  // Missing: the store says it keeps one, so it cannot be told from a journal cut short.
  const missing = copy('missing');
  rmSync(markerOf(missing));
  await refused(t, missing, markerOf(missing), /missing, but the store keeps one/, 'marker missing');

  // Both records unreadable, or the file cut short before any complete record: refused, naming the marker.
  for (const [name, bytes] of [
    ['nul', Buffer.alloc(marker.length)],
    ['empty', Buffer.alloc(0)],
    ['half-slot', marker.subarray(0, 300)],
    ['flipped', Buffer.from(marker.toString('latin1').replace(/"seq":(\d)/g, '"seq":9$1'), 'latin1')],
  ] as const) {
    const d = copy(`corrupt-${name}`);
    writeFileSync(markerOf(d), bytes);
    await refused(t, d, markerOf(d), /durability marker .* unreadable|empty/, `marker ${name}`);
  }

  // Another campaign's marker (copied to the wrong name): not believed.
  const other = join(root, 'other');
  await (await CampaignStore.create(other, sampleInit('other'))).close();
  const wrong = copy('wrong');
  writeFileSync(markerOf(wrong), readFileSync(markerOf(other)));
  await refused(t, wrong, markerOf(wrong), /belongs to another campaign than "c1"/, 'marker of another campaign');

  // One slot torn (a power loss mid-update): the other holds an older, still true, mark.
  for (const slot of [0, 1]) {
    const d = copy(`torn-slot-${slot}`);
    const torn = Buffer.from(marker);
    torn.fill(0x20, slot * 512 + 40, slot * 512 + 80);
    writeFileSync(markerOf(d), torn);
    await opensWithAll(d, `slot ${slot} torn`);
  }
  // Cut to its first record only.
  const oneSlot = copy('one-slot');
  writeFileSync(markerOf(oneSlot), marker.subarray(0, 512));
  await opensWithAll(oneSlot, 'marker cut to one record');

  // Older (restored from a backup of the state root, or a crash between a journal sync and the marker
  // update): it vouches for less, and the journal holds more; accepted.
  const older = copy('older');
  const live = join(root, 'live-older');
  const s = await CampaignStore.create(live, sampleInit());
  await step(s, 0);
  const oldMarker = readFileSync(markerOf(live));
  await s.compact();
  for (let n = 1; n <= 4; n++) await step(s, n);
  crashCopy(live, older, true);
  await s.close();
  writeFileSync(markerOf(older), oldMarker);
  await breakLock(older, 'bob', { lockEnv: deadHolder });
  const o = await CampaignStore.open(older, { readOnly: true });
  t.is((await o.journal()).length, 5);

  // Newer than the journal (the journal restored from an older copy, or cut): refused.
  const newer = copy('newer');
  const head = readFileSync(join(newer, 'journal.ndjson'));
  writeFileSync(join(newer, 'journal.ndjson'), head.subarray(0, lineEnds(head).at(-3)));
  await refused(t, newer, join(newer, 'journal.ndjson'), /acknowledged/, 'marker newer than the journal');
});

test('adopt: a store moved here without its marker opens only after an operator adopts it (audited); a marker the journal falls short of cannot be adopted away', async (t) => {
  const root = tempRoot(t);
  const dir = await killedStore(root, 'moved');
  rmSync(markerOf(dir));
  await t.throwsAsync(CampaignStore.open(dir, { readOnly: true, lockEnv: deadHolder }), { message: /durability marker .* is missing/ });
  const r = await adoptStore(dir, 'carol', { lockEnv: deadHolder, reason: 'moved from the old runner host' });
  t.is(r.adopted, 'missing');
  t.is(r.previous?.state, 'stale');
  const s = await CampaignStore.open(dir, { readOnly: true });
  const audit = s.audit().map((a) => a.action);
  t.deepEqual(audit.slice(-2), ['lock-broken', 'store-adopted']);
  t.like(s.audit().at(-1)!, { operator: 'carol', details: { marker: 'missing', reason: 'moved from the old runner host' } });
  t.true(existsSync(markerOf(dir)));

  // A readable marker is never replaced: a cut journal stays refused.
  const cut = await killedStore(root, 'cut');
  const j = readFileSync(join(cut, 'journal.ndjson'));
  writeFileSync(join(cut, 'journal.ndjson'), j.subarray(0, lineEnds(j).at(-2)));
  const before = fingerprint(cut);
  await t.throwsAsync(adoptStore(cut, 'carol', { lockEnv: deadHolder }), { message: /acknowledged/ });
  t.deepEqual(fingerprint(cut), before);
  await breakLock(dir, 'x', { lockEnv: deadHolder }).catch(() => undefined);
  await t.throwsAsync(adoptStore(dir, 'carol'), { message: /nothing to adopt/ });
});

test('a campaign directory restored from an older backup is refused (the marker in the state root is ahead of it); the whole state root restored together cannot be told', async (t) => {
  const root = tempRoot(t);
  const dir = join(root, 'c1');
  const store = await CampaignStore.create(dir, sampleInit(), { compaction: { maxJournalRecords: 12, minJournalBytes: 1 } });
  for (let n = 0; n < 3; n++) await step(store, n);
  // Last night's backup of the campaign directory and, separately, of the whole state root.
  const backupDir = crashCopy(dir, join(tempRoot(t), 'c1')); // (its lock, stale after the crash, is not part of it)
  const backupRoot = tempRoot(t);
  cpSync(root, backupRoot, { recursive: true });
  for (let n = 3; n < 12; n++) await step(store, n); // compacts along the way: the backup is a generation behind
  t.true(store.stats().compactions >= 2);
  await store.close();

  rmSync(dir, { recursive: true });
  cpSync(backupDir, dir, { recursive: true });
  for (const readOnly of [true, false]) {
    const err = await t.throwsAsync(CampaignStore.open(dir, { readOnly }), { instanceOf: HvrollError });
    t.is(err?.kind, 'store');
    t.true(err?.message.includes(join(dir, 'journal.ndjson')), err?.message);
    t.regex(err?.message ?? '', /restored from an older backup/);
  }
  t.false(existsSync(join(dir, 'lock')), 'a refused writer leaves no lock');

  // The limit: a backup of the whole state root brings back an equally old marker. The store cannot tell;
  // the hosts can (every step re-checks what is already true on its host, and a reboot is guarded by boot id).
  const restored = await CampaignStore.open(join(backupRoot, 'c1'), { readOnly: true });
  t.is((await restored.journal()).length, 3);
  await restored.close();
});
