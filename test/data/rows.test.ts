/**
 * ShardRows (data/rows.ts): rows of a folder of .npy shards read by global index agree with the
 * rows read directly from each file (readNpy), across shard boundaries, for ranges and index lists;
 * an index outside [0, rows) is a DataError naming it and the total; at most maxOpen readers open.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '../../src/core/errors.js';
import { ShardRows } from '../../src/data/rows.js';
import { findShards, type ShardSet } from '../../src/data/shards.js';
import { readNpy, writeNpy } from '../../src/formats/npy.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'husai-rows-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const D = 3;
const SIZES = [5, 1, 7, 4]; // a one-row shard in the middle; boundaries at 5, 6, 13
const TOTAL = SIZES.reduce((a, b) => a + b, 0);

/** A folder of shards with pseudo-random values (no structure a wrong index could accidentally hit). */
function writeShards(dir: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  let state = 12345;
  return SIZES.map((n, s) => {
    const x = new Float32Array(n * D);
    for (let i = 0; i < x.length; i++) {
      state = (state * 1103515245 + 12345) % 2147483648;
      x[i] = state / 2147483648 - 0.5;
    }
    const file = path.join(dir, `shard_${s}.npy`);
    writeNpy(file, { data: x, rows: n, cols: D });
    return file;
  });
}

const dir = path.join(tmp, 'acts');
const files = writeShards(dir);
/** The reference: every file read whole by formats/npy.ts, rows concatenated in shard order. */
const direct: Float32Array[] = files.flatMap((f) => {
  const a = readNpy(f);
  return Array.from({ length: a.shape[0] }, (_, r) => a.data.slice(r * D, (r + 1) * D));
});

function catchData(fn: () => unknown): DataError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DataError) return e;
    throw e;
  }
  throw new Error('expected a DataError');
}

/** The shard set with every open() and close() counted. */
function counted(set: ShardSet): { set: ShardSet; open: () => number; peak: () => number } {
  let open = 0;
  let peak = 0;
  const shards = set.shards.map((s) => ({
    ...s,
    open: () => {
      const r = s.open();
      open++;
      peak = Math.max(peak, open);
      return { readRows: r.readRows.bind(r), close: () => (open--, r.close()) };
    },
  }));
  return { set: { ...set, shards }, open: () => open, peak: () => peak };
}

describe('ShardRows', () => {
  it('new ShardRows(findShards(dir)) has rows = Σ shard rows, d, and starts at the shard boundaries', () => {
    const rows = new ShardRows(findShards(dir));
    expect(direct.length).toBe(TOTAL);
    expect(rows.rows).toBe(TOTAL);
    expect(rows.d).toBe(D);
    expect(rows.starts).toEqual([0, 5, 6, 13, 17]);
    expect([0, 4, 5, 6, 12, 13, 16].map((r) => rows.shardOf(r))).toEqual([0, 0, 1, 2, 2, 3, 3]);
  });

  it('read(start, count, out) equals the direct rows for every range, including ranges crossing shard boundaries', () => {
    const rows = new ShardRows(findShards(dir));
    for (let start = 0; start < TOTAL; start++) {
      for (let count = 1; start + count <= TOTAL; count++) {
        const out = new Float32Array(count * D).fill(NaN);
        rows.read(start, count, out);
        for (let t = 0; t < count; t++)
          expect(out.subarray(t * D, (t + 1) * D), `row ${start + t} of read(${start}, ${count})`).toEqual(
            direct[start + t],
          );
      }
    }
    rows.close();
  });

  it('gather(idx, out) equals the direct rows for unsorted, repeated and boundary-crossing index lists', () => {
    const rows = new ShardRows(findShards(dir));
    const lists = [
      [16, 0, 5, 4, 5, 6, 12, 13],
      [3, 4, 5, 6, 7],
      [6, 6, 6],
      [16, 15, 14, 13, 12],
      Array.from({ length: TOTAL }, (_, i) => i),
    ];
    for (const idx of lists) {
      const out = new Float32Array(idx.length * D).fill(NaN);
      rows.gather(Uint32Array.from(idx), out);
      idx.forEach((r, t) => expect(out.subarray(t * D, (t + 1) * D), `gather([${idx}]) row ${r}`).toEqual(direct[r]));
    }
    rows.close();
  });

  it('read(start, count, out) and gather(idx, out) outside [0, rows) throw a DataError naming the index and the total', () => {
    const rows = new ShardRows(findShards(dir));
    const out = new Float32Array(4 * D);
    for (const [fn, bad] of [
      [() => rows.read(TOTAL, 1, out), TOTAL],
      [() => rows.read(15, 4, out), 18],
      [() => rows.read(-1, 2, out), -1],
      [() => rows.gather([0, TOTAL + 3], out), TOTAL + 3],
      [() => rows.read(1.5, 1, out), 1.5],
    ] as Array<[() => void, number]>) {
      const err = catchData(fn);
      expect(err.field).toBe('row index');
      expect(err.found).toBe(String(bad));
      expect(err.message).toContain(`[0, ${TOTAL})`);
      expect(err.file).toBe(dir);
    }
  });

  it('read(start, count, out) with out shorter than count × d throws a DataError', () => {
    const rows = new ShardRows(findShards(dir));
    expect(catchData(() => rows.read(0, 3, new Float32Array(3 * D - 1))).field).toBe('output buffer');
  });

  it('new ShardRows(set, {maxOpen: 2}) never holds more than 2 readers open, and close() closes them all', () => {
    const c = counted(findShards(dir));
    const rows = new ShardRows(c.set, { maxOpen: 2 });
    const out = new Float32Array(TOTAL * D);
    rows.read(0, TOTAL, out);
    rows.gather([16, 0, 6, 12, 5, 1], out);
    expect(c.peak()).toBe(2);
    expect(out.subarray(0, D)).toEqual(direct[16]);
    rows.close();
    expect(c.open()).toBe(0);
  });

  it('new ShardRows(set) with no cap keeps every shard it read open until close()', () => {
    const c = counted(findShards(dir));
    const rows = new ShardRows(c.set);
    rows.read(0, TOTAL, new Float32Array(TOTAL * D));
    expect(c.open()).toBe(SIZES.length);
    rows.close();
    expect(c.open()).toBe(0);
  });

  it('new ShardRows(set, {maxOpen: 0}) throws a ConfigError', () => {
    expect(() => new ShardRows(findShards(dir), { maxOpen: 0 })).toThrow(ConfigError);
  });
});
