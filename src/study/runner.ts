/**
 * The study runner: trains a study's runs into its store, resumably (store.ts "Commit protocol").
 *
 * Passes: runs that can share a pass over the data — same data, batch size, steps, data-order seed
 * and checkpoint steps — are trained together by one `trainMany` call (sae/train.ts), at most
 * `runs_per_pass` at a time (in run-id order). Sharing a pass saves reading and shuffling the data
 * once per run; a smaller pass commits sooner, so a crash loses at most one pass of work. Results do
 * not depend on which runs share a pass (sae/train.ts "Determinism"), so the grouping is free to
 * change between a crashed run, its resumption, and shards.
 *
 * Cores: the native engine runs GEMM and its kernels on all cores (HUSAI_THREADS, default all), so
 * one process already uses both; runs step one after another on each batch.
 *
 * Resume: on start the store self-check runs (selfcheck.ts): a run is skipped when its row says
 * done AND its folder, cfg.json files and weights (checkpoints included) match the row's hashes. A
 * run whose row says failed (a NumericError, deterministic for a given config) is skipped too. A
 * folder whose row was lost is restored from its husai-run.json; anything damaged is quarantined and
 * retrained.
 *
 * Shards: `--shard I/N` takes the runs whose index in the id-sorted run list is ≡ I (mod N). Within
 * a shard, runs are regrouped into passes as above, so runs sharing a data-order seed still share
 * passes (with in-memory data a pass costs little; with streamed files each shard reads the data
 * once per pass). Every shard writes its own directory; `mergeStudies` joins them.
 */
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { saveSae } from '../sae/save.js';
import { type CheckpointInfo, type RunResult, SMALL_STEP_WORK, runMetadata, trainMany } from '../sae/train.js';
import { SAELENS_WEIGHTS } from '../sae/checkpoint/index.js';
import type { StudyData } from './data.js';
import type { ResolvedRun } from './expand.js';
import { sha256File } from '../formats/io.js';
import { HUSAI_VERSION, NUMERICS_VERSION } from '../core/version.js';
import { computeEnvironment, gitCommit } from './provenance.js';
import { writeRunRecord } from './run-record.js';
import { checkpointRel, evaluationSample, firingFrequencies, promoteStaging, stagingDir } from './saedir.js';
import { type SelfCheck, selfCheck } from './selfcheck.js';
import { RUNS_DIR, type RunRow, type StudyStore } from './store.js';

export interface Shard {
  index: number;
  count: number;
}

export interface ActiveRun {
  id: string;
  label: string;
  step: number;
  totalSteps: number;
  /** Seconds until this run's pass ends, from the pass's rate so far (runs of a pass finish together). */
  etaSeconds: number | null;
}

export interface StudyProgress {
  phase: 'train' | 'analyse' | 'report' | 'done';
  /** Runs of this invocation (this shard): all, finished (trained, failed or skipped), skipped as already done. */
  runsTotal: number;
  runsDone: number;
  runsSkipped: number;
  runsFailed: number;
  /** Fraction of this invocation's training work done (by steps), 0..1. */
  fraction: number;
  elapsedSeconds: number;
  /** Seconds left in the current phase, estimated from its rate so far; null before any progress. */
  etaSeconds: number | null;
  /** Runs training in the current pass, with their step. */
  active: ActiveRun[];
  message: string | null;
}

export interface RunnerHooks {
  onProgress?: (p: StudyProgress) => void;
  /** Minimum milliseconds between onProgress calls while training (default 250). */
  progressIntervalMs?: number;
  /** Before a pass starts training these runs. */
  onRunsStart?: (runIds: string[]) => void;
  /**
   * After a run's row is committed; `committed` counts runs committed by this invocation. Throwing stops the study
   * there.
   */
  onRunCommitted?: (runId: string, committed: number) => void;
  /** What the store self-check repaired (a damaged run moved aside, a row restored), one line each. */
  onWarning?: (message: string) => void;
}

export interface TrainOutcome {
  trained: string[];
  skipped: string[];
  failed: string[];
  /** Wall seconds spent in passes by this invocation. */
  seconds: number;
  /** Partial directories removed before starting. */
  cleaned: string[];
  /** What the store self-check repaired. */
  warnings: string[];
}

