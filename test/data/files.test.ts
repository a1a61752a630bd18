import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../../src/core/errors.js';
import { openActivations } from '../../src/data/files.js';
import { memorySource } from '../../src/data/memory.js';
import { naturalCompare } from '../../src/core/text.js';
import { encodeNpyHeader, writeNpy } from '../../src/formats/npy.js';
import { writeSafetensors } from '../../src/formats/safetensors.js';
import { collect, labelled, range } from './helpers.js';

const G = (name: string): string => new URL(`../golden/formats/${name}`, import.meta.url).pathname;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'husai-files-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Writes rows [from, from + n) of the labelled matrix (row r starts with r) as .npy. */
function npyShard(file: string, from: number, n: number, d: number, dtype: 'f4' | 'f2' = 'f4'): string {
  const x = labelled(from + n, d).subarray(from * d);
  writeNpy(file, { data: x, rows: n, cols: d }, dtype);
  return file;
}

function catchData(fn: () => unknown): DataError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DataError) return e;
    throw e;
  }
  throw new Error('expected a DataError');
}

describe('openActivations', () => {
  const n = 1000;
  const big = npyShard(path.join(tmp, 'big.npy'), 0, n, 3);

  it('openActivations(npy, {shuffleBuffer: 64, chunkRows: 16}) yields every row exactly once per epoch', async () => {
    const src = openActivations(big, { shuffleBuffer: 64, chunkRows: 16 });
    expect([src.d, src.length]).toEqual([3, n]);
    for (const epoch of [0, 1]) {
      const { labels, sizes, rows } = await collect(src, 96, { seed: 4, epoch });
      expect([...labels].sort((a, b) => a - b)).toEqual(range(n));
      expect(sizes).toEqual([...Array(10).fill(96), 40]);
      rows.forEach((r, i) => expect(Array.from(r)).toEqual([labels[i], labels[i] + 0.125, labels[i] + 0.25]));
    }
  });

  it('shuffle-buffer order: same seed → same order; another seed or epoch → another; keepLast: false drops the tail', async () => {
    const src = openActivations(big, { shuffleBuffer: 64, chunkRows: 16 });
    const a = (await collect(src, 50, { seed: 1 })).labels;
    expect((await collect(src, 50, { seed: 1, epoch: 0 })).labels).toEqual(a);
    expect((await collect(src, 50, { seed: 2 })).labels).not.toEqual(a);
    expect((await collect(src, 50, { seed: 1, epoch: 1 })).labels).not.toEqual(a);
    expect((await collect(src, 300, { seed: 1, keepLast: false })).sizes).toEqual([300, 300, 300]);
  });

  it('shuffle-buffer order mixes the file: position and row label nearly uncorrelated, no long sequential runs', async () => {
    const { labels } = await collect(openActivations(big, { shuffleBuffer: 64, chunkRows: 16 }), 100, { seed: 3 });
    const mean = (n - 1) / 2;
    let cov = 0;
    let v = 0;
    let sequential = 0;
    labels.forEach((l, i) => {
      cov += (l - mean) * (i - mean);
      v += (i - mean) ** 2;
      if (i > 0 && l === labels[i - 1] + 1) sequential++;
    });
    expect(Math.abs(cov / v)).toBeLessThan(0.2);
    expect(sequential).toBeLessThan(n / 20);
  });

  it('openActivations(data that fit the buffer) gives exactly memorySource’s permutation', async () => {
    const file = openActivations(big, { shuffleBuffer: n });
    const mem = memorySource({ data: labelled(n, 3), rows: n, cols: 3 });
    for (const seed of [0, 7]) {
      expect((await collect(file, 33, { seed, epoch: 2 })).labels).toEqual(
        (await collect(mem, 33, { seed, epoch: 2 })).labels,
      );
    }
  });

  it('openActivations(float16 npy) converts to float32', async () => {
    const f = npyShard(path.join(tmp, 'half.npy'), 0, 50, 2, 'f2');
    const { rows } = await collect(openActivations(f), 16, { seed: 0 });
    for (const r of rows) expect(r[1]).toBe(r[0] + 0.125);
  });

  it('openActivations(safetensors) picks the single 2-D tensor; float64-free files have no warnings', async () => {
    const src = openActivations(G('acts.safetensors'));
    expect([src.d, src.length, src.shards[0].tensor]).toEqual([4, 6, 'acts']);
    expect(src.warnings).toEqual([]);
    const { labels } = await collect(src, 4, { seed: 0 });
    expect([...labels].sort((a, b) => a - b)).toEqual(range(6));
  });

  it('openActivations(safetensors with two 2-D tensors) lists them; {tensor} picks one; an unknown name lists them', () => {
    const f = path.join(tmp, 'two.safetensors');
    writeSafetensors(f, {
      a: { shape: [2, 2], data: new Float32Array(4) },
      b: { shape: [3, 2], data: new Float32Array(6) },
    });
    const e = catchData(() => openActivations(f));
    expect(e.field).toBe('tensor');
    expect(e.found).toBe('2 2-D tensors (tensors: a [2×2] F32, b [3×2] F32)');
    expect(e.hint).toContain('--tensor');
    expect(openActivations(f, { tensor: 'b' }).length).toBe(3);
    expect(() => openActivations(f, { tensor: 'c' })).toThrow(
      /tensor "c": found no such tensor \(tensors: a \[2×2\] F32, b \[3×2\] F32\)/,
    );
  });

  it('openActivations(folder) reads shards of both kinds in natural name order, every row once, and exposes meta.json', async () => {
    const dir = path.join(tmp, 'shards');
    fs.mkdirSync(dir);
    npyShard(path.join(dir, 'shard_2.npy'), 100, 150, 4);
    npyShard(path.join(dir, 'shard_10.npy'), 250, 60, 4);
    writeSafetensors(path.join(dir, 'shard_1.safetensors'), { acts: { shape: [100, 4], data: labelled(100, 4) } });
    fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify({ source: 'test', layer: 3, hook: 'resid_post' }));
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'ignored');
    const src = openActivations(dir, { shuffleBuffer: 50, chunkRows: 20 });
    expect(src.shards.map((s) => path.basename(s.path))).toEqual([
      'shard_1.safetensors',
      'shard_2.npy',
      'shard_10.npy',
    ]);
    expect([src.d, src.length]).toEqual([4, 310]);
    expect(src.meta).toEqual({ source: 'test', layer: 3, hook: 'resid_post' });
    const { labels } = await collect(src, 64, { seed: 11 });
    expect([...labels].sort((a, b) => a - b)).toEqual(range(310));
  });

  it('openActivations(folder) with meta.json "shards" uses exactly that list and order', () => {
    const dir = path.join(tmp, 'listed');
    fs.mkdirSync(dir);
    npyShard(path.join(dir, 'b.npy'), 0, 5, 2);
    npyShard(path.join(dir, 'a.npy'), 5, 7, 2);
    npyShard(path.join(dir, 'unused.npy'), 0, 3, 2);
    fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify({ shards: ['b.npy', 'a.npy'] }));
    const src = openActivations(dir);
    expect(src.shards.map((s) => [path.basename(s.path), s.rows])).toEqual([
      ['b.npy', 5],
      ['a.npy', 7],
    ]);
  });

  it('openActivations(folder with a shard of another d) names that shard, its d and the expected d', () => {
    const dir = path.join(tmp, 'mismatch');
    fs.mkdirSync(dir);
    npyShard(path.join(dir, 'part0.npy'), 0, 10, 4);
    npyShard(path.join(dir, 'part1.npy'), 0, 10, 5);
    const e = catchData(() => openActivations(dir));
    expect(e.file).toBe(path.join(dir, 'part1.npy'));
    expect(e.field).toBe('d (columns)');
    expect(e.found).toBe('5 (shape [10×5])');
    expect(e.expected).toBe('4, as in the first shard part0.npy');
  });

  it('openActivations(empty folder | missing path | .txt | bad meta.json) throws DataErrors naming the path', () => {
    const empty = path.join(tmp, 'empty');
    fs.mkdirSync(empty);
    expect(() => openActivations(empty)).toThrow(/empty: shards: found no \.npy or \.safetensors files/);
    expect(() => openActivations(path.join(tmp, 'nope'))).toThrow(/nope: path: found nothing there/);
    const txt = path.join(tmp, 'x.txt');
    fs.writeFileSync(txt, '1 2 3');
    expect(() => openActivations(txt)).toThrow(/x\.txt: extension: found \.txt, expected \.npy or \.safetensors/);
    const badMeta = path.join(tmp, 'badmeta');
    fs.mkdirSync(badMeta);
    npyShard(path.join(badMeta, 'a.npy'), 0, 2, 2);
    fs.writeFileSync(path.join(badMeta, 'meta.json'), '{"layer": 3,');
    expect(() => openActivations(badMeta)).toThrow(/meta\.json: json: found invalid JSON/);
  });

  it('openActivations(fortran-ordered or int npy) fails up front with the reader’s error', () => {
    expect(() => openActivations(G('f4_fortran.npy'))).toThrow(/fortran_order: found True/);
    expect(() => openActivations(G('i4.npy'))).toThrow(/descr: found '<i4'/);
  });

  it('openActivations(f8 npy) reads and reports the narrowing warning once', async () => {
    const src = openActivations(G('f8_v1.npy'));
    expect(src.warnings).toEqual([expect.stringContaining('float64 data narrowed to float32')]);
    expect((await collect(src, 2, { seed: 0 })).labels.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4]);
  });

  it('openActivations(shuffleBuffer: 0 | chunkRows > buffer) throws ConfigErrors', () => {
    expect(() => openActivations(big, { shuffleBuffer: 0 })).toThrow(/shuffleBuffer = 0/);
    expect(() => openActivations(big, { shuffleBuffer: 10, chunkRows: 11 })).toThrow(/chunkRows = 11/);
  });

  it('openActivations(64 GiB sparse npy) streams batches without loading the file', async () => {
    const p = path.join(tmp, 'huge.npy');
    const rows = 2 ** 28;
    const header = encodeNpyHeader([rows, 64], 'f4');
    fs.writeFileSync(p, header);
    fs.truncateSync(p, header.length + rows * 64 * 4); // a sparse file: no blocks written
    const src = openActivations(p, { shuffleBuffer: 4096, chunkRows: 256 });
    expect(src.length).toBe(rows);
    let seen = 0;
    for await (const b of src.batches(512, { seed: 0 })) {
      expect([b.rows, b.cols]).toEqual([512, 64]);
      if (++seen === 3) break;
    }
    expect(seen).toBe(3);
    fs.rmSync(p);
  });

  it('naturalCompare orders digit runs numerically', () => {
    expect(['s10.npy', 's2.npy', 's1.npy', 's01.npy', 'a.npy'].sort(naturalCompare)).toEqual([
      'a.npy',
      's1.npy',
      's01.npy',
      's2.npy',
      's10.npy',
    ]);
  });
});
