// Key pairs for tests. ssh2 1.17's generateKeyPairSync('ed25519') strips a leading zero byte from the
// public key about once in 256 calls, producing keys that parseKey() rejects (mscdex/ssh2#1390, #1513);
// we regenerate until both halves parse, so tests never flake on it.
import ssh2 from 'ssh2';

type Options = Parameters<typeof ssh2.utils.generateKeyPairSync>[1];

export function generateKeyPair(type: 'ed25519' | 'ecdsa' = 'ed25519', opts?: Options & { passphrase?: string }): { private: string; public: string } {
  for (let attempt = 0; attempt < 50; attempt++) {
    const pair = type === 'ecdsa' ? ssh2.utils.generateKeyPairSync('ecdsa', { bits: 256, ...opts }) : ssh2.utils.generateKeyPairSync('ed25519', opts);
    const pub = ssh2.utils.parseKey(pair.public);
    const priv = ssh2.utils.parseKey(pair.private, opts?.passphrase);
    if (!(pub instanceof Error) && !(priv instanceof Error)) return pair;
  }
  throw new Error('could not generate a parseable key pair in 50 attempts');
}
