import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../../src/core/errors.js';
import { encodeNpyHeader, openNpyRows, readNpy, readNpyHeader, readNpyMat, writeNpy } from '../../src/formats/npy.js';

// Fixtures written by numpy: test/golden/formats/make_golden.py.
const G = (name: string): string => new URL(`../golden/formats/${name}`, import.meta.url).pathname;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'husai-npy-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Row r, column c of the golden 5×3 arrays holds r + c/8. */
const expected5x3 = Float32Array.from({ length: 15 }, (_, i) => Math.floor(i / 3) + (i % 3) / 8);

function catchError(fn: () => unknown): DataError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DataError) return e;
    throw e;
  }
  throw new Error('expected a DataError');
}

describe('npy', () => {
  it('readNpyHeader(f4_v1.npy) gives shape, dtype, data offset and version', () => {
    const h = readNpyHeader(G('f4_v1.npy'));
    expect(h).toEqual({ shape: [5, 3], dtype: 'f4', headerBytes: 128, fortranOrder: false, version: [1, 0] });
  });

  it('readNpyHeader(f4_v2.npy) reads a v2.0 header (u32 length)', () => {
    const h = readNpyHeader(G('f4_v2.npy'));
    expect(h.version).toEqual([2, 0]);
    expect(h.shape).toEqual([5, 3]);
    expect(h.headerBytes).toBe(128);
  });

  it('readNpy(f4_v1 | f4_v2 | f8_v1) returns the values numpy wrote', () => {
    for (const f of ['f4_v1.npy', 'f4_v2.npy', 'f8_v1.npy']) {
      const a = readNpy(G(f));
      expect(a.shape).toEqual([5, 3]);
      expect(Array.from(a.data)).toEqual(Array.from(expected5x3));
    }
  });

  it('readNpy(f8_v1.npy) narrows float64 and returns (does not print) a warning', () => {
    expect(readNpy(G('f8_v1.npy')).warnings).toEqual([
      expect.stringMatching(/f8_v1\.npy: float64 data narrowed to float32/),
    ]);
    expect(readNpy(G('f4_v1.npy')).warnings).toEqual([]);
  });

  it('readNpy(f2_v1.npy) converts float16 including subnormals and -0', () => {
    const a = readNpy(G('f2_v1.npy'));
    expect(a.shape).toEqual([3, 3]);
    const want = [
      1,
      -2.5,
      65504,
      6.103515625e-5,
      5.960464477539063e-8,
      -0,
      0.333251953125,
      1000,
      Math.fround(-2.980232238769531e-7),
    ];
    a.data.forEach((v, i) =>
      expect(Object.is(v, want[i]) || Math.abs(v - want[i]) < 1e-10, `index ${i}: ${v} vs ${want[i]}`).toBe(true),
    );
    expect(Object.is(a.data[5], -0)).toBe(true);
  });

  it('readNpy(f4_1d.npy) reads 1-D arrays; readNpyMat rejects them naming the shape', () => {
    expect(readNpy(G('f4_1d.npy'))).toMatchObject({ shape: [3], data: new Float32Array([1.5, -2, 3.25]) });
    const e = catchError(() => readNpyMat(G('f4_1d.npy')));
    expect(e.message).toContain('f4_1d.npy: shape: found [3], expected 2-D');
  });

  it('readNpy(f4_fortran.npy) is rejected with the np.ascontiguousarray hint', () => {
    const e = catchError(() => readNpy(G('f4_fortran.npy')));
    expect(e.file).toContain('f4_fortran.npy');
    expect(e.field).toBe('fortran_order');
    expect(e.found).toBe('True');
    expect(e.hint).toContain('np.ascontiguousarray');
    expect(() => openNpyRows(G('f4_fortran.npy'))).toThrow(/fortran_order: found True, expected False/);
  });

  it("readNpy(i4.npy) is rejected naming '<i4' and the dtypes expected", () => {
    const e = catchError(() => readNpy(G('i4.npy')));
    expect(e.message).toMatch(/i4\.npy: descr: found '<i4', expected '<f4' \(float32\), '<f2' \(float16\) or '<f8'/);
    expect(e.hint).toContain('astype(np.float32)');
  });

  it('readNpy(truncated file) names the bytes found and expected', () => {
    const p = path.join(tmp, 'trunc.npy');
    fs.writeFileSync(p, fs.readFileSync(G('f4_v1.npy')).subarray(0, 128 + 50));
    const e = catchError(() => readNpy(p));
    expect(e.field).toBe('data');
    expect(e.found).toBe('50 bytes after the header');
    expect(e.expected).toBe("60 bytes for shape [5×3] of '<f4'");
    expect(e.hint).toContain('truncated');
  });

  it('readNpyHeader(not an npy) names the magic bytes found', () => {
    const p = path.join(tmp, 'junk.npy');
    fs.writeFileSync(p, 'hello world, not numpy');
    expect(() => readNpyHeader(p)).toThrow(/junk\.npy: magic: found bytes 68 65 6c 6c 6f 20, expected \\x93NUMPY/);
  });

  it('readNpyHeader parses headers with odd spacing, double quotes, Python-2 longs and key order', () => {
    const p = path.join(tmp, 'odd.npy');
    const dict = `{ "shape" : (2L,3L,),"fortran_order":False , 'descr':u'<f4' }`;
    const text = dict + ' '.repeat(64 - ((10 + dict.length + 1) % 64)) + '\n';
    const head = Buffer.alloc(10);
    Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(head);
    head.writeUInt16LE(text.length, 8);
    fs.writeFileSync(p, Buffer.concat([head, Buffer.from(text, 'latin1'), Buffer.alloc(24)]));
    expect(readNpyHeader(p)).toMatchObject({ shape: [2, 3], dtype: 'f4', fortranOrder: false });
  });

  it('readNpyHeader(header missing shape) names the missing key', () => {
    const p = path.join(tmp, 'noshape.npy');
    const text = `{'descr': '<f4', 'fortran_order': False}`.padEnd(53, ' ') + '\n';
    const head = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, text.length, 0]);
    fs.writeFileSync(p, Buffer.concat([head, Buffer.from(text, 'latin1')]));
    expect(() => readNpyHeader(p)).toThrow(/noshape\.npy: header: found no 'shape' key/);
  });

  it('writeNpy(path, {data, shape}, "f4") is byte-identical to np.save', () => {
    const p = path.join(tmp, 'w4.npy');
    writeNpy(p, { data: expected5x3, shape: [5, 3] });
    expect(Buffer.compare(fs.readFileSync(p), fs.readFileSync(G('f4_v1.npy')))).toBe(0);
  });

  it('writeNpy(path, mat, "f2") is byte-identical to np.save of float16 and round-trips', () => {
    const src = readNpy(G('f2_v1.npy'));
    const p = path.join(tmp, 'w2.npy');
    writeNpy(p, { data: src.data, rows: 3, cols: 3 }, 'f2');
    expect(Buffer.compare(fs.readFileSync(p), fs.readFileSync(G('f2_v1.npy')))).toBe(0);
    expect(Array.from(readNpy(p).data)).toEqual(Array.from(src.data));
  });

  it('writeNpy → readNpy round-trips random data of several shapes, atomically (no temp left)', () => {
    for (const [r, c] of [
      [0, 4],
      [1, 1],
      [7, 13],
      [300, 65],
    ]) {
      const data = Float32Array.from({ length: r * c }, (_, i) => Math.sin(i * 1.7) * 1e3);
      const p = path.join(tmp, `rt-${r}x${c}.npy`);
      writeNpy(p, { data, rows: r, cols: c });
      const back = readNpy(p);
      expect(back.shape).toEqual([r, c]);
      expect(back.data).toEqual(data);
      expect(readNpyHeader(p).headerBytes % 64).toBe(0);
    }
    expect(fs.readdirSync(tmp).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('writeNpy(path, data of the wrong length) throws a ShapeError', () => {
    expect(() => writeNpy(path.join(tmp, 'bad.npy'), { data: new Float32Array(5), shape: [2, 3] })).toThrow(
      /5 values cannot be shaped \[2×3\]/,
    );
  });

  it('openNpyRows(path).readRows(start, count, out) reads exactly the requested rows for f4, f2 and f8', () => {
    for (const f of ['f4_v1.npy', 'f8_v1.npy', 'f4_v2.npy']) {
      const r = openNpyRows(G(f));
      expect([r.rows, r.cols]).toEqual([5, 3]);
      const out = new Float32Array(6).fill(NaN);
      r.readRows(2, 2, out);
      expect(Array.from(out)).toEqual(Array.from(expected5x3.subarray(6, 12)));
      expect(() => r.readRows(4, 2, out)).toThrow(/rows \[4, 6\) out of range/);
      r.close();
    }
    const h = openNpyRows(G('f2_v1.npy'));
    const out = new Float32Array(3);
    h.readRows(1, 1, out);
    expect(out[1]).toBeCloseTo(5.960464477539063e-8, 15);
    h.close();
  });

  it('openNpyRows streams a 64 GiB sparse file without loading it', () => {
    const p = path.join(tmp, 'huge.npy');
    const rows = 2 ** 28;
    const header = encodeNpyHeader([rows, 64], 'f4');
    fs.writeFileSync(p, header);
    fs.truncateSync(p, header.length + rows * 64 * 4); // sparse: no disk blocks are written
    const marker = new Float32Array(64).fill(7);
    const fd = fs.openSync(p, 'r+');
    fs.writeSync(fd, new Uint8Array(marker.buffer), 0, 256, header.length + (rows - 1) * 256);
    fs.closeSync(fd);
    const r = openNpyRows(p);
    expect(r.rows).toBe(rows);
    const out = new Float32Array(2 * 64);
    r.readRows(rows - 2, 2, out);
    expect(out[0]).toBe(0);
    expect(out[64]).toBe(7);
    r.close();
    fs.rmSync(p);
  });
});
