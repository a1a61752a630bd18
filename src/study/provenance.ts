/**
 * Provenance of a study (docs/ARCHITECTURE.md, "study store (runs, metrics, provenance)"): DIR/manifest.json
 * says which code, engine and inputs produced which outputs, so a result can be traced and
 * re-checked — husai version, git commit of the husai package when it is a checkout (`git rev-parse
 * HEAD` in the package directory; null otherwise), the engine with its BLAS core and thread count
 * (results depend on them: sae/train.ts "Determinism"), Node version and platform, the spec hash,
 * every run's full config hash, sha256 checksums of the inputs (data files, or the generator config
 * that regenerates the data) and of every output (each sae_weights.safetensors, checkpoints too).
 * Written atomically; rewritten after every commit batch, so it is current after a crash too.
 * Per run: husai version, numerics version, git commit, engine and BLAS (runProvenance); a study
 * refuses to add runs of other numerics to it unless --allow-mixed (checkMixed).
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../core/errors.js';
import { HUSAI_VERSION, NUMERICS_VERSION } from '../core/version.js';
import { engineInfo } from '../engine/index.js';
import { writeFileAtomic } from '../formats/io.js';
import { stableJson } from '../sae/checkpoint/saelens.js';
import type { DataPlan } from './data.js';
import type { RunRow, StudyStore } from './store.js';

export const MANIFEST_FILE = 'manifest.json';

/** The husai package root (two levels above src/study and dist/study). */
export function packageDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
}

let gitCommitCache: string | null | undefined;
/** `git rev-parse HEAD` in the husai package directory, or null (not a checkout, no git). */
export function gitCommit(): string | null {
  if (gitCommitCache !== undefined) return gitCommitCache;
  try {
    const out = execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: packageDir(),
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    })
      .toString()
      .trim();
    gitCommitCache = /^[0-9a-f]{40}$/.test(out) ? out : null;
  } catch {
    gitCommitCache = null;
  }
  return gitCommitCache;
}

/** Who computed: engine, BLAS, threads, versions (recorded per run and in the manifest). */
export function computeEnvironment(): {
  engine: string;
  blas: string;
  blasCore: string;
  blasConfig: string;
  threads: number;
  node: string;
  platform: string;
  host: string;
} {
  const e = engineInfo();
  return {
    engine: e.name,
    blas: e.blas,
    blasCore: e.blasCore,
    blasConfig: e.blasConfig,
    threads: e.threads,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    host: os.hostname(),
  };
}

/** Who trained a run: what its bytes depend on (numerics version, engine, BLAS) and the release. */
interface RunProvenance {
  husaiVersion: string;
  numericsVersion: number;
  gitCommit: string | null;
  engine: string;
  blas: string | null;
}

/**
 * A run row's provenance. Rows written by husai 0.1.0 carry no version: they are read as husai
 * 0.1.0, numerics version 1 — the numerics of 0.1.0 are the current ones (NUMERICS_VERSION was
 * introduced at 1 without a numerics change), so a 0.1.0 study resumes without --allow-mixed.
 */
export function runProvenance(row: RunRow): RunProvenance {
  return {
    husaiVersion: row.husaiVersion ?? '0.1.0',
    numericsVersion: row.numericsVersion ?? 1,
    gitCommit: row.gitCommit,
    engine: row.engine,
    blas: row.blas,
  };
}

/** This process's provenance. */
export function currentProvenance(): RunProvenance {
  const env = computeEnvironment();
  return {
    husaiVersion: HUSAI_VERSION,
    numericsVersion: NUMERICS_VERSION,
    gitCommit: gitCommit(),
    engine: env.engine,
    blas: env.blas,
  };
}

/** "husai 0.1.0 (numerics 1) on native/openblas". */
function describeProvenance(p: RunProvenance): string {
  return `husai ${p.husaiVersion} (numerics ${p.numericsVersion}) on ${p.engine}${p.blas ? `/${p.blas}` : ''}`;
}

