/**
 * SaeWeights: the neutral in-memory form of an SAE checkpoint, whatever library wrote it
 * (docs/FORMATS.md, "SAE directories"). Tensors carry SAELens names and orientations (docs/SCIENCE.md §1):
 * W_enc [d_in, d_sae], W_dec [d_sae, d_in], so every reader converts *into* this layout and
 * everything downstream (stability metrics, the trainer's writer) sees one convention. Also the
 * atom helpers of docs/SCIENCE.md §1: decoder atom i = row i of W_dec, encoder atom i = column i of
 * W_enc, each normalised to unit length.
 *
 * Shape letters: M = d_sae (latents), D = d_in.
 */
import { DataError, ShapeError, fmtShape } from '../../core/errors.js';
import type { Mat } from '../../core/mat.js';
import type { Tensor } from '../../formats/safetensors.js';
import { type SaeArchitecture, saeLensNames } from '../names.js';

export type { SaeArchitecture, Tensor };

/** The SAELens architecture names husai reads and writes: one per registered architecture (registry.ts). */
export const SAE_ARCHITECTURES: readonly SaeArchitecture[] = saeLensNames();

export type SaeFormat = 'saelens-v6' | 'saelens-pre6' | 'sparsify';

export interface SaeWeights {
  architecture: SaeArchitecture;
  dIn: number;
  dSae: number;
  /** TopK-family k (cfg `k`, pre-6 `activation_fn_kwargs.k`, sparsify `k`); absent otherwise. */
  k?: number;
  /**
   * SAELens names: W_enc [d_in, d_sae], b_enc [d_sae], W_dec [d_sae, d_in], b_dec [d_in],
   * threshold [d_sae] (jumprelu; batchtopk exports), b_gate / b_mag / r_mag [d_sae] (gated).
   * sparsify's optional skip connection keeps its name, W_skip [d_in, d_in].
   */
  tensors: Record<string, Tensor>;
  /** The cfg.json object exactly as read from disk. */
  cfg: Record<string, unknown>;
  /** Where the weights came from; `path` is the SAE directory. */
  source: { format: SaeFormat; path: string };
  /** What the reader changed or noticed (F64 narrowed, scaling_factor folded, …), deduplicated. */
  warnings: string[];
}

/** Unit atoms, one per row, plus how many rows were zero (left at zero, not normalised). */
type Atoms = Mat & { readonly nZero: number };

/** What the atom helpers need: any object with SAELens-named tensors (read or freshly trained). */
export type AtomSource = Pick<SaeWeights, 'dIn' | 'dSae' | 'tensors'> & { source?: SaeWeights['source'] };

/** Decoder atoms [d_sae, d_in]: the rows of W_dec, each scaled to unit length (docs/SCIENCE.md §1). */
export function decoderAtoms(w: AtomSource): Atoms {
  const wDecMD = requireMatrix(w, 'W_dec', w.dSae, w.dIn, 'd_sae×d_in');
  return unitRows(w, 'W_dec', wDecMD.data, w.dSae, w.dIn, (i, j) => i * w.dIn + j);
}

/**
 * Encoder atoms [d_sae, d_in]: the columns of W_enc [d_in, d_sae], each scaled to unit length (docs/SCIENCE.md §1).
 */
export function encoderAtoms(w: AtomSource): Atoms {
  const wEncDM = requireMatrix(w, 'W_enc', w.dIn, w.dSae, 'd_in×d_sae');
  return unitRows(w, 'W_enc', wEncDM.data, w.dSae, w.dIn, (i, j) => j * w.dSae + i);
}

function requireMatrix(w: AtomSource, name: string, rows: number, cols: number, dims: string): Tensor {
  const t = w.tensors[name];
  const where = w.source?.path ?? '(in-memory SAE)';
  if (t === undefined) {
    throw new DataError(where, name, 'missing', `${fmtShape(rows, cols)} (${dims})`);
  }
  if (t.shape.length !== 2 || t.shape[0] !== rows || t.shape[1] !== cols || t.data.length !== rows * cols) {
    throw new ShapeError(
      `${where}: ${name}: found ${fmtShape(...t.shape)} (${t.data.length} values), expected ${fmtShape(rows, cols)} ` +
        `(${dims})`,
    );
  }
  return t;
}

/**
 * Atom i gathers values at(i, j), j < D, and divides by their norm (accumulated in float64).
 * A row of exact zeros stays zero and is counted in `nZero`; a non-finite value is a DataError.
 */
function unitRows(
  w: AtomSource,
  name: string,
  src: Float32Array,
  nAtoms: number,
  dim: number,
  at: (i: number, j: number) => number,
): Atoms {
  const outMD = new Float32Array(nAtoms * dim);
  let nZero = 0;
  for (let i = 0; i < nAtoms; i++) {
    let ss = 0;
    for (let j = 0; j < dim; j++) {
      const v = src[at(i, j)];
      ss += v * v;
    }
    if (!Number.isFinite(ss)) {
      throw new DataError(
        w.source?.path ?? '(in-memory SAE)',
        `${name} atom ${i}`,
        'a non-finite value',
        'finite weights',
      );
    }
    if (ss === 0) {
      nZero++;
      continue;
    }
    const inv = 1 / Math.sqrt(ss);
    for (let j = 0; j < dim; j++) outMD[i * dim + j] = src[at(i, j)] * inv;
  }
  return { data: outMD, rows: nAtoms, cols: dim, nZero };
}
