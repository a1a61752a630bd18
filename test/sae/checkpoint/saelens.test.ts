import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '../../../src/core/errors.js';
import { HUSAI_VERSION } from '../../../src/core/version.js';
import { readSafetensors } from '../../../src/formats/safetensors.js';
import {
  readSaeLens,
  saeLensTensorSpec,
  writeSaeLens,
  type SaeWeightsToWrite,
} from '../../../src/sae/checkpoint/saelens.js';
import { SAE_ARCHITECTURES, type SaeArchitecture, type Tensor } from '../../../src/sae/checkpoint/types.js';
import { GOLDEN, cleanTmp, expectDataError, filled, tmpDir, writeRawDir } from './helpers.js';

afterAll(cleanTmp);

const D_IN = 8;
const D_SAE = 16;

/** Valid weights of `arch` built from its tensor spec. */
function weightsFor(arch: SaeArchitecture, seed = 0): SaeWeightsToWrite {
  const tensors: Record<string, Tensor> = {};
  saeLensTensorSpec(arch, D_IN, D_SAE).forEach((s, i) => {
    if (s.required)
      tensors[s.name] = filled(
        s.dims.map((d) => d.size),
        seed * 10 + i,
      );
  });
  const w: SaeWeightsToWrite = { architecture: arch, dIn: D_IN, dSae: D_SAE, tensors };
  if (arch === 'topk' || arch === 'batchtopk' || arch === 'matryoshka_batchtopk') w.k = 4;
  return w;
}

const META = {
  model_name: 'synthetic',
  hook_name: 'x',
  seed: 3,
  data_seed: 4,
  steps: 100,
  tokens: 409600,
  final_l0: 4.02,
  n_dead: 1,
  explained_variance: 0.93,
  training: { lr: 0.0002, batch: 4096 },
  study: 'st-1',
  run: 'r-7',
};

/** Valid SAELens tensors for hand-built rejection cases. */
function validTensors(): Record<string, Tensor> {
  return {
    W_enc: filled([D_IN, D_SAE]),
    b_enc: filled([D_SAE], 1),
    W_dec: filled([D_SAE, D_IN], 2),
    b_dec: filled([D_IN], 3),
  };
}
const V6_CFG = { architecture: 'standard', d_in: D_IN, d_sae: D_SAE, metadata: { sae_lens_version: '6.0.0' } };

