/**
 * sae/: SAE architectures (docs/SCIENCE.md §2), the many-SAEs-per-pass trainer and SAELens export.
 * Import from here. (Checkpoint reading/writing lives in sae/checkpoint/ and sae/save.ts.)
 */
export type {
  ArchName,
  Architecture,
  LossParts,
  ReluVariant,
  ResampleContext,
  Sae,
  SaeArchitecture,
  SaeConfig,
  SaeConfigInput,
  SaeField,
  SaeLensExport,
  SaeLensForm,
  SaeLensTensor,
  SaeStep,
  StepOptions,
  TensorMap,
} from './types.js';
export {
  archBySaeLens,
  archNames,
  archsResampling,
  archsUsing,
  getArch,
  initSae,
  resolveConfig,
  saeLensNames,
} from './registry.js';
export {
  type BatchStream,
  type CheckpointInfo,
  type FinalMetrics,
  type Progress,
  type RunConfig,
  type RunResult,
  type StepMetrics,
  type TrainHyper,
  type TrainOptions,
  DEFAULT_HYPER,
  DEFAULT_MIN_STEPS,
  SAMPLE_SEED,
  SMALL_STEP_WORK,
  defaultBatchSize,
  defaultSteps,
  runMetadata,
  train,
  trainMany,
} from './train.js';
export { saeWeightsToWrite, saveSae } from './save.js';
export { estimateInputScale, foldInputScale } from './normalize.js';
export { type EvalResult, evaluateStep, explainedVariance, totalVariance } from './evaluate.js';
export { geometricMedian } from './geomedian.js';
export { setReluPath } from './relu.js';
