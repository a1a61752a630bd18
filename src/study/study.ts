/**
 * A study end to end (docs/ARCHITECTURE.md "The flow": SAE training → checkpoints → stability analysis →
 * study store → report): spec → planned runs → training into the store (runner.ts) → analyses
 * (analysis/) → DIR/results.json + manifest → report (merge.ts joins shard directories and finishes
 * the study from them the same way). The report is written by a caller-supplied function, so
 * study/ does not depend on report/ (which reads only results.json).
 *
 * Spec hash: sha256 of the validated spec (defaults filled, sorted keys) together with the data
 * identity — equal for every shard of a study, different as soon as anything a run or an analysis
 * depends on changes; merging requires equal hashes. A directory may be reused by a changed spec as
 * long as every run it holds is a run of that spec (changed analysis settings, added seeds or widths:
 * finished runs are kept, new ones trained, the analyses redone); otherwise it is refused.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../core/errors.js';
import { writeFileAtomic } from '../formats/io.js';
import { stableJson } from '../sae/checkpoint/saelens.js';
import { analyseStudy } from './analysis/index.js';
import { type AnalysisData, type DataIdentity, type DataPlan, analysisData, loadStudyData, planData } from './data.js';
import { type ResolvedRun, expandSpec, sha256 } from './expand.js';
import {
  MANIFEST_FILE,
  checkMixed,
  computeEnvironment,
  currentProvenance,
  manifestInputs,
  writeManifest,
} from './provenance.js';
import type { StudyResults } from './results.js';
import {
  type RunnerHooks,
  type Shard,
  type StudyProgress,
  type TrainOutcome,
  reconcile,
  runThreads,
  shardRuns,
  trainRuns,
} from './runner.js';
import { acquireLock } from './lock.js';
import { type ParsedSpec, type StudySpec, loadSpec, parseSpec } from './spec.js';
import { DB_FILE, STORE_FORMAT, StudyStore, assertStudyFolder } from './store.js';

export const RESULTS_FILE = 'results.json';
export const SPEC_COPY = 'spec.yaml';

/** Writes the report for a finished study; returns the report's path. */
export type ReportWriter = (
  studyDir: string,
  results: StudyResults,
) => Promise<string | null | void> | string | null | void;

interface StudyPlan {
  parsed: ParsedSpec;
  specFile: string;
  specDir: string;
  data: DataPlan;
  runs: ResolvedRun[];
  specHash: string;
}

/** Parses, validates and expands a spec without touching the activations (files are hashed). */
export function planStudy(
  specFile: string,
  opts: { text?: string; specDir?: string; identity?: DataIdentity; maxRuns?: number } = {},
): StudyPlan {
  const parsed = opts.text !== undefined ? parseSpec(opts.text, specFile) : loadSpec(specFile);
  const specDir = opts.specDir ?? path.dirname(path.resolve(specFile));
  const data = planData(parsed.spec, specDir, parsed.source, opts.identity);
  const runs = expandSpec(parsed.spec, parsed.source, {
    data: data.identity,
    d: data.d,
    rows: data.rows,
    features: data.features,
    maxRuns: opts.maxRuns,
  });
  return { parsed, specFile, specDir, data, runs, specHash: specHash(parsed.spec, data.identity) };
}

function specHash(spec: StudySpec, identity: DataIdentity): string {
  return sha256(stableJson({ format: 'husai-study-spec/1', spec, data: identity }));
}

export interface StudyTimings {
  trainSeconds: number;
  analysisSeconds: number;
  reportSeconds: number;
  totalSeconds: number;
}

