/**
 * safetensors files (docs/FORMATS.md, "safetensors"): an 8-byte little-endian u64 header length N, N
 * bytes of JSON `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}`,
 * then the raw little-endian tensor bytes, offsets relative to the end of the header.
 *
 * Reading: F32, F16 and BF16 convert to float32; F64 is narrowed with a returned warning. The
 * header is validated whole before any tensor is read — header longer than the file or than 100 MB,
 * JSON nested deeper than 8 levels (checked on the raw text before JSON.parse), a non-object header,
 * duplicate names (found in the raw text: JSON.parse drops them silently), unknown dtypes,
 * shape × dtype size ≠ byte length, out-of-range or overlapping offsets, non-string metadata — each
 * a DataError naming the file, the tensor or field, what was found and what was expected. Tensors
 * are read lazily through the open fd, one at a time or a range of rows at a time.
 *
 * Writing: F32 only, tensors sorted by name (UTF-8 byte order), `__metadata__` first with sorted
 * keys, compact JSON padded with spaces to a multiple of 8 bytes (as the Rust `safetensors` crate
 * does), written atomically. Identical input gives identical bytes.
 *
 * Written by hand: the npm packages for safetensors either read whole files into memory or
 * target the browser, and the format is small.
 */
import fs from 'node:fs';
import { ConfigError, DataError, ShapeError, fmtShape } from '../core/errors.js';
import { bf16ArrayToF32, f16ArrayToF32 } from './float16.js';
import { allocFloat32, assertLittleEndian, bytesOf, openRegular, readExact, writeFileAtomic } from './io.js';
import { jsonDepth, scanJsonKeys } from './json-duplicates.js';

type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'F64';

const ITEMSIZE: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };
/** Largest header we accept (the Rust crate's limit), so a corrupt length cannot allocate gigabytes. */
const MAX_HEADER = 100_000_000;
/** Deepest JSON nesting a header may have: a valid one has 3 ({tensor: {shape: [..]}}); deeper is refused unparsed. */
const MAX_HEADER_DEPTH = 8;

interface TensorInfo {
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte offsets relative to the start of the data section. */
  begin: number;
  end: number;
}

interface SafetensorsHeader {
  path: string;
  /** Tensors in header order. */
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
  /** File offset of the data section (8 + header length). */
  dataStart: number;
}

export interface Tensor {
  shape: number[];
  data: Float32Array;
}

/** An open safetensors file: validated header plus lazy tensor reads. Close it when done. */
interface SafetensorsFile extends SafetensorsHeader {
  /** Notes such as F64 narrowing, deduplicated, in the order they arose. */
  readonly warnings: string[];
  /** Reads one tensor whole as float32. */
  read(name: string): Tensor;
  /** Reads rows [start, start+count) of a 2-D tensor into `out` (length ≥ count·cols). */
  readRows(name: string, start: number, count: number, out: Float32Array): void;
  close(): void;
}

/** Reads and validates the header of `path` (opens and closes the file). */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  const fd = openRegular(path);
  try {
    return readHeaderFd(fd, path);
  } finally {
    fs.closeSync(fd);
  }
}

