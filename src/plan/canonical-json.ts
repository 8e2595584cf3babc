// Canonical JSON: object keys sorted, no whitespace, `undefined` members dropped (as JSON.stringify does).
// Emitted in chunks so a 400,000-VM inventory can be hashed without building one giant string.

type Emit = (chunk: string) => void;

export function writeCanonicalJson(value: unknown, emit: Emit): void {
  if (value === null || typeof value !== 'object') {
    emit(scalar(value));
    return;
  }
  if (Array.isArray(value)) {
    emit('[');
    value.forEach((item, i) => {
      if (i > 0) emit(',');
      // JSON.stringify writes `null` for undefined and functions inside arrays; so do we.
      if (item === undefined || typeof item === 'function') emit('null');
      else writeCanonicalJson(item, emit);
    });
    emit(']');
    return;
  }
  const record = value as Record<string, unknown>;
  emit('{');
  let first = true;
  for (const key of Object.keys(record).sort()) {
    const member = record[key];
    if (member === undefined || typeof member === 'function') continue;
    if (!first) emit(',');
    first = false;
    emit(JSON.stringify(key));
    emit(':');
    writeCanonicalJson(member, emit);
  }
  emit('}');
}

export function canonicalJson(value: unknown): string {
  const parts: string[] = [];
  writeCanonicalJson(value, (c) => parts.push(c));
  return parts.join('');
}

function scalar(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return 'null';
  if (typeof value === 'bigint') throw new TypeError('canonical JSON: bigint is not representable');
  return JSON.stringify(value) ?? 'null';
}
