/**
 * The Fourier analysis of one cell on modular-arithmetic data (issue 6; docs/SCIENCE.md §5): every
 * seed's SAE is run on the hook's activations over the p × p grid; each latent's 2-D spectrum gives
 * its share of variance in the model's key frequencies (metrics/fourier.ts) and its dominant key
 * frequency. Reported per cell:
 *   - the Fourier-feature fraction (live latents with key share ≥ 0.8), mean over seeds with a
 *     seed-bootstrap CI, against a chance value: the same fraction for M random unit directions
 *     used as ReLU probes of the centred activations (when the residual stream itself lives in the
 *     key frequencies, random directions score high too — the number means nothing without it);
 *   - matched-frequency agreement: over seed pairs, among decoder-matched latent pairs that are both
 *     Fourier features, the fraction whose dominant frequencies agree, against a shuffled-pairing
 *     null (per pair; the reported p is the largest over pairs, a conservative summary);
 *   - how many Fourier features each key frequency has (pooled over seeds).
 *
 * Letters: S seeds, M latents, D width, P2 = p² grid rows.
 */
import type { Mat } from '../../core/mat.js';
import type { Engine } from '../../engine/types.js';
import {
  FOURIER_THRESHOLD,
  type LatentFourier,
  fourierFeatureFraction,
  latentFourier,
  matchedFrequencyAgreement,
} from '../../metrics/fourier.js';
import type { SaeWeights } from '../../sae/checkpoint/index.js';
import { encodeLatents } from '../../sae/checkpoint/encode.js';
import type { FourierContext } from '../../inspect/fourier-context.js';
import type { FourierCellResult } from '../results.js';
import type { PairValues } from './pairs.js';
import { fin, pairEstimate, seedEstimate } from './stats.js';

export function fourierCell(
  weights: readonly SaeWeights[],
  match: PairValues['match'],
  fctx: FourierContext,
  chance: number,
  seed: number,
  e: Engine,
): FourierCellResult {
  const per: LatentFourier[] = weights.map((w) => {
    const lat: Mat = encodeLatents(w, fctx.gridND, e);
    return latentFourier(lat, fctx.p, fctx.keys, { engine: e });
  });
  const fractions = per.map((r) => fin(fourierFeatureFraction(r, FOURIER_THRESHOLD).fraction));
  const meanShares = per.map((r) => {
    let s = 0;
    let live = 0;
    for (let l = 0; l < r.latents; l++)
      if (!r.dead[l]) {
        s += r.keyShare[l];
        live++;
      }
    return live > 0 ? s / live : null;
  });
  const byKey = new Map<number, number>(fctx.keys.map((k) => [k, 0]));
  for (const r of per)
    for (let l = 0; l < r.latents; l++)
      if (r.dominant[l] >= 0) byKey.set(r.dominant[l], (byKey.get(r.dominant[l]) ?? 0) + 1);
  const S = weights.length;
  const agreement: Array<Array<number | null>> = Array.from({ length: S }, () => Array.from({ length: S }, () => null));
  let pairsWithFourier = 0;
  const nullMeans: number[] = [];
  let pMax: number | null = null;
  let fourierPairs = 0;
  for (let a = 0; a < S; a++) {
    for (let b = a + 1; b < S; b++) {
      const m = match[a][b];
      if (!m) continue;
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
        { draws: 200, seed: seed + a * S + b },
      );
      if (r.fourierPairs === 0) continue;
      agreement[a][b] = agreement[b][a] = r.agreement;
      pairsWithFourier++;
      nullMeans.push(r.null.mean);
      fourierPairs += r.fourierPairs;
      pMax = Math.max(pMax ?? 0, r.pValue);
    }
  }
  return {
    keys: [...fctx.keys],
    threshold: FOURIER_THRESHOLD,
    grid: fctx.label,
    fraction: seedEstimate(fractions, seed),
    perSeedFraction: fractions,
    chanceFraction: fin(chance),
    meanKeyShare: seedEstimate(meanShares, seed),
    agreement: pairEstimate(agreement, seed),
    agreementNull: nullMeans.length > 0 ? fin(nullMeans.reduce((x, y) => x + y, 0) / nullMeans.length) : null,
    agreementP: pMax,
    fourierPairsPerSeedPair: pairsWithFourier > 0 ? fourierPairs / pairsWithFourier : 0,
    featuresPerKey: [...byKey].sort((x, y) => x[0] - y[0]).map(([k, count]) => ({ k, count })),
  };
}
