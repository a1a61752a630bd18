/**
 * The Fourier context of modular-arithmetic activations (issue 6; docs/SCIENCE.md §5), shared by the
 * study's Fourier analysis (study/analysis/fourier.ts) and `husai compare --fourier`
 * (compare-fourier.ts): the model's key frequencies from its token embedding, the hook's
 * activations on the p × p grid, and the chance value of the Fourier-feature fraction — the same
 * fraction for M random unit directions used as ReLU probes of the centred grid activations.
 *
 * Letters: N = p² grid rows, D width of the hook, M probes.
 */
import type { Mat } from '../core/mat.js';
import { Rng } from '../core/rng.js';
import type { Engine } from '../engine/types.js';
import {
  type KeyFrequencies,
  fourierFeatureFraction,
  keyFrequencies,
  latentFourier,
  tokenSpectrum,
} from '../metrics/fourier.js';
import type { SavedModArith } from '../models/modarith/save.js';

export interface FourierContext {
  p: number;
  /** The model's key frequencies (embedding, 90% of its Fourier power). */
  keys: number[];
  /** Activations on the p × p grid, a-major rows [p², D]. */
  gridND: Mat;
  /** e.g. "resid_post, layer 0, position eq". */
  label: string;
}

/** Key frequencies of the token embedding W_E (the "=" row left out), with its power spectrum. */
export function embeddingKeys(model: SavedModArith): KeyFrequencies & { power: Float64Array } {
  const { p, d_model: D } = model.cfg;
  const spectrum = tokenSpectrum({ data: model.params['embed.W_E'].subarray(0, p * D), rows: p, cols: D }, p);
  return { ...keyFrequencies(spectrum.power, { fraction: 0.9 }), power: spectrum.power };
}

/** Fourier fraction of M random-direction ReLU probes of the centred grid activations (the chance value). */
export function randomProbeFraction(fctx: FourierContext, M: number, seed: number, e: Engine): number {
  const { gridND } = fctx;
  const { rows: N, cols: D } = gridND;
  const xc = new Float32Array(gridND.data);
  const mean = new Float32Array(D);
  e.colSum(xc, N, D, mean, 1 / N, 0);
  e.addRowVec(xc, N, D, mean, -1);
  const w = new Float32Array(D * M);
  Rng.from(seed, 'fourier-random-probes', M).fillNormal(w);
  const acts = new Float32Array(N * M);
  e.gemm(false, false, N, M, D, 1, xc, D, w, M, 0, acts, M);
  e.relu(acts, acts);
  return fourierFeatureFraction(latentFourier({ data: acts, rows: N, cols: M }, fctx.p, fctx.keys, { engine: e }))
    .fraction;
}