export interface StudyOutcome {
  dir: string;
  specHash: string;
  /** Runs of the whole spec, and of this invocation (its shard). */
  runsTotal: number;
  runsHere: number;
  trained: string[];
  skipped: string[];
  failed: string[];
  /** Spec runs without a row after this invocation (other shards, or not merged). */
  missing: number;
  /** Runs copied in by `husai study merge` (empty for a training invocation). */
  merged: string[];
  cleaned: string[];
  /** What the store self-check repaired (quarantined runs, restored rows), one line each. */
  warnings: string[];
  /** Runs of this invocation (its shard) that finished without error, now in the store (absent after a merge). */
  done?: number;
  /** The first stored error among this invocation's failed runs, "run ID: message" (null when none failed). */
  firstError?: string | null;
  results: StudyResults | null;
  resultsPath: string | null;
  reportPath: string | null;
  timings: StudyTimings;
}

/** Worker processes for one study (spawned by the caller; each runs `runStudy` with `worker`). */
export interface WorkerPool {
  count: number;
  /** Starts worker `index` of `count` on the study directory `dir`; resolves when it has exited cleanly. */
  spawn: (index: number, count: number, dir: string) => Promise<void>;
}

interface RunStudyOptions {
  /** Output directory (default: runs/<name> under `cwd`). */
  out?: string;
  cwd?: string;
  shard?: Shard | null;
  /** Run the analyses (default: yes unless this is one shard of several). */
  analyse?: boolean;
  hooks?: RunnerHooks;
  report?: ReportWriter | null;
  /** Train the shard's unfinished runs in worker processes (slice k of count each), then analyse here. */
  workers?: WorkerPool | null;
  /** This process is worker k of count inside a parent's study (no lock, no clean-up, no analyses). */
  worker?: Shard | null;
  /** Train on in a folder whose runs came from another numerics version or engine (provenance.ts checkMixed). */
  allowMixed?: boolean;
  /** Most runs the spec may plan (default expand.ts MAX_RUNS = 10,000); more is refused before expanding. */
  maxRuns?: number;
  /** The plan of `specFile` with the same maxRuns, when the caller has made it already (not planned twice). */
  plan?: StudyPlan;
}

/**
 * Trains (resuming) and analyses the study of `specFile`.
 *
 * Workers: with `workers`, the parent takes the directory lock, cleans up partial work, and spawns
 * the workers on the same directory; worker k trains the unfinished runs of slice k/count of the
 * shard (shardRuns again), committing into the shared store (SQLite WAL serialises the commits;
 * each run has its own directory and staging name). The parent then analyses. Results are the same
 * bytes as in one process whenever the runs' thread count is the same (sae/train.ts "Determinism":
 * runs below SMALL_STEP_WORK always step on one thread).
 */