describe('writeSaeLens(dir, weights, metadata) / readSaeLens(dir)', () => {
  for (const arch of SAE_ARCHITECTURES) {
    it(`writeSaeLens → readSaeLens round-trips a ${arch} SAE exactly`, () => {
      const dir = path.join(tmpDir(), 'sae');
      const w = weightsFor(arch);
      writeSaeLens(dir, w, META);
      expect(fs.readdirSync(dir).sort()).toEqual(['cfg.json', 'sae_weights.safetensors']);
      const r = readSaeLens(dir);
      expect(r.source).toEqual({ format: 'saelens-v6', path: dir });
      expect([r.architecture, r.dIn, r.dSae, r.k]).toEqual([arch, D_IN, D_SAE, w.k]);
      expect(Object.keys(r.tensors).sort()).toEqual(Object.keys(w.tensors).sort());
      for (const [name, t] of Object.entries(w.tensors)) {
        expect(r.tensors[name].shape).toEqual(t.shape);
        expect(Buffer.from(r.tensors[name].data.buffer).equals(Buffer.from(t.data.buffer)), name).toBe(true);
      }
      expect(r.warnings).toEqual([]);
    });
  }

  it('writeSaeLens writes the v6 cfg.json of docs/FORMATS.md with the caller metadata and husai/SAELens versions', () => {
    const dir = path.join(tmpDir(), 'sae');
    writeSaeLens(dir, weightsFor('topk'), META);
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'cfg.json'), 'utf8')) as Record<string, unknown>;
    expect(cfg).toEqual({
      architecture: 'topk',
      d_in: D_IN,
      d_sae: D_SAE,
      dtype: 'float32',
      device: 'cpu',
      apply_b_dec_to_input: true,
      normalize_activations: 'none',
      reshape_activations: 'none',
      k: 4,
      rescale_acts_by_decoder_norm: false,
      metadata: { ...META, sae_lens_version: '6.0.0', husai_version: HUSAI_VERSION },
    });
    expect(readSafetensors(path.join(dir, 'sae_weights.safetensors')).metadata).toEqual({ format: 'pt' });
  });

  it('writeSaeLens twice (and with metadata keys in another order) gives byte-identical files', () => {
    const a = path.join(tmpDir(), 'a');
    const b = path.join(tmpDir(), 'b');
    writeSaeLens(a, weightsFor('jumprelu'), META);
    const reordered = Object.fromEntries(Object.entries(META).reverse());
    writeSaeLens(b, weightsFor('jumprelu'), reordered);
    const firstBytes = ['cfg.json', 'sae_weights.safetensors'].map((f) => fs.readFileSync(path.join(a, f)));
    writeSaeLens(a, weightsFor('jumprelu'), META);
    for (const [i, f] of ['cfg.json', 'sae_weights.safetensors'].entries()) {
      expect(fs.readFileSync(path.join(a, f)).equals(firstBytes[i]), `rewrite ${f}`).toBe(true);
      expect(fs.readFileSync(path.join(b, f)).equals(firstBytes[i]), `reordered ${f}`).toBe(true);
    }
  });

  it('writeSaeLens over an existing SAE directory replaces it and leaves no temporary siblings', () => {
    const parent = tmpDir();
    const dir = path.join(parent, 'sae');
    writeSaeLens(dir, weightsFor('standard', 0));
    fs.writeFileSync(path.join(dir, 'sparsity.safetensors'), 'stale');
    writeSaeLens(dir, weightsFor('standard', 1));
    expect(fs.readdirSync(parent)).toEqual(['sae']);
    expect(fs.readdirSync(dir).sort()).toEqual(['cfg.json', 'sae_weights.safetensors']);
    expect(readSaeLens(dir).tensors.W_enc.data).toEqual(weightsFor('standard', 1).tensors.W_enc.data);
  });

  it('writeSaeLens refuses to replace a directory holding other files (ConfigError) and leaves it untouched', () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    expect(() => writeSaeLens(dir, weightsFor('standard'))).toThrow(ConfigError);
    expect(() => writeSaeLens(dir, weightsFor('standard'))).toThrow(/notes\.txt/);
    expect(fs.readdirSync(dir)).toEqual(['notes.txt']);
  });

  it('writeSaeLens rejects a wrong-shaped tensor before writing anything', () => {
    const dir = path.join(tmpDir(), 'sae');
    const w = weightsFor('standard');
    w.tensors.W_dec = filled([D_IN, D_SAE]);
    expectDataError(() => writeSaeLens(dir, w), {
      file: path.join(dir, 'sae_weights.safetensors'),
      field: 'W_dec',
      found: '[8×16]',
      expected: '[16×8] (d_sae×d_in from the weights being written)',
      hint: 'transposed',
    });
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('writeSaeLens rejects an unfolded scaling_factor, a topk without k, and NaN metadata', () => {
    const dir = path.join(tmpDir(), 'sae');
    const w = weightsFor('standard');
    w.tensors.scaling_factor = filled([D_SAE]);
    expectDataError(() => writeSaeLens(dir, w), {
      file: path.join(dir, 'sae_weights.safetensors'),
      field: 'scaling_factor',
      found: 'does not have',
      expected: 'only W_enc',
      hint: 'fold',
    });
    expect(() => writeSaeLens(dir, { ...weightsFor('topk'), k: undefined })).toThrow(/k/);
    expect(() => writeSaeLens(dir, weightsFor('standard'), { explained_variance: Number.NaN })).toThrow(
      /metadata\.explained_variance/,
    );
    expect(fs.existsSync(dir)).toBe(false);
  });
});

