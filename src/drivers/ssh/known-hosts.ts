// OpenSSH known_hosts, read-only: which key may a host present? We follow sshd(8) "SSH_KNOWN_HOSTS FILE
// FORMAT": `[marker] hostpatterns keytype base64key [comment]`, where hostpatterns is a comma list of
// names, `[name]:port` for non-22 ports, `*`/`?` wildcards, `!negations`, or one hashed `|1|salt|hmac`.
// `@revoked` keys are refused. `@cert-authority` lines are NOT supported (host certificates are not
// verified): they are skipped and reported in `warnings`, so a CA-only setup fails closed as "unknown".
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { quoteArg } from './quote.ts';

export type HostKeyVerdict = 'ok' | 'unknown' | 'changed' | 'revoked';

export interface KnownHostEntry {
  line: number;
  marker: 'revoked' | null;
  /** Plain patterns (possibly negated/wildcarded), or empty when the entry is hashed. */
  patterns: string[];
  hashed: { salt: Buffer; hash: Buffer } | null;
  keyType: string;
  key: Buffer;
}

export interface KnownHostsWarning {
  line: number;
  message: string;
}

export interface VerifyOutcome {
  verdict: HostKeyVerdict;
  /** `SHA256:…` of the presented key, as `ssh-keygen -l` prints it. */
  fingerprint: string;
  keyType: string;
  /** Lines that matched the host (for "changed": the ones holding the old key). */
  lines: number[];
  /** Key types known for this host when none matches the presented type (OpenSSH reports such a key as new). */
  otherKeyTypes: string[];
}

