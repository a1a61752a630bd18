import path from 'node:path';
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../../../src/core/errors.js';
import { loadSae } from '../../../src/sae/checkpoint/load.js';
import { listSaeDirs } from '../../../src/sae/checkpoint/layout.js';
import { decoderAtoms, encoderAtoms } from '../../../src/sae/checkpoint/types.js';
import { GOLDEN, cleanTmp, expectDataError, filled, golden, maxAbsDiff, tmpDir, writeRawDir } from './helpers.js';

afterAll(cleanTmp);

// The acceptance check: one set of weights saved by make_fixtures.py in every layout loads to the
// same unit atoms, and those match numpy's (float64) within float32 rounding.
const SAME_WEIGHTS: Array<[string, string, string]> = [
  ['saelens_v6', 'saelens-v6', 'jumprelu'],
  ['saelens_pre6', 'saelens-pre6', 'standard'],
  ['saelens_pre6_topk', 'saelens-pre6', 'topk'],
  ['sparsify', 'sparsify', 'topk'],
  ['sparsify_old', 'sparsify', 'topk'],
  ['sparsify_run/seed0/layers.0', 'sparsify', 'topk'],
];

describe('loadSae(dir) on the same weights in every layout', () => {
  for (const [rel, format, arch] of SAME_WEIGHTS) {
    it(`loadSae("${rel}") → ${format} ${arch}, decoder and encoder atoms equal numpy's`, () => {
      const w = loadSae(path.join(GOLDEN, rel));
      expect(w.source).toEqual({ format, path: path.join(GOLDEN, rel) });
      expect(w.architecture).toBe(arch);
      expect([w.dIn, w.dSae]).toEqual([golden.d_in, golden.d_sae]);
      expect(w.tensors.W_enc.shape).toEqual([golden.d_in, golden.d_sae]);
      expect(w.tensors.W_dec.shape).toEqual([golden.d_sae, golden.d_in]);
      const dec = decoderAtoms(w);
      const enc = encoderAtoms(w);
      expect([dec.rows, dec.cols, enc.rows, enc.cols]).toEqual([golden.d_sae, golden.d_in, golden.d_sae, golden.d_in]);
      expect(maxAbsDiff(dec.data, golden.decoder_atoms)).toBeLessThan(1e-6);
      expect(maxAbsDiff(enc.data, golden.encoder_atoms)).toBeLessThan(1e-6);
      expect(dec.nZero).toBe(golden.decoder_zero_rows);
      expect(enc.nZero).toBe(golden.encoder_zero_rows);
    });
  }

  it('all layouts agree with each other: W_enc, b_enc and b_dec bit-exact, W_dec exact except pre-6 (folded scaling_factor)', () => {
    const ref = loadSae(path.join(GOLDEN, 'saelens_v6'));
    for (const [rel] of SAME_WEIGHTS.slice(1)) {
      const w = loadSae(path.join(GOLDEN, rel));
      for (const name of ['W_enc', 'b_enc', 'b_dec'])
        expect(w.tensors[name].data, `${rel} ${name}`).toEqual(ref.tensors[name].data);
      if (rel === 'saelens_pre6') {
        const a = w.tensors.W_dec.data;
        const b = ref.tensors.W_dec.data;
        for (let i = 0; i < a.length; i++)
          expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(b[i])));
      } else {
        expect(w.tensors.W_dec.data, `${rel} W_dec`).toEqual(ref.tensors.W_dec.data);
      }
    }
  });

  it('k comes from cfg k (sparsify) and activation_fn_kwargs.k (pre-6 topk); v6 jumprelu has none', () => {
    expect(loadSae(path.join(GOLDEN, 'sparsify')).k).toBe(golden.k);
    expect(loadSae(path.join(GOLDEN, 'saelens_pre6_topk')).k).toBe(golden.k);
    expect(loadSae(path.join(GOLDEN, 'saelens_v6')).k).toBeUndefined();
  });
});

