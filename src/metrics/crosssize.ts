/**
 * Cross-size comparison: atoms of a small SAE against a larger one trained on the same data
 * (docs/SCIENCE.md §3, "Cross-size (feature splitting)"): PW-MCC (Song et al. 2025, via pairwise.ts on
 * min(n_small, n_large) assigned pairs), the fraction of small atoms whose best large atom has
 * cos > 0.9 (Sharkey et al. 2022, signed max), and a one-to-many map parent → children:
 * children(i) = {j : C_ij ≥ τ} ∪ {j : masked activation correlation ρ^mask_ij ≥ τ_act} when an
 * activation accumulator over the same tokens is supplied (activations.ts; masked = tokens where
 * either latent fires, exact for all pairs). The cosine rule catches children that inherit the
 * parent's direction; the activation rule catches children that fire like the parent though their
 * direction moved. One cosine matrix [n_small × n_large] (engine GEMM) serves all three.
 *
 * Letter legend: P = atoms of the small SAE (parents), L = atoms of the large one, D = d_in.
 */
import { ConfigError, ShapeError, fmtShape } from '../core/errors.js';
import type { ActivationSimilarityAccumulator } from './activations.js';
import { type Atoms, cosineMatrix } from './cosine.js';
import { matchCosines } from './pairwise.js';

interface CrossSizeOptions {
  /** Cosine threshold for a child (default 0.7). */
  tau?: number;
  /** Masked-correlation threshold for a child (default = tau). */
  tauAct?: number;
  /** Activations of (small, large) on the same tokens: accumulator with mA = P, mB = L. */
  activations?: ActivationSimilarityAccumulator;
  /** Sharkey's "recovered" threshold on the max cosine (default 0.9, strict >). */
  sharkeyThreshold?: number;
}

/** The children of one small atom. */
interface Children {
  /** Large-atom indices, by decreasing cosine. */
  readonly idx: Int32Array;
  /** Their signed cosines with the parent. */
  readonly cos: Float64Array;
  /** Their masked activation correlations with the parent (null without activations). */
  readonly masked: Float64Array | null;
}

interface CrossSizeResult {
  readonly nSmall: number;
  readonly nLarge: number;
  /** PW-MCC (signed) over min(P, L) assigned pairs. */
  readonly pwmcc: number;
  /** Fraction of small atoms with max_j C_ij > sharkeyThreshold. */
  readonly fracAbove: number;
  /** max_j C_ij per small atom. [P] */
  readonly maxCos: Float64Array;
  /** Per small atom, its children. [P] */
  readonly children: Children[];
  /** Parents with ≥ 1 child, with ≥ 2 children (splits), and the mean child count over parents. */
  readonly withChildren: number;
  readonly splits: number;
  readonly meanChildren: number;
  /** Large atoms that are nobody's child. */
  readonly orphans: number;
}

/** Small-vs-large comparison (see the file header). `small` [P × D], `large` [L × D]. */
export function crossSize(small: Atoms, large: Atoms, opts: CrossSizeOptions = {}): CrossSizeResult {
  const tau = opts.tau ?? 0.7;
  const tauAct = opts.tauAct ?? tau;
  const thr = opts.sharkeyThreshold ?? 0.9;
  for (const [name, v] of [
    ['tau', tau],
    ['tauAct', tauAct],
    ['sharkeyThreshold', thr],
  ] as const) {
    if (!(v >= -1 && v <= 1)) throw new ConfigError(`crossSize: ${name} = ${v}, expected a number in [−1, 1]`);
  }
  const cos = cosineMatrix(small, large, { nameA: 'small SAE', nameB: 'large SAE' });
  const P = cos.rows;
  const L = cos.cols;
  let masked: Float64Array | null = null;
  if (opts.activations) {
    const acc = opts.activations;
    if (acc.mA !== P || acc.mB !== L) {
      throw new ShapeError(
        `crossSize: activations cover ${fmtShape(acc.mA, acc.mB)} latents but the atoms are ${fmtShape(P, L)} (small ` +
          `× large)`,
      );
    }
    masked = acc.maskedPearsonMatrix();
  }

  const pw = P > 0 && L > 0 ? matchCosines(cos, false, 'cos(small SAE, large SAE)').value : NaN;
  const maxCos = new Float64Array(P).fill(-Infinity);
  let above = 0;
  const claimed = new Uint8Array(L);
  const children: Children[] = [];
  let withChildren = 0;
  let splits = 0;
  let childTotal = 0;
  for (let i = 0; i < P; i++) {
    const o = i * L;
    const kids: number[] = [];
    for (let j = 0; j < L; j++) {
      const c = cos.data[o + j];
      if (c > maxCos[i]) maxCos[i] = c;
      if (c >= tau || (masked !== null && masked[o + j] >= tauAct)) kids.push(j);
    }
    if (maxCos[i] > thr) above++;
    kids.sort((a, b) => cos.data[o + b] - cos.data[o + a] || a - b);
    for (const j of kids) claimed[j] = 1;
    if (kids.length >= 1) withChildren++;
    if (kids.length >= 2) splits++;
    childTotal += kids.length;
    children.push({
      idx: Int32Array.from(kids),
      cos: Float64Array.from(kids, (j) => cos.data[o + j]),
      masked: masked ? Float64Array.from(kids, (j) => masked![o + j]) : null,
    });
  }
  return {
    nSmall: P,
    nLarge: L,
    pwmcc: pw,
    fracAbove: P > 0 ? above / P : NaN,
    maxCos,
    children,
    withChildren,
    splits,
    meanChildren: P > 0 ? childTotal / P : NaN,
    orphans: L - claimed.reduce((s, x) => s + x, 0),
  };
}
