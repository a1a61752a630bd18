/**
 * SAE checkpoints: the neutral SaeWeights type, atom helpers (docs/SCIENCE.md §1), and readers/writers
 * for the directory layouts of docs/FORMATS.md ("SAE directories"). Import from here.
 */
export {
  type Atoms,
  type AtomSource,
  type SaeArchitecture,
  type SaeFormat,
  type SaeWeights,
  type Tensor,
  SAE_ARCHITECTURES,
  decoderAtoms,
  encoderAtoms,
} from './types.js';
export {
  type SaeLensMetadata,
  type SaeWeightsToWrite,
  SAELENS_LAYOUT_VERSION,
  readSaeLens,
  saeLensCfg,
  writeSaeLens,
} from './saelens.js';
export { readSparsify } from './sparsify.js';
export {
  type Layout,
  CFG_FILE,
  SAELENS_WEIGHTS,
  SPARSIFY_WEIGHTS,
  detectLayout,
  isSaeDir,
  listSaeDirs,
} from './layout.js';
export { type LoadSaeOptions, loadSae } from './load.js';
