import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { generateKeyPair } from '../../helpers/ssh-keys.ts';
import { KnownHosts, describeRefusal, fingerprintSha256, keyTypeOfBlob } from '../../../src/drivers/ssh/known-hosts.ts';

function keyPair(type: 'ed25519' | 'ecdsa' = 'ed25519'): { line: string; blob: Buffer } {
  const pair = generateKeyPair(type);
  const line = pair.public.trim().split(/\s+/).slice(0, 2).join(' ');
  return { line, blob: Buffer.from(line.split(' ')[1] as string, 'base64') };
}

let hasSshKeygen = true;
try {
  execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' });
} catch (err) {
  hasSshKeygen = (err as { status?: number }).status !== undefined && (err as { code?: string }).code !== 'ENOENT';
}

test('plain names, comma lists, [host]:port, comments and blank lines', (t) => {
  const a = keyPair();
  const b = keyPair();
  const kh = KnownHosts.parse(['# operator keys', '', `hv1,10.0.0.1 ${a.line} root@hv1`, `[10.0.0.2]:2222 ${b.line}`].join('\n'));
  t.is(kh.entries.length, 2);
  t.is(kh.verify('hv1', 22, a.blob).verdict, 'ok');
  t.is(kh.verify('10.0.0.1', 22, a.blob).verdict, 'ok');
  t.is(kh.verify('10.0.0.2', 2222, b.blob).verdict, 'ok');
  // [host]:port entries do not vouch for port 22, and plain entries do not vouch for other ports (as OpenSSH).
  t.is(kh.verify('10.0.0.2', 22, b.blob).verdict, 'unknown');
  t.is(kh.verify('10.0.0.1', 2222, a.blob).verdict, 'unknown');
});

test('a different key of the same type is "changed"; a key of a type not on file is "unknown" and names the known types', (t) => {
  const old = keyPair();
  const presented = keyPair();
  const ecdsa = keyPair('ecdsa');
  const kh = KnownHosts.parse(`hv1 ${old.line}\n`);
  const changed = kh.verify('hv1', 22, presented.blob);
  t.is(changed.verdict, 'changed');
  t.deepEqual(changed.lines, [1]);
  const other = kh.verify('hv1', 22, ecdsa.blob);
  t.is(other.verdict, 'unknown');
  t.deepEqual(other.otherKeyTypes, ['ssh-ed25519']);
});

test('several keys for one host: any of them is accepted', (t) => {
  const k1 = keyPair();
  const k2 = keyPair('ecdsa');
  const k3 = keyPair();
  const kh = KnownHosts.parse(`hv1 ${k1.line}\nhv1 ${k2.line}\nhv1 ${k3.line}\n`);
  t.is(kh.verify('hv1', 22, k1.blob).verdict, 'ok');
  t.is(kh.verify('hv1', 22, k2.blob).verdict, 'ok');
  t.is(kh.verify('hv1', 22, k3.blob).verdict, 'ok');
  t.deepEqual(kh.knownKeyTypes('hv1', 22).sort(), ['ecdsa-sha2-nistp256', 'ssh-ed25519']);
});

test('hashed |1|salt|hmac entries match the host name (and [host]:port) they were made from', (t) => {
  const k = keyPair();
  const entry = (name: string): string => {
    const salt = randomBytes(20);
    return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')} ${k.line}`;
  };
  const kh = KnownHosts.parse(`${entry('hv1.example')}\n${entry('[10.0.0.9]:2200')}\n`);
  t.is(kh.verify('hv1.example', 22, k.blob).verdict, 'ok');
  t.is(kh.verify('10.0.0.9', 2200, k.blob).verdict, 'ok');
  t.is(kh.verify('hv2.example', 22, k.blob).verdict, 'unknown');
  t.is(kh.verify('10.0.0.9', 22, k.blob).verdict, 'unknown');
});

