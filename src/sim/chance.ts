// Seeded, order-independent randomness: every draw is a hash of (seed, what it is for), so whether a given
// migration attempt fails or how long a host takes to upgrade does not depend on the order in which the
// engine happens to ask. Same seed, same draws.

import { mulberry32 } from '../fleet/random.ts';

export class Chance {
  constructor(readonly seed: number) {}

  /** Uniform in [0, 1) for this key. */
  unit(key: string): number {
    // FNV-1a over the key, mixed with the seed, then one step of mulberry32 to spread the bits.
    let h = 0x811c9dc5 ^ (this.seed >>> 0);
    for (let i = 0; i < key.length; i++) {
      h ^= key.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    return mulberry32(h >>> 0)();
  }

  /** A factor in [1 − spread, 1 + spread] (uniform: the mean duration stays the nominal one). */
  spread(key: string, spread: number): number {
    return spread <= 0 ? 1 : 1 + spread * (2 * this.unit(key) - 1);
  }
}