describe('readSaeLens(dir) on pre-6 configs', () => {
  it('readSaeLens(pre-6 with scaling_factor) folds it into W_dec rows: W_dec_file[i]·s[i], W_enc untouched, warning recorded', () => {
    const dir = path.join(GOLDEN, 'saelens_pre6');
    const raw = readSafetensors(path.join(dir, 'sae_weights.safetensors')).tensors;
    const w = readSaeLens(dir);
    expect(w.source.format).toBe('saelens-pre6');
    expect(w.architecture).toBe('standard');
    expect(w.tensors.scaling_factor).toBeUndefined();
    const s = raw.get('scaling_factor')!.data;
    const wDecFile = raw.get('W_dec')!.data;
    for (let i = 0; i < D_SAE; i++) {
      for (let j = 0; j < D_IN; j++)
        expect(w.tensors.W_dec.data[i * D_IN + j]).toBe(Math.fround(wDecFile[i * D_IN + j] * s[i]));
    }
    expect(w.tensors.W_enc.data).toEqual(raw.get('W_enc')!.data);
    expect(w.tensors.b_enc.data).toEqual(raw.get('b_enc')!.data);
    expect(w.warnings.join('\n')).toContain('scaling_factor folded into W_dec');
  });

  it('readSaeLens(pre-6 with an all-ones scaling_factor) drops it unchanged', () => {
    const dir = writeRawDir(
      tmpDir(),
      'sae_weights.safetensors',
      { ...validTensors(), scaling_factor: { shape: [D_SAE], data: new Float32Array(D_SAE).fill(1) } },
      { d_in: D_IN, d_sae: D_SAE, hook_point: 'x' },
    );
    const w = readSaeLens(dir);
    expect(w.tensors.scaling_factor).toBeUndefined();
    expect(w.tensors.W_dec.data).toEqual(validTensors().W_dec.data);
    expect(w.warnings).toEqual([]);
  });

  it('readSaeLens(scaling_factor ≠ 1 with finetuning_scaling_factor: false) → DataError on cfg.json', () => {
    const dir = writeRawDir(
      tmpDir(),
      'sae_weights.safetensors',
      { ...validTensors(), scaling_factor: filled([D_SAE]) },
      { d_in: D_IN, d_sae: D_SAE, finetuning_scaling_factor: false },
    );
    expectDataError(() => readSaeLens(dir), {
      file: path.join(dir, 'cfg.json'),
      field: 'finetuning_scaling_factor',
      found: 'false',
      expected: 'scaling_factor ≠ 1',
    });
  });

  it('readSaeLens(pre-6 scaling_factor of the wrong length) → DataError with both shapes', () => {
    const dir = writeRawDir(
      tmpDir(),
      'sae_weights.safetensors',
      { ...validTensors(), scaling_factor: filled([D_IN]) },
      { d_in: D_IN, d_sae: D_SAE },
    );
    expectDataError(() => readSaeLens(dir), {
      file: path.join(dir, 'sae_weights.safetensors'),
      field: 'scaling_factor',
      found: '[8]',
      expected: '[16] (d_sae from cfg.json)',
    });
  });

  it('readSaeLens(pre-6 topk without activation_fn_kwargs.k) → DataError naming the key', () => {
    const dir = writeRawDir(tmpDir(), 'sae_weights.safetensors', validTensors(), {
      d_in: D_IN,
      d_sae: D_SAE,
      activation_fn_str: 'topk',
    });
    expectDataError(() => readSaeLens(dir), {
      file: path.join(dir, 'cfg.json'),
      field: 'activation_fn_kwargs.k',
      found: 'missing',
      expected: 'a positive integer',
    });
  });
});

