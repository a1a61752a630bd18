/**
 * sparsify (EleutherAI) checkpoint directories (docs/FORMATS.md, "SAE directories"): `sae.safetensors`
 * + `cfg.json`, as `SparseCoder.save_to_disk` writes them. The encoder is an `nn.Linear(d_in, F)`,
 * so `encoder.weight` is [F, d_in] = W_encᵀ; `encoder.bias` [F]; `W_dec` [F, d_in]; `b_dec` [d_in];
 * optional `W_skip` [d_in, d_in]. Older files hold `W_enc` [d_in, F] (and `b_enc`). Read into the
 * SAELens orientation of docs/SCIENCE.md §1 (W_enc [d_in, F]) under SAELens names.
 *
 * Sizes: d_in from cfg.json `d_in` (sparsify writes it; older configs lack it, then `b_dec`'s
 * length); F from `num_latents`, or d_in · `expansion_factor` when num_latents is 0 (sparsify's
 * rule), or the encoder bias length when the config gives neither. The encoder's orientation is
 * detected by shape against those sizes; only when d_in = F (square) does the tensor name decide.
 * The decoder has one layout in every sparsify version, so a transposed W_dec is rejected.
 *
 * Architecture: sparsify's `activation` "topk" (the default) and "groupmax" both map to "topk",
 * the nearest of SaeWeights' architectures — the atoms are what husai analyses; cfg keeps the truth,
 * and "groupmax" adds a warning. A folder of hookpoint / seedN subfolders is found by
 * `listSaeDirs` (layout.ts) and chosen in `loadSae` (load.ts).
 *
 * Shape letters: F = number of latents (d_sae), D = d_in.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DataError, fmtShape } from '../../core/errors.js';
import { transpose } from '../../core/mat.js';
import { readSafetensors } from '../../formats/safetensors.js';
import { CFG_FILE, SPARSIFY_WEIGHTS, describeDir, readCfgJson, requireDir } from './layout.js';
import type { SaeWeights, Tensor } from './types.js';
import {
  cfgPositiveInt,
  describeExpected,
  describePresent,
  expectTensor,
  sameShape,
  transposedHint,
  warnOnce,
  type Dim,
} from './validate.js';

/** Reads a sparsify directory (one hookpoint) into SAELens-named tensors. */
export function readSparsify(dir: string): SaeWeights {
  requireDir(dir);
  const cfgFile = path.join(dir, CFG_FILE);
  const file = path.join(dir, SPARSIFY_WEIGHTS);
  const cfg = readCfgJson(dir, SPARSIFY_WEIGHTS);
  if (!fs.existsSync(file)) {
    throw new DataError(
      file,
      SPARSIFY_WEIGHTS,
      `missing (${dir} holds: ${describeDir(dir)})`,
      `the sparsify weights next to ${CFG_FILE}`,
    );
  }
  const read = readSafetensors(file);
  const raw: Record<string, Tensor> = Object.fromEntries(read.tensors);
  const warnings = [...read.warnings];

  // d_in: cfg.json, else b_dec's length.
  let D: Dim;
  if (cfg.d_in !== undefined) {
    D = { size: cfgPositiveInt(cfgFile, cfg, 'd_in'), name: 'd_in' };
  } else {
    const bDec = raw.b_dec;
    if (bDec === undefined || bDec.shape.length !== 1 || bDec.shape[0] === 0) {
      throw new DataError(
        file,
        'b_dec',
        bDec === undefined ? `missing (tensors present: ${describePresent(raw)})` : fmtShape(...bDec.shape),
        '[d_in] (cfg.json has no d_in, so b_dec gives it)',
      );
    }
    D = { size: bDec.shape[0], name: 'd_in' };
  }
  const dFrom = cfg.d_in !== undefined ? 'cfg.json' : 'b_dec';

  // F: num_latents, else d_in · expansion_factor, else the encoder bias.
  const biasName = raw['encoder.bias'] !== undefined ? 'encoder.bias' : 'b_enc';
  let fSize: number;
  let fFrom: string;
  if ((cfg.num_latents ?? 0) !== 0) {
    fSize = cfgPositiveInt(cfgFile, cfg, 'num_latents');
    fFrom = 'cfg.json';
  } else if (cfg.expansion_factor !== undefined) {
    fSize =
      D.size * cfgPositiveInt(cfgFile, cfg, 'expansion_factor', 'num_latents is 0, so F = d_in · expansion_factor');
    fFrom = dFrom === 'cfg.json' ? 'cfg.json' : 'cfg.json expansion_factor × d_in';
  } else {
    const bias = raw[biasName];
    if (bias === undefined || bias.shape.length !== 1 || bias.shape[0] === 0) {
      throw new DataError(
        file,
        biasName,
        bias === undefined ? `missing (tensors present: ${describePresent(raw)})` : fmtShape(...bias.shape),
        '[F] (cfg.json gives neither num_latents nor expansion_factor, so the encoder bias gives F)',
      );
    }
    fSize = bias.shape[0];
    fFrom = biasName;
  }
  const F: Dim = { size: fSize, name: 'F' };
  const from = fFrom === dFrom ? fFrom : `F from ${fFrom}, d_in from ${dFrom}`;

  const wEncDF = readEncoder(file, raw, D, F, from);
  const bEncF = expectTensor(file, raw, biasName, [F], from, true) as Tensor;
  const wDecFD = expectTensor(file, raw, 'W_dec', [F, D], from, true, (found) =>
    transposedHint('W_dec', [F, D], found, 'sparsify'),
  ) as Tensor;
  const bDecD = expectTensor(file, raw, 'b_dec', [D], from, true) as Tensor;
  const wSkipDD = expectTensor(file, raw, 'W_skip', [D, { ...D }], from, cfg.skip_connection === true);

  const tensors: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(raw)) {
    if (!['encoder.weight', 'encoder.bias', 'W_enc', 'b_enc', 'W_dec', 'b_dec', 'W_skip'].includes(name))
      tensors[name] = t;
  }
  Object.assign(tensors, { W_enc: wEncDF, b_enc: bEncF, W_dec: wDecFD, b_dec: bDecD });
  if (wSkipDD !== undefined) tensors.W_skip = wSkipDD;

  if (cfg.activation !== undefined && cfg.activation !== 'topk') {
    warnOnce(
      warnings,
      `${cfgFile}: activation ${JSON.stringify(cfg.activation)} read as architecture "topk" (atoms are exact; the ` +
        `forward pass is not)`,
    );
  }
  if (cfg.transcode === true) {
    warnOnce(
      warnings,
      `${cfgFile}: a transcoder (transcode: true): encoder atoms live in the input space, decoder atoms in the ` +
        `output space`,
    );
  }
  const w: SaeWeights = {
    architecture: 'topk',
    dIn: D.size,
    dSae: F.size,
    tensors,
    cfg,
    source: { format: 'sparsify', path: dir },
    warnings,
  };
  if (cfg.k !== undefined) w.k = cfgPositiveInt(cfgFile, cfg, 'k');
  return w;
}

