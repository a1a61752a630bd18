/**
 * The synthetic-data registry (docs/SCIENCE.md §5): one generator per file, chosen by name. Adding a
 * generator = one file + one line in GENERATORS. `syntheticSource` wraps generated data as an
 * in-memory ActivationSource whose name records the full config.
 */
import { ConfigError } from '../../core/errors.js';
import { memorySource } from '../memory.js';
import type { ActivationSource } from '../source.js';
import { type CorrelatedConfig, type CorrelatedOptions, generateCorrelated } from './correlated.js';
import { type ExactKConfig, type ExactKOptions, generateExactK } from './exact-k.js';
import { type SynthbenchData, type SynthbenchOptions, generateSynthbench } from './synthbench.js';
import type { SyntheticData } from './types.js';

export type { SparseCodes, SyntheticData } from './types.js';
export { normalQuantile } from './normal-quantile.js';

export interface SyntheticKinds {
  'exact-k': { options: ExactKOptions; data: SyntheticData<ExactKConfig> };
  correlated: { options: CorrelatedOptions; data: SyntheticData<CorrelatedConfig> };
  synthbench: { options: SynthbenchOptions; data: SynthbenchData };
}
export type SyntheticKind = keyof SyntheticKinds;

const GENERATORS: { [K in SyntheticKind]: (opts: SyntheticKinds[K]['options']) => SyntheticKinds[K]['data'] } = {
  'exact-k': generateExactK,
  correlated: generateCorrelated,
  synthbench: generateSynthbench,
};

export const SYNTHETIC_KINDS = Object.keys(GENERATORS) as SyntheticKind[];

/** Generates `kind` data from `opts` (validated; a ConfigError names any bad field). */
export function generateSynthetic<K extends SyntheticKind>(
  kind: K,
  opts: SyntheticKinds[K]['options'],
): SyntheticKinds[K]['data'] {
  const gen = (GENERATORS as Record<string, unknown>)[kind] as
    ((o: SyntheticKinds[K]['options']) => SyntheticKinds[K]['data']) | undefined;
  if (gen === undefined)
    throw new ConfigError(`synthetic kind ${JSON.stringify(kind)}: expected one of ${SYNTHETIC_KINDS.join(', ')}`);
  return gen(opts);
}

/** An in-memory source over generated data, named e.g. `synthetic:exact-k(n=50000,d=64,features=128,k=4,seed=0)`. */
export function syntheticSource(data: SyntheticData<{ kind: string } & object>): ActivationSource {
  const { kind, ...rest } = data.config as { kind: string } & Record<string, unknown>;
  const args = Object.entries(rest)
    .map(([key, v]) => `${key}=${String(v)}`)
    .join(',');
  return memorySource(data.acts, `synthetic:${kind}(${args})`);
}
