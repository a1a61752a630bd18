import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSparsify } from '../../../src/sae/checkpoint/sparsify.js';
import { encoderAtoms } from '../../../src/sae/checkpoint/types.js';
import type { Tensor } from '../../../src/sae/checkpoint/types.js';
import { GOLDEN, cleanTmp, expectDataError, filled, golden, maxAbsDiff, tmpDir, writeRawDir } from './helpers.js';

afterAll(cleanTmp);

const D = 8;
const F = 16;
const CFG = {
  activation: 'topk',
  expansion_factor: 2,
  normalize_decoder: true,
  num_latents: 0,
  k: 4,
  multi_topk: false,
  skip_connection: false,
  transcode: false,
  d_in: D,
};

function linearTensors(f = F, d = D): Record<string, Tensor> {
  return {
    'encoder.weight': filled([f, d]),
    'encoder.bias': filled([f], 1),
    W_dec: filled([f, d], 2),
    b_dec: filled([d], 3),
  };
}
const file = (dir: string) => path.join(dir, 'sae.safetensors');

/** Column i of a row-major [rows, cols] matrix. */
function col(m: Float32Array, rows: number, cols: number, i: number): number[] {
  return Array.from({ length: rows }, (_, r) => m[r * cols + i]);
}

describe('readSparsify(dir)', () => {
  it('readSparsify(encoder.weight [F, d_in]) transposes it into W_enc [d_in, F]; num_latents 0 ⇒ F = d_in·expansion_factor', () => {
    const dir = path.join(GOLDEN, 'sparsify');
    const w = readSparsify(dir);
    expect([w.architecture, w.dIn, w.dSae, w.k]).toEqual(['topk', D, F, 4]);
    expect(Object.keys(w.tensors).sort()).toEqual(['W_dec', 'W_enc', 'b_dec', 'b_enc']);
    expect(w.tensors.W_enc.shape).toEqual([D, F]);
    expect(maxAbsDiff(encoderAtoms(w).data, golden.encoder_atoms)).toBeLessThan(1e-6);
  });

  it('readSparsify(old W_enc [d_in, F], cfg without d_in) infers d_in from b_dec and keeps W_enc as is', () => {
    const w = readSparsify(path.join(GOLDEN, 'sparsify_old'));
    expect([w.dIn, w.dSae]).toEqual([D, F]);
    expect(w.tensors.W_enc.data).toEqual(readSparsify(path.join(GOLDEN, 'sparsify')).tensors.W_enc.data);
  });

  it('readSparsify(W_enc stored [F, d_in] under the old name) detects the orientation by shape', () => {
    const t = linearTensors();
    const dir = writeRawDir(
      tmpDir(),
      'sae.safetensors',
      { W_enc: t['encoder.weight'], b_enc: t['encoder.bias'], W_dec: t.W_dec, b_dec: t.b_dec },
      CFG,
    );
    const w = readSparsify(dir);
    expect(w.tensors.W_enc.shape).toEqual([D, F]);
    expect(col(w.tensors.W_enc.data, D, F, 3)).toEqual(Array.from(t['encoder.weight'].data.subarray(3 * D, 4 * D)));
  });

  it('readSparsify(d_in = F, square encoder) lets the name decide: encoder.weight is [F, d_in], W_enc is [d_in, F]', () => {
    const sq = { ...CFG, num_latents: D };
    const t = linearTensors(D, D);
    const linear = readSparsify(writeRawDir(tmpDir(), 'sae.safetensors', t, sq));
    expect(col(linear.tensors.W_enc.data, D, D, 2)).toEqual(
      Array.from(t['encoder.weight'].data.subarray(2 * D, 3 * D)),
    );
    const old = readSparsify(
      writeRawDir(
        tmpDir(),
        'sae.safetensors',
        { W_enc: t['encoder.weight'], b_enc: t['encoder.bias'], W_dec: t.W_dec, b_dec: t.b_dec },
        sq,
      ),
    );
    expect(old.tensors.W_enc.data).toEqual(t['encoder.weight'].data);
  });

  it('readSparsify(skip_connection with W_skip [d_in, d_in]) keeps W_skip; groupmax and transcode add warnings', () => {
    const dir = writeRawDir(
      tmpDir(),
      'sae.safetensors',
      { ...linearTensors(), W_skip: filled([D, D], 5) },
      { ...CFG, skip_connection: true, activation: 'groupmax', transcode: true },
    );
    const w = readSparsify(dir);
    expect(w.tensors.W_skip.shape).toEqual([D, D]);
    expect(w.warnings.join('\n')).toMatch(/groupmax.*topk/);
    expect(w.warnings.join('\n')).toMatch(/transcoder/);
  });
});

