/**
 * `husai study merge OUT DIR…`: joins the shard directories of one spec (`--shard I/N`, run on any
 * machines by any scheduler) into OUT, then analyses and reports as a single study would. Every
 * directory must carry the same spec hash (the error names the first that differs); a run present in
 * several must have the same weights bytes. Runs are copied (directory to a staging name, renamed
 * into place, then the row with its curve and checkpoints committed — the commit protocol of
 * store.ts), so OUT may be merged into again, e.g. as shards finish. Shards trained by other numerics
 * versions or engines are refused (provenance.ts checkMixed) unless allowMixed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../core/errors.js';
import { stableJson } from '../sae/checkpoint/saelens.js';
import { type DataIdentity, analysisData } from './data.js';
import { sha256 } from './expand.js';
import { acquireLock } from './lock.js';
import { checkMixed, runProvenance, writeManifest } from './provenance.js';
import type { RunnerHooks } from './runner.js';
import { copyTree, stagingDir } from './saedir.js';
import { StudyStore } from './store.js';
import {
  type ReportWriter,
  RESULTS_FILE,
  SPEC_COPY,
  type StudyOutcome,
  finishStudy,
  openStudyStore,
  planStudy,
} from './study.js';

interface MergeOptions {
  hooks?: RunnerHooks;
  report?: ReportWriter | null;
  analyse?: boolean;
  /** Merge shards whose runs came from different numerics versions or engines (provenance.ts checkMixed). */
  allowMixed?: boolean;
}

/** Merges shard directories of one spec into `out`, then analyses and reports. */
export async function mergeStudies(
  out: string,
  dirs: readonly string[],
  opts: MergeOptions = {},
): Promise<StudyOutcome> {
  const t0 = performance.now();
  if (dirs.length === 0)
    throw new ConfigError('study merge: no shard directories given', 'husai study merge OUT DIR1 DIR2 …');
  const shards = dirs.map((d) => StudyStore.openExisting(d));
  try {
    const hash0 = shards[0].getMeta('spec_hash');
    shards.forEach((s, i) => {
      const h = s.getMeta('spec_hash');
      if (h !== hash0)
        throw new ConfigError(
          `study merge: ${dirs[i]} has spec hash ${h?.slice(0, 12)} but ${dirs[0]} has ${hash0?.slice(0, 12)}: ` +
            `shards must come from one spec`,
          'merge only directories written by the same spec (same data, grid and analysis settings)',
        );
    });
    const text = fs.readFileSync(path.join(dirs[0], SPEC_COPY), 'utf8');
    const identity = JSON.parse(shards[0].getMeta('data_identity') ?? 'null') as DataIdentity;
    const plan = planStudy(shards[0].getMeta('spec_file') ?? path.join(dirs[0], SPEC_COPY), {
      // maxRuns: the run limit was checked when the shards trained
      text,
      specDir: shards[0].getMeta('spec_dir') ?? dirs[0],
      identity,
      maxRuns: Infinity,
    });
    if (plan.specHash !== hash0)
      throw new ConfigError(
        `study merge: ${dirs[0]}/spec.yaml hashes to ${plan.specHash.slice(0, 12)}, not the recorded ` +
          `${hash0?.slice(0, 12)}`,
      );
    const outDir = path.resolve(out);
    const release = acquireLock(outDir);
    let store: StudyStore;
    try {
      store = openStudyStore(outDir, plan, identity);
    } catch (err) {
      release();
      throw err;
    }
    try {
      const all = [...store.runs(), ...shards.flatMap((s) => s.runs())];
      if (all.length > 0) checkMixed(outDir, all, runProvenance(all[0]), opts.allowMixed === true);
      const have = new Map(store.runs().map((r) => [r.id, r]));
      const copied: string[] = [];
      const skipped: string[] = [];
      for (const [i, s] of shards.entries()) {
        if (path.resolve(dirs[i]) === outDir) continue;
        for (const row of s.runs()) {
          const prev = have.get(row.id);
          if (prev) {
            if (prev.weightsSha256 !== row.weightsSha256)
              throw new ConfigError(
                `study merge: run ${row.id} in ${dirs[i]} differs from the copy already in ${out} (sae_weights ` +
                  `sha256 ${row.weightsSha256?.slice(0, 12)} vs ${prev.weightsSha256?.slice(0, 12)})`,
                'were the shards trained with different engines or thread counts? keep one of them',
              );
            skipped.push(row.id);
            continue;
          }
          if (row.status === 'done') {
            const staging = stagingDir(outDir, row.id);
            fs.rmSync(staging, { recursive: true, force: true });
            copyTree(path.join(s.dir, row.dir), staging);
            fs.renameSync(staging, path.join(outDir, row.dir));
          }
          store.copyRunFrom(s, row);
          have.set(row.id, row);
          copied.push(row.id);
        }
      }
      const data = analysisData(plan.parsed.spec, plan.specDir, identity, plan.parsed.source);
      store.setMeta(
        'train_wall_seconds',
        String(
          shards.reduce(
            (sum, sh, i) =>
              sum + (path.resolve(dirs[i]) === outDir ? 0 : Number(sh.getMeta('train_wall_seconds') ?? 0)),
            0,
          ),
        ),
      );
      for (const key of ['engine', 'blas_core', 'threads']) {
        const vals = [...new Set(shards.map((s) => s.getMeta(key)).filter((v): v is string => v !== null))];
        store.setMeta(key, vals.join(', '));
      }
      const inputs = {
        data: identity,
        files: [],
        generatorSha256: identity.kind === 'synthetic' ? sha256(stableJson(identity)) : null,
      };
      const merged = { merged_from: dirs.map((d) => path.resolve(d)) };
      writeManifest(store, inputs, merged);
      const fin = opts.analyse === false ? null : await finishStudy(store, plan, data, opts.hooks, opts.report ?? null);
      if (fin) writeManifest(store, inputs, merged);
      const done = new Set(store.runs().map((r) => r.id));
      return {
        dir: outDir,
        specHash: plan.specHash,
        runsTotal: plan.runs.length,
        runsHere: copied.length,
        trained: [],
        skipped,
        failed: [],
        missing: plan.runs.filter((r) => !done.has(r.id)).length,
        merged: copied,
        cleaned: [],
        warnings: [],
        results: fin?.results ?? null,
        resultsPath: fin ? path.join(outDir, RESULTS_FILE) : null,
        reportPath: fin?.reportPath ?? null,
        timings: {
          trainSeconds: 0,
          analysisSeconds: fin?.analysisSeconds ?? 0,
          reportSeconds: fin?.reportSeconds ?? 0,
          totalSeconds: (performance.now() - t0) / 1000,
        },
      };
    } finally {
      release();
      store.close();
    }
  } finally {
    for (const s of shards) s.close();
  }
}
