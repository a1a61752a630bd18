/**
 * SAE directory layouts on disk (docs/FORMATS.md, "SAE directories"): which files make a SAELens or a
 * sparsify directory, reading their cfg.json, and finding every loadable SAE directory under a
 * root — sparsify runs hold one subfolder per hookpoint, seed sweeps one `seedN` folder per seed.
 * Errors name the file and list what the directory does hold, so a wrong path is obvious.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DataError } from '../../core/errors.js';
import { readRegularFile } from '../../formats/io.js';
import { findDuplicateKey } from '../../formats/json-duplicates.js';
import { naturalCompare } from '../../core/text.js';

export const CFG_FILE = 'cfg.json';
export const SAELENS_WEIGHTS = 'sae_weights.safetensors';
export const SPARSIFY_WEIGHTS = 'sae.safetensors';

type Layout = 'saelens' | 'sparsify';

export const LAYOUTS_EXPECTED =
  `an SAE directory: SAELens (${CFG_FILE} + ${SAELENS_WEIGHTS}) or sparsify ` + `(${CFG_FILE} + ${SPARSIFY_WEIGHTS})`;

/** Entries of `dir`, sorted, folders marked with a trailing "/"; "(empty)" when none. For messages. */
export function describeDir(dir: string): string {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return '(unreadable)';
  }
  if (entries.length === 0) return '(empty)';
  const names = entries.map((e) => (e.isDirectory() ? `${e.name}/` : e.name)).sort(naturalCompare);
  const shown = names.slice(0, 20).join(', ');
  return names.length > 20 ? `${shown}, … (${names.length} entries)` : shown;
}

/** Throws a DataError unless `dir` exists and is a directory. */
export function requireDir(dir: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    const parent = path.dirname(path.resolve(dir));
    const hint = fs.existsSync(parent) ? `${parent} holds: ${describeDir(parent)}` : undefined;
    throw new DataError(dir, 'directory', 'nothing (no such file or directory)', LAYOUTS_EXPECTED, hint);
  }
  if (!st.isDirectory()) throw new DataError(dir, 'directory', 'a file', LAYOUTS_EXPECTED);
}

/**
 * Parses `dir/cfg.json` into a plain object. Rejects a missing file (listing what the directory
 * holds), invalid JSON, a non-object, and duplicate keys (JSON.parse would keep the last silently).
 */
export function readCfgJson(dir: string, weightsFile: string): Record<string, unknown> {
  const file = path.join(dir, CFG_FILE);
  if (!fs.existsSync(file)) {
    throw new DataError(
      file,
      CFG_FILE,
      `missing (${dir} holds: ${describeDir(dir)})`,
      `${CFG_FILE} next to ${weightsFile}`,
      'an SAE directory needs its cfg.json: it gives d_in, d_sae and the architecture',
    );
  }
  const text = readRegularFile(file, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new DataError(file, CFG_FILE, `invalid JSON (${(e as Error).message})`, 'a JSON object');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new DataError(
      file,
      CFG_FILE,
      Array.isArray(parsed) ? 'a JSON array' : `JSON ${String(parsed)}`,
      'a JSON object',
    );
  }
  const dup = findDuplicateKey(text);
  if (dup !== null) {
    throw new DataError(
      file,
      [...dup.path, dup.key].join('.'),
      'the key twice',
      'unique keys (JSON.parse would keep the last silently)',
    );
  }
  return parsed as Record<string, unknown>;
}

/**
 * Which layout `dir` holds, from the files present and, when both weight files exist, the cfg keys; null if neither.
 */
export function detectLayout(dir: string): Layout | null {
  const has = (f: string): boolean => fs.existsSync(path.join(dir, f));
  const saelens = has(SAELENS_WEIGHTS);
  const sparsify = has(SPARSIFY_WEIGHTS);
  if (saelens && sparsify) {
    // Both weight files: sparsify configs have no d_sae; SAELens configs always do.
    const cfg = has(CFG_FILE) ? readCfgJson(dir, SAELENS_WEIGHTS) : {};
    return 'd_sae' in cfg ? 'saelens' : 'sparsify';
  }
  if (saelens) return 'saelens';
  if (sparsify) return 'sparsify';
  return null;
}

/** True when `dir` holds cfg.json and a weights file of either layout. */
function isSaeDir(dir: string): boolean {
  return fs.existsSync(path.join(dir, CFG_FILE)) && detectLayout(dir) !== null;
}

/**
 * Every loadable SAE directory under `root` (root itself included), at most `maxDepth` folders
 * below it, in natural order (layers.2 before layers.10). The search does not descend into an SAE
 * directory, nor follow symbolic links (a link cycle cannot loop it).
 */
export function listSaeDirs(root: string, maxDepth = 3): string[] {
  requireDir(root);
  const found: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (isSaeDir(dir)) {
      found.push(dir);
      return;
    }
    if (depth >= maxDepth) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    const subdirs = entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort(naturalCompare);
    for (const name of subdirs) walk(path.join(dir, name), depth + 1);
  };
  walk(root, 0);
  return found;
}
