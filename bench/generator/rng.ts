// Seeded randomness for the generator. Every part of a locality draws from its own stream, derived from
// (seed, label, index), so a unit's content does not depend on how much randomness was drawn before it.
import { Random } from '../../server/src/platform/random.ts';

/** FNV-1a over the parts, finished with murmur3's avalanche: a 32-bit seed for one stream. */
export function deriveSeed(...parts: (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    const text = `${part}\u0001`;
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class Rng extends Random {
  static of(...parts: (string | number)[]): Rng {
    return new Rng(deriveSeed(...parts));
  }
  /** uniform in [min, max) */
  float(min: number, max: number): number {
    return min + this.next() * (max - min);
  }
  /** approximately normal (Irwin–Hall of 4), clamped to [min, max] */
  normal(mean: number, sd: number, min = -Infinity, max = Infinity): number {
    const z = (this.next() + this.next() + this.next() + this.next() - 2) * Math.sqrt(3);
    return Math.min(max, Math.max(min, mean + z * sd));
  }
  /** Fisher–Yates in place */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}

/** Picks by weight in O(log n). Weights need not sum to 1. */
export class Weighted<T> {
  private readonly items: T[];
  private readonly cumulative: Float64Array;
  constructor(entries: readonly (readonly [T, number])[]) {
    const usable = entries.filter(([, w]) => w > 0);
    if (!usable.length) throw new Error('Weighted: no item has a positive weight');
    this.items = usable.map(([item]) => item);
    this.cumulative = new Float64Array(usable.length);
    let sum = 0;
    usable.forEach(([, w], i) => (this.cumulative[i] = sum += w));
  }
  pick(rng: Random): T {
    const target = rng.next() * this.cumulative[this.cumulative.length - 1];
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cumulative[mid] > target) hi = mid;
      else lo = mid + 1;
    }
    return this.items[lo];
  }
}

/**
 * Splits `total` into `parts` non-negative integers proportional to random weights in [1-spread, 1+spread]
 * (largest remainder), each at least `min` when total allows it.
 */
export function splitCount(total: number, parts: number, rng: Random, spread = 0.5, min = 1): number[] {
  if (parts <= 0) return [];
  const floor = total >= parts * min ? min : 0;
  const rest = total - floor * parts;
  const weights = Array.from({ length: parts }, () => 1 - spread + 2 * spread * rng.next());
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (w / sum) * rest);
  const out = exact.map((x) => Math.floor(x));
  let left = rest - out.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; left > 0; k = (k + 1) % parts, left--) out[order[k][1]]++;
  return out.map((x) => x + floor);
}
