/**
 * saveSae: a trained (raw-unit) SAE → a SAELens v6 directory (docs/FORMATS.md). The one path from sae/
 * objects to disk, used by `husai train` and the study runner alike: the architecture's export
 * gives the SAELens tensors, checkpoint/saelens.ts writes them atomically with the metadata that
 * rebuilds the run (seeds, steps, tokens, final metrics, full training config). It replaces only an
 * SAE directory husai wrote (cfg.json with husai metadata): a user's own SAELens checkpoint, or a
 * folder with any other file, is refused (issue 12; formats/owned.ts).
 */
import path from 'node:path';
import { checkOwnedFolder, readJsonObject } from '../formats/owned.js';
import {
  CFG_FILE,
  SAELENS_WEIGHTS,
  type SaeLensMetadata,
  type SaeWeightsToWrite,
  writeSaeLens,
} from './checkpoint/index.js';
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

const SAE_FILES = new Set([CFG_FILE, SAELENS_WEIGHTS, 'sparsity.safetensors']);

/** Whether `dir` holds an SAE husai wrote: cfg.json whose `metadata` carries `husai_version`. */
function isHusaiSaeDir(dir: string): boolean {
  const meta = readJsonObject(path.join(dir, CFG_FILE))?.metadata;
  if (typeof meta !== 'object' || meta === null) return false;
  return typeof (meta as Record<string, unknown>).husai_version === 'string';
}

/** Refuses (ForeignOutputError) a `dir` saveSae may not write: not missing, empty, or an SAE directory husai wrote. */
export function checkSaeTarget(dir: string): void {
  checkOwnedFolder(path.resolve(dir), isHusaiSaeDir, SAE_FILES, 'husai (an SAE directory husai saved)');
}

/** Writes `sae` to `dir` (replacing an earlier SAE directory husai wrote there) with `metadata` in cfg.json. */
export function saveSae(dir: string, sae: Sae, metadata: SaeLensMetadata): void {
  checkSaeTarget(dir);
  writeSaeLens(dir, saeWeightsToWrite(sae), { sae_config: sae.cfg, ...metadata });
}
