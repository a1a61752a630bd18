import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../../src/core/errors.js';
import { findDuplicateKey } from '../../src/formats/json-duplicates.js';
import {
  openSafetensors,
  readSafetensors,
  readSafetensorsHeader,
  tensorWithShape,
  writeSafetensors,
} from '../../src/formats/safetensors.js';

// Fixtures written by hand from the spec in test/golden/formats/make_golden.py.
const G = (name: string): string => new URL(`../golden/formats/${name}`, import.meta.url).pathname;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'husai-st-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function catchError(fn: () => unknown): DataError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DataError) return e;
    throw e;
  }
  throw new Error('expected a DataError');
}

describe('safetensors', () => {
  it('readSafetensorsHeader(mixed.safetensors) lists tensors, dtypes, shapes and metadata', () => {
    const h = readSafetensorsHeader(G('mixed.safetensors'));
    expect([...h.tensors.keys()]).toEqual(['acts', 'brain', 'half', 'wide']);
    expect(h.tensors.get('brain')).toMatchObject({ dtype: 'BF16', shape: [2, 2] });
    expect(h.tensors.get('half')).toMatchObject({ dtype: 'F16', shape: [4] });
    expect(h.metadata).toEqual({ format: 'pt', note: 'golden, made by make_golden.py' });
    expect(h.dataStart % 8).toBe(0);
  });

  it('readSafetensors(mixed.safetensors) converts F32, F16, BF16 and F64 (with a warning) to float32', () => {
    const { tensors, warnings } = readSafetensors(G('mixed.safetensors'));
    expect(tensors.get('acts')).toEqual({ shape: [2, 3], data: new Float32Array([1, -2, 3.5, 0.25, 1e-3, -7]) });
    expect(Array.from(tensors.get('half')!.data)).toEqual([0.5, -1.5, 65504, 6.103515625e-5]);
    expect(Array.from(tensors.get('brain')!.data)).toEqual([1, -2.25, 1.5, -0.0078125]);
    expect(Array.from(tensors.get('wide')!.data)).toEqual([Math.fround(1 / 3), -2.5]);
    expect(warnings).toEqual([expect.stringContaining('tensor "wide": F64 narrowed to float32')]);
  });

  it('readSafetensors(path, names) reads only the named tensors; an unknown name lists what exists', () => {
    const { tensors, warnings } = readSafetensors(G('mixed.safetensors'), ['half']);
    expect([...tensors.keys()]).toEqual(['half']);
    expect(warnings).toEqual([]);
    const e = catchError(() => readSafetensors(G('mixed.safetensors'), ['W_enc']));
    expect(e.field).toBe('tensor "W_enc"');
    expect(e.found).toContain('acts [2×3] F32, brain [2×2] BF16, half [4] F16, wide [2] F64');
  });

  it('openSafetensors(path).readRows(name, start, count, out) reads a row range of a 2-D tensor', () => {
    const f = openSafetensors(G('acts.safetensors'));
    const out = new Float32Array(8);
    f.readRows('acts', 3, 2, out);
    expect(Array.from(out)).toEqual([3, 3.125, 3.25, 3.375, 4, 4.125, 4.25, 4.375]);
    expect(() => f.readRows('tokens', 0, 1, out)).toThrow(/tensor "tokens" shape: found \[6\], expected 2-D/);
    expect(() => f.readRows('acts', 5, 2, out)).toThrow(/rows \[5, 7\) out of range/);
    f.close();
    const m = openSafetensors(G('mixed.safetensors'));
    const row = new Float32Array(2);
    m.readRows('brain', 1, 1, row);
    expect(Array.from(row)).toEqual([1.5, -0.0078125]);
    m.close();
    expect(() => m.read('acts')).toThrow(/after close/);
  });

  it('tensorWithShape(file, tensors, name, shape) loads by name and shape together', () => {
    const { tensors } = readSafetensors(G('mixed.safetensors'));
    expect(tensorWithShape('mixed', tensors, 'acts', [2, null]).shape).toEqual([2, 3]);
    expect(() => tensorWithShape('mixed', tensors, 'acts', [3, 2])).toThrow(
      'mixed: tensor "acts" shape: found [2×3], expected [3×2]',
    );
    expect(() => tensorWithShape('mixed', tensors, 'acts', [6])).toThrow('found [2×3], expected [6]');
    expect(() => tensorWithShape('mixed', tensors, 'W_dec', [null, 3])).toThrow(
      'mixed: tensor "W_dec": found no such tensor (tensors: acts [2×3], brain [2×2], half [4], wide [2]), expected a tensor of shape [*×3]',
    );
  });

  it('writeSafetensors(path, tensors, metadata) is byte-identical to the spec-following Python writer', () => {
    const p = path.join(tmp, 'w.safetensors');
    writeSafetensors(
      p,
      {
        W: { shape: [2, 3], data: new Float32Array([1, -2, 3.5, 0.25, 1e-3, -7]) },
        b: { shape: [3], data: new Float32Array([0.5, -1, 2]) },
      },
      { seed: '7', arch: 'topk' },
    );
    expect(Buffer.compare(fs.readFileSync(p), fs.readFileSync(G('f32_only.safetensors')))).toBe(0);
  });

  it('writeSafetensors: same input in any insertion order → identical bytes; read back equal; header padded to 8', () => {
    const t1 = {
      z: { shape: [3, 5], data: Float32Array.from({ length: 15 }, (_, i) => i / 7) },
      a: { shape: [0], data: new Float32Array(0) },
      é: { shape: [], data: new Float32Array([42]) },
    };
    const t2 = { é: t1['é'], a: t1.a, z: t1.z };
    const p1 = path.join(tmp, 'o1.safetensors');
    const p2 = path.join(tmp, 'o2.safetensors');
    writeSafetensors(p1, t1, { b: '2', a: '1' });
    writeSafetensors(p2, t2, { a: '1', b: '2' });
    const b1 = fs.readFileSync(p1);
    expect(Buffer.compare(b1, fs.readFileSync(p2))).toBe(0);
    expect(Number(b1.readBigUInt64LE(0)) % 8).toBe(0);
    const back = readSafetensors(p1);
    expect(back.metadata).toEqual({ a: '1', b: '2' });
    expect(back.tensors.get('z')).toEqual(t1.z);
    expect(back.tensors.get('é')).toEqual({ shape: [], data: new Float32Array([42]) });
    expect(back.tensors.get('a')).toEqual({ shape: [0], data: new Float32Array(0) });
    expect(fs.readdirSync(tmp).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('writeSafetensors keeps byte order for integer-like names and round-trips a tensor named "__proto__"', () => {
    const p = path.join(tmp, 'names.safetensors');
    const one = (v: number) => ({ shape: [1], data: new Float32Array([v]) });
    writeSafetensors(p, { '10': one(10), '2': one(2), __proto__x: one(3), ['__proto__']: one(4) } as Record<
      string,
      { shape: number[]; data: Float32Array }
    >);
    const h = readSafetensorsHeader(p);
    expect([...h.tensors.keys()]).toEqual(['10', '2', '__proto__', '__proto__x'].sort());
    expect(readSafetensors(p).tensors.get('__proto__')!.data[0]).toBe(4);
  });

  it('writeSafetensors(path, tensor with data ≠ shape) throws naming the tensor', () => {
    expect(() =>
      writeSafetensors(path.join(tmp, 'x.safetensors'), { W: { shape: [2, 2], data: new Float32Array(3) } }),
    ).toThrow(/tensor W: 3 values cannot be shaped \[2×2\]/);
  });

  const corrupt: Array<[string, string, RegExp, RegExp]> = [
    ['bad_truncated.safetensors', 'tensor "wide" data_offsets', /^\[40, 56\]$/, /≤ 51 \(the data section's length\)/],
    [
      'bad_header_len.safetensors',
      'header length',
      /10000 bytes \(file has 7 after the length field\)/,
      /fits in the file/,
    ],
    ['bad_overlap.safetensors', 'tensor "y" data_offsets', /\[4, 12\] overlapping "x" \[0, 8\]/, /disjoint/],
    ['bad_size.safetensors', 'tensor "x" byte length', /^20 bytes$/, /24 bytes for shape \[2×3\] of F32/],
    ['bad_duplicate.safetensors', 'tensor "x"', /twice/, /unique names/],
    ['bad_metadata.safetensors', '__metadata__.seed', /^7$/, /a string/],
    ['bad_dtype.safetensors', 'tensor "x" dtype', /"I64"/, /F32, F16, BF16 or F64/],
  ];
  for (const [file, field, found, expected] of corrupt) {
    it(`readSafetensorsHeader(${file}) is rejected naming file, ${field}, found and expected`, () => {
      const e = catchError(() => readSafetensorsHeader(G(file)));
      expect(e.file).toContain(file);
      expect(e.field).toBe(field);
      expect(e.found).toMatch(found);
      expect(e.expected).toMatch(expected);
      expect(e.message).toContain(`${file}: ${field}: found`);
    });
  }

  it('findDuplicateKey finds repeats at any depth, decoding escapes, and nothing in clean JSON', () => {
    expect(findDuplicateKey('{"a":1,"b":{"c":[{"d":1}],"e":2},"f":"a,\\"g"}')).toBeNull();
    expect(findDuplicateKey('{"a":1,"a":2}')).toEqual({ key: 'a', path: [] });
    expect(findDuplicateKey('{"m":{"x":"1","\\u0078":"2"}}')).toEqual({ key: 'x', path: ['m'] });
    expect(findDuplicateKey('[{"a":1},{"a":1}]')).toBeNull();
  });
});
