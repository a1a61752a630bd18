/** Shared helpers for the checkpoint tests: fixture paths, temp dirs, hand-built directories, error assertions. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { DataError } from '../../../src/core/errors.js';
import { writeSafetensors } from '../../../src/formats/safetensors.js';
import type { Tensor } from '../../../src/sae/checkpoint/types.js';

export const GOLDEN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../golden/checkpoint');

export interface Golden {
  d_in: number;
  d_sae: number;
  k: number;
  decoder_atoms: number[][];
  decoder_zero_rows: number;
  encoder_atoms: number[][];
  encoder_zero_rows: number;
  layers1_decoder_atoms: number[][];
}

export const golden = JSON.parse(fs.readFileSync(path.join(GOLDEN, 'expected_atoms.json'), 'utf8')) as Golden;

const made: string[] = [];
/** A fresh temp directory, removed by cleanTmp(). */
export function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'husai-ckpt-'));
  made.push(d);
  return d;
}
export function cleanTmp(): void {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

/** Writes a directory by hand (bypassing writeSaeLens' checks) so that broken checkpoints can be built. */
export function writeRawDir(
  dir: string,
  weightsFile: string | null,
  tensors: Record<string, Tensor>,
  cfg: Record<string, unknown> | null,
): string {
  fs.mkdirSync(dir, { recursive: true });
  if (weightsFile !== null) writeSafetensors(path.join(dir, weightsFile), tensors);
  if (cfg !== null) fs.writeFileSync(path.join(dir, 'cfg.json'), JSON.stringify(cfg));
  return dir;
}

/** A tensor of the given shape filled deterministically (values i·0.01 − 0.3, never all zero). */
export function filled(shape: number[], offset = 0): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(1 + i * 0.7 + offset * 3.1) * 0.5;
  return { shape, data };
}

/** Asserts fn throws a DataError whose fields — and message — name the file, tensor/field, found and expected. */
export function expectDataError(
  fn: () => unknown,
  want: { file: string; field: string; found: string; expected: string; hint?: string },
): DataError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a DataError').toBeInstanceOf(DataError);
  const e = err as DataError;
  expect(e.file).toBe(want.file);
  expect(e.field).toBe(want.field);
  expect(e.found).toContain(want.found);
  expect(e.expected).toContain(want.expected);
  for (const part of [want.file, want.field, want.found, want.expected]) expect(e.message).toContain(part);
  if (want.hint !== undefined) expect(e.hint ?? '').toContain(want.hint);
  return e;
}

/** Max |a − b| over two row-major atom sets given as Float32Array vs number[][]. */
export function maxAbsDiff(a: Float32Array, b: number[][]): number {
  let m = 0;
  const cols = b[0].length;
  for (let i = 0; i < b.length; i++)
    for (let j = 0; j < cols; j++) m = Math.max(m, Math.abs(a[i * cols + j] - b[i][j]));
  return m;
}