/**
 * The encoder as W_enc [d_in, F]. `encoder.weight` is [F, d_in] by convention, `W_enc` [d_in, F];
 * the shape decides the orientation, the name only when d_in = F.
 */
function readEncoder(file: string, raw: Record<string, Tensor>, D: Dim, F: Dim, from: string): Tensor {
  const hasLinear = raw['encoder.weight'] !== undefined;
  const hasOld = raw.W_enc !== undefined;
  if (hasLinear && hasOld) {
    throw new DataError(
      file,
      'W_enc',
      'present alongside encoder.weight',
      'one encoder tensor',
      'the file holds two encoders; which one is meant is unclear',
    );
  }
  if (!hasLinear && !hasOld) {
    throw new DataError(
      file,
      'encoder.weight',
      `missing (tensors present: ${describePresent(raw)})`,
      describeExpected([F, D], from),
      'sparsify stores the encoder as encoder.weight [F×d_in] (older files: W_enc [d_in×F])',
    );
  }
  const name = hasLinear ? 'encoder.weight' : 'W_enc';
  const t = raw[name];
  const asFD = sameShape(t.shape, [F, D]);
  const asDF = sameShape(t.shape, [D, F]);
  if (!asFD && !asDF) {
    const conventional: Dim[] = hasLinear ? [F, D] : [D, F];
    throw new DataError(file, name, fmtShape(...t.shape), `${describeExpected(conventional, from)} or its transpose`);
  }
  const square = asFD && asDF;
  const isFD = square ? hasLinear : asFD;
  if (!isFD) return { shape: [D.size, F.size], data: t.data };
  const wEncDF = transpose({ data: t.data, rows: F.size, cols: D.size });
  return { shape: [D.size, F.size], data: wEncDF.data };
}
