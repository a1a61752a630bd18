/**
 * The shard writer behind `husai extract`: walks an ExtractionSource (models/extraction.ts) in
 * shards of `shard_units` units and writes a folder that data/shards.ts reads as one activation set
 * (docs/FORMATS.md, "Activations": a folder of shards + meta.json listing them):
 *
 *   meta.json               {format: 'husai-activations', version: 1, config, d, units, shard_units,
 *                            shards: [complete shard files, in order], rows_per_shard, rows,
 *                            row_columns: {name: 'int32' | 'float32'}, sidecars: [names written],
 *                            complete, created_by}
 *   shard_00000.npy         float32 [rows, d], C order (formats/npy.ts)
 *   shard_00000.rows.json   per-row provenance of that shard: {format: 'husai-rows', rows,
 *                            dtypes: {name: dtype}, columns: {name: [values]}}
 *   SIDECAR…                the source's sidecars (e.g. images.u8 + images.json), written once
 *
 * Crash safety: every file is written atomically (temp file + rename, formats/io.ts) and meta.json
 * is rewritten after each shard, listing only shards whose .npy and .rows.json are both complete —
 * so a folder is always readable, and a rerun resumes after the last listed shard (a shard file
 * present but not listed is simply overwritten). A rerun whose source config differs from the
 * folder's is refused with the first differing field named, never appended to.
 *
 * Letters: N rows, D width.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, DataError, NumericError, ShapeError } from '../core/errors.js';
import { HUSAI_VERSION } from '../core/version.js';
import { fsyncDir, writeFileAtomic } from '../formats/io.js';
import { writeNpy } from '../formats/npy.js';
import type { ExtractedRows, ExtractionSource, RowColumns } from './extraction.js';

export const ACTIVATIONS_FORMAT = 'husai-activations';
const ROWS_FORMAT = 'husai-rows';
/** Default shard size: about this many bytes of activations … */
const TARGET_SHARD_BYTES = 64 << 20;
/** … but at most this many source chunks, so an interrupted run loses little work. */
const MAX_CHUNKS_PER_SHARD = 32;

type ColumnDtype = 'int32' | 'float32';

export interface ExtractionMeta {
  format: typeof ACTIVATIONS_FORMAT;
  version: 1;
  /** The source's config (what was extracted), compared on resume. */
  config: Record<string, unknown>;
  d: number;
  units: number;
  /** Units per shard (the last shard may hold fewer); null until the first shard is sized. */
  shard_units: number | null;
  /** Complete shards, in order (file names relative to the folder). */
  shards: string[];
  rows_per_shard: number[];
  /** Total rows over the listed shards. */
  rows: number;
  /** Row-provenance columns and their element types (set by the first shard). */
  row_columns: Record<string, ColumnDtype>;
  /** Sidecar files written (once, before the first shard). */
  sidecars: string[];
  complete: boolean;
  created_by: string;
}

interface ExtractionOptions {
  /** Units per shard (default: about 64 MiB of activations, at most 32 source chunks). */
  shardUnits?: number;
  /** Called with (units done, units in all) at the start and after every chunk. */
  onProgress?: (doneUnits: number, totalUnits: number) => void;
}

interface ExtractionResult {
  meta: ExtractionMeta;
  /** Units already done when this call started (0 for a fresh folder). */
  resumedFrom: number;
  /** Shards this call wrote. */
  shardsWritten: number;
}

/** Shard file name of shard i. */
function shardName(i: number): string {
  return `shard_${String(i).padStart(5, '0')}.npy`;
}

/** The row-provenance file beside a shard. */
function rowsName(shard: string): string {
  return shard.replace(/\.npy$/, '.rows.json');
}

/**
 * Extracts `source` into `outDir` (created if needed), resuming a previous run of the same config.
 * The caller opens and closes the source.
 */
