// `hvroll unlock` as an operator runs it: a runner alive on this machine keeps its lock even with --force (it is
// not dead; force is for a holder on another machine, which cannot be checked from here); a lock of another
// machine needs --force; a lock whose pid now belongs to another process is stale; `--adopt` accepts a campaign
// directory that arrived without its durability marker, recorded in the audit trail.
import test from 'ava';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CampaignStore } from '../../src/store/index.ts';
import { STACK_FRAME, hvrollCli } from '../helpers/cli.ts';
import { hostname } from 'node:os';
import { fingerprint, markerOf, sampleInit, startWriter, tempRoot } from './helpers.ts';

test('unlock --force refuses a runner alive on this machine and says why; the lock of a dead one is broken without --force', async (t) => {
  const root = tempRoot(t);
  const dir = join(root, 'c1');
  await (await CampaignStore.create(dir, sampleInit())).close();
  const child = startWriter(['hold', dir]);
  t.teardown(() => child.proc.kill('SIGKILL'));
  await child.waitFor((l) => l.startsWith('locked '));
  const before = fingerprint(dir);
  for (const args of [[], ['--force']]) {
    const r = await hvrollCli(['unlock', 'c1', '--state', root, ...args]);
    t.is(r.code, 5, r.stderr);
    t.regex(r.stderr, new RegExp(`refusing to break the lock: the campaign is in use by pid ${child.proc.pid}`));
    if (args.length > 0) t.regex(r.stderr, /--force does not override that/);
    t.regex(r.stderr, /fix: stop that process first/);
    t.notRegex(r.stderr, STACK_FRAME);
  }
  t.deepEqual(fingerprint(dir), before, 'the live runner\'s lock is untouched');
  child.proc.kill('SIGKILL');
  await child.exited;
  const r = await hvrollCli(['unlock', 'c1', '--state', root, '--reason', 'runner killed']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /lock of campaign c1 broken \(was held by pid \d+/);
  const store = await CampaignStore.open(dir, { readOnly: true });
  t.like(store.audit().at(-1)!, { action: 'lock-broken', details: { reason: 'runner killed', force: false } });
});

test('a lock held on another machine needs --force; a lock whose pid is alive but another process (reused) is stale', async (t) => {
  const root = tempRoot(t);
  const dir = join(root, 'c1');
  await (await CampaignStore.create(dir, sampleInit())).close();
  const lock = { pid: process.pid, hostname: 'runner-7.example', startedAt: '2026-01-01T00:00:00.000Z', epoch: 5, token: 'abc' };
  writeFileSync(join(dir, 'lock'), JSON.stringify(lock));
  const remote = await hvrollCli(['unlock', 'c1', '--state', root]);
  t.is(remote.code, 5);
  t.regex(remote.stderr, /another host; its process cannot be checked from here.*unlock --force/);
  t.is((await hvrollCli(['unlock', 'c1', '--state', root, '--force'])).code, 0);

  // Same machine, the pid alive (this test's own), but the lock names another process start: the pid was reused.
  writeFileSync(join(dir, 'lock'), JSON.stringify({ ...lock, hostname: hostname(), process: 'another-boot/12345' }));
  const open = await hvrollCli(['resume', 'c1', '--state', root]);
  t.regex(open.stderr, /stale lock .*now belongs to another process/);
  const r = await hvrollCli(['unlock', 'c1', '--state', root]);
  t.is(r.code, 0, r.stderr);
});

test('unlock --adopt: a campaign directory moved without its marker is refused until adopted (audited), then resumes', async (t) => {
  const root = tempRoot(t);
  const dir = join(root, 'c1');
  const store = await CampaignStore.create(dir, sampleInit());
  await store.recordAudit({ at: 't', operator: 'alice', action: 'x' });
  await store.close();
  rmSync(markerOf(dir));
  const status = await hvrollCli(['status', 'c1', '--state', root]);
  t.is(status.code, 5);
  t.regex(status.stderr, /durability marker .*c1\.mark of campaign store .* is missing/);
  t.regex(status.stderr, /hvroll unlock c1 --adopt/);
  const plain = await hvrollCli(['unlock', 'c1', '--state', root]);
  t.is(plain.code, 5, 'plain unlock does not adopt: it checks the store, which is refused');
  t.regex(plain.stderr, /durability marker .* is missing/);
  const r = await hvrollCli(['unlock', 'c1', '--state', root, '--adopt', '--operator', 'carol', '--reason', 'moved from runner-7']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /adopted as it is \(its durability marker was missing\)/);
  const again = await CampaignStore.open(dir, { readOnly: true });
  t.like(again.audit().at(-1)!, { action: 'store-adopted', operator: 'carol', details: { marker: 'missing', reason: 'moved from runner-7' } });
  t.true(readFileSync(markerOf(dir)).length === 1024);
  t.is((await hvrollCli(['unlock', 'c1', '--state', root, '--adopt'])).code, 2, 'nothing to adopt any more');
  const unlocked = await hvrollCli(['unlock', 'c1', '--state', root]);
  t.is(unlocked.code, 0, 'unlock of a campaign that is not locked is a no-op');
  t.regex(unlocked.stderr, /campaign c1 is not locked: nothing to break; continue with hvroll resume c1/);
});
