/**
 * NumPy .npy files (docs/FORMATS.md, "Activations"): read v1.0/v2.0/v3.0 headers, float32, float16 and
 * float64 (narrowed to float32, with a warning returned, never printed) in C order; write v1.0
 * float32/float16 files byte-identical to `np.save`. The format (numpy `lib/format.py`, NEP 1):
 * magic `\x93NUMPY`, major and minor version bytes, a u16 (v1) or u32 (v2, v3) little-endian header
 * length, a Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (n, d), }`
 * (latin-1 in v1/v2, UTF-8 in v3) padded with spaces and a newline so the data starts on a
 * 64-byte boundary, then the raw array bytes.
 *
 * Written by hand (no npm package reads .npy from disk in chunks): `openNpyRows` reads rows at file
 * offsets with fs.readSync, so files larger than RAM stream; `readNpy` reads a whole file.
 */
import fs from 'node:fs';
import { DataError, ShapeError, fmtShape } from '../core/errors.js';
import type { Mat } from '../core/mat.js';
import { f16ArrayToF32, f32ArrayToF16 } from './float16.js';
import { allocFloat32, assertLittleEndian, bytesOf, openRegular, readExact, writeFileAtomic } from './io.js';
import { PyLiteralError, parsePyLiteral } from './pyliteral.js';

/** Element types husai reads: little-endian float32, float16, float64. */
type NpyDtype = 'f4' | 'f2' | 'f8';

interface NpyHeader {
  /** Array shape, C order. */
  shape: number[];
  dtype: NpyDtype;
  /** Byte offset of the first data byte (magic + version + length field + header text). */
  headerBytes: number;
  fortranOrder: boolean;
  /** Format version, e.g. [1, 0]. */
  version: [number, number];
}

interface NpyArray {
  data: Float32Array;
  shape: number[];
  /** Non-fatal notes, e.g. float64 narrowed to float32 (deduplicated; the caller decides whether to show them). */
  warnings: string[];
}

