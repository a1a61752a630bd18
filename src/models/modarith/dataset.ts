/**
 * The modular-arithmetic task (docs/SCIENCE.md §5): every pair (a, b) ∈ [0, p)², input tokens
 * [a, b, =] with "=" the extra token p, and the target at the "=" position. Task `add` asks for
 * c = (a + b) mod p, which appears nowhere in the input; task `copy` asks for a, which is the first
 * input token — the control with the label in the input, i.e. what HUSAI's broken testbed really
 * trained (a model that copies rather than computes).
 *
 * Pair order is a-major (pair i = a·p + b), so any per-pair array reshapes to the p × p grid the
 * Fourier analysis reads. The train/validation split is a seeded permutation of the pairs.
 */
import { ConfigError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';

export const TASKS = ['add', 'copy'] as const;
export type Task = (typeof TASKS)[number];

/** Sequence length: [a, b, =]. */
export const SEQ_LEN = 3;
/** Names of the three positions, as `--position` takes them. */
export const POSITIONS = ['a', 'b', 'eq'] as const;
export type PositionName = (typeof POSITIONS)[number];

export interface ModArithData {
  p: number;
  task: Task;
  /** Input tokens [p², 3], pair-major: tokens[3i .. 3i+2] = [a, b, p]. */
  tokens: Int32Array;
  /** Target per pair [p²]. */
  targets: Int32Array;
  /** Pair indices in the training split (ascending). */
  train: Int32Array;
  /** Pair indices in the validation split (ascending). */
  val: Int32Array;
}

export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

/** The target of one pair under a task. */
function target(task: Task, a: number, b: number, p: number): number {
  return task === 'add' ? (a + b) % p : a;
}

/**
 * All p² pairs with targets and a seeded split: `trainFrac` of the pairs (rounded) for training,
 * the rest for validation. Same (p, trainFrac, splitSeed) → the same split, whatever the task.
 */
export function makeModArith(p: number, task: Task, trainFrac: number, splitSeed: number): ModArithData {
  if (!isPrime(p))
    throw new ConfigError(
      `modarith: p = ${p} must be a prime (the Fourier structure of (a + b) mod p needs a field); e.g. 113`,
    );
  if (p > 1000) throw new ConfigError(`modarith: p = ${p} gives ${p * p} pairs; use p ≤ 1000`);
  if (!(trainFrac > 0 && trainFrac < 1))
    throw new ConfigError(`modarith: train_frac = ${trainFrac} must be in (0, 1); the published recipe uses 0.3`);
  if (!TASKS.includes(task))
    throw new ConfigError(`modarith: task "${String(task)}" is not one of ${TASKS.join(', ')}`);
  const P2 = p * p;
  const tokens = new Int32Array(P2 * SEQ_LEN);
  const targets = new Int32Array(P2);
  for (let a = 0; a < p; a++) {
    for (let b = 0; b < p; b++) {
      const i = a * p + b;
      tokens[3 * i] = a;
      tokens[3 * i + 1] = b;
      tokens[3 * i + 2] = p;
      targets[i] = target(task, a, b, p);
    }
  }
  const perm = Rng.from(splitSeed, 'modarith-split').permutation(P2);
  const nTrain = Math.round(trainFrac * P2);
  if (nTrain < 1 || nTrain >= P2)
    throw new ConfigError(`modarith: train_frac = ${trainFrac} leaves an empty split at p = ${p}`);
  const train = Int32Array.from(perm.subarray(0, nTrain)).sort();
  const val = Int32Array.from(perm.subarray(nTrain)).sort();
  return { p, task, tokens, targets, train, val };
}

/** Tokens [n, 3] and targets [n] of the given pairs, in that order. */
export function selectPairs(data: ModArithData, pairs: Int32Array): { tokens: Int32Array; targets: Int32Array } {
  const tokens = new Int32Array(pairs.length * SEQ_LEN);
  const targets = new Int32Array(pairs.length);
  for (let j = 0; j < pairs.length; j++) {
    const i = pairs[j];
    tokens.set(data.tokens.subarray(3 * i, 3 * i + 3), 3 * j);
    targets[j] = data.targets[i];
  }
  return { tokens, targets };
}
