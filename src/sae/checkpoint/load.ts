/**
 * One entry point for any SAE checkpoint directory (docs/FORMATS.md, "SAE directories"): detects the
 * layout from the files present (and cfg.json keys when both weight files exist) and dispatches to
 * the SAELens or sparsify reader. A root holding several SAE folders (sparsify's one subfolder per
 * hookpoint, seed sweeps' `seedN`) needs `hookpoint`, a path relative to the root; without it the
 * error lists the choices. A root holding exactly one SAE folder loads that one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DataError } from '../../core/errors.js';
import {
  CFG_FILE,
  LAYOUTS_EXPECTED,
  SAELENS_WEIGHTS,
  SPARSIFY_WEIGHTS,
  describeDir,
  detectLayout,
  listSaeDirs,
  requireDir,
} from './layout.js';
import { readSaeLens } from './saelens.js';
import { readSparsify } from './sparsify.js';
import type { SaeWeights } from './types.js';

interface LoadSaeOptions {
  /** Subfolder of `dir` holding the SAE, e.g. "layers.6" or "seed2/layers.6". */
  hookpoint?: string;
}

/** Loads the SAE at `dir` (or `dir/hookpoint`), whichever layout it is in. */
export function loadSae(dir: string, opts: LoadSaeOptions = {}): SaeWeights {
  requireDir(dir);
  let target = dir;
  if (opts.hookpoint !== undefined) {
    target = path.join(dir, opts.hookpoint);
    if (!fs.existsSync(target) || !fs.statSync(target).isDirectory()) {
      throw new DataError(
        dir,
        'hookpoint',
        `${JSON.stringify(opts.hookpoint)}, which is not a folder there`,
        `one of ${choices(dir)}`,
      );
    }
  }
  const layout = detectLayout(target);
  if (layout === 'saelens') return readSaeLens(target);
  if (layout === 'sparsify') return readSparsify(target);

  if (fs.existsSync(path.join(target, CFG_FILE))) {
    throw new DataError(
      path.join(target, SAELENS_WEIGHTS),
      'weights file',
      `missing (${target} holds: ${describeDir(target)})`,
      `${SAELENS_WEIGHTS} (SAELens) or ${SPARSIFY_WEIGHTS} (sparsify) next to ${CFG_FILE}`,
    );
  }
  const below = listSaeDirs(target).filter((d) => d !== target);
  if (below.length === 1) return loadSae(below[0]);
  if (below.length > 1) {
    const first = path.relative(target, below[0]);
    throw new DataError(
      target,
      'hookpoint',
      `no hookpoint chosen, and ${below.length} SAE folders below`,
      `one of ${choices(target)}`,
      `choose one: loadSae(${JSON.stringify(target)}, { hookpoint: ${JSON.stringify(first)} })`,
    );
  }
  throw new DataError(target, 'directory', `neither layout (holds: ${describeDir(target)})`, LAYOUTS_EXPECTED);
}

/** The SAE folders below `root`, relative to it, for messages. */
function choices(root: string): string {
  const dirs = listSaeDirs(root)
    .filter((d) => d !== root)
    .map((d) => path.relative(root, d));
  return dirs.length === 0 ? '(no SAE folders below it)' : dirs.join(', ');
}
