/**
 * The one seeded random-number module. All randomness in husai (SAE init, data order, synthetic
 * data, null draws, bootstrap resamples) flows through `Rng`, created from explicit seeds, so the
 * same seed gives the same stream on every engine and thread count (docs/SCIENCE.md §2, "Seeds").
 *
 * Generator: xoshiro128** (Blackman & Vigna 2018), 32-bit operations only, so it is fast in JS
 * and bit-identical everywhere. State is seeded by SplitMix32 from a hash of the seed parts, so
 * `Rng.from(seed, 'init')` and `Rng.from(seed, 'data')` are independent streams of one seed.
 */

/** 32-bit FNV-1a over the UTF-8-ish code units of each part, parts separated by a marker. */
function hashParts(parts: ReadonlyArray<number | string>): number {
  let h = 0x811c9dc5;
  const mix = (byte: number): void => {
    h ^= byte & 0xff;
    h = Math.imul(h, 0x01000193);
  };
  for (const p of parts) {
    if (typeof p === 'number') {
      if (!Number.isSafeInteger(p)) throw new RangeError(`Rng seed parts must be safe integers or strings, got ${p}`);
      // Mix all 53 bits: low 32, then high 21, as 8 bytes.
      const lo = p >>> 0;
      const hi = Math.floor(p / 4294967296) >>> 0;
      for (let i = 0; i < 4; i++) mix(lo >>> (8 * i));
      for (let i = 0; i < 4; i++) mix(hi >>> (8 * i));
      mix(0x4e);
    } else {
      for (let i = 0; i < p.length; i++) {
        const c = p.charCodeAt(i);
        mix(c);
        mix(c >>> 8);
      }
      mix(0x53);
    }
  }
  return h >>> 0;
}

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  private constructor(seed32: number) {
    const st = { s: seed32 | 0 };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    if ((this.a | this.b | this.c | this.d) === 0) this.d = 1; // all-zero state is a fixed point
  }

  /** A generator with its raw xoshiro128** state set directly (for tests against the C reference). */
  static fromState(a: number, b: number, c: number, d: number): Rng {
    const r = new Rng(0);
    r.a = a | 0;
    r.b = b | 0;
    r.c = c | 0;
    r.d = d | 0;
    return r;
  }

  /** A generator for the seed `parts` (e.g. `Rng.from(seed, 'init')`). Same parts → same stream. */
  static from(...parts: Array<number | string>): Rng {
    return new Rng(hashParts(parts));
  }

  /** An independent child stream, derived from this generator's next output and a label. */
  fork(label: string | number): Rng {
    return Rng.from(this.nextU32(), label);
  }

  /** Next uniformly distributed unsigned 32-bit integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296)
      throw new RangeError(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % n;
    }
  }

  /** Standard normal draw (Box–Muller; one of the pair is discarded so the stream has no hidden state). */
  normal(): number {
    let u = this.uniform();
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Fills `out` with N(mean, sd²) draws, two per Box–Muller pair. */
  fillNormal(out: Float32Array | Float64Array, mean = 0, sd = 1): void {
    const n = out.length;
    for (let i = 0; i < n; i += 2) {
      let u = this.uniform();
      while (u === 0) u = this.uniform();
      const v = this.uniform();
      const r = Math.sqrt(-2 * Math.log(u));
      out[i] = mean + sd * r * Math.cos(2 * Math.PI * v);
      if (i + 1 < n) out[i + 1] = mean + sd * r * Math.sin(2 * Math.PI * v);
    }
  }

  /** Fills `out` with U(lo, hi) draws. */
  fillUniform(out: Float32Array | Float64Array, lo = 0, hi = 1): void {
    for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * this.uniform();
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T extends { length: number; [i: number]: unknown }>(arr: T): T {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = arr[i];
      arr[i] = arr[j];
      arr[j] = t;
    }
    return arr;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Uint32Array {
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
