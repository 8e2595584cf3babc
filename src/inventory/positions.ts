// Line/column of a path inside a source text. Only called when there are issues to report, so the happy
// path never pays for it. YAML uses the Document the parser already built; JSON (parsed with JSON.parse, which
// keeps no positions) is re-scanned once for all wanted paths.

import { isMap, isPair, isScalar, isSeq } from 'yaml';
import type { Document, LineCounter, Node } from 'yaml';
import type { Position, Segment } from './issue.ts';

/** Offsets → 1-based line and column. */
export class LineIndex {
  private readonly starts: number[] = [0];
  constructor(text: string) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }
  at(offset: number): Position {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.starts[lo]! + 1 };
  }
}

/** Position of the node at `path`, or of its deepest existing ancestor (a missing key points at its parent). */
export function yamlPosition(doc: Document, lc: LineCounter, path: readonly Segment[], atKey = false): Position | undefined {
  let node: unknown = doc.contents;
  let offset = (node as Node | null)?.range?.[0];
  for (let i = 0; i < path.length && node; i++) {
    const seg = path[i]!;
    let next: unknown;
    let keyOffset: number | undefined;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
      if (pair) {
        next = pair.value;
        keyOffset = (pair.key as Node | null)?.range?.[0];
      }
    } else if (isSeq(node) && typeof seg === 'number') {
      next = node.items[seg];
    }
    if (next === undefined) break;
    const last = i === path.length - 1;
    const nextOffset = last && atKey && keyOffset !== undefined ? keyOffset : ((next as Node | null)?.range?.[0] ?? keyOffset);
    if (nextOffset !== undefined) offset = nextOffset;
    node = next;
  }
  if (offset === undefined) return undefined;
  const { line, col } = lc.linePos(offset);
  return { line, column: col };
}

interface Trie {
  children: Map<string, Trie>;
  valueAt?: number;
  keyAt?: number;
}

/** Positions of many paths in one JSON text (one scan). Returns a lookup with the same ancestor fallback. */
export function jsonPositions(text: string, paths: readonly (readonly Segment[])[]): (path: readonly Segment[], atKey?: boolean) => Position | undefined {
  const root: Trie = { children: new Map() };
  for (const path of paths) {
    let t = root;
    for (const seg of path) {
      const k = String(seg);
      let c = t.children.get(k);
      if (!c) t.children.set(k, (c = { children: new Map() }));
      t = c;
    }
  }
  try {
    new JsonScanner(text).value(root);
  } catch {
    // Positions are best effort: a malformed tail leaves later paths at their ancestors.
  }
  const lines = new LineIndex(text);
  return (path, atKey = false) => {
    let t: Trie | undefined = root;
    let offset = root.valueAt;
    path.forEach((seg, i) => {
      t = t?.children.get(String(seg));
      const at = i === path.length - 1 && atKey ? (t?.keyAt ?? t?.valueAt) : t?.valueAt;
      if (at !== undefined) offset = at;
    });
    return offset === undefined ? undefined : lines.at(offset);
  };
}

class JsonScanner {
  private i = 0;
  constructor(private readonly s: string) {}

  private ws(): void {
    const s = this.s;
    let c = s.charCodeAt(this.i);
    while (c === 32 || c === 10 || c === 13 || c === 9) c = s.charCodeAt(++this.i);
  }

  private string(): string {
    const start = this.i;
    let j = this.i + 1;
    let escaped = false;
    for (;;) {
      const q = this.s.indexOf('"', j);
      if (q === -1) throw new Error('unterminated string');
      let b = q - 1;
      while (this.s.charCodeAt(b) === 92) b--;
      if ((q - 1 - b) % 2 === 0) {
        this.i = q + 1;
        break;
      }
      escaped = true;
      j = q + 1;
    }
    const raw = this.s.slice(start + 1, this.i - 1);
    return escaped ? (JSON.parse(`"${raw}"`) as string) : raw;
  }

  value(t: Trie | undefined): void {
    this.ws();
    if (t) t.valueAt = this.i;
    const c = this.s[this.i];
    if (c === '{') {
      this.i++;
      this.ws();
      if (this.s[this.i] === '}') return void this.i++;
      for (;;) {
        this.ws();
        const keyAt = this.i;
        const key = this.string();
        const child = t?.children.get(key);
        if (child) child.keyAt = keyAt;
        this.ws();
        this.i++; // ':'
        this.value(child);
        this.ws();
        if (this.s[this.i++] === '}') return;
      }
    } else if (c === '[') {
      this.i++;
      this.ws();
      if (this.s[this.i] === ']') return void this.i++;
      for (let n = 0; ; n++) {
        this.value(t?.children.get(String(n)));
        this.ws();
        if (this.s[this.i++] === ']') return;
      }
    } else if (c === '"') {
      this.string();
    } else {
      while (this.i < this.s.length && !',}] \n\r\t'.includes(this.s[this.i]!)) this.i++;
    }
  }
}
