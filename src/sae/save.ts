/**
 * saveSae: a trained (raw-unit) SAE → a SAELens v6 directory (FORMATS.md). The one path from sae/
 * objects to disk, used by `husai train` and the study runner alike: the architecture's export
 * gives the SAELens tensors, checkpoint/saelens.ts writes them atomically with the metadata that
 * rebuilds the run (seeds, steps, tokens, final metrics, full training config).
 */
import { type SaeLensMetadata, type SaeWeightsToWrite, writeSaeLens } from './checkpoint/index.js';
import { getArch } from './registry.js';
import type { Sae } from './types.js';

/** The SAE as SAELens-named tensors with shapes, ready for writeSaeLens. */
export function saeWeightsToWrite(sae: Sae): SaeWeightsToWrite {
  const arch = getArch(sae.cfg.arch);
  const exp = arch.exportSaeLens(sae);
  const tensors: SaeWeightsToWrite['tensors'] = {};
  for (const [name, data] of Object.entries(exp.tensors)) tensors[name] = { shape: exp.shapes[name], data };
  return {
    architecture: arch.saeLens.name as SaeWeightsToWrite['architecture'],
    dIn: sae.cfg.dIn,
    dSae: sae.cfg.dSae,
    tensors,
    ...(sae.cfg.k !== null ? { k: sae.cfg.k } : {}),
  };
}

/** Writes `sae` to `dir` (replacing an earlier SAE directory there) with `metadata` in cfg.json. */
export function saveSae(dir: string, sae: Sae, metadata: SaeLensMetadata): void {
  writeSaeLens(dir, saeWeightsToWrite(sae), { sae_config: sae.cfg, ...metadata });
}
