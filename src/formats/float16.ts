/**
 * Half-precision conversions for the file readers and writers (docs/FORMATS.md, "safetensors" dtypes F16
 * and BF16; "Activations": float16 .npy). Owns the bit-level mapping between IEEE 754 binary16
 * (f16), bfloat16 (bf16) and binary32 (f32): subnormals, ±0, ±Inf and NaN included. The array
 * conversions keep NaN payloads bit for bit; the scalar ones return JS numbers, and a signalling
 * NaN may come back quiet.
 *
 * Written by hand rather than taken from a package: it is ~100 lines, Node 20 has no Float16Array,
 * and the readers need array conversions with no per-element allocation. f16 → f32 goes through a
 * 65,536-entry table of f32 bit patterns built once on first use (256 KiB); bf16 → f32 is a 16-bit
 * shift. f32 → f16 rounds to nearest, ties to even, as numpy's `astype(np.float16)` and IEEE 754 do.
 */

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

let f16Table: Uint32Array | null = null;

/** f32 bit pattern of the f16 with bits `h` (exact: every f16 is representable in f32). */
function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0; // Inf, NaN (payload shifted up)
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0; // normal: rebias 15 → 127
  if (mant === 0) return sign >>> 0; // ±0
  // Subnormal: mant·2^-24. Normalise: shift the leading 1 up to bit 10.
  let e = -1;
  let m = mant;
  do {
    m <<= 1;
    e++;
  } while ((m & 0x400) === 0);
  return (sign | ((112 - e) << 23) | ((m & 0x3ff) << 13)) >>> 0;
}

function table(): Uint32Array {
  if (f16Table === null) {
    f16Table = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16BitsToF32Bits(h);
  }
  return f16Table;
}

/** The value of the f16 with bit pattern `h` (0 ≤ h < 65536). */
export function f16ToF32(h: number): number {
  scratchU32[0] = table()[h & 0xffff];
  return scratchF32[0];
}

/** The value of the bfloat16 with bit pattern `h`: the top half of an f32. */
export function bf16ToF32(h: number): number {
  scratchU32[0] = (h & 0xffff) << 16;
  return scratchF32[0];
}

/** f16 bit pattern nearest to `x` (rounded to f32 first), ties to even; overflow → ±Inf; NaN stays NaN. */
export function f32ToF16(x: number): number {
  scratchF32[0] = x;
  const b = scratchU32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) {
    // Inf stays Inf; NaN keeps the top payload bits and is forced quiet so it cannot become Inf.
    return mant === 0 ? sign | 0x7c00 : sign | 0x7c00 | 0x200 | (mant >>> 13);
  }
  const e16 = exp - 112; // f16 biased exponent if the value is normal in f16
  if (e16 >= 0x1f) return sign | 0x7c00;
  if (e16 <= 0) {
    // f16 subnormal (or zero): value = full·2^(exp−150), result = round(full·2^(exp−126)).
    const shift = 126 - exp; // ≥ 14
    if (shift > 24) return sign; // below half the smallest subnormal (also f32 zeros/subnormals)
    const full = mant | 0x800000;
    return sign | roundShift(full, shift);
  }
  // Normal: keep 10 mantissa bits. A carry out of the mantissa correctly bumps the exponent
  // (and 0x7bff + 1 = 0x7c00 is Inf, as overflow should be).
  return sign | roundShift((e16 << 23) | mant, 13);
}

/** `v >> shift` rounded to nearest, ties to even (v < 2^31, 1 ≤ shift ≤ 24). */
function roundShift(v: number, shift: number): number {
  const q = v >>> shift;
  const rem = v & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return rem > half || (rem === half && (q & 1) === 1) ? q + 1 : q;
}

/** Converts f16 bit patterns to f32 values: out[i] = f16(src[i]). `out.length` must be ≥ `src.length`. */
export function f16ArrayToF32(src: Uint16Array, out: Float32Array): void {
  const t = table();
  const outBits = new Uint32Array(out.buffer, out.byteOffset, src.length);
  for (let i = 0; i < src.length; i++) outBits[i] = t[src[i]];
}

/** Converts bf16 bit patterns to f32 values. `out.length` must be ≥ `src.length`. */
export function bf16ArrayToF32(src: Uint16Array, out: Float32Array): void {
  const outBits = new Uint32Array(out.buffer, out.byteOffset, src.length);
  for (let i = 0; i < src.length; i++) outBits[i] = src[i] << 16;
}

/** Converts f32 values to f16 bit patterns (round to nearest even). `out.length` must be ≥ `src.length`. */
export function f32ArrayToF16(src: Float32Array, out: Uint16Array): void {
  for (let i = 0; i < src.length; i++) out[i] = f32ToF16(src[i]);
}