/** The runs of shard I/N: index in the id-sorted list ≡ I (mod N). */
export function shardRuns(runs: readonly ResolvedRun[], shard: Shard | null): ResolvedRun[] {
  const sorted = [...runs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (!shard || shard.count === 1) return sorted;
  return sorted.filter((_, i) => i % shard.count === shard.index);
}

/**
 * The store self-check (selfcheck.ts): removes partial work, moves damaged runs aside, restores rows
 * from run folders; returns the ids that are finished (done and verified, or failed).
 */
export function reconcile(store: StudyStore, planned: readonly ResolvedRun[] | null = null): SelfCheck {
  return selfCheck(store, planned ? new Map(planned.map((r) => [r.id, r.configHash])) : null);
}

/** Groups runs into passes: compatible runs, at most `perPass` each, deterministic order. */
function planPasses(runs: readonly ResolvedRun[], perPass: number): ResolvedRun[][] {
  const groups = new Map<string, ResolvedRun[]>();
  for (const r of [...runs].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    const i = r.identity;
    const key = JSON.stringify([i.batchSize, i.steps, i.dataSeed, i.checkpoints]);
    const g = groups.get(key) ?? [];
    g.push(r);
    groups.set(key, g);
  }
  const passes: ResolvedRun[][] = [];
  for (const key of [...groups.keys()].sort()) {
    const g = groups.get(key) as ResolvedRun[];
    for (let i = 0; i < g.length; i += perPass) passes.push(g.slice(i, i + perPass));
  }
  return passes;
}

interface TrainRunsOptions {
  studyName: string;
  /** Worker processes (study.ts) skip the clean-up: their parent did it before spawning them. */
  skipReconcile?: boolean;
  runsPerPass: number;
  evalRows: number;
  shard: Shard | null;
  labels: Map<string, string>;
  hooks?: RunnerHooks;
  /** Every run of the spec (the self-check restores rows of these only); default: the runs to train. */
  planned?: readonly ResolvedRun[];
  /** The self-check's result when the caller ran it already (then it is not run again). */
  checked?: SelfCheck;
}

/** Trains every run of `runs` not finished in `store`. */
export async function trainRuns(
  store: StudyStore,
  data: StudyData,
  runs: readonly ResolvedRun[],
  opts: TrainRunsOptions,
): Promise<TrainOutcome> {
  const hooks = opts.hooks ?? {};
  const asIs = (): SelfCheck => ({ finished: new Map(store.runs().map((r) => [r.id, r])), cleaned: [], warnings: [] });
  const { finished, cleaned, warnings } =
    opts.checked ?? (opts.skipReconcile ? asIs() : reconcile(store, opts.planned ?? runs));
  if (!opts.skipReconcile && !opts.checked) for (const w of warnings) hooks.onWarning?.(w);
  const skipped = runs.filter((r) => finished.has(r.id)).map((r) => r.id);
  const todo = runs.filter((r) => !finished.has(r.id));
  const outcome: TrainOutcome = { trained: [], skipped, failed: [], seconds: 0, cleaned, warnings };
  const env = computeEnvironment();
  const totalWork = todo.reduce((s, r) => s + r.identity.steps, 0);
  let doneWork = 0;
  const t0 = performance.now();
  const interval = hooks.progressIntervalMs ?? 250;
  let lastEmit = -Infinity;
  const active = new Map<string, ActiveRun>();
  const emit = (force: boolean, message: string | null = null): void => {
    if (!hooks.onProgress) return;
    const now = performance.now();
    if (!force && now - lastEmit < interval) return;
    lastEmit = now;
    let cur = doneWork;
    for (const a of active.values()) cur += a.step;
    const fraction = totalWork > 0 ? Math.min(1, cur / totalWork) : 1;
    const elapsed = (now - t0) / 1000;
    hooks.onProgress({
      phase: 'train',
      runsTotal: runs.length,
      runsDone: skipped.length + outcome.trained.length + outcome.failed.length,
      runsSkipped: skipped.length,
      runsFailed: outcome.failed.length,
      fraction,
      elapsedSeconds: elapsed,
      etaSeconds: fraction > 0 ? (elapsed * (1 - fraction)) / fraction : null,
      active: [...active.values()],
      message,
    });
  };
  emit(true, skipped.length > 0 ? `${skipped.length} run(s) already done, skipped` : null);
  if (todo.length === 0) return outcome;

  const sample = await evaluationSample(data.source, opts.evalRows);
  let committed = 0;
  for (const pass of planPasses(todo, opts.runsPerPass)) {
    hooks.onRunsStart?.(pass.map((r) => r.id));
    const passStart = performance.now();
    const startedAt = new Date().toISOString();
    const byId = new Map(pass.map((r) => [r.id, r]));
    const stepSeconds = new Map(pass.map((r) => [r.id, 0]));
    for (const r of pass) {
      active.set(r.id, {
        id: r.id,
        label: opts.labels.get(r.id) ?? r.id,
        step: 0,
        totalSteps: r.identity.steps,
        etaSeconds: null,
      });
      const staging = stagingDir(store.dir, r.id);
      fs.rmSync(staging, { recursive: true, force: true });
      fs.mkdirSync(staging, { recursive: true });
    }
    let last = performance.now();
    // Step 0 is the initialisation (the trainer snapshots it before the first step).
    const onCheckpoint = (c: CheckpointInfo): void => {
      const r = byId.get(c.runId) as ResolvedRun;
      saveSae(path.join(stagingDir(store.dir, r.id), checkpointRel(c.step)), c.sae, {
        ...c.metadata,
        ...runMeta(opts.studyName, r),
      });
    };
    const results: RunResult[] = await trainMany(
      data.source,
      pass.map((r) => r.runConfig),
      {
        batchSize: pass[0].identity.batchSize,
        steps: pass[0].identity.steps,
        checkpointSteps: pass[0].identity.checkpoints,
        onCheckpoint,
        failFast: false,
        onProgress: (p) => {
          const now = performance.now();
          stepSeconds.set(p.runId, (stepSeconds.get(p.runId) ?? 0) + (now - last) / 1000);
          last = now;
          const a = active.get(p.runId);
          if (a) {
            a.step = p.step;
            a.etaSeconds = ((now - passStart) / 1000 / p.step) * (p.totalSteps - p.step);
          }
          emit(false);
        },
      },
    );
    const trainWall = (performance.now() - passStart) / 1000;
    const sumStep = [...stepSeconds.values()].reduce((s, v) => s + v, 0);
    for (const res of results) {
      const r = byId.get(res.id) as ResolvedRun;
      const tWrite = performance.now();
      const staging = stagingDir(store.dir, r.id);
      const row = baseRow(r, env, opts.shard, startedAt);
      const share = sumStep > 0 ? ((stepSeconds.get(r.id) ?? 0) / sumStep) * trainWall : trainWall / pass.length;
      if (res.error || !res.final) {
        fs.rmSync(staging, { recursive: true, force: true });
        row.status = 'failed';
        row.error = res.error?.message ?? 'no final metrics';
        row.seconds = share;
        store.commitRun(row, res.history, []);
        outcome.failed.push(r.id);
      } else {
        const { freqM, rows } = firingFrequencies(res.sae, sample);
        const f = res.final;
        saveSae(path.join(staging, '.final'), res.sae, { ...runMetadata(res), ...runMeta(opts.studyName, r) });
        const cks = r.identity.checkpoints.map((step) => ({
          runId: r.id,
          step,
          dir: path.posix.join(RUNS_DIR, r.id, checkpointRel(step)),
          sha256: sha256File(path.join(staging, checkpointRel(step), SAELENS_WEIGHTS)).sha256,
        }));
        row.weightsSha256 = sha256File(path.join(staging, '.final', SAELENS_WEIGHTS)).sha256;
        row.final = JSON.stringify(f);
        row.firing = freqM;
        row.evalRows = rows;
        row.seconds = share + (performance.now() - tWrite) / 1000;
        // The folder describes itself before it is published, so a lost database row can be restored.
        writeRunRecord(path.join(staging, '.final'), { row, curve: res.history, checkpoints: cks });
        const weightsSha = promoteStaging(store.dir, staging, r.id);
        if (weightsSha !== row.weightsSha256) {
          throw new Error(`${store.runDir(r.id)}: weights changed while being published`);
        }
        store.commitRun(row, res.history, cks);
        outcome.trained.push(r.id);
      }
      doneWork += r.identity.steps;
      active.delete(r.id);
      committed++;
      emit(true, `${r.id} ${row.status}`);
      hooks.onRunCommitted?.(r.id, committed);
    }
    outcome.seconds += (performance.now() - passStart) / 1000;
  }
  return outcome;
}

/** Study metadata in every cfg.json of a run (docs/FORMATS.md: husai adds a study and run id). */
function runMeta(study: string, r: ResolvedRun): Record<string, unknown> {
  return { study, run: r.id, config_hash: r.configHash, run_config: r.identity as unknown as Record<string, unknown> };
}

/** Threads a run steps on: the trainer's threads 'auto' rule (sae/train-config.ts SMALL_STEP_WORK). */
export function runThreads(r: ResolvedRun, engineThreads: number): number {
  return r.identity.batchSize * r.identity.sae.dIn * r.identity.sae.dSae < SMALL_STEP_WORK ? 1 : engineThreads;
}

function baseRow(
  r: ResolvedRun,
  env: ReturnType<typeof computeEnvironment>,
  shard: Shard | null,
  startedAt: string,
): RunRow {
  return {
    id: r.id,
    cell: r.cellId,
    configHash: r.configHash,
    config: JSON.stringify(r.identity),
    params: JSON.stringify(r.params),
    status: 'done',
    error: null,
    dir: path.posix.join(RUNS_DIR, r.id),
    weightsSha256: null,
    final: null,
    firing: null,
    evalRows: null,
    seconds: 0,
    startedAt,
    finishedAt: new Date().toISOString(),
    engine: env.engine,
    threads: runThreads(r, env.threads),
    host: os.hostname(),
    shard: shard && shard.count > 1 ? `${shard.index}/${shard.count}` : null,
    husaiVersion: HUSAI_VERSION,
    numericsVersion: NUMERICS_VERSION,
    gitCommit: gitCommit(),
    blas: env.blas,
  };
}