function readHeaderFd(fd: number, path: string): SafetensorsHeader {
  const fileSize = fs.fstatSync(fd).size;
  const lenBuf = Buffer.alloc(8);
  if (fileSize < 8 || !readExact(fd, lenBuf, 0))
    throw new DataError(path, 'header length', `${fileSize}-byte file`, 'at least 8 bytes (u64 header length)');
  const n = lenBuf.readBigUInt64LE(0);
  if (n > BigInt(fileSize - 8)) {
    throw new DataError(
      path,
      'header length',
      `${n} bytes (file has ${fileSize - 8} after the length field)`,
      'a header that fits in the file',
      'the file is truncated or not safetensors',
    );
  }
  const hlen = Number(n);
  if (hlen > MAX_HEADER) throw new DataError(path, 'header length', `${hlen} bytes`, `at most ${MAX_HEADER}`);
  const raw = Buffer.alloc(hlen);
  readExact(fd, raw, 8);
  const text = raw.toString('utf8');
  const depth = jsonDepth(text, MAX_HEADER_DEPTH);
  if (depth > MAX_HEADER_DEPTH) {
    throw new DataError(
      path,
      'header',
      `JSON nested more than ${MAX_HEADER_DEPTH} levels deep`,
      'a flat object of tensors (3 levels)',
      'the file is damaged or not safetensors',
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new DataError(path, 'header', `invalid JSON (${(e as Error).message})`, 'a JSON object');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new DataError(
      path,
      'header',
      `JSON ${Array.isArray(parsed) ? 'array' : typeof parsed}`,
      'a JSON object of tensors',
    );
  }
  const { duplicate: dup, topLevel } = scanJsonKeys(text);
  if (dup !== null) {
    const field = dup.path.length === 0 ? `tensor ${JSON.stringify(dup.key)}` : `${dup.path.join('.')}.${dup.key}`;
    throw new DataError(path, field, 'the name twice in the header', 'unique names');
  }

  const dataLen = fileSize - 8 - hlen;
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const name of topLevel) {
    const v = (parsed as Record<string, unknown>)[name];
    if (name === '__metadata__') {
      metadata = checkMetadata(path, v);
      continue;
    }
    tensors.set(name, checkTensor(path, name, v, dataLen));
  }
  // Overlaps: sweep by begin; each non-empty tensor must start at or after every earlier one's end.
  const spans = [...tensors].filter(([, t]) => t.end > t.begin).sort((a, b) => a[1].begin - b[1].begin);
  for (let i = 1, far = 0; i < spans.length; i++) {
    if (spans[i - 1][1].end > spans[far][1].end) far = i - 1;
    const [name, t] = spans[i];
    const [prevName, prev] = spans[far];
    if (t.begin < prev.end) {
      throw new DataError(
        path,
        `tensor ${JSON.stringify(name)} data_offsets`,
        `[${t.begin}, ${t.end}] overlapping ${JSON.stringify(prevName)} [${prev.begin}, ${prev.end}]`,
        'disjoint byte ranges',
      );
    }
  }
  return { path, tensors, metadata, dataStart: 8 + hlen };
}

function checkMetadata(path: string, v: unknown): Record<string, string> {
  if (v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v))
    throw new DataError(path, '__metadata__', describe(v), 'an object of string → string');
  const entries = Object.entries(v as Record<string, unknown>);
  for (const [k, val] of entries) {
    if (typeof val !== 'string')
      throw new DataError(
        path,
        `__metadata__.${k}`,
        describe(val),
        'a string (safetensors metadata values are strings; JSON-encode others)',
      );
  }
  return Object.fromEntries(entries) as Record<string, string>; // own properties, even "__proto__"
}

function checkTensor(path: string, name: string, v: unknown, dataLen: number): TensorInfo {
  const field = `tensor ${JSON.stringify(name)}`;
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new DataError(path, field, describe(v), 'an object {dtype, shape, data_offsets}');
  const { dtype, shape, data_offsets: offs } = v as Record<string, unknown>;
  if (typeof dtype !== 'string' || !Object.hasOwn(ITEMSIZE, dtype)) {
    throw new DataError(
      path,
      `${field} dtype`,
      describe(dtype),
      'F32, F16, BF16 or F64',
      'convert the tensor to float32 before saving',
    );
  }
  const isIndex = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  if (!Array.isArray(shape) || !shape.every(isIndex))
    throw new DataError(path, `${field} shape`, describe(shape), 'an array of non-negative integers');
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every(isIndex)) {
    throw new DataError(path, `${field} data_offsets`, describe(offs), '[begin, end], non-negative integers');
  }
  const [begin, end] = offs as number[];
  if (begin > end || end > dataLen) {
    throw new DataError(
      path,
      `${field} data_offsets`,
      `[${begin}, ${end}]`,
      `0 ≤ begin ≤ end ≤ ${dataLen} (the data section's length)`,
      end > dataLen ? 'the file is truncated' : undefined,
    );
  }
  const t: TensorInfo = { dtype: dtype as SafetensorsDtype, shape: shape as number[], begin, end };
  const want = numel(t.shape) * ITEMSIZE[t.dtype];
  if (end - begin !== want) {
    throw new DataError(
      path,
      `${field} byte length`,
      `${end - begin} bytes`,
      `${want} bytes for shape ${fmtShape(...t.shape)} of ${t.dtype}`,
    );
  }
  return t;
}

