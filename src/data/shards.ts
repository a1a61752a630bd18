/**
 * Finding and validating activation files on disk (docs/FORMATS.md, "Activations"): one .npy file, one
 * .safetensors file (its single 2-D tensor, or the one `tensor` names), or a folder of shards of
 * either kind. Every shard's header is read and checked up front — 2-D, a dtype we read, the same
 * width d as the first shard — so a bad shard fails before training, named in the error. Row data
 * is read later, through `Shard.open()`, by the sources in this folder.
 *
 * Folder rules (the ordering and the `shards` key are ours): the shards are the folder's .npy and
 * .safetensors files in natural name order (shard_2 before shard_10), unless `meta.json` lists them
 * in a `shards` array of relative paths, which then sets the set and the order. `meta.json` is
 * otherwise free-form (source, layer, hook, positions, token ids…) and exposed as `meta`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DataError, HusaiError, fmtShape } from '../core/errors.js';
import { readRegularFile } from '../formats/io.js';
import { openNpyRows } from '../formats/npy.js';
import { describeTensors, openSafetensors, readSafetensorsHeader } from '../formats/safetensors.js';
import { naturalCompare } from '../core/text.js';

/** Rows of one shard, read on demand. */
export interface RowReader {
  /** Reads rows [start, start+count) into `out` as float32. */
  readRows(start: number, count: number, out: Float32Array): void;
  close(): void;
}

export interface Shard {
  path: string;
  kind: 'npy' | 'safetensors';
  /** The tensor read, for safetensors. */
  tensor?: string;
  rows: number;
  cols: number;
  open(): RowReader;
}

export interface ShardSet {
  /** The file or folder given. */
  root: string;
  shards: Shard[];
  d: number;
  /** Total rows over all shards. */
  rows: number;
  /** Parsed meta.json of a folder, when present. */
  meta: Record<string, unknown> | null;
  /** Deduplicated non-fatal notes (e.g. float64 narrowed). */
  warnings: string[];
}

const EXTENSIONS = ['.npy', '.safetensors'];

/** Locates and validates the shards at `pathOrDir`. */
export function findShards(pathOrDir: string, opts: { tensor?: string } = {}): ShardSet {
  if (!fs.existsSync(pathOrDir))
    throw new DataError(pathOrDir, 'path', 'nothing there', 'a .npy or .safetensors file or a folder of them');
  const warnings: string[] = [];
  let meta: Record<string, unknown> | null = null;
  let files: string[];
  if (fs.statSync(pathOrDir).isDirectory()) {
    const metaPath = path.join(pathOrDir, 'meta.json');
    if (fs.existsSync(metaPath)) meta = readMeta(metaPath);
    files =
      meta !== null && meta.shards !== undefined
        ? listedShards(metaPath, pathOrDir, meta.shards)
        : listShards(pathOrDir);
    if (files.length === 0)
      throw new DataError(pathOrDir, 'shards', 'no .npy or .safetensors files', 'at least one shard');
  } else {
    files = [pathOrDir];
  }

  const shards: Shard[] = [];
  for (const file of files) {
    const shard = probe(file, opts.tensor, warnings);
    const first = shards[0];
    if (first !== undefined && shard.cols !== first.cols) {
      throw new DataError(
        file,
        'd (columns)',
        `${shard.cols} (shape ${fmtShape(shard.rows, shard.cols)})`,
        `${first.cols}, as in the first shard ${path.basename(first.path)}`,
        'all shards of a folder must share d',
      );
    }
    shards.push(shard);
  }
  return { root: pathOrDir, shards, d: shards[0].cols, rows: shards.reduce((a, s) => a + s.rows, 0), meta, warnings };
}

function probe(file: string, tensor: string | undefined, warnings: string[]): Shard {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.npy') {
    const r = openNpyRows(file); // validates header, dtype, C order, 2-D and size
    r.close();
    for (const w of r.warnings) if (!warnings.includes(w)) warnings.push(w);
    return { path: file, kind: 'npy', rows: r.rows, cols: r.cols, open: () => openNpyRows(file) };
  }
  if (ext === '.safetensors') {
    const h = readSafetensorsHeader(file);
    const name = pickTensor(file, h, tensor);
    const t = h.tensors.get(name)!;
    if (t.dtype === 'F64') {
      const w = `${file}: tensor ${JSON.stringify(name)}: F64 narrowed to float32`;
      if (!warnings.includes(w)) warnings.push(w);
    }
    return {
      path: file,
      kind: 'safetensors',
      tensor: name,
      rows: t.shape[0],
      cols: t.shape[1],
      open: () => {
        const f = openSafetensors(file);
        return { readRows: (s, c, out) => f.readRows(name, s, c, out), close: () => f.close() };
      },
    };
  }
  throw new DataError(file, 'extension', ext === '' ? 'none' : ext, '.npy or .safetensors (or a folder of them)');
}

function pickTensor(file: string, h: ReturnType<typeof readSafetensorsHeader>, tensor: string | undefined): string {
  if (tensor !== undefined) {
    const t = h.tensors.get(tensor);
    if (t === undefined)
      throw new DataError(
        file,
        `tensor ${JSON.stringify(tensor)}`,
        `no such tensor (tensors: ${describeTensors(h)})`,
        'a tensor of that name',
      );
    if (t.shape.length !== 2)
      throw new DataError(file, `tensor ${JSON.stringify(tensor)} shape`, fmtShape(...t.shape), '2-D [tokens, d]');
    return tensor;
  }
  const twoD = [...h.tensors].filter(([, t]) => t.shape.length === 2).map(([n]) => n);
  if (twoD.length !== 1) {
    throw new DataError(
      file,
      'tensor',
      `${twoD.length} 2-D tensors (tensors: ${describeTensors(h)})`,
      'exactly one 2-D tensor',
      'name the one to read with the `tensor` option (--tensor NAME)',
    );
  }
  return twoD[0];
}

function readMeta(metaPath: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(readRegularFile(metaPath, 'utf8'));
  } catch (e) {
    if (e instanceof HusaiError) throw e;
    throw new DataError(metaPath, 'json', `invalid JSON (${(e as Error).message})`, 'a JSON object');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new DataError(metaPath, 'json', Array.isArray(v) ? 'an array' : String(v), 'a JSON object');
  return v as Record<string, unknown>;
}

function listedShards(metaPath: string, dir: string, listed: unknown): string[] {
  if (!Array.isArray(listed) || !listed.every((s) => typeof s === 'string')) {
    throw new DataError(
      metaPath,
      'shards',
      JSON.stringify(listed).slice(0, 60),
      'an array of file names relative to the folder',
    );
  }
  return listed.map((s: string) => {
    const p = path.join(dir, s);
    if (!fs.existsSync(p))
      throw new DataError(metaPath, 'shards', `${JSON.stringify(s)}, which does not exist`, 'existing shard files');
    return p;
  });
}

function listShards(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && EXTENSIONS.includes(path.extname(e.name).toLowerCase()))
    .map((e) => e.name)
    .sort(naturalCompare)
    .map((n) => path.join(dir, n));
}
