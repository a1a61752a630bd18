/**
 * Helpers for the study tests: tiny specs that train in about a second, temporary study
 * directories, and readers that compare two studies run by run (weights bytes, headline numbers).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { StudyResults } from '../../src/study/results.js';

/** A temporary directory removed by the returned cleanup. */
export function tmpDir(prefix = 'husai-study-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A tiny study: exact-k d = 8, F = 12, 2 archs × 2 widths × 3 seeds, 100 steps at batch 64. */
export function tinySpecText(extra = ''): string {
  return `name: tiny
question: does a tiny study run end to end?
data:
  kind: synthetic
  generator: exact-k
  options: { n: 2048, d: 8, features: 12, k: 2, seed: 3 }
defaults:
  steps: 100
  batch_size: 64
  k: 2
  l1: 2
grid:
  arch: [topk, relu]
  width_ratio: [1, 2]
  seed: [0, 1, 2]
checkpoints: [0, 40]
eval_rows: 512
${extra}`;
}

/** Writes spec text to DIR/NAME and returns the path. */
export function writeSpec(dir: string, text: string, name = 'spec.yaml'): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

/** run id → bytes of runs/<id>/sae_weights.safetensors (and of each checkpoint). */
export function weightBytes(studyDir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const runs = path.join(studyDir, 'runs');
  for (const id of fs.readdirSync(runs).sort()) {
    out.set(id, fs.readFileSync(path.join(runs, id, 'sae_weights.safetensors')));
    const ck = path.join(runs, id, 'checkpoints');
    if (fs.existsSync(ck))
      for (const s of fs.readdirSync(ck).sort())
        out.set(`${id}/${s}`, fs.readFileSync(path.join(ck, s, 'sae_weights.safetensors')));
  }
  return out;
}

/** The numbers a study's conclusions rest on, per cell (for comparing two studies). */
export function headline(r: StudyResults): Record<string, unknown> {
  return Object.fromEntries(
    r.cells.map((c) => [
      c.id,
      {
        label: c.label,
        runIds: c.runIds,
        pwmcc: c.pwmcc.estimate,
        nullRandom: c.pwmcc.nullRandom,
        nullUntrained: c.pwmcc.nullUntrained,
        excess: c.pwmcc.excess,
        pHolm: c.pwmcc.pHolm,
        shared: c.sharedFraction.estimate,
        mmcs: c.mmcs.estimate,
        gt: c.groundTruth?.gtMcc,
        l0: c.l0,
        steps: c.steps,
        presentIn: c.presentIn,
        frequencyBins: c.frequencyBins,
      },
    ]),
  );
}

export function readResults(studyDir: string): StudyResults {
  return JSON.parse(fs.readFileSync(path.join(studyDir, 'results.json'), 'utf8')) as StudyResults;
}
