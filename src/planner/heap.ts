// Indexed max-heap of host indices keyed by an external array (free memory); ties go to the lower index, so
// placement is deterministic. `update` repositions a member after its key changed.

export class HostHeap {
  private readonly items: number[] = [];
  private readonly pos: Map<number, number> = new Map();

  constructor(private readonly key: Float64Array) {}

  get size(): number {
    return this.items.length;
  }

  has(h: number): boolean {
    return this.pos.has(h);
  }

  peek(): number | undefined {
    return this.items[0];
  }

  push(h: number): void {
    if (this.pos.has(h)) return this.update(h);
    this.items.push(h);
    this.pos.set(h, this.items.length - 1);
    this.up(this.items.length - 1);
  }

  pop(): number | undefined {
    const top = this.items[0];
    if (top === undefined) return undefined;
    this.remove(top);
    return top;
  }

  remove(h: number): void {
    const i = this.pos.get(h);
    if (i === undefined) return;
    const last = this.items.pop()!;
    this.pos.delete(h);
    if (i < this.items.length) {
      this.items[i] = last;
      this.pos.set(last, i);
      this.down(i);
      this.up(i);
    }
  }

  update(h: number): void {
    const i = this.pos.get(h);
    if (i === undefined) return;
    this.down(i);
    this.up(this.pos.get(h)!);
  }

  private above(a: number, b: number): boolean {
    const ka = this.key[a]!;
    const kb = this.key[b]!;
    return ka > kb || (ka === kb && a < b);
  }

  private up(i: number): void {
    const items = this.items;
    const h = items[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const ph = items[p]!;
      if (!this.above(h, ph)) break;
      items[i] = ph;
      this.pos.set(ph, i);
      i = p;
    }
    items[i] = h;
    this.pos.set(h, i);
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const h = items[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.above(items[r]!, items[l]!) ? r : l;
      const ch = items[c]!;
      if (!this.above(ch, h)) break;
      items[i] = ch;
      this.pos.set(ch, i);
      i = c;
    }
    items[i] = h;
    this.pos.set(h, i);
  }
}
