// A small seeded PRNG, so generated fleets are the same on every machine and every run.

/** mulberry32: 32-bit state, uniform in [0, 1). Fast and good enough for synthetic data (not for secrets). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Integer in [0, n). */
export function pick(random: () => number, n: number): number {
  return Math.floor(random() * n);
}