describe('loadSae(root, { hookpoint }) and listSaeDirs(root)', () => {
  const run = path.join(GOLDEN, 'sparsify_run');

  it('loadSae(run, { hookpoint: "seed0/layers.1" }) loads that folder (its own weights)', () => {
    const w = loadSae(run, { hookpoint: 'seed0/layers.1' });
    expect(w.source.path).toBe(path.join(run, 'seed0', 'layers.1'));
    expect(maxAbsDiff(decoderAtoms(w).data, golden.layers1_decoder_atoms)).toBeLessThan(1e-6);
  });

  it('loadSae(run) with several SAE folders and no hookpoint → DataError listing them', () => {
    const e = expectDataError(() => loadSae(run), {
      file: run,
      field: 'hookpoint',
      found: 'no hookpoint chosen, and 3 SAE folders below',
      expected: 'one of seed0/layers.0, seed0/layers.1, seed1/layers.0',
    });
    expect(e.hint).toContain('hookpoint: "seed0/layers.0"');
  });

  it('loadSae(run, { hookpoint: "layers.9" }) (no such folder) → DataError listing the choices', () => {
    expectDataError(() => loadSae(run, { hookpoint: 'layers.9' }), {
      file: run,
      field: 'hookpoint',
      found: '"layers.9"',
      expected: 'seed0/layers.0, seed0/layers.1, seed1/layers.0',
    });
  });

  it('loadSae(run/seed1) with exactly one SAE folder below loads it', () => {
    expect(loadSae(path.join(run, 'seed1')).source.path).toBe(path.join(run, 'seed1', 'layers.0'));
  });

  it('listSaeDirs(golden root) finds every fixture to depth 3, in natural order; maxDepth 2 stops above the run', () => {
    const rel = (ds: string[]) => ds.map((d) => path.relative(GOLDEN, d));
    expect(rel(listSaeDirs(GOLDEN))).toEqual([
      'saelens_pre6',
      'saelens_pre6_topk',
      'saelens_v6',
      'sparsify',
      'sparsify_old',
      'sparsify_run/seed0/layers.0',
      'sparsify_run/seed0/layers.1',
      'sparsify_run/seed1/layers.0',
    ]);
    expect(rel(listSaeDirs(GOLDEN, 2))).not.toContain('sparsify_run/seed0/layers.0');
  });

  it('listSaeDirs(root) orders layers.2 before layers.10', () => {
    const root = tmpDir();
    for (const name of ['layers.10', 'layers.2', 'layers.1']) {
      writeRawDir(path.join(root, name), 'sae.safetensors', { b_dec: filled([4]) }, { d_in: 4 });
    }
    expect(listSaeDirs(root).map((d) => path.basename(d))).toEqual(['layers.1', 'layers.2', 'layers.10']);
  });
});

describe('loadSae(dir) rejections', () => {
  it('loadSae(missing dir) → DataError naming the path', () => {
    const dir = path.join(tmpDir(), 'nope');
    expectDataError(() => loadSae(dir), {
      file: dir,
      field: 'directory',
      found: 'no such file or directory',
      expected: 'sae_weights.safetensors',
    });
  });

  it('loadSae(dir with neither layout) → DataError listing the files found', () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'weights.pt'), 'x');
    fs.mkdirSync(path.join(dir, 'logs'));
    expectDataError(() => loadSae(dir), {
      file: dir,
      field: 'directory',
      found: 'holds: logs/, weights.pt',
      expected: 'sparsify (cfg.json + sae.safetensors)',
    });
  });

  it('loadSae(dir with cfg.json but no weights) → DataError naming both weight files', () => {
    const dir = writeRawDir(tmpDir(), null, {}, { d_in: 8, d_sae: 16 });
    expectDataError(() => loadSae(dir), {
      file: path.join(dir, 'sae_weights.safetensors'),
      field: 'weights file',
      found: 'holds: cfg.json',
      expected: 'sae_weights.safetensors (SAELens) or sae.safetensors (sparsify)',
    });
  });

  it('loadSae(dir with weights but no cfg.json) → DataError naming cfg.json and the files present', () => {
    const dir = tmpDir();
    fs.copyFileSync(
      path.join(GOLDEN, 'saelens_v6', 'sae_weights.safetensors'),
      path.join(dir, 'sae_weights.safetensors'),
    );
    const e = expectDataError(() => loadSae(dir), {
      file: path.join(dir, 'cfg.json'),
      field: 'cfg.json',
      found: 'missing (' + dir + ' holds: sae_weights.safetensors)',
      expected: 'cfg.json next to sae_weights.safetensors',
    });
    expect(e).toBeInstanceOf(DataError);
  });
});
