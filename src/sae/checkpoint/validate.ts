/**
 * Checks a checkpoint's tensors by name and shape together (docs/FORMATS.md: "load by shape and name
 * together, never by name alone"). Every failure is a DataError naming the file, the tensor, the
 * shape found and the shape expected with where its dimensions came from, e.g.
 * `…/sae_weights.safetensors: W_dec: found [512×64], expected [64×512] (d_sae×d_in from cfg.json)`.
 */
import { DataError, fmtShape } from '../../core/errors.js';
import type { Tensor } from './types.js';

/** One expected dimension: its size and its name in messages (e.g. 16, "d_sae"). */
export interface Dim {
  size: number;
  name: string;
}

/** `[16×8] (d_sae×d_in from cfg.json)` */
export function describeExpected(dims: readonly Dim[], from: string): string {
  const names = dims.length === 0 ? 'scalar' : dims.map((d) => d.name).join('×');
  return `${fmtShape(...dims.map((d) => d.size))} (${names} from ${from})`;
}

/** `W_enc [8×16], b_enc [16], …` — what a file does hold, for "missing tensor" messages. */
export function describePresent(tensors: Record<string, Tensor>): string {
  const names = Object.keys(tensors).sort();
  return names.length === 0 ? 'none' : names.map((n) => `${n} ${fmtShape(...tensors[n].shape)}`).join(', ');
}

export function sameShape(shape: readonly number[], dims: readonly Dim[]): boolean {
  return shape.length === dims.length && dims.every((d, i) => shape[i] === d.size);
}

/**
 * Throws unless `tensors[name]` exists (when `required`) with exactly the shape `dims`. Returns it, or undefined when
 * absent and optional.
 */
export function expectTensor(
  file: string,
  tensors: Record<string, Tensor>,
  name: string,
  dims: readonly Dim[],
  from: string,
  required: boolean,
  hint?: (found: readonly number[]) => string | undefined,
): Tensor | undefined {
  const t = tensors[name];
  if (t === undefined) {
    if (!required) return undefined;
    throw new DataError(
      file,
      name,
      `missing (tensors present: ${describePresent(tensors)})`,
      describeExpected(dims, from),
    );
  }
  if (!sameShape(t.shape, dims)) {
    throw new DataError(file, name, fmtShape(...t.shape), describeExpected(dims, from), hint?.(t.shape));
  }
  return t;
}

/**
 * Hint for a 2-D tensor stored in the other orientation (found = reversed expected, non-square).
 * Never transposes silently: when the two sizes are equal the orientations cannot be told apart,
 * so guessing would be right only sometimes.
 */
export function transposedHint(
  name: string,
  dims: readonly Dim[],
  found: readonly number[],
  convention: string,
): string | undefined {
  if (dims.length !== 2 || found.length !== 2) return undefined;
  if (found[0] !== dims[1].size || found[1] !== dims[0].size || dims[0].size === dims[1].size) return undefined;
  return (
    `${name} looks transposed: ${convention} stores ${name} as [${dims[0].name}×${dims[1].name}]; ` +
    `transpose it before saving (torch: ${name}.T.contiguous()). husai does not transpose silently, ` +
    `because the two orientations look the same when ${dims[0].name} = ${dims[1].name}.`
  );
}

/** A positive integer cfg.json field, or a DataError naming it. */
export function cfgPositiveInt(file: string, cfg: Record<string, unknown>, key: string, why?: string): number {
  const v = cfg[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
    throw new DataError(
      file,
      key,
      v === undefined ? 'missing' : JSON.stringify(v),
      `a positive integer${why ? ` (${why})` : ''}`,
    );
  }
  return v;
}

/** Dedupe-pushes a warning. */
export function warnOnce(warnings: string[], w: string): void {
  if (!warnings.includes(w)) warnings.push(w);
}
