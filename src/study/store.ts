/**
 * The study store (docs/ARCHITECTURE.md, "study store (runs, metrics, provenance)"): one directory per study.
 *
 *   DIR/spec.yaml           the spec exactly as given
 *   DIR/study.sqlite        better-sqlite3, WAL: tables meta, runs, curves, checkpoints, analyses
 *   DIR/runs/<runId>/       SAELens directory of the final SAE (cfg.json + sae_weights.safetensors)
 *   DIR/runs/<runId>/husai-run.json   the run's row, curve and checkpoint rows (run-record.ts), so
 *                           the database can be rebuilt from the run folders (selfcheck.ts)
 *   DIR/runs/<runId>/checkpoints/step-<n>/   SAELens directories of the checkpoints
 *   DIR/manifest.json       provenance (provenance.ts)
 *   DIR/results.json        StudyResults (results.ts), what the report renders
 *
 * Commit protocol (crash safety, kill -9 included): a run is trained, its whole directory
 * (checkpoints included) is assembled under DIR/runs/.staging-<runId>-<pid>/ and renamed to
 * DIR/runs/<runId> in one step, and only then is its row committed — one transaction holding the
 * run, its training curve and its checkpoint rows. So a row marked done always has its directory; a
 * directory without a row (a crash between rename and commit) is adopted from its husai-run.json once
 * its hashes check out; leftovers of staging are removed (selfcheck.ts, the store self-check).
 * Every commit is a fault point (core/faults.ts) for the kill-point tests.
 *
 * Tables (all JSON columns are plain JSON text):
 *   meta(key, value)                         spec_hash, name, format, created_at, …
 *   runs(id, cell, config_hash, config, params, status, error, dir, weights_sha256, final, firing,
 *        eval_rows, seconds, started_at, finished_at, engine, threads, host, shard,
        husai_version, numerics_version, git_commit, blas)   provenance (the last four: null in husai 0.1.0 stores)
 *        firing: float32 BLOB [d_sae], firing frequency of each latent on the evaluation sample
 *   curves(run_id, step, tokens, lr, loss, mse, aux, sparsity, explained_variance, l0,
 *          dead_fraction, dense_fraction, grad_norm)   the training history (sae/train.ts StepMetrics)
 *   checkpoints(run_id, step, dir, sha256)
 *   analyses(name, json, created_at)         'results' and one 'cell:<id>' per cell
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ConfigError, DataError } from '../core/errors.js';
import { faultPoint } from '../core/faults.js';
import type { StepMetrics } from '../sae/train.js';
import { quarantine } from './quarantine.js';

export const STORE_FORMAT = 'husai-study/1';
export const DB_FILE = 'study.sqlite';
export const RUNS_DIR = 'runs';

export interface RunRow {
  id: string;
  cell: string;
  configHash: string;
  /** RunIdentity JSON. */
  config: string;
  /** Spec-level parameter values JSON. */
  params: string;
  status: 'done' | 'failed';
  error: string | null;
  /** Relative to the study directory: runs/<id>. */
  dir: string;
  weightsSha256: string | null;
  /** FinalMetrics JSON, or null for a failed run. */
  final: string | null;
  firing: Float32Array | null;
  evalRows: number | null;
  seconds: number;
  startedAt: string;
  finishedAt: string;
  engine: string;
  threads: number;
  host: string;
  shard: string | null;
  /** Who trained the run (null: written by husai 0.1.0, which did not record it). */
  husaiVersion: string | null;
  numericsVersion: number | null;
  gitCommit: string | null;
  /** BLAS provider: openblas, builtin or typescript. */
  blas: string | null;
}