export async function runExtraction(
  source: ExtractionSource,
  outDir: string,
  opts: ExtractionOptions = {},
): Promise<ExtractionResult> {
  const { d, units, chunkUnits } = source;
  if (!Number.isInteger(units) || units < 1)
    throw new ConfigError(`extraction: units = ${units}: nothing to extract (expected an integer ≥ 1)`);
  if (!Number.isInteger(d) || d < 1) throw new ConfigError(`extraction: d = ${d}: expected an integer ≥ 1`);
  if (!Number.isInteger(chunkUnits) || chunkUnits < 1)
    throw new ConfigError(`extraction: chunkUnits = ${chunkUnits}: expected an integer ≥ 1`);
  if (opts.shardUnits !== undefined && (!Number.isInteger(opts.shardUnits) || opts.shardUnits < 1)) {
    throw new ConfigError(`--shard-units ${opts.shardUnits}: expected an integer ≥ 1`);
  }
  const config = JSON.parse(JSON.stringify(source.config)) as Record<string, unknown>;
  const metaPath = path.join(outDir, 'meta.json');
  fs.mkdirSync(outDir, { recursive: true });

  let meta: ExtractionMeta;
  if (fs.existsSync(metaPath)) {
    meta = readExtractionMeta(outDir);
    checkResumable(metaPath, meta, config, d, units, opts.shardUnits);
    removeStaleTemps(outDir);
  } else {
    const present = fs.readdirSync(outDir).filter((f) => !STALE_TEMP.test(f));
    if (present.length > 0) {
      throw new DataError(
        outDir,
        'folder',
        `${present.length} entries (e.g. ${present.slice(0, 3).join(', ')}) and no meta.json`,
        'an empty or new folder, or one husai extract wrote',
        'use another --out, or delete the folder',
      );
    }
    meta = {
      format: ACTIVATIONS_FORMAT,
      version: 1,
      config,
      d,
      units,
      shard_units: opts.shardUnits ?? null,
      shards: [],
      rows_per_shard: [],
      rows: 0,
      row_columns: {},
      sidecars: [],
      complete: false,
      created_by: HUSAI_VERSION,
    };
    removeStaleTemps(outDir); // only temps were there: a run killed during its first write
    writeMeta(outDir, meta);
  }

  const resumedFrom = meta.complete ? units : meta.shards.length * (meta.shard_units ?? 0);
  opts.onProgress?.(resumedFrom, units);
  if (meta.complete) return { meta, resumedFrom, shardsWritten: 0 };

  if (meta.sidecars.length === 0 && source.sidecars) {
    const files = await source.sidecars();
    for (const [name, bytes] of Object.entries(files)) {
      if (name === 'meta.json' || /^shard_\d+\./.test(name) || name.includes('/') || name.includes(path.sep)) {
        throw new ConfigError(`sidecar ${JSON.stringify(name)}: a plain file name that is not meta.json or shard_*`);
      }
      writeFileAtomic(path.join(outDir, name), [bytes]);
    }
    meta.sidecars = Object.keys(files);
    writeMeta(outDir, meta);
  }

  let shardsWritten = 0;
  let start = resumedFrom;
  while (start < units) {
    const parts: ExtractedRows[] = [];
    let shardUnits = meta.shard_units;
    let end = shardUnits === null ? Math.min(units, start + chunkUnits) : Math.min(units, start + shardUnits);
    for (let at = start; at < end;) {
      const to = Math.min(end, at + chunkUnits);
      const got = await source.extract(at, to);
      checkRows(got, d, at, to, meta.row_columns);
      parts.push(got);
      if (shardUnits === null) {
        // Size shards from the first chunk: ~TARGET_SHARD_BYTES, whole chunks, ≤ MAX_CHUNKS_PER_SHARD.
        const chunkBytes = Math.max(1, got.xND.rows * d * 4);
        shardUnits =
          chunkUnits * Math.min(MAX_CHUNKS_PER_SHARD, Math.max(1, Math.floor(TARGET_SHARD_BYTES / chunkBytes)));
        meta.shard_units = shardUnits;
        end = Math.min(units, start + shardUnits);
      }
      if (Object.keys(meta.row_columns).length === 0) meta.row_columns = columnDtypes(got.rows);
      at = to;
      opts.onProgress?.(at, units);
    }
    const name = shardName(meta.shards.length);
    const rows = parts.reduce((a, p) => a + p.xND.rows, 0);
    const xND = new Float32Array(rows * d);
    let off = 0;
    for (const p of parts) {
      xND.set(p.xND.data.subarray(0, p.xND.rows * d), off);
      off += p.xND.rows * d;
    }
    writeNpy(path.join(outDir, name), { data: xND, rows, cols: d });
    writeFileAtomic(path.join(outDir, rowsName(name)), [encodeRows(parts, rows, meta.row_columns)]);
    meta.shards.push(name);
    meta.rows_per_shard.push(rows);
    meta.rows += rows;
    meta.complete = end >= units;
    writeMeta(outDir, meta);
    shardsWritten++;
    start = end;
  }
  return { meta, resumedFrom, shardsWritten };
}