describe('readSaeLens(dir) rejections name file, tensor, found and expected shapes', () => {
  const file = (dir: string) => path.join(dir, 'sae_weights.safetensors');

  it('readSaeLens(W_dec stored [d_in, d_sae]) → DataError "W_dec: found [8×16], expected [16×8] (d_sae×d_in from cfg.json)"', () => {
    const dir = writeRawDir(
      tmpDir(),
      'sae_weights.safetensors',
      { ...validTensors(), W_dec: filled([D_IN, D_SAE]) },
      V6_CFG,
    );
    expectDataError(() => readSaeLens(dir), {
      file: file(dir),
      field: 'W_dec',
      found: '[8×16]',
      expected: '[16×8] (d_sae×d_in from cfg.json)',
      hint: 'transposed',
    });
  });

  it('readSaeLens(b_enc of the wrong length) → DataError with both shapes', () => {
    const dir = writeRawDir(
      tmpDir(),
      'sae_weights.safetensors',
      { ...validTensors(), b_enc: filled([D_SAE - 1]) },
      V6_CFG,
    );
    expectDataError(() => readSaeLens(dir), {
      file: file(dir),
      field: 'b_enc',
      found: '[15]',
      expected: '[16] (d_sae from cfg.json)',
    });
  });

  it('readSaeLens(missing b_dec) → DataError listing the tensors present', () => {
    const t = validTensors();
    delete (t as Partial<typeof t>).b_dec;
    const dir = writeRawDir(tmpDir(), 'sae_weights.safetensors', t, V6_CFG);
    expectDataError(() => readSaeLens(dir), {
      file: file(dir),
      field: 'b_dec',
      found: 'missing (tensors present: W_dec [16×8], W_enc [8×16], b_enc [16])',
      expected: '[8] (d_in from cfg.json)',
    });
  });

  it('readSaeLens(jumprelu without threshold) → DataError', () => {
    const dir = writeRawDir(tmpDir(), 'sae_weights.safetensors', validTensors(), {
      ...V6_CFG,
      architecture: 'jumprelu',
    });
    expectDataError(() => readSaeLens(dir), {
      file: file(dir),
      field: 'threshold',
      found: 'missing',
      expected: '[16] (d_sae from cfg.json)',
    });
  });

  it('readSaeLens(transposed W_enc [d_sae, d_in]) → DataError with a hint, never a silent transpose', () => {
    const dir = writeRawDir(
      tmpDir(),
      'sae_weights.safetensors',
      { ...validTensors(), W_enc: filled([D_SAE, D_IN]) },
      V6_CFG,
    );
    const e = expectDataError(() => readSaeLens(dir), {
      file: file(dir),
      field: 'W_enc',
      found: '[16×8]',
      expected: '[8×16] (d_in×d_sae from cfg.json)',
      hint: 'W_enc looks transposed',
    });
    expect(e.hint).toContain('[d_in×d_sae]');
  });

  it('readSaeLens(cfg d_sae 32, tensors of width 16) → DataError on W_enc, hinting that cfg.json is wrong', () => {
    const dir = writeRawDir(tmpDir(), 'sae_weights.safetensors', validTensors(), { ...V6_CFG, d_sae: 32 });
    expectDataError(() => readSaeLens(dir), {
      file: file(dir),
      field: 'W_enc',
      found: '[8×16]',
      expected: '[8×32] (d_in×d_sae from cfg.json)',
      hint: 'd_sae = 16',
    });
  });

  it('readSaeLens(missing cfg.json) → DataError naming cfg.json', () => {
    const dir = writeRawDir(tmpDir(), 'sae_weights.safetensors', validTensors(), null);
    expectDataError(() => readSaeLens(dir), {
      file: path.join(dir, 'cfg.json'),
      field: 'cfg.json',
      found: 'missing',
      expected: 'cfg.json next to sae_weights.safetensors',
    });
  });

  it('readSaeLens(cfg without d_in, or an unknown v6 architecture, or duplicate keys) → DataError on cfg.json', () => {
    const a = writeRawDir(tmpDir(), 'sae_weights.safetensors', validTensors(), { d_sae: D_SAE, metadata: {} });
    expectDataError(() => readSaeLens(a), {
      file: path.join(a, 'cfg.json'),
      field: 'd_in',
      found: 'missing',
      expected: 'a positive integer',
    });
    const b = writeRawDir(tmpDir(), 'sae_weights.safetensors', validTensors(), { ...V6_CFG, architecture: 'temporal' });
    expectDataError(() => readSaeLens(b), {
      file: path.join(b, 'cfg.json'),
      field: 'architecture',
      found: '"temporal"',
      expected: 'one of standard, topk',
    });
    const c = writeRawDir(tmpDir(), 'sae_weights.safetensors', validTensors(), null);
    fs.writeFileSync(path.join(c, 'cfg.json'), '{"d_in": 8, "d_sae": 16, "d_sae": 32}');
    expectDataError(() => readSaeLens(c), {
      file: path.join(c, 'cfg.json'),
      field: 'd_sae',
      found: 'twice',
      expected: 'unique keys',
    });
  });

  it('readSaeLens(v6 topk without k) → DataError on cfg.json k', () => {
    const dir = writeRawDir(tmpDir(), 'sae_weights.safetensors', validTensors(), { ...V6_CFG, architecture: 'topk' });
    const e = expectDataError(() => readSaeLens(dir), {
      file: path.join(dir, 'cfg.json'),
      field: 'k',
      found: 'missing',
      expected: 'a positive integer',
    });
    expect(e).toBeInstanceOf(DataError);
  });
});
