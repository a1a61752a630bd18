/**
 * `husai compare … --fourier ACTS`: the Fourier view of SAEs trained on the modular-arithmetic
 * transformer (issue 6; docs/SCIENCE.md §5). ACTS is an activation file written by `husai modarith
 * extract` (its FILE.meta.json names the model and gives (a, b) per row); each SAE is run on the
 * grid rows, and we report per SAE its Fourier-feature fraction (against random-direction probes),
 * and per SAE pair whether decoder-matched Fourier features share their dominant key frequency
 * (against a shuffled pairing). Same definitions as the study's Fourier analysis
 * (study/analysis/fourier.ts, fourier-context.ts).
 */
import { ConfigError, DataError } from '../core/errors.js';
import type { Mat } from '../core/mat.js';
import { getEngine } from '../engine/index.js';
import { fourierFeatureFraction, latentFourier, matchedFrequencyAgreement } from '../metrics/fourier.js';
import { unitAtoms } from '../metrics/cosine.js';
import { assignmentMatch } from '../metrics/seeds.js';
import { readActivationMeta } from '../models/modarith/extract.js';
import { loadModArith } from '../models/modarith/save.js';
import { type SaeWeights, decoderAtoms } from '../sae/checkpoint/index.js';
import { encodeLatents } from '../sae/checkpoint/encode.js';
import { readNpyMat } from '../formats/npy.js';
import { readSafetensors } from '../formats/safetensors.js';
import { type FourierContext, embeddingKeys, randomProbeFraction } from './fourier-context.js';

interface FourierComparison {
  keys: number[];
  grid: string;
  chance_fraction: number;
  per_sae: Array<{
    path: string;
    fourier_fraction: number;
    fourier_features: number;
    live: number;
    mean_key_share: number;
  }>;
  pairs: Array<{ a: number; b: number; agreement: number; fourier_pairs: number; null_mean: number; p: number }>;
}

/** The Fourier context of an activation file written by `husai modarith extract` (grid rows only). */
export function fourierContextFromFile(file: string): FourierContext {
  const meta = readActivationMeta(file);
  if (!meta)
    throw new DataError(
      `${file}.meta.json`,
      'file',
      'missing',
      'the sidecar `husai modarith extract` writes beside its output',
      'extract the activations with husai modarith extract',
    );
  if (meta.position === 'all')
    throw new ConfigError(
      `${file}: extracted at every position; the Fourier grid needs one position (extract with --position eq)`,
    );
  const model = loadModArith(meta.model_dir);
  let x: Mat;
  if (file.endsWith('.npy')) x = readNpyMat(file).mat;
  else {
    const t = readSafetensors(file).tensors.get('activations');
    if (!t) throw new DataError(file, 'tensor "activations"', 'missing', 'the tensor `husai modarith extract` writes');
    x = { data: t.data, rows: t.shape[0], cols: t.shape[1] };
  }
  const p = meta.p;
  if (x.rows !== p * p) throw new DataError(file, 'rows', String(x.rows), `${p * p} (one per (a, b) pair)`);
  for (let i = 0; i < x.rows; i++) {
    if (meta.a[i] !== Math.floor(i / p) || meta.b[i] !== i % p)
      throw new DataError(
        `${file}.meta.json`,
        `row ${i}`,
        `(a, b) = (${meta.a[i]}, ${meta.b[i]})`,
        `(${Math.floor(i / p)}, ${i % p}): a-major order`,
      );
  }
  return {
    p,
    keys: embeddingKeys(model).keys,
    gridND: x,
    label: `${meta.hook}, layer ${meta.layer}, position ${meta.position}`,
  };
}

export function compareFourier(
  saes: SaeWeights[],
  fctx: FourierContext,
  opts: { seed?: number } = {},
): FourierComparison {
  const e = getEngine();
  const seed = opts.seed ?? 0;
  const per = saes.map((w) => {
    if (w.dIn !== fctx.gridND.cols)
      throw new DataError(
        w.source.path,
        'd_in',
        String(w.dIn),
        `${fctx.gridND.cols} (the width of the activations given to --fourier)`,
      );
    return latentFourier(encodeLatents(w, fctx.gridND, e), fctx.p, fctx.keys, { engine: e });
  });
  const perSae = per.map((r, i) => {
    const f = fourierFeatureFraction(r);
    let share = 0;
    for (let l = 0; l < r.latents; l++) if (!r.dead[l]) share += r.keyShare[l];
    return {
      path: saes[i].source.path,
      fourier_fraction: f.fraction,
      fourier_features: f.count,
      live: f.live,
      mean_key_share: f.live > 0 ? share / f.live : NaN,
    };
  });
  const pairs: FourierComparison['pairs'] = [];
  const atoms = saes.map((w) => unitAtoms(decoderAtoms(w), `decoder atoms of ${w.source.path}`));
  for (let a = 0; a < saes.length; a++) {
    for (let b = a + 1; b < saes.length; b++) {
      const m = assignmentMatch(atoms[a], atoms[b]);
      const rows: number[] = [];
      const cols: number[] = [];
      m.colForRow.forEach((c, i) => {
        if (c >= 0) {
          rows.push(i);
          cols.push(c);
        }
      });
      const r = matchedFrequencyAgreement(
        per[a].dominant,
        per[b].dominant,
        { rowIdx: rows, colIdx: cols },
        { draws: 1000, seed: seed + a * saes.length + b },
      );
      pairs.push({ a, b, agreement: r.agreement, fourier_pairs: r.fourierPairs, null_mean: r.null.mean, p: r.pValue });
    }
  }
  return {
    keys: fctx.keys,
    grid: fctx.label,
    chance_fraction: randomProbeFraction(fctx, saes[0].dSae, seed, e),
    per_sae: perSae,
    pairs,
  };
}
