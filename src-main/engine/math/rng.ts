/**
 * Small, fast, seedable pseudo-random number generator shared by the clustering code (k-means, GMM, …).
 *
 * Algorithm: xoshiro128** (Blackman & Vigna), 128-bit state, 32-bit outputs, period 2^128 − 1, seeded through
 * splitmix32 so that any integer seed (including 0) gives a well-mixed state. Everything is plain 32-bit integer
 * arithmetic (Math.imul, >>> 0), so a given seed produces the same stream on every platform and JS engine.
 *
 * Doubles use 53 random bits (two outputs), like numpy's `random()`.
 */
export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spareNormal: number | null = null;

  /** `seed`: any finite number; it is reduced to an integer (non-integers are truncated, ±2^53 range is mixed in fully). */
  constructor(seed: number = 0) {
    if (!Number.isFinite(seed)) throw new RangeError(`Rng seed must be a finite number, got ${seed}`);
    const s = Math.trunc(seed);
    // Mix the low and high 32-bit halves so that seeds beyond 2^32 still give distinct streams.
    const lo = s >>> 0;
    const hi = Math.floor(s / 4294967296) >>> 0;
    let x = (lo ^ Math.imul(hi, 0x9e3779b1)) >>> 0;
    const next = (): number => {
      // splitmix32
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      return (z ^ (z >>> 15)) >>> 0;
    };
    this.s0 = next() ^ hi;
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // all-zero state is forbidden
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    const s0 = this.s0,
      s1 = this.s1,
      s2 = this.s2,
      s3 = this.s3;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    let n2 = s2 ^ s0;
    let n3 = s3 ^ s1;
    const n1 = s1 ^ n2;
    const n0 = s0 ^ n3;
    n2 ^= t;
    n3 = rotl(n3, 11);
    this.s0 = n0 | 0;
    this.s1 = n1 | 0;
    this.s2 = n2 | 0;
    this.s3 = n3 | 0;
    return r;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  random(): number {
    const a = this.nextUint32() >>> 5; // 27 bits
    const b = this.nextUint32() >>> 6; // 26 bits
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Uniform double in [lo, hi). */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.random();
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling). n must be a positive integer ≤ 2^53. */
  int(n: number): number {
    if (!(n >= 1) || !Number.isInteger(n)) throw new RangeError(`Rng.int(n) needs a positive integer, got ${n}`);
    if (n <= 4294967296) {
      // Lemire-style rejection on 32 bits.
      const limit = 4294967296 - (4294967296 % n);
      for (;;) {
        const r = this.nextUint32();
        if (r < limit) return r % n;
      }
    }
    for (;;) {
      const r = Math.floor(this.random() * 9007199254740992);
      const limit = 9007199254740992 - (9007199254740992 % n);
      if (r < limit) return r % n;
    }
  }

  /** Standard normal variate (polar Box–Muller; the spare value is cached). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return mean + std * v;
    }
    let u: number, v: number, s: number;
    do {
      u = 2 * this.random() - 1;
      v = 2 * this.random() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * f;
    return mean + std * u * f;
  }

  /** Fills `out` with standard normal variates (float32 or float64). */
  fillNormal<T extends Float32Array | Float64Array>(out: T, mean = 0, std = 1): T {
    for (let i = 0; i < out.length; i++) out[i] = this.normal(mean, std);
    return out;
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T extends { length: number; [i: number]: unknown }>(arr: T): T {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = arr[i];
      arr[i] = arr[j];
      arr[j] = tmp;
    }
    return arr;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /** `count` distinct indices from [0, n) in random order (partial Fisher–Yates; O(count) memory for small count). */
  sampleWithoutReplacement(n: number, count: number): Int32Array {
    if (count > n) throw new RangeError(`cannot sample ${count} distinct values from ${n}`);
    const swapped = new Map<number, number>();
    const out = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const j = i + this.int(n - i);
      const vi = swapped.get(i) ?? i;
      const vj = swapped.get(j) ?? j;
      out[i] = vj;
      swapped.set(j, vi);
    }
    return out;
  }

  /**
   * A non-negative 31-bit integer seed for a child generator (like sklearn drawing `randint(2**31 - 1)` per init):
   * independent sub-streams derived deterministically from this one.
   */
  nextSeed(): number {
    return this.nextUint32() >>> 1;
  }

  /** A child generator seeded from this stream. */
  fork(): Rng {
    return new Rng(this.nextSeed());
  }

  /** Snapshot of the internal state (for checkpointing / tests). */
  getState(): [number, number, number, number] {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  setState(state: readonly [number, number, number, number]): void {
    if ((state[0] | state[1] | state[2] | state[3]) === 0) throw new RangeError('Rng state must not be all zero');
    [this.s0, this.s1, this.s2, this.s3] = [state[0] | 0, state[1] | 0, state[2] | 0, state[3] | 0];
    this.spareNormal = null;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Convenience: a generator for `seed`. */
export function createRng(seed: number = 0): Rng {
  return new Rng(seed);
}