/** `SHA256:` + unpadded base64 of the key blob, exactly like OpenSSH prints fingerprints. */
export function fingerprintSha256(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type is the first SSH string inside the blob (uint32 length + bytes). */
export function keyTypeOfBlob(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const len = keyBlob.readUInt32BE(0);
  if (len > 64 || 4 + len > keyBlob.length) return 'unknown';
  return keyBlob.subarray(4, 4 + len).toString('latin1');
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function hostLookupName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function wildcardMatch(pattern: string, name: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === name;
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')}$`);
  return re.test(name);
}

export class KnownHosts {
  private constructor(
    readonly path: string,
    readonly entries: readonly KnownHostEntry[],
    readonly warnings: readonly KnownHostsWarning[],
    /** False when the file does not exist: every host is then unknown. */
    readonly exists: boolean,
  ) {}

  static parse(text: string, path = '<memory>'): KnownHosts {
    const entries: KnownHostEntry[] = [];
    const warnings: KnownHostsWarning[] = [];
    const lines = text.split(/\r?\n/);
    lines.forEach((raw, index) => {
      const lineNo = index + 1;
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const fields = line.split(/[ \t]+/);
      let marker: 'revoked' | null = null;
      if (fields[0]?.startsWith('@')) {
        const m = fields.shift();
        if (m === '@cert-authority') {
          warnings.push({ line: lineNo, message: '@cert-authority is not supported (host certificates are not verified); line ignored' });
          return;
        }
        if (m !== '@revoked') {
          warnings.push({ line: lineNo, message: `unknown marker ${m}; line ignored` });
          return;
        }
        marker = 'revoked';
      }
      const [hostField, keyType, keyB64] = fields;
      if (hostField === undefined || keyType === undefined || keyB64 === undefined) {
        warnings.push({ line: lineNo, message: 'expected "hostpatterns keytype base64key"; line ignored' });
        return;
      }
      const key = Buffer.from(keyB64, 'base64');
      if (key.length === 0 || key.toString('base64').replace(/=+$/, '') !== keyB64.replace(/=+$/, '') || keyTypeOfBlob(key) !== keyType) {
        warnings.push({ line: lineNo, message: `key is not valid base64 of a ${keyType} key; line ignored` });
        return;
      }
      let hashed: KnownHostEntry['hashed'] = null;
      let patterns: string[] = [];
      if (hostField.startsWith('|')) {
        const parts = hostField.split('|');
        // ['', '1', salt, hash]
        if (parts.length !== 4 || parts[1] !== '1' || !parts[2] || !parts[3]) {
          warnings.push({ line: lineNo, message: 'hashed host is not of the form |1|salt|hash; line ignored' });
          return;
        }
        hashed = { salt: Buffer.from(parts[2], 'base64'), hash: Buffer.from(parts[3], 'base64') };
        if (hashed.hash.length !== 20) {
          warnings.push({ line: lineNo, message: 'hashed host hash is not HMAC-SHA1 (20 bytes); line ignored' });
          return;
        }
      } else {
        patterns = hostField.split(',').filter((p) => p !== '');
      }
      entries.push({ line: lineNo, marker, patterns, hashed, keyType, key });
    });
    return new KnownHosts(path, entries, warnings, true);
  }

  /** Reads the file; a missing file is an empty set of keys (every host unknown), other I/O errors throw. */
  static async load(path: string): Promise<KnownHosts> {
    try {
      const text = await readFile(path, 'utf8');
      const parsed = KnownHosts.parse(text, path);
      return new KnownHosts(path, parsed.entries, parsed.warnings, true);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new KnownHosts(path, [], [], false);
      throw err;
    }
  }

  /** Does this entry name `host` on `port`? Negated patterns veto the whole line, as in OpenSSH. */
  private matches(entry: KnownHostEntry, lookup: string): boolean {
    if (entry.hashed) {
      const mac = createHmac('sha1', entry.hashed.salt).update(lookup).digest();
      return timingSafeEqual(mac, entry.hashed.hash);
    }
    let positive = false;
    for (const p of entry.patterns) {
      if (p.startsWith('!')) {
        if (wildcardMatch(p.slice(1), lookup)) return false;
      } else if (wildcardMatch(p, lookup)) {
        positive = true;
      }
    }
    return positive;
  }

  verify(host: string, port: number, keyBlob: Buffer): VerifyOutcome {
    const lookup = hostLookupName(host, port);
    const keyType = keyTypeOfBlob(keyBlob);
    const fingerprint = fingerprintSha256(keyBlob);
    const forHost = this.entries.filter((e) => this.matches(e, lookup));
    const revoked = forHost.filter((e) => e.marker === 'revoked' && e.key.equals(keyBlob));
    if (revoked.length > 0) return { verdict: 'revoked', fingerprint, keyType, lines: revoked.map((e) => e.line), otherKeyTypes: [] };
    const plain = forHost.filter((e) => e.marker === null);
    const same = plain.filter((e) => e.keyType === keyType);
    if (same.some((e) => e.key.equals(keyBlob))) {
      return { verdict: 'ok', fingerprint, keyType, lines: same.filter((e) => e.key.equals(keyBlob)).map((e) => e.line), otherKeyTypes: [] };
    }
    if (same.length > 0) return { verdict: 'changed', fingerprint, keyType, lines: same.map((e) => e.line), otherKeyTypes: [] };
    const otherKeyTypes = [...new Set(plain.map((e) => e.keyType))];
    return { verdict: 'unknown', fingerprint, keyType, lines: [], otherKeyTypes };
  }

  /** Key types recorded for a host, so a client can prefer them and not trip over a second key type. */
  knownKeyTypes(host: string, port: number): string[] {
    const lookup = hostLookupName(host, port);
    return [...new Set(this.entries.filter((e) => e.marker === null && this.matches(e, lookup)).map((e) => e.keyType))];
  }
}

/** The refusal an operator reads: what is wrong, and the commands that fix it. */
export function describeRefusal(outcome: VerifyOutcome, host: string, port: number, file: string): string {
  const lookup = hostLookupName(host, port);
  const f = quoteArg(file);
  const presented = `${outcome.keyType} ${outcome.fingerprint}`;
  switch (outcome.verdict) {
    case 'unknown': {
      const others = outcome.otherKeyTypes.length > 0 ? ` (it has ${outcome.otherKeyTypes.join(', ')} key(s) for this host, but no ${outcome.keyType} key)` : '';
      return (
        `Host key of ${lookup} is not in ${file}${others}; refusing to connect before authenticating. ` +
        `The host presented ${presented}. Verify this fingerprint out of band (for example on the host's console: ` +
        `ssh-keygen -lf /etc/ssh/ssh_host_${outcome.keyType.replace(/^ssh-|-.*$/g, '')}_key.pub), then add it with: ` +
        `ssh-keyscan -p ${port} ${quoteArg(host)} >> ${f}`
      );
    }
    case 'changed':
      return (
        `Host key of ${lookup} has CHANGED: ${file} line(s) ${outcome.lines.join(', ')} hold a different ${outcome.keyType} key, ` +
        `the host presented ${presented}. This can be a man-in-the-middle attack; refusing to connect before authenticating. ` +
        `Only if you have confirmed the host was legitimately rebuilt, remove the old key with: ssh-keygen -R ${quoteArg(lookup)} -f ${f} ` +
        `and add the new one after verifying its fingerprint out of band: ssh-keyscan -p ${port} ${quoteArg(host)} >> ${f}`
      );
    case 'revoked':
      return (
        `Host key of ${lookup} (${presented}) is marked @revoked in ${file} line(s) ${outcome.lines.join(', ')}; refusing to connect. ` +
        `The host must get a new host key; do not remove the @revoked line.`
      );
    case 'ok':
      return `Host key of ${lookup} is verified (${presented}).`;
  }
}