export async function runStudy(specFile: string, opts: RunStudyOptions = {}): Promise<StudyOutcome> {
  const t0 = performance.now();
  const plan = opts.plan ?? planStudy(specFile, { maxRuns: opts.maxRuns });
  const { spec, source } = plan.parsed;
  const dir = path.resolve(opts.cwd ?? process.cwd(), opts.out ?? path.join('runs', spec.name));
  const shard = opts.shard ?? null;
  for (const [name, s] of [
    ['shard', shard],
    ['worker', opts.worker ?? null],
  ] as const) {
    if (
      s &&
      !(Number.isInteger(s.count) && s.count >= 1 && Number.isInteger(s.index) && s.index >= 0 && s.index < s.count)
    ) {
      throw new ConfigError(`${name} ${s.index}/${s.count}: expected I/N with 0 ≤ I < N`);
    }
  }
  const mine = shardRuns(plan.runs, shard);
  const labels = new Map(plan.runs.map((r) => [r.id, runLabel(r)]));
  const trainOpts = {
    studyName: spec.name,
    runsPerPass: spec.runs_per_pass,
    evalRows: spec.eval_rows,
    shard,
    labels,
    hooks: opts.hooks,
    planned: plan.runs,
  };
  type Trained = {
    trained: string[];
    skipped: string[];
    failed: string[];
    cleaned: string[];
    warnings: string[];
    seconds: number;
  };
  const outcome = (store: StudyStore, t: Trained, fin: Finished | null): StudyOutcome => {
    const rows = store.runs();
    const done = new Set(rows.map((r) => r.id));
    const ids = new Set(mine.map((r) => r.id));
    const minePresent = rows.filter((r) => ids.has(r.id));
    const failedRow = minePresent.find((r) => r.status === 'failed');
    return {
      done: minePresent.filter((r) => r.status === 'done').length,
      firstError: failedRow ? firstErrorOf(failedRow.id, failedRow.error) : null,
      dir,
      specHash: plan.specHash,
      runsTotal: plan.runs.length,
      runsHere: mine.length,
      trained: t.trained,
      skipped: t.skipped,
      failed: t.failed,
      missing: plan.runs.filter((r) => !done.has(r.id)).length,
      merged: [],
      cleaned: t.cleaned,
      warnings: t.warnings,
      results: fin?.results ?? null,
      resultsPath: fin ? path.join(dir, RESULTS_FILE) : null,
      reportPath: fin?.reportPath ?? null,
      timings: {
        trainSeconds: t.seconds,
        analysisSeconds: fin?.analysisSeconds ?? 0,
        reportSeconds: fin?.reportSeconds ?? 0,
        totalSeconds: (performance.now() - t0) / 1000,
      },
    };
  };

  if (opts.worker) {
    const store = StudyStore.openExisting(dir);
    try {
      if (store.getMeta('spec_hash') !== plan.specHash)
        throw new ConfigError(
          `${dir}: spec hash ${store.getMeta('spec_hash')?.slice(0, 12)} is not ${plan.specHash.slice(0, 12)} of ` +
            `${specFile}`,
        );
      const data = loadStudyData(spec, plan.specDir, source);
      const t = await trainRuns(store, data, shardRuns(mine, opts.worker), { ...trainOpts, skipReconcile: true });
      return outcome(store, t, null);
    } finally {
      store.close();
    }
  }

  assertStudyFolder(dir);
  const release = acquireLock(dir);
  let store: StudyStore;
  try {
    store = openStudyStore(dir, plan, plan.data.identity);
  } catch (err) {
    release();
    throw err;
  }
  try {
    // The self-check first (it may restore rows from run folders), then the provenance check on every row.
    const check = reconcile(store, plan.runs);
    for (const w of check.warnings) opts.hooks?.onWarning?.(w);
    checkMixed(dir, store.runs(), currentProvenance(), opts.allowMixed === true);
    const env = computeEnvironment();
    store.transaction(() => {
      store.setMeta('engine', env.engine);
      store.setMeta('blas_core', env.blasCore);
      store.setMeta('threads', String(env.threads));
    });
    let t: TrainOutcome;
    let gt: AnalysisData['gt'] = null;
    const pool = opts.workers && opts.workers.count > 1 ? opts.workers : null;
    const finished = check.finished;
    const todo = mine.filter((r) => !finished.has(r.id));
    if (pool && todo.length > 1) {
      const count = Math.min(pool.count, todo.length);
      const t1 = performance.now();
      // Wait for every worker, even after one failed: the others are still inside this directory's lock.
      const settled = await Promise.allSettled(Array.from({ length: count }, (_, k) => pool.spawn(k, count, dir)));
      const failedWorker = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected');
      if (failedWorker) throw failedWorker.reason;
      const rows = new Map(store.runs().map((r) => [r.id, r]));
      t = {
        trained: todo.filter((r) => rows.get(r.id)?.status === 'done').map((r) => r.id),
        failed: todo.filter((r) => rows.get(r.id)?.status === 'failed').map((r) => r.id),
        skipped: mine.filter((r) => finished.has(r.id)).map((r) => r.id),
        cleaned: check.cleaned,
        warnings: check.warnings,
        seconds: (performance.now() - t1) / 1000,
      };
      const missing = todo.filter((r) => !rows.has(r.id));
      if (missing.length > 0)
        throw new ConfigError(
          `${missing.length} run(s) of ${dir} were not trained by the worker processes (e.g. ${missing[0].id})`,
          'run the same command again to resume',
        );
    } else {
      const data = loadStudyData(spec, plan.specDir, source);
      gt = data.gt;
      t = await trainRuns(store, data, mine, { ...trainOpts, checked: check });
    }
    // Wall-clock training time, summed over invocations (resumes); results.json reports it.
    store.setMeta('train_wall_seconds', String(Number(store.getMeta('train_wall_seconds') ?? 0) + t.seconds));
    const inputs = manifestInputs(plan.data);
    writeManifest(store, inputs);
    const analyse = opts.analyse ?? !(shard && shard.count > 1);
    let fin: Finished | null = null;
    if (analyse) {
      const data: AnalysisData =
        gt !== null || (spec.data.kind === 'file' && !spec.data.ground_truth)
          ? { ...plan.data, gt, fourier: null, summary: null }
          : analysisData(spec, plan.specDir, plan.data.identity, source);
      fin = await finishStudy(store, plan, data, opts.hooks, opts.report ?? null);
      writeManifest(store, inputs);
    }
    return outcome(store, t, fin);
  } finally {
    release();
    store.close();
  }
}

