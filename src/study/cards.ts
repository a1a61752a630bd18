/**
 * The feature cards of a study report (issue 7, item 5): when the study's data is a shard folder
 * written by `husai extract`, the default cards (inspect/cards.ts) of the first cell's lowest-seed
 * finished run. Study glue only: which run and which activations, read from the study store.
 */
import fs from 'node:fs';
import path from 'node:path';
import { HusaiError } from '../core/errors.js';
import { type FeatureCards, type FeatureCardsOptions, featureCards } from '../inspect/cards.js';
import { ACTIVATIONS_FORMAT } from '../models/extract-writer.js';
import type { AnalysisData } from './data.js';
import type { ResolvedRun } from './expand.js';
import type { StudyStore } from './store.js';

/**
 * Cards for a study report: when the study's data is a shard folder written by `husai extract`, the
 * default cards of the lowest-seed finished run of cell `cellId` (the first cell); else null. A data
 * problem (e.g. a sidecar removed since) also gives null, so it never costs the study its results.
 */
export function studyCards(
  store: StudyStore,
  data: AnalysisData,
  runs: readonly ResolvedRun[],
  cellId: string | undefined,
  opts: FeatureCardsOptions = {},
): FeatureCards | null {
  const specDir = store.getMeta('spec_dir');
  const rel = data.config.path;
  if (data.kind !== 'file' || specDir === null || typeof rel !== 'string' || cellId === undefined) return null;
  const acts = path.resolve(specDir, rel);
  const metaPath = path.join(acts, 'meta.json');
  try {
    if (!fs.statSync(acts).isDirectory() || JSON.parse(fs.readFileSync(metaPath, 'utf8')).format !== ACTIVATIONS_FORMAT)
      return null;
  } catch {
    return null;
  }
  const rows = new Map(store.runs().map((r) => [r.id, r]));
  const first = runs
    .filter((r) => r.cellId === cellId && rows.get(r.id)?.status === 'done')
    .sort((a, b) => a.identity.seed - b.identity.seed || a.identity.dataSeed - b.identity.dataSeed)[0];
  if (first === undefined) return null;
  try {
    return featureCards(path.join(store.dir, rows.get(first.id)!.dir), acts, opts);
  } catch (e) {
    if (e instanceof HusaiError) return null;
    throw e;
  }
}
