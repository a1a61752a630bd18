/**
 * The `husai synth` folder (docs/FORMATS.md, docs/SCIENCE.md §5): DIR/acts.npy [n, d], DIR/gt.npy [F, d] and
 * DIR/meta.json — `source: 'husai synth'`, the generator config, both shapes and the size and sha256
 * of both .npy files, so a reader can tell that the three belong to one run.
 *
 * Writing is atomic for the folder as a whole (issue 12): the files are generated into a hidden
 * sibling `.DIR.tmp-PID-N`, which is then swapped in by renames (formats/owned.ts swapInFolder), so
 * no reader ever sees acts.npy of one run beside gt.npy of another, and a kill leaves the old
 * complete folder or the new one. A folder holding anything husai synth did not write is refused.
 *
 * Reading (verifySynthFolder, called by data/dataset.ts): the shapes in meta.json must match the
 * .npy headers and the sizes the files; the hashes are checked too when the files are small enough
 * to hash cheaply (≤ 256 MiB together). Folders without meta.json (made by hand) are not checked.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DataError, fmtShape } from '../core/errors.js';
import type { Mat } from '../core/mat.js';
import { HUSAI_VERSION } from '../core/version.js';
import { sha256File, writeFileAtomic } from '../formats/io.js';
import { readNpyHeader, writeNpy } from '../formats/npy.js';
import {
  checkOwnedFolder,
  jsonWith,
  readJsonObject,
  removeTempLeftovers,
  restoreInterruptedSwap,
  siblingPath,
  swapInFolder,
} from '../formats/owned.js';

const SYNTH_SOURCE = 'husai synth';
const FILES = new Set(['acts.npy', 'gt.npy', 'meta.json']);
/** Above this many bytes of .npy data, a reader checks sizes and shapes but not hashes. */
const HASH_LIMIT = 256 << 20;

interface SynthMeta {
  source: typeof SYNTH_SOURCE;
  husai_version: string;
  config: unknown;
  acts_shape: [number, number];
  gt_shape: [number, number];
  acts_bytes: number;
  acts_sha256: string;
  gt_bytes: number;
  gt_sha256: string;
}

const isSynthMeta = jsonWith('source', (v) => v === SYNTH_SOURCE);

/** Whether `dir` is a folder `husai synth` wrote (its meta.json says so). */
export function isSynthFolder(dir: string): boolean {
  return isSynthMeta(path.join(dir, 'meta.json'));
}

/** Refuses (ForeignOutputError) an output folder that {@link writeSynthFolder} would refuse; writes nothing. */
export function checkSynthTarget(dir: string): void {
  const target = path.resolve(dir);
  if (fs.lstatSync(target, { throwIfNoEntry: false }) === undefined) return;
  checkOwnedFolder(target, isSynthFolder, FILES, '`husai synth`');
}

/**
 * Writes acts, gt and meta.json (with `config`) as the folder `dir`, atomically as a whole,
 * replacing an earlier `husai synth` folder; refuses (ForeignOutputError) a folder holding anything
 * else. Returns meta.json's content.
 */
export function writeSynthFolder(dir: string, acts: Mat, gt: Mat, config: unknown): SynthMeta {
  const target = path.resolve(dir);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  restoreInterruptedSwap(target, isComplete);
  const state = checkOwnedFolder(target, isSynthFolder, FILES, '`husai synth`');
  removeTempLeftovers(target, FILES);
  const tmp = siblingPath(target, 'tmp');
  fs.mkdirSync(tmp);
  try {
    writeNpy(path.join(tmp, 'acts.npy'), acts);
    writeNpy(path.join(tmp, 'gt.npy'), gt);
    const a = sha256File(path.join(tmp, 'acts.npy'));
    const g = sha256File(path.join(tmp, 'gt.npy'));
    const meta: SynthMeta = {
      source: SYNTH_SOURCE,
      husai_version: HUSAI_VERSION,
      config,
      acts_shape: [acts.rows, acts.cols],
      gt_shape: [gt.rows, gt.cols],
      acts_bytes: a.bytes,
      acts_sha256: a.sha256,
      gt_bytes: g.bytes,
      gt_sha256: g.sha256,
    };
    writeFileAtomic(path.join(tmp, 'meta.json'), [Buffer.from(`${JSON.stringify(meta, null, 2)}\n`)]);
    swapInFolder(tmp, target, state);
    return meta;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function isComplete(dir: string): boolean {
  return isSynthFolder(dir) && fs.existsSync(path.join(dir, 'acts.npy')) && fs.existsSync(path.join(dir, 'gt.npy'));
}

/**
 * Checks that DIR/acts.npy and DIR/gt.npy are the files DIR/meta.json describes (shapes, sizes, and
 * sha256 when cheap); a DataError naming the file and field otherwise. No meta.json, or one that
 * `husai synth` did not write: nothing to check.
 */
export function verifySynthFolder(dir: string): void {
  const metaFile = path.join(dir, 'meta.json');
  const meta = readJsonObject(metaFile);
  if (meta === null || meta.source !== SYNTH_SOURCE) return;
  const hint = 'the folder mixes files of different `husai synth` runs: run `husai synth` again into it';
  const files = [
    ['acts', 'acts.npy'],
    ['gt', 'gt.npy'],
  ] as const;
  let total = 0;
  for (const [key, name] of files) {
    const file = path.join(dir, name);
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (st === undefined) throw new DataError(file, name, 'missing', `the ${name} that ${metaFile} describes`, hint);
    const shape = meta[`${key}_shape`];
    if (Array.isArray(shape)) {
      const h = readNpyHeader(file);
      if (JSON.stringify(h.shape) !== JSON.stringify(shape)) {
        throw new DataError(
          file,
          'shape',
          fmtShape(...h.shape),
          `${fmtShape(...(shape as number[]))} as ${metaFile} records`,
          hint,
        );
      }
    }
    const bytes = meta[`${key}_bytes`];
    if (typeof bytes === 'number' && st.size !== bytes) {
      throw new DataError(file, 'size', `${st.size} bytes`, `${bytes} bytes as ${metaFile} records`, hint);
    }
    total += st.size;
  }
  if (total > HASH_LIMIT) return;
  for (const [key, name] of files) {
    const want = meta[`${key}_sha256`];
    if (typeof want !== 'string') continue;
    const file = path.join(dir, name);
    const got = sha256File(file).sha256;
    if (got !== want) {
      const expected = `${want.slice(0, 16)}… as ${metaFile} records`;
      throw new DataError(file, 'sha256', `${got.slice(0, 16)}…`, expected, hint);
    }
  }
}
