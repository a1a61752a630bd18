/**
 * The study store (DESIGN.md, "study store (runs, metrics, provenance)"): one directory per study.
 *
 *   DIR/spec.yaml           the spec exactly as given
 *   DIR/study.sqlite        better-sqlite3, WAL: tables meta, runs, curves, checkpoints, analyses
 *   DIR/runs/<runId>/       SAELens directory of the final SAE (cfg.json + sae_weights.safetensors)
 *   DIR/runs/<runId>/checkpoints/step-<n>/   SAELens directories of the checkpoints
 *   DIR/manifest.json       provenance (provenance.ts)
 *   DIR/results.json        StudyResults (results.ts), what the report renders
 *
 * Commit protocol (crash safety, kill -9 included): a run is trained, its whole directory
 * (checkpoints included) is assembled under DIR/runs/.staging-<runId>-<pid>/ and renamed to
 * DIR/runs/<runId> in one step, and only then is its row committed — one transaction holding the
 * run, its training curve and its checkpoint rows. So a row marked done always has its directory; a
 * directory without a done row (a crash between rename and commit) is deleted and retrained, as are
 * leftovers of staging or of writeSaeLens' temporary siblings (names starting with a dot).
 *
 * Tables (all JSON columns are plain JSON text):
 *   meta(key, value)                         spec_hash, name, format, created_at, …
 *   runs(id, cell, config_hash, config, params, status, error, dir, weights_sha256, final, firing,
 *        eval_rows, seconds, started_at, finished_at, engine, threads, host, shard)
 *        firing: float32 BLOB [d_sae], firing frequency of each latent on the evaluation sample
 *   curves(run_id, step, tokens, lr, loss, mse, aux, sparsity, explained_variance, l0,
 *          dead_fraction, dense_fraction, grad_norm)   the training history (sae/train.ts StepMetrics)
 *   checkpoints(run_id, step, dir, sha256)
 *   analyses(name, json, created_at)         'results' and one 'cell:<id>' per cell
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DataError } from '../core/errors.js';
import type { StepMetrics } from '../sae/train.js';

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
  final TEXT, firing BLOB, eval_rows INTEGER, seconds REAL NOT NULL, started_at TEXT NOT NULL, finished_at TEXT NOT NULL,
  engine TEXT NOT NULL, threads INTEGER NOT NULL, host TEXT NOT NULL, shard TEXT
);
CREATE TABLE IF NOT EXISTS curves (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, step INTEGER NOT NULL, tokens INTEGER, lr REAL, loss REAL,
  mse REAL, aux REAL, sparsity REAL, explained_variance REAL, l0 REAL, dead_fraction REAL, dense_fraction REAL, grad_norm REAL,
  PRIMARY KEY (run_id, step)
);
CREATE TABLE IF NOT EXISTS checkpoints (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, step INTEGER NOT NULL, dir TEXT NOT NULL, sha256 TEXT NOT NULL,
  PRIMARY KEY (run_id, step)
);
CREATE TABLE IF NOT EXISTS analyses (name TEXT PRIMARY KEY, json TEXT NOT NULL, created_at TEXT NOT NULL);
`;

interface RunDbRow {
  id: string; cell: string; config_hash: string; config: string; params: string; status: 'done' | 'failed'; error: string | null;
  dir: string; weights_sha256: string | null; final: string | null; firing: Buffer | null; eval_rows: number | null; seconds: number;
  started_at: string; finished_at: string; engine: string; threads: number; host: string; shard: string | null;
}

export class StudyStore {
  readonly db: Database.Database;

  private constructor(readonly dir: string) {
    fs.mkdirSync(path.join(dir, RUNS_DIR), { recursive: true });
    this.db = new Database(path.join(dir, DB_FILE));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 10000');
    this.db.exec(SCHEMA);
  }

  /** Opens (creating when needed) the store in `dir`. */
  static open(dir: string): StudyStore {
    return new StudyStore(path.resolve(dir));
  }

  /** Opens an existing store; a DataError naming the directory when there is none. */
  static openExisting(dir: string): StudyStore {
    if (!fs.existsSync(path.join(dir, DB_FILE))) throw new DataError(dir, DB_FILE, 'no study database', 'a study directory written by `husai study`');
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
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  allMeta(): Record<string, string> {
    return Object.fromEntries((this.db.prepare('SELECT key, value FROM meta ORDER BY key').all() as Array<{ key: string; value: string }>).map((r) => [r.key, r.value]));
  }

  /** Every run row, ordered by id. */
  runs(): RunRow[] {
    return (this.db.prepare('SELECT * FROM runs ORDER BY id').all() as RunDbRow[]).map(fromDb);
  }

  run(id: string): RunRow | null {
    const r = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunDbRow | undefined;
    return r ? fromDb(r) : null;
  }

  deleteRun(id: string): void {
    this.db.prepare('DELETE FROM runs WHERE id = ?').run(id);
  }

  /** Commits a finished run, its curve and its checkpoints in one transaction. */
  commitRun(row: RunRow, curve: StepMetrics[], checkpoints: CheckpointRow[]): void {
    const insRun = this.db.prepare(`INSERT OR REPLACE INTO runs (id, cell, config_hash, config, params, status, error, dir, weights_sha256, final, firing,
      eval_rows, seconds, started_at, finished_at, engine, threads, host, shard) VALUES (@id, @cell, @config_hash, @config, @params, @status, @error, @dir,
      @weights_sha256, @final, @firing, @eval_rows, @seconds, @started_at, @finished_at, @engine, @threads, @host, @shard)`);
    const insCurve = this.db.prepare(`INSERT OR REPLACE INTO curves (run_id, step, tokens, lr, loss, mse, aux, sparsity, explained_variance, l0,
      dead_fraction, dense_fraction, grad_norm) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const insCk = this.db.prepare('INSERT OR REPLACE INTO checkpoints (run_id, step, dir, sha256) VALUES (?, ?, ?, ?)');
    const fin = (v: number): number | null => (Number.isFinite(v) ? v : null);
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM runs WHERE id = ?').run(row.id);
      insRun.run(toDb(row));
      for (const m of curve) {
        insCurve.run(row.id, m.step, m.tokens, fin(m.lr), fin(m.loss), fin(m.mse), fin(m.aux), fin(m.sparsity), fin(m.explainedVariance), fin(m.l0),
          fin(m.deadFraction), fin(m.denseFraction), fin(m.gradNorm));
      }
      for (const c of checkpoints) insCk.run(c.runId, c.step, c.dir, c.sha256);
    })();
  }

  curve(runId: string): StepMetrics[] {
    const rows = this.db.prepare('SELECT * FROM curves WHERE run_id = ? ORDER BY step').all(runId) as Array<Record<string, number | null>>;
    const n = (v: number | null): number => (v === null ? NaN : v);
    return rows.map((r) => ({
      step: n(r.step), tokens: n(r.tokens), lr: n(r.lr), loss: n(r.loss), mse: n(r.mse), aux: n(r.aux), sparsity: n(r.sparsity),
      explainedVariance: n(r.explained_variance), l0: n(r.l0), deadFraction: n(r.dead_fraction), denseFraction: n(r.dense_fraction), gradNorm: n(r.grad_norm),
    }));
  }

  checkpoints(runId: string): CheckpointRow[] {
    return (this.db.prepare('SELECT run_id, step, dir, sha256 FROM checkpoints WHERE run_id = ? ORDER BY step').all(runId) as Array<{ run_id: string; step: number; dir: string; sha256: string }>)
      .map((r) => ({ runId: r.run_id, step: r.step, dir: r.dir, sha256: r.sha256 }));
  }

  putAnalysis(name: string, json: string): void {
    this.db.prepare('INSERT OR REPLACE INTO analyses (name, json, created_at) VALUES (?, ?, ?)').run(name, json, new Date().toISOString());
  }

  analysis(name: string): string | null {
    const r = this.db.prepare('SELECT json FROM analyses WHERE name = ?').get(name) as { json: string } | undefined;
    return r?.json ?? null;
  }

  clearAnalyses(): void {
    this.db.prepare('DELETE FROM analyses').run();
  }

  /** Copies `row` with its curve and checkpoint rows from another store (merge). */
  copyRunFrom(other: StudyStore, row: RunRow): void {
    this.commitRun(row, other.curve(row.id), other.checkpoints(row.id));
  }
}

function toDb(r: RunRow): RunDbRow {
  return {
    id: r.id, cell: r.cell, config_hash: r.configHash, config: r.config, params: r.params, status: r.status, error: r.error, dir: r.dir,
    weights_sha256: r.weightsSha256, final: r.final, firing: r.firing ? Buffer.from(r.firing.buffer, r.firing.byteOffset, r.firing.byteLength) : null,
    eval_rows: r.evalRows, seconds: r.seconds, started_at: r.startedAt, finished_at: r.finishedAt, engine: r.engine, threads: r.threads, host: r.host, shard: r.shard,
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
    id: r.id, cell: r.cell, configHash: r.config_hash, config: r.config, params: r.params, status: r.status, error: r.error, dir: r.dir,
    weightsSha256: r.weights_sha256, final: r.final, firing, evalRows: r.eval_rows, seconds: r.seconds, startedAt: r.started_at,
    finishedAt: r.finished_at, engine: r.engine, threads: r.threads, host: r.host, shard: r.shard,
  };
}
