import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataError } from '../../src/core/errors.js';
import { openActivations } from '../../src/data/files.js';
import { readNpy } from '../../src/formats/npy.js';
import type { ExtractedRows, ExtractionSource } from '../../src/models/extraction.js';
import { firstDifference, readExtractionMeta, readRowColumns, runExtraction } from '../../src/models/extract-writer.js';

/**
 * A deterministic fake source: unit u gives `perUnit` rows, row r of unit u holds
 * sin(u·31 + r·7 + c) in column c; provenance columns unit (int32) and weight (float32).
 * `failAfterCalls` makes extract() throw once that many calls have succeeded (a killed run).
 */
function fakeSource(opts: {
  units: number;
  d: number;
  perUnit: number;
  chunkUnits: number;
  failAfterCalls?: number;
  tag?: string;
}): ExtractionSource & { calls: Array<[number, number]> } {
  const calls: Array<[number, number]> = [];
  return {
    config: {
      source: 'fake',
      tag: opts.tag ?? 'a',
      units: opts.units,
      nested: { perUnit: opts.perUnit, shape: [opts.perUnit, opts.d] },
    },
    d: opts.d,
    units: opts.units,
    chunkUnits: opts.chunkUnits,
    calls,
    async extract(start: number, end: number): Promise<ExtractedRows> {
      if (opts.failAfterCalls !== undefined && calls.length >= opts.failAfterCalls) throw new Error('killed');
      calls.push([start, end]);
      const n = (end - start) * opts.perUnit;
      const data = new Float32Array(n * opts.d);
      const unit = new Int32Array(n);
      const weight = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const u = start + Math.floor(i / opts.perUnit);
        const r = i % opts.perUnit;
        unit[i] = u;
        weight[i] = u / 3;
        for (let c = 0; c < opts.d; c++) data[i * opts.d + c] = Math.sin(u * 31 + r * 7 + c);
      }
      return { xND: { data, rows: n, cols: opts.d }, rows: { unit, weight } };
    },
    async sidecars() {
      return { 'units.txt': new TextEncoder().encode(`${opts.units} units\n`) };
    },
    async close() {},
  };
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'husai-writer-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const shape = { units: 23, d: 5, perUnit: 3, chunkUnits: 2 };

