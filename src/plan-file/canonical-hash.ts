// sha256 over a value's canonical JSON, fed to the hash in 64 KiB chunks: a 400,000-VM inventory or a
// 20,000-host plan is hashed without building its text as one string.

import { createHash } from 'node:crypto';
import { writeCanonicalJson } from './canonical-json.ts';

const CHUNK = 1 << 16;

/** `sha256:<hex>` of `canonicalJson(value)`. */
export function canonicalSha256(value: unknown): string {
  const hash = createHash('sha256');
  let buffer = '';
  writeCanonicalJson(value, (chunk) => {
    buffer += chunk;
    if (buffer.length >= CHUNK) {
      hash.update(buffer, 'utf8');
      buffer = '';
    }
  });
  hash.update(buffer, 'utf8');
  return `sha256:${hash.digest('hex')}`;
}