/** A 2-D .npy file opened for chunked row reads. Close it when done. */
interface NpyRows {
  readonly path: string;
  readonly rows: number;
  readonly cols: number;
  readonly dtype: NpyDtype;
  readonly warnings: string[];
  /** Reads rows [start, start+count) as float32 into `out` (length ≥ count·cols), from disk. */
  readRows(start: number, count: number, out: Float32Array): void;
  close(): void;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ITEMSIZE: Record<NpyDtype, number> = { f4: 4, f2: 2, f8: 8 };
const DESCR: Record<string, NpyDtype> = { '<f4': 'f4', '<f2': 'f2', '<f8': 'f8' };
const EXPECTED_DESCR = "'<f4' (float32), '<f2' (float16) or '<f8' (float64, narrowed to float32)";
const ARRAY_ALIGN = 64; // numpy pads headers so data is 64-byte aligned
const GROWTH_AXIS_MAX_DIGITS = 21; // numpy ≥ 1.24 leaves room to grow the first axis in place

const NARROW_WARNING = (path: string): string =>
  `${path}: float64 data narrowed to float32 (values beyond ±3.4e38 become ±Inf)`;

/** Reads and validates the header of `path` (opens and closes the file). */
export function readNpyHeader(path: string): NpyHeader {
  const fd = openRegular(path);
  try {
    return readHeaderFd(fd, path, fs.fstatSync(fd).size);
  } finally {
    fs.closeSync(fd);
  }
}

function readHeaderFd(fd: number, path: string, fileSize: number): NpyHeader {
  const pre = Buffer.alloc(12);
  const got = fs.readSync(fd, pre, 0, 12, 0);
  if (got < 6 || !MAGIC.every((b, i) => pre[i] === b)) {
    throw new DataError(
      path,
      'magic',
      got < 6 ? `${got}-byte file` : `bytes ${hex(pre.subarray(0, 6))}`,
      '\\x93NUMPY (a .npy file)',
      'write it with numpy.save',
    );
  }
  if (got < 8) throw new DataError(path, 'version', `${fileSize}-byte file`, 'a version after the magic');
  const major = pre[6];
  const minor = pre[7];
  if (major < 1 || major > 3) throw new DataError(path, 'version', `${major}.${minor}`, '1.0, 2.0 or 3.0');
  const lenBytes = major === 1 ? 2 : 4;
  const prefix = 8 + lenBytes;
  if (got < prefix) throw new DataError(path, 'header', `${fileSize}-byte file`, `at least ${prefix} bytes`);
  const hlen = major === 1 ? pre.readUInt16LE(8) : pre.readUInt32LE(8);
  const headerBytes = prefix + hlen;
  if (headerBytes > fileSize)
    throw new DataError(
      path,
      'header length',
      `${hlen} bytes (file is ${fileSize} bytes)`,
      'a header that fits in the file',
    );
  const raw = Buffer.alloc(hlen);
  readExact(fd, raw, prefix);
  const text = raw.toString(major === 3 ? 'utf8' : 'latin1');

  let dict;
  try {
    dict = parsePyLiteral(text);
  } catch (e) {
    const why = e instanceof PyLiteralError ? e.message : String(e);
    throw new DataError(
      path,
      'header',
      `${JSON.stringify(text.trim())} (${why})`,
      "a Python dict literal {'descr': ..., 'fortran_order': ..., 'shape': (...)}",
    );
  }
  if (!(dict instanceof Map)) throw new DataError(path, 'header', JSON.stringify(text.trim()), 'a Python dict literal');
  for (const key of ['descr', 'fortran_order', 'shape']) {
    if (!dict.has(key))
      throw new DataError(
        path,
        'header',
        `no '${key}' key in ${JSON.stringify(text.trim())}`,
        "keys 'descr', 'fortran_order' and 'shape'",
      );
  }
  const descr = dict.get('descr');
  if (typeof descr !== 'string' || !Object.hasOwn(DESCR, descr)) {
    const found = typeof descr === 'string' ? `'${descr}'` : `a structured dtype ${JSON.stringify(descr)}`;
    throw new DataError(
      path,
      'descr',
      found,
      EXPECTED_DESCR,
      'convert it first: np.save(path, arr.astype(np.float32))',
    );
  }
  const fortran = dict.get('fortran_order');
  if (typeof fortran !== 'boolean') throw new DataError(path, 'fortran_order', String(fortran), 'True or False');
  const shapeV = dict.get('shape');
  const shape = Array.isArray(shapeV) ? shapeV : [shapeV];
  if (!shape.every((s) => typeof s === 'number' && Number.isSafeInteger(s) && s >= 0)) {
    throw new DataError(path, 'shape', JSON.stringify(shapeV), 'a tuple of non-negative integers');
  }
  const header: NpyHeader = {
    shape: shape as number[],
    dtype: DESCR[descr],
    headerBytes,
    fortranOrder: fortran,
    version: [major, minor],
  };
  const need = headerBytes + numel(header.shape) * ITEMSIZE[header.dtype];
  if (fileSize !== need) {
    throw new DataError(
      path,
      'data',
      `${fileSize - headerBytes} bytes after the header`,
      `${need - headerBytes} bytes for shape ${fmtShape(...header.shape)} of '${descr}'`,
      fileSize < need ? 'the file is truncated (an interrupted write or copy?)' : undefined,
    );
  }
  return header;
}

function rejectFortran(path: string, h: NpyHeader): void {
  if (h.fortranOrder && h.shape.filter((s) => s > 1).length > 1) {
    throw new DataError(
      path,
      'fortran_order',
      'True',
      'False (C order)',
      'save a C-ordered copy: np.save(path, np.ascontiguousarray(arr))',
    );
  }
}

/** Opens a 2-D .npy file for chunked row reads without loading it. */
export function openNpyRows(path: string): NpyRows {
  assertLittleEndian();
  const fd = openRegular(path);
  let h: NpyHeader;
  try {
    h = readHeaderFd(fd, path, fs.fstatSync(fd).size);
    rejectFortran(path, h);
    if (h.shape.length !== 2) {
      throw new DataError(
        path,
        'shape',
        fmtShape(...h.shape),
        '2-D [tokens, d]',
        h.shape.length === 1 ? 'reshape it: arr.reshape(-1, d)' : undefined,
      );
    }
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  const [rows, cols] = h.shape;
  const item = ITEMSIZE[h.dtype];
  let open = true;
  let scratch = new Uint8Array(0);
  return {
    path,
    rows,
    cols,
    dtype: h.dtype,
    warnings: h.dtype === 'f8' ? [NARROW_WARNING(path)] : [],
    readRows(start: number, count: number, out: Float32Array): void {
      if (!open) throw new Error(`${path}: readRows after close()`);
      if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > rows) {
        throw new ShapeError(`${path}: rows [${start}, ${start + count}) out of range for ${fmtShape(rows, cols)}`);
      }
      const n = count * cols;
      if (out.length < n)
        throw new ShapeError(`${path}: readRows(${start}, ${count}) needs out.length ≥ ${n}, got ${out.length}`);
      const pos = h.headerBytes + start * cols * item;
      if (h.dtype === 'f4') {
        if (!readExact(fd, bytesOf(out.subarray(0, n)), pos)) throw truncated(path);
        return;
      }
      if (scratch.byteLength < n * item) scratch = new Uint8Array(n * item);
      const bytes = scratch.subarray(0, n * item);
      if (!readExact(fd, bytes, pos)) throw truncated(path);
      if (h.dtype === 'f2') f16ArrayToF32(new Uint16Array(bytes.buffer, 0, n), out);
      else {
        const f64 = new Float64Array(bytes.buffer, 0, n);
        for (let i = 0; i < n; i++) out[i] = f64[i];
      }
    },
    close(): void {
      if (open) fs.closeSync(fd);
      open = false;
    },
  };
}

/** Reads a whole .npy file of any rank as float32 (use `readNpyMat` to demand 2-D). */
export function readNpy(path: string): NpyArray {
  assertLittleEndian();
  const fd = openRegular(path);
  try {
    const h = readHeaderFd(fd, path, fs.fstatSync(fd).size);
    rejectFortran(path, h);
    const n = numel(h.shape);
    const data = allocFloat32(n, path, `shape ${fmtShape(...h.shape)}`);
    const bytes = h.dtype === 'f4' ? bytesOf(data) : new Uint8Array(n * ITEMSIZE[h.dtype]);
    if (!readExact(fd, bytes, h.headerBytes)) throw truncated(path);
    if (h.dtype === 'f2') f16ArrayToF32(new Uint16Array(bytes.buffer, 0, n), data);
    else if (h.dtype === 'f8') data.set(new Float64Array(bytes.buffer, 0, n));
    return { data, shape: h.shape, warnings: h.dtype === 'f8' ? [NARROW_WARNING(path)] : [] };
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads a 2-D .npy file whole as a Mat; throws a DataError naming the shape otherwise. */
export function readNpyMat(path: string): { mat: Mat; warnings: string[] } {
  const a = readNpy(path);
  if (a.shape.length !== 2) throw new DataError(path, 'shape', fmtShape(...a.shape), '2-D [tokens, d]');
  return { mat: { data: a.data, rows: a.shape[0], cols: a.shape[1] }, warnings: a.warnings };
}

/**
 * The v1.0 header bytes (magic through the padded dict) for a C-ordered array, exactly as `np.save`
 * writes them. Exposed so streaming writers can write the header and then append rows.
 */
export function encodeNpyHeader(shape: readonly number[], dtype: 'f4' | 'f2'): Uint8Array {
  for (const s of shape) {
    if (!Number.isSafeInteger(s) || s < 0)
      throw new ShapeError(`npy shape must be non-negative integers, got ${fmtShape(...shape)}`);
  }
  const shapeRepr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '<${dtype}', 'fortran_order': False, 'shape': ${shapeRepr}, }`;
  if (shape.length > 0) dict += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  const unpadded = MAGIC.length + 2 + 2 + dict.length + 1; // + '\n'
  const pad = ARRAY_ALIGN - (unpadded % ARRAY_ALIGN); // numpy pads a full 64 when already aligned
  const text = dict + ' '.repeat(pad) + '\n';
  if (text.length > 0xffff) throw new ShapeError(`npy header for ${fmtShape(...shape)} is too long for format v1.0`);
  const out = Buffer.alloc(10 + text.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(text.length, 8);
  out.write(text, 10, 'latin1');
  return out;
}

/** Writes `array` (a Mat, or data + shape) as a v1.0 .npy file of float32 ('f4') or float16 ('f2'), atomically. */
export function writeNpy(
  path: string,
  array: Mat | { data: Float32Array; shape: readonly number[] },
  dtype: 'f4' | 'f2' = 'f4',
): void {
  assertLittleEndian();
  const shape = 'shape' in array ? [...array.shape] : [array.rows, array.cols];
  if (numel(shape) !== array.data.length) {
    throw new ShapeError(`writeNpy ${path}: ${array.data.length} values cannot be shaped ${fmtShape(...shape)}`);
  }
  const header = encodeNpyHeader(shape, dtype);
  let body: Uint8Array;
  if (dtype === 'f4') body = bytesOf(array.data);
  else {
    const half = new Uint16Array(array.data.length);
    f32ArrayToF16(array.data, half);
    body = bytesOf(half);
  }
  writeFileAtomic(path, [header, body]);
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function truncated(path: string): DataError {
  return new DataError(path, 'data', 'end of file', 'more rows (the file shrank while open?)');
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
}
