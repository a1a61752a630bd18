/**
 * Training schedules (docs/SCIENCE.md §2, "Training defaults"): linear lr warm-up over the first
 * min(1000, 5%) steps, constant, then linear decay to zero over the last 20%; sparsity coefficient
 * warm-up (λ·min(1, step / (5% of steps))). Pure functions of the 1-based step.
 */

export interface LrSchedule {
  /** Peak learning rate. */
  lr: number;
  totalSteps: number;
  /** Linear warm-up length in steps (0: none). */
  warmupSteps: number;
  /** Fraction of steps at the end over which lr decays linearly to 0. */
  decayFraction: number;
}

/** Default warm-up length: min(1000, 5% of the steps), at least 1 step. */
export function defaultWarmupSteps(totalSteps: number): number {
  return Math.max(1, Math.min(1000, Math.round(0.05 * totalSteps)));
}

/** lr at 1-based `step`. */
export function lrAt(s: LrSchedule, step: number): number {
  let f = 1;
  if (s.warmupSteps > 0 && step <= s.warmupSteps) f = step / s.warmupSteps;
  const decaySteps = Math.round(s.decayFraction * s.totalSteps);
  const decayStart = s.totalSteps - decaySteps;
  if (decaySteps > 0 && step > decayStart) f = Math.min(f, (s.totalSteps - step + 1) / decaySteps);
  return s.lr * f;
}

/** Multiplier on λ at 1-based `step` for a warm-up over `fraction` of totalSteps. */
export function sparsityScaleAt(step: number, totalSteps: number, fraction: number): number {
  const w = Math.round(fraction * totalSteps);
  return w <= 0 ? 1 : Math.min(1, step / w);
}
