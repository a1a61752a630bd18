/**
 * Matryoshka BatchTopK SAE (Bussmann et al. 2025; docs/SCIENCE.md §2 "Matryoshka BatchTopK"): BatchTopK
 * whose latents are split into nested prefixes; loss = Σ over prefixes of the MSE of reconstructing
 * x from that prefix alone (+ α·AuxK). The step is BatchTopKStep with `prefixEnds` (batchtopk.ts
 * explains the prefix gradient). Default group fractions 1/32, 1/16, 1/8, 1/4 and the rest, so the
 * prefixes end at m/32, 3m/32, 7m/32, 15m/32 and m. Exported as `matryoshka_batchtopk` with a
 * JumpReLU-style uniform `threshold`.
 */
import { ConfigError } from '../core/errors.js';
import {
  BATCHTOPK_DEFAULTS,
  BATCHTOPK_FIELDS,
  BatchTopKStep,
  batchTopKForm,
  exportBatchTopK,
  initBatchTopK,
  resolveBatchTopK,
} from './batchtopk.js';
import { type Architecture, type SaeConfig, type SaeConfigInput, type SaeField, topkFamilyLr } from './types.js';

const DEFAULT_GROUP_FRACTIONS = [1 / 32, 1 / 16, 1 / 8, 1 / 4];

/** Prefix ends from group fractions (each group ≥ 1 latent; the last group takes the rest). */
export function prefixEnds(dSae: number, fractions: readonly number[]): number[] {
  const ends: number[] = [];
  let at = 0;
  for (const f of fractions) {
    if (!(f > 0 && f < 1)) throw new ConfigError(`matryoshka: groupFractions entry ${f}: expected a number in (0, 1)`);
    at += Math.max(1, Math.round(f * dSae));
    if (at >= dSae)
      throw new ConfigError(
        `matryoshka: groupFractions [${fractions.join(', ')}] leave no latents for the last group at dSae = ${dSae}`,
      );
    ends.push(at);
  }
  ends.push(dSae);
  return ends;
}

const FIELDS: readonly SaeField[] = [...BATCHTOPK_FIELDS, 'groupFractions'];

export const matryoshka: Architecture<'matryoshka', 'matryoshka_batchtopk'> = {
  name: 'matryoshka',
  fields: FIELDS,
  defaults: { ...BATCHTOPK_DEFAULTS, groupFractions: DEFAULT_GROUP_FRACTIONS },
  saeLens: batchTopKForm('matryoshka_batchtopk'),
  resolve(input: SaeConfigInput): SaeConfig {
    const cfg = resolveBatchTopK(input, FIELDS);
    return { ...cfg, prefixEnds: prefixEnds(cfg.dSae, input.groupFractions ?? DEFAULT_GROUP_FRACTIONS) };
  },
  defaultLr: (cfg) => topkFamilyLr(cfg.dSae),
  init: initBatchTopK,
  createStep: (sae, batch, engine) => new BatchTopKStep(sae, batch, engine),
  exportSaeLens: exportBatchTopK,
};