/** Reads and checks a folder's meta.json. */
export function readExtractionMeta(dir: string): ExtractionMeta {
  const metaPath = path.join(dir, 'meta.json');
  let v: unknown;
  try {
    v = JSON.parse(fs.readFileSync(metaPath, 'utf8'));
  } catch (e) {
    throw new DataError(
      metaPath,
      'json',
      (e as Error).message,
      'a meta.json written by husai extract',
      'use another --out, or delete the folder',
    );
  }
  const m = v as Partial<ExtractionMeta> | null;
  if (m === null || typeof m !== 'object' || m.format !== ACTIVATIONS_FORMAT) {
    throw new DataError(
      metaPath,
      'format',
      JSON.stringify(m?.format ?? null),
      JSON.stringify(ACTIVATIONS_FORMAT),
      'this folder was not written by husai extract: use another --out',
    );
  }
  if (m.version !== 1)
    throw new DataError(
      metaPath,
      'version',
      JSON.stringify(m.version),
      '1',
      'written by a newer husai? upgrade, or use another --out',
    );
  const shards = m.shards;
  if (
    !Array.isArray(shards) ||
    !Array.isArray(m.rows_per_shard) ||
    shards.length !== m.rows_per_shard.length ||
    !shards.every((s) => typeof s === 'string')
  ) {
    throw new DataError(
      metaPath,
      'shards / rows_per_shard',
      `${JSON.stringify(shards)?.slice(0, 60)} / ${JSON.stringify(m.rows_per_shard)?.slice(0, 60)}`,
      'two arrays of equal length',
    );
  }
  for (const s of shards) {
    for (const f of [s, rowsName(s)]) {
      if (!fs.existsSync(path.join(dir, f)))
        throw new DataError(
          metaPath,
          'shards',
          `${f}, which does not exist`,
          'every listed shard and its .rows.json',
          'the folder was changed by hand: delete it and extract again',
        );
    }
  }
  return m as ExtractionMeta;
}

/** The row provenance of every listed shard, concatenated in row order. */
export function readRowColumns(dir: string): RowColumns {
  const meta = readExtractionMeta(dir);
  const out: RowColumns = {};
  for (const [name, dtype] of Object.entries(meta.row_columns))
    out[name] = dtype === 'int32' ? new Int32Array(meta.rows) : new Float32Array(meta.rows);
  let at = 0;
  meta.shards.forEach((s, i) => {
    const cols = readShardRowColumns(dir, s);
    for (const name of Object.keys(out)) {
      const c = cols[name];
      if (c === undefined || c.length !== meta.rows_per_shard[i]) {
        throw new DataError(
          path.join(dir, rowsName(s)),
          `columns.${name}`,
          c === undefined ? 'missing' : `${c.length} values`,
          `${meta.rows_per_shard[i]} values (rows_per_shard[${i}] in meta.json)`,
        );
      }
      out[name].set(c, at);
    }
    at += meta.rows_per_shard[i];
  });
  return out;
}

/** The row provenance of one shard (`shard` = its .npy name). */
export function readShardRowColumns(dir: string, shard: string): RowColumns {
  const file = path.join(dir, rowsName(shard));
  let v: { format?: unknown; rows?: unknown; dtypes?: Record<string, unknown>; columns?: Record<string, unknown> };
  try {
    v = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new DataError(file, 'json', (e as Error).message, 'a .rows.json written by husai extract');
  }
  if (
    v.format !== ROWS_FORMAT ||
    typeof v.rows !== 'number' ||
    typeof v.columns !== 'object' ||
    v.columns === null ||
    typeof v.dtypes !== 'object' ||
    v.dtypes === null
  ) {
    throw new DataError(
      file,
      'format',
      JSON.stringify(v.format ?? null),
      `${JSON.stringify(ROWS_FORMAT)} with rows, dtypes and columns`,
    );
  }
  const out: RowColumns = {};
  for (const [name, values] of Object.entries(v.columns)) {
    if (!Array.isArray(values) || values.length !== v.rows)
      throw new DataError(
        file,
        `columns.${name}`,
        Array.isArray(values) ? `${values.length} values` : typeof values,
        `${v.rows} values`,
      );
    out[name] =
      v.dtypes[name] === 'float32' ? Float32Array.from(values as number[]) : Int32Array.from(values as number[]);
  }
  return out;
}

function writeMeta(dir: string, meta: ExtractionMeta): void {
  writeFileAtomic(path.join(dir, 'meta.json'), [new TextEncoder().encode(`${JSON.stringify(meta, null, 2)}\n`)]);
  fsyncDir(dir);
}