/** Runs of one numerics version, engine and BLAS train to the same bytes; BLAS is compared where both are known. */
export function sameNumerics(a: RunProvenance, b: RunProvenance): boolean {
  const blas = a.blas === null || b.blas === null || a.blas === b.blas;
  return a.numericsVersion === b.numericsVersion && a.engine === b.engine && blas;
}

/**
 * Refuses (ConfigError) to add runs of `current` to a study whose `rows` were trained with other
 * numerics, naming both, unless `allowMixed`. `where`: the study folder, for the message.
 */
export function checkMixed(where: string, rows: readonly RunRow[], current: RunProvenance, allowMixed: boolean): void {
  const other = rows.filter((r) => !sameNumerics(runProvenance(r), current));
  if (other.length === 0 || allowMixed) return;
  const ids = other
    .slice(0, 2)
    .map((r) => r.dir)
    .join(', ');
  const more = other.length > 2 ? ` and ${other.length - 2} more run(s)` : '';
  throw new ConfigError(
    `${where}: ${ids}${more} were trained by ${describeProvenance(runProvenance(other[0]))}; this is ` +
      `${describeProvenance(current)}`,
    'resume with the husai version and engine (HUSAI_ENGINE) that trained them, use a new --out, ' +
      'or pass --allow-mixed to train on and record which runs came from which',
  );
}

/** Distinct provenances of `rows` with their run ids (results.json, the report's "trained by"). */
export function provenanceGroups(rows: readonly RunRow[]): Array<RunProvenance & { label: string; runs: string[] }> {
  const groups = new Map<string, RunProvenance & { label: string; runs: string[] }>();
  for (const r of rows) {
    const p = runProvenance(r);
    const label = `${describeProvenance(p)}${p.gitCommit ? `, commit ${p.gitCommit.slice(0, 10)}` : ''}`;
    const g = groups.get(label) ?? { ...p, label, runs: [] };
    g.runs.push(r.id);
    groups.set(label, g);
  }
  return [...groups.values()];
}

interface ManifestInputs {
  data: DataPlan['identity'];
  files: DataPlan['inputs'];
  /** sha256 of the canonical JSON of the generator config (synthetic data), else null. */
  generatorSha256: string | null;
}

/** Builds and writes DIR/manifest.json from the store's rows. */
export function writeManifest(store: StudyStore, inputs: ManifestInputs, extra: Record<string, unknown> = {}): void {
  const env = computeEnvironment();
  const runs = store.runs();
  const outputs: Record<string, unknown> = {};
  const configHashes: Record<string, string> = {};
  const engines = new Set<string>();
  for (const r of runs) {
    configHashes[r.id] = r.configHash;
    engines.add(`${r.engine}/${r.threads} threads`);
    outputs[r.id] = {
      status: r.status,
      dir: r.dir,
      sae_weights_sha256: r.weightsSha256,
      checkpoints: Object.fromEntries(
        store.checkpoints(r.id).map((c) => [String(c.step), { dir: c.dir, sae_weights_sha256: c.sha256 }]),
      ),
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
  const manifest = {
    format: 'husai-study-manifest/1',
    study: store.getMeta('name'),
    spec_hash: store.getMeta('spec_hash'),
    created_at: store.getMeta('created_at'),
    updated_at: new Date().toISOString(),
    husai_version: HUSAI_VERSION,
    numerics_version: NUMERICS_VERSION,
    git_commit: gitCommit(),
    environment: env,
    /** Engines and thread counts that trained the runs (several after a merge of shards from different machines). */
    run_engines: [...engines].sort(),
    inputs: { data: inputs.data, generator_config_sha256: inputs.generatorSha256, files: inputs.files },
    config_hashes: configHashes,
    outputs,
    ...extra,
  };
  writeFileAtomic(path.join(store.dir, MANIFEST_FILE), [Buffer.from(stableJson(manifest), 'utf8')]);
}

/** Inputs entry for the manifest from the loaded data. */
export function manifestInputs(data: DataPlan): ManifestInputs {
  return {
    data: data.identity,
    files: data.inputs,
    generatorSha256:
      data.identity.kind === 'synthetic'
        ? crypto.createHash('sha256').update(stableJson(data.identity)).digest('hex')
        : null,
  };
}
