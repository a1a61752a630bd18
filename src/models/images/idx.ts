/**
 * The IDX file format of LeCun's MNIST page (also used by Fashion-MNIST): a 4-byte magic
 * `0x00 0x00 TYPE RANK`, RANK big-endian uint32 dimensions, then the values in C order. TYPE 0x08
 * is unsigned byte, the only type the image sets use, and the only one read here; the files may be
 * gzip-compressed (`.gz`, detected by the gzip magic 1f 8b, not by the name).
 *
 * Written by hand: the format is a dozen lines and no maintained npm package reads it.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { DataError, fmtShape } from '../../core/errors.js';

interface IdxArray {
  /** Dimensions, outermost first (e.g. [60000, 28, 28] for an image file). */
  dims: number[];
  /** The values, C order. */
  data: Uint8Array;
}

const TYPE_NAMES: Record<number, string> = {
  0x08: 'uint8',
  0x09: 'int8',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

/**
 * Parses IDX bytes (gzip or raw). `expectDims` checks the shape: one entry per dimension, null for
 * "any". `file` names the source in errors.
 */
export function parseIdx(bytes: Uint8Array, file: string, expectDims?: ReadonlyArray<number | null>): IdxArray {
  let raw = bytes;
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      raw = zlib.gunzipSync(raw);
    } catch (e) {
      throw new DataError(
        file,
        'gzip',
        `a corrupt gzip stream (${(e as Error).message})`,
        'a complete .gz file',
        'the download or package install was interrupted: reinstall it',
      );
    }
  }
  if (raw.length < 4 || raw[0] !== 0 || raw[1] !== 0) {
    const head = Array.from(raw.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new DataError(
      file,
      'magic',
      raw.length < 4 ? `${raw.length}-byte file` : `bytes ${head}`,
      '00 00 08 RANK (an IDX file of unsigned bytes)',
    );
  }
  const type = raw[2];
  const rank = raw[3];
  if (type !== 0x08) {
    throw new DataError(
      file,
      'magic type byte',
      `0x${type.toString(16).padStart(2, '0')} (${TYPE_NAMES[type] ?? 'unknown'})`,
      '0x08 (uint8)',
    );
  }
  if (rank < 1 || raw.length < 4 + 4 * rank)
    throw new DataError(
      file,
      'rank',
      `${rank} dimensions in a ${raw.length}-byte file`,
      'at least one dimension and room for the header',
    );
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const header = 4 + 4 * rank;
  const n = dims.reduce((a, b) => a * b, 1);
  if (raw.length - header !== n) {
    throw new DataError(
      file,
      'data',
      `${raw.length - header} bytes after the header`,
      `${n} bytes for shape ${fmtShape(...dims)}`,
      raw.length - header < n ? 'the file is truncated' : undefined,
    );
  }
  if (expectDims !== undefined) {
    const ok = expectDims.length === dims.length && expectDims.every((e, i) => e === null || e === dims[i]);
    if (!ok) throw new DataError(file, 'shape', fmtShape(...dims), `[${expectDims.map((e) => e ?? 'any').join('×')}]`);
  }
  return { dims, data: raw.subarray(header) };
}

/** Reads and parses one IDX file (see parseIdx). */
export function readIdx(file: string, expectDims?: ReadonlyArray<number | null>): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new DataError(file, 'file', (e as NodeJS.ErrnoException).code ?? String(e), 'a readable IDX file');
  }
  return parseIdx(bytes, file, expectDims);
}