function checkResumable(
  metaPath: string,
  meta: ExtractionMeta,
  config: Record<string, unknown>,
  d: number,
  units: number,
  shardUnits: number | undefined,
): void {
  const hint = 'use another --out, or delete the folder to start over';
  const diff = firstDifference(meta.config, config, 'config');
  if (diff !== null)
    throw new DataError(
      metaPath,
      diff.field,
      diff.found,
      diff.expected,
      `the folder holds another extraction: ${hint}`,
    );
  if (meta.d !== d) throw new DataError(metaPath, 'd', String(meta.d), `${d} (the source's width)`, hint);
  if (meta.units !== units)
    throw new DataError(metaPath, 'units', String(meta.units), `${units} (the source's units)`, hint);
  if (
    shardUnits !== undefined &&
    meta.shard_units !== null &&
    meta.shards.length > 0 &&
    meta.shard_units !== shardUnits
  ) {
    throw new DataError(
      metaPath,
      'shard_units',
      String(meta.shard_units),
      `${shardUnits} (--shard-units)`,
      "leave out --shard-units to resume with the folder's, or use another --out",
    );
  }
  if (meta.shard_units === null && shardUnits !== undefined) meta.shard_units = shardUnits;
}

/** The first place two JSON values differ (path like `config.layer` or `config.shape[1]`), or null. */
export function firstDifference(
  found: unknown,
  expected: unknown,
  at: string,
): { field: string; found: string; expected: string } | null {
  const show = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v).slice(0, 120));
  if (Array.isArray(found) && Array.isArray(expected)) {
    for (let i = 0; i < Math.max(found.length, expected.length); i++) {
      const d = firstDifference(found[i], expected[i], `${at}[${i}]`);
      if (d !== null) return d;
    }
    return null;
  }
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(found) && isObj(expected)) {
    const keys = [...Object.keys(expected), ...Object.keys(found).filter((k) => !(k in expected))];
    for (const k of keys) {
      const d = firstDifference(found[k], expected[k], `${at}.${k}`);
      if (d !== null) return d;
    }
    return null;
  }
  return JSON.stringify(found) === JSON.stringify(expected)
    ? null
    : { field: at, found: show(found), expected: show(expected) };
}

function checkRows(
  got: ExtractedRows,
  d: number,
  start: number,
  end: number,
  known: Record<string, ColumnDtype>,
): void {
  const where = `units [${start}, ${end})`;
  const { xND, rows } = got;
  if (xND.cols !== d || xND.data.length < xND.rows * d) {
    throw new ShapeError(
      `extraction ${where}: activations [${xND.rows}×${xND.cols}] with ${xND.data.length} values; expected ${d} ` +
        `columns`,
    );
  }
  for (const [name, col] of Object.entries(rows)) {
    if (col.length !== xND.rows)
      throw new ShapeError(
        `extraction ${where}: row column ${name} has ${col.length} entries; expected ${xND.rows}, one per row`,
      );
  }
  const names = Object.keys(rows).sort().join(',');
  if (Object.keys(known).length > 0 && names !== Object.keys(known).sort().join(',')) {
    throw new ShapeError(
      `extraction ${where}: row columns ${names}; expected ${Object.keys(known).sort().join(',')} as in the first ` +
        `shard`,
    );
  }
  const data = xND.data;
  for (let i = 0; i < xND.rows * d; i++) {
    if (!Number.isFinite(data[i])) {
      throw new NumericError(
        `extraction ${where}: activation row ${Math.floor(i / d)} of the chunk, column ${i % d} is ${data[i]}; ` +
          `expected finite values`,
      );
    }
  }
}

function columnDtypes(rows: RowColumns): Record<string, ColumnDtype> {
  return Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, v instanceof Float32Array ? 'float32' : 'int32']));
}

function encodeRows(parts: ExtractedRows[], rows: number, dtypes: Record<string, ColumnDtype>): Uint8Array {
  const columns: Record<string, number[]> = {};
  for (const name of Object.keys(dtypes)) columns[name] = parts.flatMap((p) => Array.from(p.rows[name]));
  return new TextEncoder().encode(`${JSON.stringify({ format: ROWS_FORMAT, rows, dtypes, columns })}\n`);
}

/** Temps of formats/io.ts's atomic writes (`NAME.tmp-PID`) of the files this writer names; a user's stay. */
const STALE_TEMP = /^(meta\.json|shard_\d{5,}\.(npy|rows\.json))\.tmp-\d+$/;

/** Removes the temp files a killed run left in a folder known to be an extraction's. */
function removeStaleTemps(dir: string): void {
  for (const f of fs.readdirSync(dir)) if (STALE_TEMP.test(f)) fs.rmSync(path.join(dir, f), { force: true });
}