/** Opens `path`, validating its header, for lazy tensor reads. */
export function openSafetensors(path: string): SafetensorsFile {
  assertLittleEndian();
  const fd = openRegular(path);
  let h: SafetensorsHeader;
  try {
    h = readHeaderFd(fd, path);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  let open = true;
  const warnings: string[] = [];
  const info = (name: string): TensorInfo => {
    if (!open) throw new Error(`${path}: read after close()`);
    const t = h.tensors.get(name);
    if (t === undefined) {
      throw new DataError(
        path,
        `tensor ${JSON.stringify(name)}`,
        `no such tensor (tensors: ${describeTensors(h)})`,
        'a tensor of that name',
      );
    }
    if (t.dtype === 'F64') {
      const w = `${path}: tensor ${JSON.stringify(name)}: F64 narrowed to float32`;
      if (!warnings.includes(w)) warnings.push(w);
    }
    return t;
  };
  /** Reads `n` elements starting `elemStart` elements into tensor `t`, converting into out. */
  const readElems = (t: TensorInfo, elemStart: number, n: number, out: Float32Array): void => {
    const item = ITEMSIZE[t.dtype];
    const pos = h.dataStart + t.begin + elemStart * item;
    const dst = t.dtype === 'F32' ? bytesOf(out.subarray(0, n)) : new Uint8Array(n * item);
    if (!readExact(fd, dst, pos))
      throw new DataError(path, 'data', 'end of file', 'more bytes (the file shrank while open?)');
    if (t.dtype === 'F16') f16ArrayToF32(new Uint16Array(dst.buffer, 0, n), out);
    else if (t.dtype === 'BF16') bf16ArrayToF32(new Uint16Array(dst.buffer, 0, n), out);
    else if (t.dtype === 'F64') {
      const f64 = new Float64Array(dst.buffer, 0, n);
      for (let i = 0; i < n; i++) out[i] = f64[i];
    }
  };
  return {
    ...h,
    warnings,
    read(name: string): Tensor {
      const t = info(name);
      const data = allocFloat32(numel(t.shape), path, `tensor ${JSON.stringify(name)} shape ${fmtShape(...t.shape)}`);
      readElems(t, 0, data.length, data);
      return { shape: [...t.shape], data };
    },
    readRows(name: string, start: number, count: number, out: Float32Array): void {
      const t = info(name);
      if (t.shape.length !== 2)
        throw new DataError(path, `tensor ${JSON.stringify(name)} shape`, fmtShape(...t.shape), '2-D [rows, cols]');
      const [rows, cols] = t.shape;
      if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > rows) {
        throw new ShapeError(
          `${path}: ${name}: rows [${start}, ${start + count}) out of range for ${fmtShape(rows, cols)}`,
        );
      }
      if (out.length < count * cols)
        throw new ShapeError(`${path}: ${name}: readRows needs out.length ≥ ${count * cols}, got ${out.length}`);
      readElems(t, start * cols, count * cols, out);
    },
    close(): void {
      if (open) fs.closeSync(fd);
      open = false;
    },
  };
}

/** Reads the named tensors (default: all) as float32, plus the file's metadata and any warnings. */
export function readSafetensors(
  path: string,
  names?: readonly string[],
): { tensors: Map<string, Tensor>; metadata: Record<string, string>; warnings: string[] } {
  const f = openSafetensors(path);
  try {
    const tensors = new Map<string, Tensor>();
    for (const name of names ?? [...f.tensors.keys()]) tensors.set(name, f.read(name));
    return { tensors, metadata: f.metadata, warnings: f.warnings };
  } finally {
    f.close();
  }
}

