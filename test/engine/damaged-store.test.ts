// A damaged campaign store is refused by `hvroll resume` with a clear message and exit code 5: not one SSH
// command is sent, and the files are left exactly as they were (the last good state is kept). The refusal is
// in the state root's audit file.
import test from 'ava';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, startCliRig, type CliRig } from './cli-rig.ts';

let rig: CliRig;
test.before(async () => {
  rig = await startCliRig(3, 1);
});
test.after.always(async () => {
  await rig?.stop();
});

const damage: Record<string, (file: string) => void> = {
  'truncated to 0 bytes': (f) => truncateSync(f, 0),
  'cut in half': (f) => truncateSync(f, Math.floor(readFileSync(f).length / 2)),
  'invalid JSON': (f) => writeFileSync(f, '{"seq": 1, this is not json\n'),
  'NUL-filled': (f) => writeFileSync(f, Buffer.alloc(readFileSync(f).length)),
  deleted: (f) => rmSync(f),
};

function snapshotDir(dir: string): Map<string, string> {
  return new Map(readdirSync(dir).filter((n) => !n.startsWith('control')).map((n) => [n, existsSync(join(dir, n)) ? readFileSync(join(dir, n)).toString('base64') : '']));
}

for (const [what, harm] of Object.entries(damage)) {
  for (const file of ['journal.ndjson', 'snapshot.json']) {
    test.serial(`${file} ${what}: resume refuses (exit 5), sends no SSH command, and changes no file`, async (t) => {
      rig.reset();
      const state = mkdtempSync(join(rig.dir, 'damaged-'));
      const run = await cli(['run', '--plan', rig.plan, '--set', 'version=2.0', '--state', state, '--campaign', 'c1', ...rig.sshFlags], { HVROLL_CRASH_AT: 'snapshot:6' });
      t.is(run.signal, 'SIGKILL');
      const dir = join(state, 'c1');
      t.is((await cli(['unlock', 'c1', '--state', state])).code, 0);
      harm(join(dir, file));
      const before = snapshotDir(dir);
      const commands = rig.fleet.allReceived().length;
      const r = await cli(['resume', 'c1', '--state', state, ...rig.sshFlags]);
      t.is(r.code, 5, r.stderr);
      t.regex(r.stderr, new RegExp(file.replace('.', '\\.')));
      t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
      t.is(rig.fleet.allReceived().length, commands, 'no SSH command sent');
      t.deepEqual(snapshotDir(dir), before, 'files untouched');
      // The damaged store cannot take the refusal: the state root's audit file has it.
      const audit = readFileSync(join(state, 'audit.ndjson'), 'utf8').trim().split('\n');
      t.is(audit.length, 1);
      t.like(JSON.parse(audit[0]!), { action: 'resume-refused', details: { campaign: 'c1', kind: 'store', result: 'refused' } });
    });
  }
}