/**
 * How many of `plan`'s runs (of this shard) are already finished (done or failed) in `dir`, read
 * before training for the "planned N runs" line; 0 for a new directory, null when the store cannot
 * be read (the run itself will then say why).
 */
export function finishedRuns(dir: string, plan: StudyPlan, shard: Shard | null): number | null {
  if (!fs.existsSync(path.join(dir, DB_FILE))) return 0;
  try {
    const store = StudyStore.openExisting(dir);
    try {
      const ids = new Set(shardRuns(plan.runs, shard).map((r) => r.id));
      return store.runs().filter((r) => ids.has(r.id)).length;
    } finally {
      store.close();
    }
  } catch {
    return null;
  }
}

/** "run ID: message" for a failed run's stored error (which may already start with the id). */
function firstErrorOf(id: string, error: string | null): string {
  const msg = error ?? 'failed';
  return msg.startsWith(id) ? `run ${msg}` : `run ${id}: ${msg}`;
}

/** Opens the study directory, refusing one that holds a different spec. */
export function openStudyStore(dir: string, plan: StudyPlan, identity: DataIdentity): StudyStore {
  assertStudyFolder(dir);
  const store = StudyStore.open(dir);
  const old = store.getMeta('spec_hash');
  if (old !== null && old !== plan.specHash) {
    // A changed spec may reuse the directory when every run already there is one of its runs (new
    // analysis settings, more seeds or widths); runs of another study are never mixed in.
    const ids = new Set(plan.runs.map((r) => r.id));
    const foreign = store.runs().filter((r) => !ids.has(r.id));
    if (foreign.length > 0) {
      const name = store.getMeta('name') ?? '?';
      store.close();
      throw new ConfigError(
        `${dir} holds study "${name}" (spec hash ${old.slice(0, 12)}) with ${foreign.length} run(s) that ` +
          `${plan.specFile} (spec hash ${plan.specHash.slice(0, 12)}) does not have, e.g. ${foreign[0].id}`,
        'use a new --out directory for a changed study, or resume with the spec that made this one',
      );
    }
  }
  store.transaction(() => {
    if (old === null) {
      // A database rebuilt from the run folders keeps the study's creation time from its manifest.
      store.setMeta('format', STORE_FORMAT);
      store.setMeta('created_at', manifestCreatedAt(dir) ?? new Date().toISOString());
    }
    if (old !== null && old !== plan.specHash) store.setMeta('previous_spec_hash', old);
    store.setMeta('spec_hash', plan.specHash);
    store.setMeta('name', plan.parsed.spec.name);
    store.setMeta('spec_file', path.resolve(plan.specFile));
    store.setMeta('spec_dir', path.resolve(plan.specDir));
    store.setMeta('data_identity', JSON.stringify(identity));
    store.setMeta('runs_total', String(plan.runs.length));
  });
  writeFileAtomic(path.join(dir, SPEC_COPY), [Buffer.from(plan.parsed.source.text, 'utf8')]);
  return store;
}

