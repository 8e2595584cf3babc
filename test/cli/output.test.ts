// Output into a pipe whose reader went away (`hvroll audit … | head`): no stack trace, no crash.

import test from 'ava';
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { guardedOutput } from '../../src/cli/io.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

class FakeStream extends EventEmitter {
  written: string[] = [];
  write(chunk: string): boolean {
    this.written.push(chunk);
    return true;
  }
}

const epipe = (): NodeJS.ErrnoException => Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });

test('after EPIPE the output is dropped quietly; another write error is reported once', (t) => {
  const s = new FakeStream();
  const others: string[] = [];
  const out = guardedOutput(s, 'stdout', (e) => others.push(e.code ?? ''));
  out.write('a');
  s.emit('error', epipe());
  out.write('b');
  t.deepEqual(s.written, ['a']);
  t.deepEqual(others, []);

  const full = new FakeStream();
  const out2 = guardedOutput(full, 'stdout', (e) => others.push(e.code ?? ''));
  full.emit('error', Object.assign(new Error('no space'), { code: 'ENOSPC' }));
  out2.write('c');
  t.deepEqual(full.written, []);
  t.deepEqual(others, ['ENOSPC']);
});

test('hvroll plan --json into a pipe closed before it writes: exit 0, nothing on stderr', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'plan', 'inventory/example.yaml', '--json'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.is(stderr, '');
  t.is(code, 0);
});
