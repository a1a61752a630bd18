import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  bf16ArrayToF32,
  bf16ToF32,
  f16ArrayToF32,
  f16ToF32,
  f32ArrayToF16,
  f32ToF16,
} from '../../src/formats/float16.js';

// Golden values from numpy (test/golden/formats/make_golden.py → float16.json).
const golden = JSON.parse(fs.readFileSync(new URL('../golden/formats/float16.json', import.meta.url), 'utf8')) as {
  f16_bits: number[];
  f16_as_f32_bits: number[];
  f32_bits: number[];
  f32_as_f16_bits: number[];
};

const bitsOf = (x: number): number => new Uint32Array(new Float32Array([x]).buffer)[0];
const fromBits = (b: number): number => new Float32Array(new Uint32Array([b]).buffer)[0];

/** Slow twin: the f16 value from its fields with Math.pow (no bit tricks). */
function f16Slow(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m === 0 ? s * Infinity : NaN;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

describe('float16', () => {
  it('f16ArrayToF32(bits, out) matches numpy float16→float32 bit for bit (NaN payloads included)', () => {
    const out = new Float32Array(golden.f16_bits.length);
    f16ArrayToF32(new Uint16Array(golden.f16_bits), out);
    const outBits = new Uint32Array(out.buffer);
    golden.f16_bits.forEach((h, i) => {
      expect(outBits[i], `f16 0x${h.toString(16)}`).toBe(golden.f16_as_f32_bits[i]);
    });
  });

  it('f16ToF32(bits) matches numpy (a JS number may quiet a signalling NaN, so NaNs compare as NaN)', () => {
    golden.f16_bits.forEach((h, i) => {
      const want = fromBits(golden.f16_as_f32_bits[i]);
      if (Number.isNaN(want)) expect(Number.isNaN(f16ToF32(h))).toBe(true);
      else expect(bitsOf(f16ToF32(h)), `f16 0x${h.toString(16)}`).toBe(golden.f16_as_f32_bits[i]);
    });
  });

  it('f16ToF32(bits) agrees with the field formula for all 65,536 patterns', () => {
    for (let h = 0; h < 65536; h++) {
      const fast = f16ToF32(h);
      const slow = f16Slow(h);
      if (Number.isNaN(slow)) expect(Number.isNaN(fast)).toBe(true);
      else expect(Object.is(fast, slow), `0x${h.toString(16)}: ${fast} vs ${slow}`).toBe(true);
    }
  });

  it('f32ToF16(x) matches numpy astype(float16): ties to even, subnormals, overflow to Inf', () => {
    golden.f32_bits.forEach((b, i) => {
      const x = fromBits(b);
      expect(f32ToF16(x), `x = ${x}`).toBe(golden.f32_as_f16_bits[i]);
    });
  });

  it('f32ToF16(x) returns the nearest f16 (ties to even) for 100k random f32 bit patterns', () => {
    let state = 12345;
    for (let i = 0; i < 100_000; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      const x = fromBits(state);
      if (!Number.isFinite(x) || Math.abs(x) >= 65520) continue;
      const h = f32ToF16(x);
      const v = f16ToF32(h);
      // Neighbours one ulp either side (in f16) must be no closer.
      for (const nb of [h - 1, h + 1]) {
        if ((nb & 0x7fff) > 0x7bff || nb < 0 || ((nb ^ h) & 0x8000) !== 0) continue;
        const w = f16ToF32(nb);
        const dv = Math.abs(v - x);
        const dw = Math.abs(w - x);
        expect(dv <= dw, `x=${x}: chose ${v}, neighbour ${w} is closer`).toBe(true);
        if (dv === dw) expect(h & 1, `tie at x=${x} must go to even`).toBe(0);
      }
    }
  });

  it('f32ToF16 handles ±0, ±Inf and NaN', () => {
    expect(f32ToF16(0)).toBe(0);
    expect(f32ToF16(-0)).toBe(0x8000);
    expect(f32ToF16(Infinity)).toBe(0x7c00);
    expect(f32ToF16(-Infinity)).toBe(0xfc00);
    const nan = f32ToF16(NaN);
    expect(nan & 0x7c00).toBe(0x7c00);
    expect(nan & 0x3ff).not.toBe(0);
  });

  it('bf16ToF32(bits) is the top half of the float32 pattern', () => {
    expect(bf16ToF32(0x3f80)).toBe(1);
    expect(bf16ToF32(0xc010)).toBe(-2.25);
    expect(bf16ToF32(0x7f80)).toBe(Infinity);
    expect(Number.isNaN(bf16ToF32(0x7fc0))).toBe(true);
    expect(bf16ToF32(0x0001)).toBe(fromBits(0x00010000)); // subnormal
    expect(Object.is(bf16ToF32(0x8000), -0)).toBe(true);
  });

  it('f16ArrayToF32 / bf16ArrayToF32 / f32ArrayToF16 agree with the scalar functions', () => {
    const src = new Uint16Array(golden.f16_bits);
    const out = new Float32Array(src.length);
    f16ArrayToF32(src, out);
    src.forEach((h, i) => expect(Object.is(out[i], f16ToF32(h)) || Number.isNaN(out[i])).toBe(true));
    bf16ArrayToF32(src, out);
    src.forEach((h, i) => expect(Object.is(out[i], bf16ToF32(h)) || Number.isNaN(out[i])).toBe(true));
    const xs = new Float32Array(golden.f32_bits.map(fromBits));
    const hs = new Uint16Array(xs.length);
    f32ArrayToF16(xs, hs);
    expect(Array.from(hs)).toEqual(golden.f32_as_f16_bits);
  });
});
