import { describe, expect, it } from 'vitest';
import { GroupedCodes, maskByPositive, scatterAddRows } from '../../src/nn/sparse.js';
import { ScratchPool } from '../../src/nn/scratch.js';

describe('GroupedCodes', () => {
  it('fillFromFlat(vals, flatIdx, n) buckets entries by row and prefix group, drops values ≤ 0, pads with (0, 0)', () => {
    const B = 3;
    const M = 6;
    const codes = new GroupedCodes(B, M, [2, 6], new ScratchPool());
    // flat index = row·M + latent
    const vals = Float32Array.from([5, 4, 3, 2, 1, -1]);
    const idx = Int32Array.from([0 * M + 1, 2 * M + 5, 0 * M + 4, 0 * M + 0, 2 * M + 3, 1 * M + 2]);
    codes.fillFromFlat(vals, idx, vals.length);
    expect(Array.from(codes.width)).toEqual([2, 2]);
    expect(Array.from(codes.vals(0))).toEqual([5, 2, 0, 0, 0, 0]);
    expect(Array.from(codes.idx(0))).toEqual([1, 0, 0, 0, 0, 0]);
    expect(Array.from(codes.vals(1))).toEqual([3, 0, 0, 0, 4, 1]);
    expect(Array.from(codes.idx(1))).toEqual([4, 0, 0, 0, 5, 3]);
    expect(codes.active()).toBe(5);
  });

  it('fillAboveThreshold(h, θ) keeps h > θ and h > 0; an all-below batch has width 0', () => {
    const codes = new GroupedCodes(2, 3, [3], new ScratchPool());
    codes.fillAboveThreshold(Float32Array.from([0.5, 2, -1, 0.1, 0.2, 3]), Float32Array.from([1, 1, 1]));
    expect(codes.width[0]).toBe(1);
    expect(Array.from(codes.vals(0))).toEqual([2, 3]);
    expect(Array.from(codes.idx(0))).toEqual([1, 2]);
    codes.fillAboveThreshold(new Float32Array(6), Float32Array.from([1, 1, 1]));
    expect(codes.width[0]).toBe(0);
    expect(codes.active()).toBe(0);
  });
});

describe('sparse helpers', () => {
  it('scatterAddRows(gVals, idx, B, W, gH, M) adds (duplicates accumulate) and maskByPositive zeroes where vals ≤ 0', () => {
    const gH = new Float32Array(2 * 3).fill(1);
    scatterAddRows(Float32Array.from([1, 2, 3, 4]), Int32Array.from([0, 0, 2, 1]), 2, 2, gH, 3);
    expect(Array.from(gH)).toEqual([4, 1, 1, 1, 5, 4]);
    const g = Float32Array.from([1, 1, 1]);
    maskByPositive(Float32Array.from([1, 0, -2]), g, 3);
    expect(Array.from(g)).toEqual([1, 0, 0]);
  });
});