describe('runExtraction(source, outDir, {shardUnits})', () => {
  it('writes shards on unit boundaries, meta.json and row columns that openActivations and readRowColumns read back', async () => {
    const out = path.join(dir, 'acts');
    const progress: number[] = [];
    const res = await runExtraction(fakeSource(shape), out, {
      shardUnits: 8,
      onProgress: (done) => progress.push(done),
    });
    expect(res.resumedFrom).toBe(0);
    expect(res.shardsWritten).toBe(3);
    const meta = readExtractionMeta(out);
    expect(meta).toMatchObject({
      format: 'husai-activations',
      version: 1,
      d: 5,
      units: 23,
      shard_units: 8,
      complete: true,
      rows: 69,
    });
    expect(meta.shards).toEqual(['shard_00000.npy', 'shard_00001.npy', 'shard_00002.npy']);
    expect(meta.rows_per_shard).toEqual([24, 24, 21]);
    expect(meta.sidecars).toEqual(['units.txt']);
    expect(fs.readFileSync(path.join(out, 'units.txt'), 'utf8')).toBe('23 units\n');
    expect(progress[0]).toBe(0);
    expect(progress[progress.length - 1]).toBe(23);

    const src = openActivations(out);
    expect(src.d).toBe(5);
    expect(src.length).toBe(69);
    expect(src.shards.map((s) => path.basename(s.path))).toEqual(meta.shards);
    const all = new Float32Array(69 * 5);
    let at = 0;
    for (const s of meta.shards) {
      const a = readNpy(path.join(out, s));
      all.set(a.data, at);
      at += a.data.length;
    }
    expect(all[(10 * 3 + 2) * 5 + 4]).toBeCloseTo(Math.sin(10 * 31 + 2 * 7 + 4), 6); // unit 10, row 2, column 4

    const rows = readRowColumns(out);
    expect(rows.unit).toBeInstanceOf(Int32Array);
    expect(rows.weight).toBeInstanceOf(Float32Array);
    expect(Array.from(rows.unit.subarray(0, 7))).toEqual([0, 0, 0, 1, 1, 1, 2]);
    expect(rows.unit[68]).toBe(22);
    expect(rows.weight[68]).toBe(Math.fround(22 / 3));
  });

  it('resumes after a run killed after 2 shards, and the shards are byte-identical to an uninterrupted run', async () => {
    const killed = path.join(dir, 'killed');
    // shardUnits 4 = 2 chunks per shard: 4 calls make 2 complete shards, the 6th call dies mid-shard.
    await expect(runExtraction(fakeSource({ ...shape, failAfterCalls: 5 }), killed, { shardUnits: 4 })).rejects.toThrow(
      'killed',
    );
    const partial = readExtractionMeta(killed);
    expect(partial.complete).toBe(false);
    expect(partial.shards).toEqual(['shard_00000.npy', 'shard_00001.npy']);
    expect(openActivations(killed).length).toBe(2 * 4 * 3); // a half-done folder is still readable
    // a stray, unlisted shard file from the killed run is overwritten, not trusted
    fs.writeFileSync(path.join(killed, 'shard_00002.npy'), 'garbage');
    fs.writeFileSync(path.join(killed, 'shard_00002.npy.tmp-99999'), 'half');

    const again = fakeSource(shape);
    const res = await runExtraction(again, killed); // no --shard-units: the folder's is used
    expect(res.resumedFrom).toBe(8);
    expect(again.calls[0]).toEqual([8, 10]);
    expect(fs.existsSync(path.join(killed, 'shard_00002.npy.tmp-99999'))).toBe(false);

    const whole = path.join(dir, 'whole');
    await runExtraction(fakeSource(shape), whole, { shardUnits: 4 });
    const names = fs.readdirSync(whole).sort();
    expect(fs.readdirSync(killed).sort()).toEqual(names);
    for (const f of names) {
      if (f === 'meta.json') continue;
      expect(Buffer.compare(fs.readFileSync(path.join(killed, f)), fs.readFileSync(path.join(whole, f))), f).toBe(0);
    }
    expect(readExtractionMeta(killed)).toEqual(readExtractionMeta(whole));
  });

  it('does nothing on a complete folder', async () => {
    const out = path.join(dir, 'acts');
    await runExtraction(fakeSource(shape), out, { shardUnits: 8 });
    const src = fakeSource(shape);
    const res = await runExtraction(src, out);
    expect(res).toMatchObject({ resumedFrom: 23, shardsWritten: 0 });
    expect(src.calls).toEqual([]);
  });

  it('refuses a folder of another config, naming meta.json and the first differing field', async () => {
    const out = path.join(dir, 'acts');
    await runExtraction(fakeSource({ ...shape, failAfterCalls: 2 }), out, { shardUnits: 2 }).catch(() => undefined);
    const err = await runExtraction(fakeSource({ ...shape, tag: 'b' }), out).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    const e = err as DataError;
    expect(e.file).toBe(path.join(out, 'meta.json'));
    expect(e.field).toBe('config.tag');
    expect(e.found).toBe('"a"');
    expect(e.expected).toBe('"b"');
    expect(e.hint).toMatch(/another --out|delete the folder/);
    const err2 = await runExtraction(fakeSource({ ...shape, perUnit: 4 }), out).catch((x: unknown) => x);
    expect((err2 as DataError).field).toBe('config.nested.perUnit');
  });

  it('refuses a non-empty folder without meta.json and a changed --shard-units', async () => {
    const out = path.join(dir, 'acts');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'notes.txt'), 'mine');
    await expect(runExtraction(fakeSource(shape), out)).rejects.toThrow(/no meta\.json/);
    const out2 = path.join(dir, 'acts2');
    await runExtraction(fakeSource({ ...shape, failAfterCalls: 2 }), out2, { shardUnits: 2 }).catch(() => undefined);
    const err = await runExtraction(fakeSource(shape), out2, { shardUnits: 4 }).catch((e: unknown) => e);
    expect((err as DataError).field).toBe('shard_units');
  });

  it('sizes shards itself when no shardUnits is given (whole chunks)', async () => {
    const out = path.join(dir, 'acts');
    const res = await runExtraction(fakeSource(shape), out);
    expect(res.meta.shard_units! % shape.chunkUnits).toBe(0);
    expect(res.meta.rows).toBe(69);
  });
});

describe('firstDifference(found, expected, at)', () => {
  it('names the first differing path, array index or missing key', () => {
    expect(firstDifference({ a: 1, b: [1, 2] }, { a: 1, b: [1, 2] }, 'config')).toBeNull();
    expect(firstDifference({ a: 1, b: [1, 2] }, { a: 1, b: [1, 3] }, 'config')).toEqual({
      field: 'config.b[1]',
      found: '2',
      expected: '3',
    });
    expect(firstDifference({ a: 1 }, { a: 1, c: 'x' }, 'config')).toEqual({
      field: 'config.c',
      found: 'nothing',
      expected: '"x"',
    });
    expect(firstDifference({ a: 1, z: 0 }, { a: 1 }, 'config')?.field).toBe('config.z');
  });
});