/** created_at of DIR/manifest.json, when there is one. */
function manifestCreatedAt(dir: string): string | null {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST_FILE), 'utf8')) as { created_at?: unknown };
    return typeof m.created_at === 'string' ? m.created_at : null;
  } catch {
    return null;
  }
}

interface Finished {
  results: StudyResults;
  reportPath: string | null;
  analysisSeconds: number;
  reportSeconds: number;
}

/** Analyses, writes results.json and the analyses table, then the report. */
export async function finishStudy(
  store: StudyStore,
  plan: StudyPlan,
  data: AnalysisData,
  hooks: RunnerHooks | undefined,
  report: ReportWriter | null,
): Promise<Finished> {
  const t0 = performance.now();
  const env = computeEnvironment();
  const progress = (phase: StudyProgress['phase'], fraction: number, message: string | null): void => {
    const elapsed = (performance.now() - t0) / 1000;
    hooks?.onProgress?.({
      phase,
      runsTotal: plan.runs.length,
      runsDone: plan.runs.length,
      runsSkipped: 0,
      runsFailed: 0,
      fraction,
      elapsedSeconds: elapsed,
      etaSeconds: fraction > 0 ? (elapsed * (1 - fraction)) / fraction : null,
      active: [],
      message,
    });
  };
  progress('analyse', 0, 'analysing');
  const results = analyseStudy({
    store,
    spec: plan.parsed.spec,
    specText: plan.parsed.source.text,
    data,
    runs: plan.runs,
    engine: {
      name: store.getMeta('engine') ?? env.engine,
      blasCore: store.getMeta('blas_core') ?? env.blasCore,
      threads: Number((store.getMeta('threads') ?? String(env.threads)).split(',')[0]),
      node: process.version,
    },
    onCell: (done, total) => progress('analyse', done / total, null),
  });
  const analysisSeconds = (performance.now() - t0) / 1000;
  results.study.analysisSeconds = analysisSeconds;
  store.clearAnalyses();
  for (const c of results.cells) store.putAnalysis(`cell:${c.id}`, JSON.stringify(c));
  store.putAnalysis('results', JSON.stringify(results));
  writeFileAtomic(path.join(store.dir, RESULTS_FILE), [Buffer.from(`${JSON.stringify(results)}\n`, 'utf8')]);
  let reportPath: string | null = null;
  const t1 = performance.now();
  if (report) {
    progress('report', 0, 'writing the report');
    reportPath = (await report(store.dir, results)) ?? null;
  }
  const reportSeconds = (performance.now() - t1) / 1000;
  progress('done', 1, null);
  return { results, reportPath, analysisSeconds, reportSeconds };
}

/**
 * Worker processes worth starting for these runs on `cores` cores: one per core when every run is
 * small enough that the trainer steps it on one thread (B·d·m < SMALL_STEP_WORK, sae/train.ts), so
 * the other cores would idle; else 1 (the engine's threads already use every core). Measured on the
 * default study, 2 cores: 76 s of training in one process, 42 s in two.
 */
export function autoJobs(runs: readonly ResolvedRun[], cores: number): number {
  const small = runs.every((r) => runThreads(r, cores) === 1);
  return small ? Math.max(1, Math.min(cores, runs.length)) : 1;
}

/** "topk m=128 k=3 seed 2" for progress lines. */
function runLabel(r: ResolvedRun): string {
  const s = r.identity.sae;
  const sp = s.k !== null ? ` k=${s.k}` : s.sparsityCoeff !== null ? ` l1=${s.sparsityCoeff}` : '';
  const data = r.identity.dataSeed !== 0 ? `/${r.identity.dataSeed}` : '';
  return `${s.arch} m=${s.dSae}${sp} seed ${r.identity.seed}${data}`;
}

/** Parses "I/N". */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new ConfigError(`--shard ${text}: expected I/N, e.g. 0/4`);
  const shard = { index: Number(m[1]), count: Number(m[2]) };
  if (shard.count < 1 || shard.index >= shard.count) throw new ConfigError(`--shard ${text}: expected 0 ≤ I < N`);
  return shard;
}
