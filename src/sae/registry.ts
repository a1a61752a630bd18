/**
 * The architecture registry (DESIGN.md: "one architecture per file under sae/ registered by name").
 * A new architecture = one file + one line here + one row in test/sae/arch-table.ts.
 */
import { ConfigError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { batchtopk } from './batchtopk.js';
import { gated } from './gated.js';
import { jumprelu } from './jumprelu.js';
import { matryoshka } from './matryoshka.js';
import { relu } from './relu.js';
import { topk } from './topk.js';
import type { ArchName, Architecture, Sae, SaeConfig, SaeConfigInput } from './types.js';

const ARCHITECTURES: Record<ArchName, Architecture> = { relu, topk, batchtopk, jumprelu, gated, matryoshka };

/** Every registered architecture name. */
export function archNames(): ArchName[] {
  return Object.keys(ARCHITECTURES) as ArchName[];
}

/** The architecture registered as `name`; ConfigError listing the known names otherwise. */
export function getArch(name: string): Architecture {
  const a = (ARCHITECTURES as Record<string, Architecture | undefined>)[name];
  if (!a) throw new ConfigError(`unknown SAE architecture '${name}': expected one of ${archNames().join(', ')}`);
  return a;
}

/** Validates a config input against its architecture (defaults filled). */
export function resolveConfig(input: SaeConfigInput): SaeConfig {
  return getArch(input.arch).resolve(input);
}

/** A fresh SAE from a config and an init stream (e.g. `Rng.from(seed, 'init')`). */
export function initSae(cfg: SaeConfig, rng: Rng): Sae {
  return getArch(cfg.arch).init(cfg, rng);
}
