// Bounded capture of command output. A chatty or runaway command must not grow our memory: we keep the
// first bytes (to parse) and the last bytes (to show the operator what went wrong), never everything.

/** Keeps the last `capacity` bytes written, in a fixed ring. */
export class TailBuffer {
  private readonly ring: Buffer;
  private end = 0; // next write position
  private total = 0; // bytes ever written

  constructor(readonly capacity: number) {
    this.ring = Buffer.alloc(Math.max(0, capacity));
  }

  push(chunk: Buffer): void {
    const cap = this.capacity;
    this.total += chunk.length;
    if (cap === 0) return;
    // Only the last `cap` bytes of a big chunk can survive.
    const src = chunk.length > cap ? chunk.subarray(chunk.length - cap) : chunk;
    const first = Math.min(src.length, cap - this.end);
    src.copy(this.ring, this.end, 0, first);
    src.copy(this.ring, 0, first);
    this.end = (this.end + src.length) % cap;
  }

  /** Bytes written in total, including the ones no longer held. */
  get bytesSeen(): number {
    return this.total;
  }

  toString(): string {
    const cap = this.capacity;
    if (this.total <= cap) return this.ring.subarray(0, this.total).toString('utf8');
    let bytes = Buffer.concat([this.ring.subarray(this.end), this.ring.subarray(0, this.end)]);
    // The cut may fall inside a UTF-8 sequence: drop the orphaned continuation bytes instead of printing U+FFFD.
    let skip = 0;
    while (skip < 3 && skip < bytes.length && ((bytes[skip] ?? 0) & 0xc0) === 0x80) skip++;
    bytes = bytes.subarray(skip);
    return bytes.toString('utf8');
  }
}

/** Keeps the first `capacity` bytes written and remembers whether anything was cut. */
export class HeadBuffer {
  private readonly chunks: Buffer[] = [];
  private held = 0;
  private cut = false;

  constructor(readonly capacity: number) {}

  push(chunk: Buffer): void {
    const room = this.capacity - this.held;
    if (chunk.length > room) this.cut = true;
    if (room <= 0) return;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(part);
    this.held += part.length;
  }

  get truncated(): boolean {
    return this.cut;
  }

  toString(): string {
    return Buffer.concat(this.chunks, this.held).toString('utf8');
  }
}
