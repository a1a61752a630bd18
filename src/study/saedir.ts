/**
 * SAE directories of a study run (store.ts "Commit protocol"): the trainer's raw-unit SAEs written as
 * SAELens directories (sae/save.ts), checkpoints under checkpoints/step-<n>/, assembled in a staging
 * directory and renamed into place in one step.
 * Also the firing frequency of each latent on the evaluation sample (docs/SCIENCE.md §4 "Frequency"),
 * computed here from the in-memory SAE because the SAELens files do not hold training-only state.
 *
 * Letters: N evaluation rows, B rows per forward, D d_in, M d_sae.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Mat } from '../core/mat.js';
import type { ActivationSource } from '../data/source.js';
import { getEngine } from '../engine/index.js';
import { faultPoint } from '../core/faults.js';
import { fsyncDir } from '../formats/io.js';
import { SAELENS_WEIGHTS } from '../sae/checkpoint/index.js';
import { getArch } from '../sae/registry.js';
import { readSample } from '../sae/train.js';
import type { Sae } from '../sae/types.js';
import { sha256File } from '../formats/io.js';
import { RUNS_DIR } from './store.js';

const CHECKPOINTS_DIR = 'checkpoints';

/** `checkpoints/step-<n>` relative to a run directory. */
export function checkpointRel(step: number): string {
  return path.posix.join(CHECKPOINTS_DIR, `step-${step}`);
}

/** The staging directory of a run for this process. */
export function stagingDir(studyDir: string, runId: string): string {
  return path.join(studyDir, RUNS_DIR, `.staging-${runId}-${process.pid}`);
}

/**
 * Moves the final SAE written at staging/.final into staging itself, then renames staging to
 * runs/<runId>. Returns the sha256 of the final weights.
 */
export function promoteStaging(studyDir: string, staging: string, runId: string): string {
  const final = path.join(staging, '.final');
  for (const f of fs.readdirSync(final)) fs.renameSync(path.join(final, f), path.join(staging, f));
  fs.rmdirSync(final);
  const target = path.join(studyDir, RUNS_DIR, runId);
  fs.rmSync(target, { recursive: true, force: true });
  faultPoint('rename', target);
  fs.renameSync(staging, target);
  fsyncDir(path.join(studyDir, RUNS_DIR));
  return sha256File(path.join(target, SAELENS_WEIGHTS)).sha256;
}

/** Copies a directory tree (files and folders only). */
export function copyTree(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true, errorOnExist: true, force: false });
}

/** The first `rows` rows of the fixed-seed sample order (the trainer's SAMPLE_SEED), [N, D]. */
export async function evaluationSample(source: ActivationSource, rows: number): Promise<Mat> {
  const data = await readSample(source, rows);
  return { data, rows: data.length / source.d, cols: source.d };
}

/**
 * Firing frequency of every latent: the fraction of evaluation rows on which it is non-zero, with
 * the architecture's inference rule (eval mode). Uses ⌊N/B⌋·B rows, B = min(1024, N).
 */
export function firingFrequencies(sae: Sae, sampleND: Mat): { freqM: Float32Array; rows: number } {
  const B = Math.min(1024, sampleND.rows);
  const M = sae.cfg.dSae;
  const D = sae.cfg.dIn;
  const nb = Math.floor(sampleND.rows / B);
  const counts = new Int32Array(M);
  if (nb > 0) {
    const step = getArch(sae.cfg.arch).createStep(sae, B, getEngine());
    for (let b = 0; b < nb; b++) {
      step.forward(sampleND.data.subarray(b * B * D, (b + 1) * B * D), { mode: 'eval', sparsityScale: 1, dead: null });
      step.countFiring(counts);
    }
  }
  const rows = nb * B;
  return { freqM: Float32Array.from(counts, (c) => (rows > 0 ? c / rows : 0)), rows };
}
