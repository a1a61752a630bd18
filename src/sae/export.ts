/**
 * SAELens export (FORMATS.md, "SAE directories"): the architecture's tensors and cfg fields plus
 * husai's metadata (seeds, steps, tokens, final metrics, full training config). The SAE passed in
 * must already be in raw-activation units (normalize.ts `foldInputScale`); trainMany's results are.
 * Writing the files (safetensors + cfg.json) belongs to formats/; this builds the content.
 */
import { HUSAI_VERSION } from '../core/version.js';
import { getArch } from './registry.js';
import type { Sae, SaeLensExport } from './types.js';

/** Tensors + cfg.json content. `metadata` is merged into cfg.metadata after husai's own fields. */
export function exportSaeLens(sae: Sae, metadata: Record<string, unknown> = {}): SaeLensExport {
  const out = getArch(sae.cfg.arch).exportSaeLens(sae);
  out.cfg = {
    ...out.cfg,
    architecture: out.architecture,
    dtype: 'float32',
    device: 'cpu',
    apply_b_dec_to_input: true,
    normalize_activations: 'none',
    metadata: { husai_version: HUSAI_VERSION, sae_config: sae.cfg, ...metadata },
  };
  return out;
}