/**
 * The tensor `name` from `tensors`, checked against `shape` (null entries match any size): the
 * docs/FORMATS.md rule "load by shape and name together". Throws a DataError naming the file, the
 * tensor, the shape found and the shape expected (or the tensors present, when it is missing).
 */
export function tensorWithShape(
  file: string,
  tensors: ReadonlyMap<string, Tensor>,
  name: string,
  shape: ReadonlyArray<number | null>,
): Tensor {
  const t = tensors.get(name);
  const want = `[${shape.map((s) => (s === null ? '*' : String(s))).join('×')}]`;
  if (t === undefined) {
    const present = [...tensors].map(([n, x]) => `${n} ${fmtShape(...x.shape)}`).join(', ') || 'none';
    throw new DataError(
      file,
      `tensor ${JSON.stringify(name)}`,
      `no such tensor (tensors: ${present})`,
      `a tensor of shape ${want}`,
    );
  }
  if (t.shape.length !== shape.length || shape.some((s, i) => s !== null && s !== t.shape[i])) {
    throw new DataError(file, `tensor ${JSON.stringify(name)} shape`, fmtShape(...t.shape), want);
  }
  return t;
}

/**
 * Writes `tensors` as F32 with optional string metadata, atomically; identical input → identical
 * bytes (names sorted by UTF-8 bytes, metadata keys sorted, header padded with spaces to 8 bytes).
 */
export function writeSafetensors(
  path: string,
  tensors: Record<string, { shape: readonly number[]; data: Float32Array }>,
  metadata?: Record<string, string>,
): void {
  assertLittleEndian();
  const byUtf8 = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));
  // The JSON is assembled from [key, serialised value] pairs so the key order is exactly ours (a JS
  // object would move integer-like names such as "10" first, and treat "__proto__" specially).
  const jsonObject = (entries: ReadonlyArray<readonly [string, string]>): string =>
    `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
  const header: Array<[string, string]> = [];
  if (metadata !== undefined && Object.keys(metadata).length > 0) {
    const meta: Array<[string, string]> = [];
    for (const k of Object.keys(metadata).sort(byUtf8)) {
      if (typeof metadata[k] !== 'string')
        throw new ConfigError(`writeSafetensors ${path}: metadata ${k} must be a string, got ${typeof metadata[k]}`);
      meta.push([k, JSON.stringify(metadata[k])]);
    }
    header.push(['__metadata__', jsonObject(meta)]);
  }
  let offset = 0;
  const bodies: Uint8Array[] = [];
  for (const name of Object.keys(tensors).sort(byUtf8)) {
    if (name === '__metadata__')
      throw new ConfigError(`writeSafetensors ${path}: "__metadata__" is reserved and cannot name a tensor`);
    const { shape, data } = tensors[name];
    if (!shape.every((s) => Number.isSafeInteger(s) && s >= 0) || numel(shape) !== data.length) {
      throw new ShapeError(
        `writeSafetensors ${path}: tensor ${name}: ${data.length} values cannot be shaped ${fmtShape(...shape)}`,
      );
    }
    header.push([
      name,
      JSON.stringify({ dtype: 'F32', shape: [...shape], data_offsets: [offset, offset + data.byteLength] }),
    ]);
    offset += data.byteLength;
    bodies.push(bytesOf(data));
  }
  const json = Buffer.from(jsonObject(header), 'utf8');
  const padded = Buffer.alloc(Math.ceil(json.length / 8) * 8, 0x20);
  json.copy(padded);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(padded.length));
  writeFileAtomic(path, [len, padded, ...bodies]);
}

/** "name [a×b] DTYPE, …" (or "none") for error messages listing a file's tensors. */
export function describeTensors(h: SafetensorsHeader): string {
  if (h.tensors.size === 0) return 'none';
  return [...h.tensors].map(([n, t]) => `${n} ${fmtShape(...t.shape)} ${t.dtype}`).join(', ');
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
