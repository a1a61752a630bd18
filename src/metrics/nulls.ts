/**
 * Chance levels for every similarity metric (docs/SCIENCE.md §4, "never report a stability number
 * without them"): the random-dictionary null — the same metric between dictionaries of the same
 * shapes whose atoms are Gaussian rows, normalised, mean ± sd over ≥ 10 seeded draws — and the
 * untrained-SAE null — the metric between freshly initialised SAEs, whose atoms a caller-supplied
 * factory produces (the SAE layer owns the init scheme; metrics/ never imports sae/). Plus the
 * reporting helpers `excess = value − null_mean` and `ratio = value / null_mean`.
 *
 * Seeding: draw k of a random null uses `Rng.from(seed, 'random-null', k)` forked into 'A' and 'B',
 * so a draw does not depend on how many draws are taken. Draw k of an untrained null builds the
 * pair from init seeds seed + 2k and seed + 2k + 1.
 *
 * Letter legend: N_A, N_B = atom counts, D = d_in.
 */
import { ConfigError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { type UnitAtoms, unitAtoms } from './cosine.js';

/** Mean ± sd of a null distribution, with its draws. */
export interface NullSummary {
  readonly mean: number;
  /** Sample standard deviation (n − 1 in the denominator); NaN with fewer than 2 draws. */
  readonly sd: number;
  readonly n: number;
  readonly values: Float64Array;
}

interface NullOptions {
  /** Number of draws (default 10; docs/SCIENCE.md §4 requires at least 10). */
  draws?: number;
  /** Base seed (default 0). */
  seed?: number;
}

/** The smallest number of null draws docs/SCIENCE.md §4 accepts. */
export const MIN_NULL_DRAWS = 10;

/** N unit atoms in R^D: Gaussian rows, normalised (the random dictionary of docs/SCIENCE.md §4). */
export function randomAtoms(n: number, d: number, rng: Rng, name = 'random atoms'): UnitAtoms {
  if (!Number.isInteger(n) || !Number.isInteger(d) || n < 0 || d < 1) {
    throw new ConfigError(`randomAtoms: need integers n ≥ 0 and d ≥ 1, got n = ${n}, d = ${d}`);
  }
  const aND = new Float32Array(n * d);
  rng.fillNormal(aND);
  return unitAtoms({ data: aND, rows: n, cols: d }, name);
}

/** Shapes of the two random dictionaries: N_A and N_B atoms of length D. */
interface NullShape {
  readonly nA: number;
  readonly nB: number;
  readonly d: number;
}

/**
 * The random-dictionary null of `metric` for dictionaries of `shape` (docs/SCIENCE.md §4), e.g.
 * `randomNull((a, b) => pwmcc(a, b).value, { nA: 1024, nB: 1024, d: 128 })`.
 */
export function randomNull(
  metric: (a: UnitAtoms, b: UnitAtoms) => number,
  shape: NullShape,
  opts: NullOptions = {},
): NullSummary {
  const { draws, seed } = checkOptions(opts);
  const values = new Float64Array(draws);
  for (let k = 0; k < draws; k++) {
    const rng = Rng.from(seed, 'random-null', k);
    const a = randomAtoms(shape.nA, shape.d, rng.fork('A'), `random atoms A (draw ${k})`);
    const b = randomAtoms(shape.nB, shape.d, rng.fork('B'), `random atoms B (draw ${k})`);
    values[k] = metric(a, b);
  }
  return summarizeNull(values);
}

/**
 * The untrained-SAE null (docs/SCIENCE.md §4): `metric` between two fresh initialisations, draw k using
 * init seeds seed + 2k and seed + 2k + 1. `factory(initSeed)` returns what `metric` compares — a
 * decoder atom matrix, or `{ enc, dec }` for the shared fraction — built with the same init scheme
 * as the trained SAEs.
 */
export function untrainedNull<T>(
  factory: (initSeed: number) => T,
  metric: (a: T, b: T) => number,
  opts: NullOptions = {},
): NullSummary {
  const { draws, seed } = checkOptions(opts);
  const values = new Float64Array(draws);
  for (let k = 0; k < draws; k++) values[k] = metric(factory(seed + 2 * k), factory(seed + 2 * k + 1));
  return summarizeNull(values);
}

/** Mean and sample sd of null draws. */
export function summarizeNull(values: ArrayLike<number>): NullSummary {
  const v = Float64Array.from(values);
  const n = v.length;
  let s = 0;
  for (let k = 0; k < n; k++) s += v[k];
  const mean = n === 0 ? NaN : s / n;
  let ss = 0;
  for (let k = 0; k < n; k++) ss += (v[k] - mean) * (v[k] - mean);
  return { mean, sd: n < 2 ? NaN : Math.sqrt(ss / (n - 1)), n, values: v };
}

/** value − null mean (docs/SCIENCE.md §4). */
export function excess(value: number, nul: NullSummary | number): number {
  return value - (typeof nul === 'number' ? nul : nul.mean);
}

/** value / null mean (docs/SCIENCE.md §4). */
export function ratio(value: number, nul: NullSummary | number): number {
  return value / (typeof nul === 'number' ? nul : nul.mean);
}

/** A metric value reported against its null (JSON-serialisable). */
interface AgainstNull {
  readonly value: number;
  readonly null_mean: number;
  readonly null_sd: number;
  readonly null_draws: number;
  readonly excess: number;
  readonly ratio: number;
  /** (value − null_mean) / null_sd: how many null sds above chance. */
  readonly z: number;
}

/** Bundles a value with its null for reports. */
export function againstNull(value: number, nul: NullSummary): AgainstNull {
  return {
    value,
    null_mean: nul.mean,
    null_sd: nul.sd,
    null_draws: nul.n,
    excess: excess(value, nul),
    ratio: ratio(value, nul),
    z: (value - nul.mean) / nul.sd,
  };
}

function checkOptions(opts: NullOptions): { draws: number; seed: number } {
  const draws = opts.draws ?? MIN_NULL_DRAWS;
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(draws) || draws < MIN_NULL_DRAWS) {
    throw new ConfigError(`null draws = ${draws}: docs/SCIENCE.md §4 needs an integer ≥ ${MIN_NULL_DRAWS}`);
  }
  if (!Number.isSafeInteger(seed)) throw new ConfigError(`null seed = ${seed}: expected a safe integer`);
  return { draws, seed };
}