describe('readSparsify(dir) rejections name file, tensor, found and expected shapes', () => {
  it('readSparsify(encoder.weight of the wrong size) → DataError with both orientations allowed in expected', () => {
    const dir = writeRawDir(
      tmpDir(),
      'sae.safetensors',
      { ...linearTensors(), 'encoder.weight': filled([F - 1, D]) },
      CFG,
    );
    expectDataError(() => readSparsify(dir), {
      file: file(dir),
      field: 'encoder.weight',
      found: '[15×8]',
      expected: '[16×8] (F×d_in from cfg.json) or its transpose',
    });
  });

  it('readSparsify(W_dec stored [d_in, F]) → DataError hinting at the transpose', () => {
    const dir = writeRawDir(tmpDir(), 'sae.safetensors', { ...linearTensors(), W_dec: filled([D, F]) }, CFG);
    expectDataError(() => readSparsify(dir), {
      file: file(dir),
      field: 'W_dec',
      found: '[8×16]',
      expected: '[16×8] (F×d_in from cfg.json)',
      hint: 'transposed',
    });
  });

  it('readSparsify(cfg num_latents 32, tensors of width 16) → DataError on the encoder', () => {
    const dir = writeRawDir(tmpDir(), 'sae.safetensors', linearTensors(), { ...CFG, num_latents: 32 });
    expectDataError(() => readSparsify(dir), {
      file: file(dir),
      field: 'encoder.weight',
      found: '[16×8]',
      expected: '[32×8] (F×d_in from cfg.json)',
    });
  });

  it('readSparsify(missing encoder) → DataError listing the tensors present', () => {
    const t = linearTensors();
    delete t['encoder.weight'];
    const dir = writeRawDir(tmpDir(), 'sae.safetensors', t, CFG);
    expectDataError(() => readSparsify(dir), {
      file: file(dir),
      field: 'encoder.weight',
      found: 'missing (tensors present: W_dec [16×8], b_dec [8], encoder.bias [16])',
      expected: '[16×8] (F×d_in from cfg.json)',
    });
  });

  it('readSparsify(no d_in in cfg and no b_dec) → DataError on b_dec', () => {
    const t = linearTensors();
    delete t.b_dec;
    const { d_in: _dIn, ...noDIn } = CFG;
    const dir = writeRawDir(tmpDir(), 'sae.safetensors', t, noDIn);
    expectDataError(() => readSparsify(dir), { file: file(dir), field: 'b_dec', found: 'missing', expected: '[d_in]' });
  });

  it('readSparsify(skip_connection true without W_skip) → DataError', () => {
    const dir = writeRawDir(tmpDir(), 'sae.safetensors', linearTensors(), { ...CFG, skip_connection: true });
    expectDataError(() => readSparsify(dir), {
      file: file(dir),
      field: 'W_skip',
      found: 'missing',
      expected: '[8×8] (d_in×d_in from cfg.json)',
    });
  });

  it('readSparsify(missing cfg.json) → DataError naming cfg.json', () => {
    const dir = writeRawDir(tmpDir(), 'sae.safetensors', linearTensors(), null);
    expectDataError(() => readSparsify(dir), {
      file: path.join(dir, 'cfg.json'),
      field: 'cfg.json',
      found: 'holds: sae.safetensors',
      expected: 'cfg.json next to sae.safetensors',
    });
  });
});
