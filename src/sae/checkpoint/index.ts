/**
 * SAE checkpoints: the neutral SaeWeights type, atom helpers (docs/SCIENCE.md §1), and readers/writers
 * for the directory layouts of docs/FORMATS.md ("SAE directories"). Import from here.
 */
export { type SaeArchitecture, type SaeWeights, SAE_ARCHITECTURES, decoderAtoms, encoderAtoms } from './types.js';
export { type SaeLensMetadata, type SaeWeightsToWrite, saeLensCfg, writeSaeLens } from './saelens.js';
export { CFG_FILE, SAELENS_WEIGHTS } from './layout.js';
export { loadSae } from './load.js';
