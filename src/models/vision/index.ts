/**
 * Pretrained vision models (nsfwjs's MobileNetV2, MobileNetV2Mid, InceptionV3 on tfjs-wasm) as
 * activation sources for `husai extract --source nsfwjs:NAME`. See nsfwjs.ts (loading), tap.ts
 * (layers), preprocess.ts (nsfwjs's input pipeline), source.ts (the ExtractionSource).
 */
import { type VisionModelName, checkVisionModel } from './names.js';
import { loadVisionModel } from './nsfwjs.js';
import { type LayerInfo, listLayers } from './tap.js';

export { initWasmBackend } from './backend.js';
export { type LoadedModel, loadVisionModel } from './nsfwjs.js';
export { listLayers, tapLayer } from './tap.js';
export { openVisionSource, type Pool } from './source.js';

/** The tappable layers of one model (loads it, lists, frees it). */
export async function listVisionLayers(name: VisionModelName | string): Promise<LayerInfo[]> {
  const m = await loadVisionModel(checkVisionModel(name));
  try {
    return listLayers(m);
  } finally {
    m.dispose();
  }
}
