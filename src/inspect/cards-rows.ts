/**
 * The activation set behind feature cards (cards.ts): row reads by global index across its shards
 * (data/rows.ts, at most 8 shard files open) and each row's provenance
 * columns — from the per-shard .rows.json of a folder written by `husai extract`
 * (models/extract-writer.ts), or the (a, b) pairs of a modular-arithmetic FILE.meta.json
 * (models/modarith/extract.ts) — and from what the folder holds, which kind of cards it makes
 * (vision, text, modarith or plain rows).
 */
import fs from 'node:fs';
import path from 'node:path';
import { DataError } from '../core/errors.js';
import { ShardRows } from '../data/rows.js';
import { findShards, type ShardSet } from '../data/shards.js';
import {
  ACTIVATIONS_FORMAT,
  type ExtractionMeta,
  readExtractionMeta,
  readShardRowColumns,
} from '../models/extract-writer.js';
import type { RowColumns } from '../models/extraction.js';
import { readActivationMeta } from '../models/modarith/extract.js';
import type { CardsKind } from './cards-types.js';

const MAX_OPEN = 8; // shard files open at once

/** The activation set: row reads over its shards, and each row's provenance. */
export class RowStore {
  readonly set: ShardSet;
  readonly kind: CardsKind;
  readonly dir: string | null;
  readonly meta: ExtractionMeta | null;
  readonly config: Record<string, unknown> | null;
  private readonly starts: number[] = [0];
  private readonly rows: ShardRows;
  private readonly columns = new Map<number, RowColumns>();
  private readonly modarith: { a: number[]; b: number[]; positions: number[] } | null = null;

  constructor(actsPath: string) {
    if (!fs.existsSync(actsPath))
      throw new DataError(
        actsPath,
        'path',
        'nothing there',
        'a shard folder written by husai extract, or a .npy / .safetensors file',
      );
    if (fs.statSync(actsPath).isDirectory()) {
      const metaPath = path.join(actsPath, 'meta.json');
      if (!fs.existsSync(metaPath)) {
        throw new DataError(
          metaPath,
          'meta.json',
          'missing',
          `a folder written by husai extract (meta.json with format "${ACTIVATIONS_FORMAT}" and per-row provenance)`,
          'cards need to know what each row is; for row indices only, pass a single .npy or .safetensors file',
        );
      }
      this.dir = actsPath;
      this.meta = readExtractionMeta(actsPath);
      this.config = this.meta.config;
      this.set = findShards(actsPath);
      if (this.set.rows !== this.meta.rows)
        throw new DataError(
          metaPath,
          'rows',
          String(this.meta.rows),
          `${this.set.rows}, the rows of the listed shards`,
        );
      for (const r of this.meta.rows_per_shard) this.starts.push(this.starts[this.starts.length - 1] + r);
      const cols = Object.keys(this.meta.row_columns);
      const side = new Set(this.meta.sidecars);
      this.kind =
        side.has('images.json') && cols.includes('image')
          ? 'vision'
          : side.has('tokens.json') && cols.includes('doc') && cols.includes('offset')
            ? 'text'
            : cols.includes('a') && cols.includes('b')
              ? 'modarith'
              : 'rows';
    } else {
      this.dir = null;
      this.meta = null;
      this.set = findShards(actsPath);
      this.starts.push(this.set.rows);
      const m = readActivationMeta(actsPath);
      if (m !== null && m.rows !== this.set.rows)
        throw new DataError(
          `${actsPath}.meta.json`,
          'rows',
          String(m.rows),
          `${this.set.rows}, the rows of ${actsPath}`,
        );
      this.modarith = m;
      this.config =
        m === null
          ? null
          : {
              format: m.format,
              hook: m.hook,
              layer: m.layer,
              position: m.position,
              p: m.p,
              task: m.task,
              model_sha256: m.model_sha256,
            };
      this.kind = m === null ? 'rows' : 'modarith';
    }
    // Row lookups need the shard boundaries as data/shards.ts found them.
    this.rows = new ShardRows(this.set, { maxOpen: MAX_OPEN });
    if (this.rows.starts.join() !== this.starts.join()) {
      throw new DataError(
        path.join(actsPath, 'meta.json'),
        'rows_per_shard',
        JSON.stringify(this.meta?.rows_per_shard),
        `${JSON.stringify(this.set.shards.map((s) => s.rows))} (the shards' row counts)`,
      );
    }
  }

  /** Rows [start, start + n) in order, across shard boundaries, into out. */
  read(start: number, n: number, out: Float32Array): void {
    this.rows.read(start, n, out);
  }

  /** Row `row`'s provenance columns. */
  fields(row: number): Record<string, number> {
    if (this.modarith !== null)
      return { a: this.modarith.a[row], b: this.modarith.b[row], position: this.modarith.positions[row] };
    if (this.meta === null || this.dir === null) return {};
    const s = this.rows.shardOf(row);
    let cols = this.columns.get(s);
    if (cols === undefined) {
      const shard = this.meta.shards[s];
      cols = readShardRowColumns(this.dir, shard);
      for (const name of Object.keys(this.meta.row_columns)) {
        const c = cols[name];
        if (c === undefined || c.length !== this.meta.rows_per_shard[s]) {
          throw new DataError(
            path.join(this.dir, shard.replace(/\.npy$/, '.rows.json')),
            `columns.${name}`,
            c === undefined ? 'missing' : `${c.length} values`,
            `${this.meta.rows_per_shard[s]} values`,
          );
        }
      }
      this.columns.set(s, cols);
    }
    const out: Record<string, number> = {};
    for (const name of Object.keys(this.meta.row_columns)) out[name] = cols[name][row - this.starts[s]];
    return out;
  }

  close(): void {
    this.rows.close();
  }
}
