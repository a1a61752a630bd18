import { describe, expect, it } from 'vitest';
import { DataError, ShapeError } from '../../../src/core/errors.js';
import { decoderAtoms, encoderAtoms, type AtomSource } from '../../../src/sae/checkpoint/types.js';

// W_enc [d_in 2, d_sae 3], W_dec [3, 2]; atom 1 is zero in both.
const W: AtomSource = {
  dIn: 2,
  dSae: 3,
  tensors: {
    W_enc: { shape: [2, 3], data: new Float32Array([3, 0, 1, 4, 0, -1]) },
    W_dec: { shape: [3, 2], data: new Float32Array([0, 2, 0, 0, -5, 12]) },
  },
};

describe('decoderAtoms(w) / encoderAtoms(w)', () => {
  it('decoderAtoms(w) → [d_sae, d_in] unit rows of W_dec; zero rows stay zero and are counted', () => {
    const a = decoderAtoms(W);
    expect([a.rows, a.cols, a.nZero]).toEqual([3, 2, 1]);
    expect(Array.from(a.data)).toEqual([0, 1, 0, 0, Math.fround(-5 / 13), Math.fround(12 / 13)]);
  });

  it('encoderAtoms(w) → [d_sae, d_in] unit columns of W_enc', () => {
    const a = encoderAtoms(W);
    expect([a.rows, a.cols, a.nZero]).toEqual([3, 2, 1]);
    expect(Array.from(a.data)).toEqual([0.6, 0.8, 0, 0, Math.SQRT1_2, -Math.SQRT1_2].map(Math.fround));
  });

  it('decoderAtoms(w with NaN in W_dec) → DataError naming the atom', () => {
    const bad: AtomSource = {
      ...W,
      tensors: { ...W.tensors, W_dec: { shape: [3, 2], data: new Float32Array([0, Number.NaN, 1, 1, 1, 1]) } },
    };
    expect(() => decoderAtoms(bad)).toThrow(DataError);
    expect(() => decoderAtoms(bad)).toThrow(/W_dec atom 0/);
  });

  it('encoderAtoms(w without W_enc) → DataError; decoderAtoms(w with W_dec [d_in, d_sae]) → ShapeError', () => {
    expect(() => encoderAtoms({ ...W, tensors: { W_dec: W.tensors.W_dec } })).toThrow(DataError);
    const transposed: AtomSource = {
      ...W,
      tensors: { ...W.tensors, W_dec: { shape: [2, 3], data: new Float32Array(6) } },
    };
    expect(() => decoderAtoms(transposed)).toThrow(ShapeError);
  });
});
