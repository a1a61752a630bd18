/**
 * study/: spec (YAML + schema), grid expansion, runner, store, provenance, analyses (DESIGN.md,
 * "Layers") — the layer that joins sae/, data/ and metrics/. Import from here.
 */
export { ANALYSES, type AnalysisName, type ParsedSpec, SpecError, type SpecIssue, type StudySpec, loadSpec, parseSpec } from './spec.js';
export { PARAMS, PARAM_NAMES, type ParamName } from './params.js';
export { RUN_ID_HEX, type ResolvedRun, type RunIdentity, expandSpec } from './expand.js';
export { type DataIdentity, type StudyData, loadStudyData, planData } from './data.js';
export { type ActiveRun, type RunnerHooks, type Shard, type StudyProgress, planPasses, shardRuns } from './runner.js';
export { DB_FILE, RUNS_DIR, StudyStore } from './store.js';
export { MANIFEST_FILE, gitCommit } from './provenance.js';
export { builtinSpecPath } from './default.js';
export { RESULTS_FILE, SPEC_COPY, type ReportWriter, type StudyOutcome, type StudyPlan, type WorkerPool, autoJobs, parseShard, planStudy, runLabel, runStudy } from './study.js';
export type * from './results.js';
export { type MergeOptions, mergeStudies } from './merge.js';