(hasSshKeygen ? test : test.skip)('files hashed by ssh-keygen -H verify, and fingerprints match ssh-keygen -l', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hvroll-kh-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const k = keyPair();
  const file = join(dir, 'known_hosts');
  writeFileSync(file, `hv1.example ${k.line}\n[10.1.1.1]:2022 ${k.line}\n`);
  execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
  const text = readFileSync(file, 'utf8');
  t.regex(text, /^\|1\|/m);
  const kh = KnownHosts.parse(text);
  t.is(kh.verify('hv1.example', 22, k.blob).verdict, 'ok');
  t.is(kh.verify('10.1.1.1', 2022, k.blob).verdict, 'ok');
  const pub = join(dir, 'key.pub');
  writeFileSync(pub, `${k.line}\n`);
  const printed = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', pub], { encoding: 'utf8' });
  t.true(printed.includes(fingerprintSha256(k.blob)), `${printed} vs ${fingerprintSha256(k.blob)}`);
});

test('@revoked keys are refused for the hosts they name, even next to a valid entry', (t) => {
  const k = keyPair();
  const kh = KnownHosts.parse(`hv1 ${k.line}\n@revoked hv1 ${k.line}\n`);
  const out = kh.verify('hv1', 22, k.blob);
  t.is(out.verdict, 'revoked');
  t.deepEqual(out.lines, [2]);
  t.regex(describeRefusal(out, 'hv1', 22, '/etc/kh'), /@revoked/);
});

test('@cert-authority lines are not supported: skipped with a warning, so the host stays unknown', (t) => {
  const ca = keyPair();
  const kh = KnownHosts.parse(`@cert-authority *.example ${ca.line}\n`);
  t.is(kh.entries.length, 0);
  t.regex(kh.warnings[0]?.message ?? '', /cert-authority is not supported/);
  t.is(kh.verify('hv1.example', 22, ca.blob).verdict, 'unknown');
});

test('wildcards and negations follow OpenSSH pattern rules', (t) => {
  const k = keyPair();
  const kh = KnownHosts.parse(`hv?.example,*.lab,!bad.lab ${k.line}\n`);
  t.is(kh.verify('hv1.example', 22, k.blob).verdict, 'ok');
  t.is(kh.verify('hv10.example', 22, k.blob).verdict, 'unknown');
  t.is(kh.verify('x.lab', 22, k.blob).verdict, 'ok');
  t.is(kh.verify('bad.lab', 22, k.blob).verdict, 'unknown');
});

test('malformed lines are skipped with a line number, never trusted', (t) => {
  const k = keyPair();
  const kh = KnownHosts.parse(`hv1 ssh-ed25519\nhv1 ssh-rsa ${k.line.split(' ')[1]}\n|1|bad ${k.line}\nhv1 ${k.line}\n`);
  t.is(kh.entries.length, 1);
  t.deepEqual(
    kh.warnings.map((w) => w.line),
    [1, 2, 3],
  );
  t.is(keyTypeOfBlob(k.blob), 'ssh-ed25519');
});

test('refusal messages carry the OpenSSH-style fingerprint and the commands that fix it', (t) => {
  const k = keyPair();
  const fp = fingerprintSha256(k.blob);
  t.regex(fp, /^SHA256:[A-Za-z0-9+/]{43}$/);
  const unknown = KnownHosts.parse('').verify('10.0.0.5', 2222, k.blob);
  const msg = describeRefusal(unknown, '10.0.0.5', 2222, '/home/op/.ssh/known_hosts');
  t.true(msg.includes(fp));
  t.true(msg.includes("ssh-keyscan -p 2222 '10.0.0.5' >> '/home/op/.ssh/known_hosts'"), msg);
  const changed = KnownHosts.parse(`[10.0.0.5]:2222 ${keyPair().line}\n`).verify('10.0.0.5', 2222, k.blob);
  const cmsg = describeRefusal(changed, '10.0.0.5', 2222, '/home/op/.ssh/known_hosts');
  t.true(cmsg.includes("ssh-keygen -R '[10.0.0.5]:2222' -f '/home/op/.ssh/known_hosts'"), cmsg);
  t.regex(cmsg, /legitimately rebuilt/);
});
