/**
 * study/: spec (YAML + schema), grid expansion, runner, store, provenance, analyses (docs/ARCHITECTURE.md,
 * "Layers") — the layer that joins sae/, data/ and metrics/. Import from here.
 */
export { type Shard, type StudyProgress, shardRuns } from './runner.js';
export { DB_FILE } from './store.js';
export { builtinSpecPath } from './default.js';
export {
  type ReportWriter,
  type StudyOutcome,
  type WorkerPool,
  autoJobs,
  parseShard,
  planStudy,
  runStudy,
} from './study.js';
export type * from './results.js';
export { mergeStudies } from './merge.js';
