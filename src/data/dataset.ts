/**
 * openDataset: what `--data PATH` means everywhere in husai. A folder written by `husai synth`
 * (acts.npy + gt.npy [+ meta.json]) is one dataset with ground truth; anything else (.npy,
 * .safetensors, a folder of shards) is an activation source without it. A synth folder's files are
 * checked against its meta.json first (data/synth-folder.ts), so files of two runs are never mixed.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Mat } from '../core/mat.js';
import { readNpyMat } from '../formats/npy.js';
import { type FileActivationSource, type FileSourceOptions, openActivations } from './files.js';
import { verifySynthFolder } from './synth-folder.js';

interface Dataset {
  source: FileActivationSource;
  /** True feature directions [F, d] when the dataset has them (gt.npy beside acts.npy). */
  groundTruth: Mat | null;
  groundTruthPath: string | null;
}

export function openDataset(p: string, opts: FileSourceOptions = {}): Dataset {
  const acts = path.join(p, 'acts.npy');
  if (fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() && fs.existsSync(acts)) {
    verifySynthFolder(p);
    const gtPath = path.join(p, 'gt.npy');
    const hasGt = fs.existsSync(gtPath);
    return {
      source: openActivations(acts, { name: p, ...opts }),
      groundTruth: hasGt ? readNpyMat(gtPath).mat : null,
      groundTruthPath: hasGt ? gtPath : null,
    };
  }
  return { source: openActivations(p, opts), groundTruth: null, groundTruthPath: null };
}
