/** Loads the numpy/scipy golden files of test/golden/metrics (made by make_golden.py there). */
import { readFileSync } from 'node:fs';
import type { Mat } from '../../src/core/mat.js';

export function golden<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../golden/metrics/${name}`, import.meta.url), 'utf8')) as T;
}

/** A float32 Mat from golden numbers (stored as the shortest decimals of float32 values). */
export function mat(values: number[], rows: number, cols: number): Mat {
  return { data: Float32Array.from(values), rows, cols };
}
