/** Shared helpers for the SAE tests: engines to run on, random inputs, perturbed SAEs. */
import { Rng } from '../../src/core/rng.js';
import { createEngine, getEngine } from '../../src/engine/index.js';
import type { Engine } from '../../src/engine/types.js';
import { initSae, resolveConfig } from '../../src/sae/registry.js';
import type { Sae, SaeConfigInput } from '../../src/sae/types.js';

/** The engine under test (HUSAI_ENGINE picks; native when it loads). */
export function engine(): Engine {
  return getEngine();
}

/** The native engine, or null when the addon is unavailable in this checkout. */
export function nativeOrNull(): Engine | null {
  try {
    return createEngine('native');
  } catch {
    return null;
  }
}

export function randn(rng: Rng, n: number, sd = 1): Float32Array {
  const a = new Float32Array(n);
  rng.fillNormal(a, 0, sd);
  return a;
}

/**
 * An SAE whose every tensor is moved off its init (biases non-zero, decoder norms ≠ 1, thresholds
 * spread) so that gradient checks exercise every path.
 */
export function perturbedSae(input: SaeConfigInput, seed: number): Sae {
  const cfg = resolveConfig(input);
  const sae = initSae(cfg, seed);
  const rng = Rng.from(seed, 'perturb');
  for (const [name, t] of Object.entries(sae.params)) {
    if (name === 'log_threshold') {
      for (let i = 0; i < t.length; i++) t[i] = Math.log(0.05 + 0.3 * rng.uniform());
    } else if (name === 'W_dec') {
      for (let i = 0; i < t.length; i++) t[i] *= 0.8 + 0.4 * rng.uniform();
    } else {
      for (let i = 0; i < t.length; i++) t[i] += 0.2 * rng.normal();
    }
  }
  return sae;
}