export interface CheckpointRow {
  runId: string;
  step: number;
  dir: string;
  sha256: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY, cell TEXT NOT NULL, config_hash TEXT NOT NULL, config TEXT NOT NULL, params TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('done', 'failed')), error TEXT, dir TEXT NOT NULL, weights_sha256 TEXT,
  final TEXT, firing BLOB, eval_rows INTEGER, seconds REAL NOT NULL, started_at TEXT NOT NULL,
  finished_at TEXT NOT NULL,
  engine TEXT NOT NULL, threads INTEGER NOT NULL, host TEXT NOT NULL, shard TEXT
);
CREATE TABLE IF NOT EXISTS curves (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, step INTEGER NOT NULL, tokens INTEGER, lr REAL, loss REAL,
  mse REAL, aux REAL, sparsity REAL, explained_variance REAL, l0 REAL, dead_fraction REAL, dense_fraction REAL,
  grad_norm REAL,
  PRIMARY KEY (run_id, step)
);
CREATE TABLE IF NOT EXISTS checkpoints (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, step INTEGER NOT NULL, dir TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  PRIMARY KEY (run_id, step)
);
CREATE TABLE IF NOT EXISTS analyses (name TEXT PRIMARY KEY, json TEXT NOT NULL, created_at TEXT NOT NULL);
`;

/** Provenance columns added after husai-study/1 was first written (added to older stores on open). */
const LATER_COLUMNS = ['husai_version TEXT', 'numerics_version INTEGER', 'git_commit TEXT', 'blas TEXT'];

interface RunDbRow {
  id: string;
  cell: string;
  config_hash: string;
  config: string;
  params: string;
  status: 'done' | 'failed';
  error: string | null;
  dir: string;
  weights_sha256: string | null;
  final: string | null;
  firing: Buffer | null;
  eval_rows: number | null;
  seconds: number;
  started_at: string;
  finished_at: string;
  engine: string;
  threads: number;
  host: string;
  shard: string | null;
  husai_version: string | null;
  numerics_version: number | null;
  git_commit: string | null;
  blas: string | null;
}

export class StudyStore {
  readonly db: Database.Database;
  /** What opening had to repair (a damaged database moved aside), for the caller's warnings. */
  readonly notes: string[] = [];

  private constructor(readonly dir: string) {
    fs.mkdirSync(path.join(dir, RUNS_DIR), { recursive: true });
    try {
      this.db = openDb(path.join(dir, DB_FILE));
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== 'SQLITE_NOTADB' && code !== 'SQLITE_CORRUPT') throw err;
      // A damaged database is moved aside (never deleted) and rebuilt from the run folders (selfcheck.ts).
      const moved = quarantine(dir, [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`], 'study.sqlite');
      this.notes.push(`${DB_FILE} was damaged (${code}); moved to ${moved} and rebuilt from the run folders`);
      this.db = openDb(path.join(dir, DB_FILE));
    }
  }

  /** Opens (creating when needed) the store in `dir`. */
  static open(dir: string): StudyStore {
    return new StudyStore(path.resolve(dir));
  }

  /** Opens an existing store; a DataError naming the directory when there is none. */
  static openExisting(dir: string): StudyStore {
    if (!fs.existsSync(path.join(dir, DB_FILE)))
      throw new DataError(dir, DB_FILE, 'no study database', 'a study directory written by `husai study`');
    return new StudyStore(path.resolve(dir));
  }

  close(): void {
    this.db.close();
  }

  runDir(id: string): string {
    return path.join(this.dir, RUNS_DIR, id);
  }

  getMeta(key: string): string | null {
    const r = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return r?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    if (!this.db.inTransaction) faultPoint('commit', `meta ${key}`);
    this.db
      .prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value')
      .run(key, value);
  }

  allMeta(): Record<string, string> {
    return Object.fromEntries(
      (this.db.prepare('SELECT key, value FROM meta ORDER BY key').all() as Array<{ key: string; value: string }>).map(
        (r) => [r.key, r.value],
      ),
    );
  }

  /** Every run row, ordered by id. */
  runs(): RunRow[] {
    return (this.db.prepare('SELECT * FROM runs ORDER BY id').all() as RunDbRow[]).map(fromDb);
  }

  run(id: string): RunRow | null {
    const r = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunDbRow | undefined;
    return r ? fromDb(r) : null;
  }

  /** Runs `fn` in one transaction (one commit, one fault point). */
  transaction(fn: () => void): void {
    faultPoint('commit', 'transaction');
    this.db.transaction(fn)();
  }

  deleteRun(id: string): void {
    faultPoint('commit', `delete run ${id}`);
    this.db.prepare('DELETE FROM runs WHERE id = ?').run(id);
  }

  /** Commits a finished run, its curve and its checkpoints in one transaction. */
  commitRun(row: RunRow, curve: StepMetrics[], checkpoints: CheckpointRow[]): void {
    const insRun = this.db
      .prepare(`INSERT OR REPLACE INTO runs (id, cell, config_hash, config, params, status, error, dir,
      weights_sha256, final, firing, eval_rows, seconds, started_at, finished_at, engine, threads, host, shard,
      husai_version, numerics_version, git_commit, blas)
      VALUES (@id, @cell, @config_hash, @config, @params, @status, @error, @dir, @weights_sha256, @final, @firing,
      @eval_rows, @seconds, @started_at, @finished_at, @engine, @threads, @host, @shard, @husai_version,
      @numerics_version, @git_commit, @blas)`);
    const insCurve = this.db.prepare(`INSERT OR REPLACE INTO curves (run_id, step, tokens, lr, loss, mse, aux, sparsity,
      explained_variance, l0, dead_fraction, dense_fraction, grad_norm)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const insCk = this.db.prepare('INSERT OR REPLACE INTO checkpoints (run_id, step, dir, sha256) VALUES (?, ?, ?, ?)');
    const fin = (v: number): number | null => (Number.isFinite(v) ? v : null);
    faultPoint('commit', `run ${row.id}`);
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM runs WHERE id = ?').run(row.id);
      insRun.run(toDb(row));
      for (const m of curve) {
        insCurve.run(
          row.id,
          m.step,
          m.tokens,
          fin(m.lr),
          fin(m.loss),
          fin(m.mse),
          fin(m.aux),
          fin(m.sparsity),
          fin(m.explainedVariance),
          fin(m.l0),
          fin(m.deadFraction),
          fin(m.denseFraction),
          fin(m.gradNorm),
        );
      }
      for (const c of checkpoints) insCk.run(c.runId, c.step, c.dir, c.sha256);
    })();
  }

  curve(runId: string): StepMetrics[] {
    const rows = this.db.prepare('SELECT * FROM curves WHERE run_id = ? ORDER BY step').all(runId) as Array<
      Record<string, number | null>
    >;
    const n = (v: number | null): number => (v === null ? NaN : v);
    return rows.map((r) => ({
      step: n(r.step),
      tokens: n(r.tokens),
      lr: n(r.lr),
      loss: n(r.loss),
      mse: n(r.mse),
      aux: n(r.aux),
      sparsity: n(r.sparsity),
      explainedVariance: n(r.explained_variance),
      l0: n(r.l0),
      deadFraction: n(r.dead_fraction),
      denseFraction: n(r.dense_fraction),
      gradNorm: n(r.grad_norm),
    }));
  }

  checkpoints(runId: string): CheckpointRow[] {
    return (
      this.db
        .prepare('SELECT run_id, step, dir, sha256 FROM checkpoints WHERE run_id = ? ORDER BY step')
        .all(runId) as Array<{ run_id: string; step: number; dir: string; sha256: string }>
    ).map((r) => ({ runId: r.run_id, step: r.step, dir: r.dir, sha256: r.sha256 }));
  }

  putAnalysis(name: string, json: string): void {
    if (!this.db.inTransaction) faultPoint('commit', `analysis ${name}`);
    this.db
      .prepare('INSERT OR REPLACE INTO analyses (name, json, created_at) VALUES (?, ?, ?)')
      .run(name, json, new Date().toISOString());
  }

  analysis(name: string): string | null {
    const r = this.db.prepare('SELECT json FROM analyses WHERE name = ?').get(name) as { json: string } | undefined;
    return r?.json ?? null;
  }

  clearAnalyses(): void {
    if (!this.db.inTransaction) faultPoint('commit', 'analyses');
    this.db.prepare('DELETE FROM analyses').run();
  }

  /** Copies `row` with its curve and checkpoint rows from another store (merge). */
  copyRunFrom(other: StudyStore, row: RunRow): void {
    this.commitRun(row, other.curve(row.id), other.checkpoints(row.id));
  }
}

/** Entries husai makes at the top of a study folder before its database exists (or after it is lost). */
const EARLY_NAMES = /^(?:runs|quarantine|study\.sqlite-(?:wal|shm|journal)|\.husai-lock(?:\..*)?)$/;
/** Entries husai makes in runs/: run ids, staging folders, writeSaeLens temporary siblings. */
const RUN_NAMES = /^(?:[0-9a-f]{12}|\.staging-[0-9a-f]{12}-\d+|\..+\.(?:tmp|old)-\d+-\d+)$/;

/**
 * Refuses (ConfigError, nothing touched) a folder that is neither empty nor a husai study: a study
 * has a study.sqlite or a husai manifest.json (then the database is rebuilt, selfcheck.ts), or holds
 * only what husai creates before its database (runs/ with husai names, its lock) — a study killed
 * between `mkdir runs/` and the database, which resumes.
 */
export function assertStudyFolder(dir: string): void {
  if (!fs.existsSync(dir)) return;
  if (!fs.statSync(dir).isDirectory()) {
    throw new ConfigError(`${dir} is not a directory`, 'give --out a folder (new or a husai study)');
  }
  const names = fs.readdirSync(dir);
  if (names.includes(DB_FILE) || isManifest(path.join(dir, 'manifest.json'))) return;
  const foreign = names.filter((n) => !EARLY_NAMES.test(n));
  const runs = path.join(dir, RUNS_DIR);
  if (names.includes(RUNS_DIR)) {
    if (!fs.statSync(runs).isDirectory()) foreign.push(RUNS_DIR);
    else
      foreign.push(
        ...fs
          .readdirSync(runs)
          .filter((n) => !RUN_NAMES.test(n))
          .map((n) => path.join(RUNS_DIR, n)),
      );
  }
  if (foreign.length > 0) {
    const list = `${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? ', …' : ''}`;
    throw new ConfigError(
      `${dir} is not empty and not a husai study (it holds ${list}); ` +
        'husai writes a study only into a new or empty folder or one it made, and touched nothing',
      'choose another --out',
    );
  }
}

function isManifest(file: string): boolean {
  try {
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { format?: unknown }).format === 'husai-study-manifest/1';
  } catch {
    return false;
  }
}

function openDb(file: string): Database.Database {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 10000');
    db.exec(SCHEMA);
    const have = new Set((db.prepare('PRAGMA table_info(runs)').all() as Array<{ name: string }>).map((c) => c.name));
    for (const col of LATER_COLUMNS) if (!have.has(col.split(' ')[0])) db.exec(`ALTER TABLE runs ADD COLUMN ${col}`);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function toDb(r: RunRow): RunDbRow {
  return {
    id: r.id,
    cell: r.cell,
    config_hash: r.configHash,
    config: r.config,
    params: r.params,
    status: r.status,
    error: r.error,
    dir: r.dir,
    weights_sha256: r.weightsSha256,
    final: r.final,
    firing: r.firing ? Buffer.from(r.firing.buffer, r.firing.byteOffset, r.firing.byteLength) : null,
    eval_rows: r.evalRows,
    seconds: r.seconds,
    started_at: r.startedAt,
    finished_at: r.finishedAt,
    engine: r.engine,
    threads: r.threads,
    host: r.host,
    shard: r.shard,
    husai_version: r.husaiVersion,
    numerics_version: r.numericsVersion,
    git_commit: r.gitCommit,
    blas: r.blas,
  };
}

function fromDb(r: RunDbRow): RunRow {
  let firing: Float32Array | null = null;
  if (r.firing) {
    const copy = new Uint8Array(r.firing.byteLength);
    copy.set(r.firing);
    firing = new Float32Array(copy.buffer);
  }
  return {
    id: r.id,
    cell: r.cell,
    configHash: r.config_hash,
    config: r.config,
    params: r.params,
    status: r.status,
    error: r.error,
    dir: r.dir,
    weightsSha256: r.weights_sha256,
    final: r.final,
    firing,
    evalRows: r.eval_rows,
    seconds: r.seconds,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    engine: r.engine,
    threads: r.threads,
    host: r.host,
    shard: r.shard,
    husaiVersion: r.husai_version ?? null,
    numericsVersion: r.numerics_version ?? null,
    gitCommit: r.git_commit ?? null,
    blas: r.blas ?? null,
  };
}
