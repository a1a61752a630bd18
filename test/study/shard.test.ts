/**
 * Shards: `--shard I/N` trains a deterministic slice (index in the id-sorted run list ≡ I mod N);
 * shards 0/2 + 1/2 merged equal the unsharded study — same run ids, same weights bytes, same
 * headline numbers — and a merge refuses directories of different specs, naming the one that differs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardRuns } from '../../src/study/runner.js';
import { mergeStudies } from '../../src/study/merge.js';
import { planStudy, runStudy } from '../../src/study/study.js';
import { headline, readResults, tinySpecText, tmpDir, weightBytes, writeSpec } from './helpers.js';

let root: string;
let spec: string;

beforeAll(() => {
  root = tmpDir();
  spec = writeSpec(root, tinySpecText());
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe('shardRuns(runs, {index, count})', () => {
  it('partitions the id-sorted runs by index mod N', () => {
    const { runs } = planStudy(spec);
    const sorted = [...runs].map((r) => r.id).sort();
    const parts = [0, 1, 2].map((index) => shardRuns(runs, { index, count: 3 }).map((r) => r.id));
    expect(parts.flat().sort()).toEqual(sorted);
    expect(parts[1]).toEqual(sorted.filter((_, i) => i % 3 === 1));
    expect(shardRuns(runs, null).map((r) => r.id)).toEqual(sorted);
  });
});

describe('mergeStudies(out, [shard dirs])', () => {
  it('shard 0/2 + shard 1/2, merged, equal the unsharded study', async () => {
    const whole = path.join(root, 'whole');
    const s0 = path.join(root, 's0');
    const s1 = path.join(root, 's1');
    const merged = path.join(root, 'merged');
    await runStudy(spec, { out: whole, report: null });
    const o0 = await runStudy(spec, { out: s0, shard: { index: 0, count: 2 }, report: null });
    const o1 = await runStudy(spec, { out: s1, shard: { index: 1, count: 2 }, report: null });
    expect(o0.results).toBeNull();
    expect(o0.trained.length + o1.trained.length).toBe(12);
    expect(o0.missing).toBe(6);
    let written = '';
    const m = await mergeStudies(merged, [s0, s1], {
      report: (dir) => {
        written = dir;
        return path.join(dir, 'report.html');
      },
    });
    expect(m.missing).toBe(0);
    expect(written).toBe(path.resolve(merged));
    expect(m.reportPath).toBe(path.join(path.resolve(merged), 'report.html'));

    const want = weightBytes(whole);
    const got = weightBytes(merged);
    expect([...got.keys()]).toEqual([...want.keys()]);
    for (const [k, b] of want) expect(Buffer.compare(got.get(k) as Buffer, b), k).toBe(0);
    expect(headline(readResults(merged))).toEqual(headline(readResults(whole)));
    expect(readResults(merged).runs.map((r) => r.id)).toEqual(readResults(whole).runs.map((r) => r.id));
    const manifest = JSON.parse(fs.readFileSync(path.join(merged, 'manifest.json'), 'utf8')) as {
      merged_from: string[];
      outputs: Record<string, { sae_weights_sha256: string }>;
    };
    expect(manifest.merged_from).toEqual([path.resolve(s0), path.resolve(s1)]);
    expect(Object.keys(manifest.outputs)).toHaveLength(12);
  });

  it('refuses shards of different specs, naming the directory that differs', async () => {
    const other = writeSpec(root, tinySpecText().replace('steps: 100', 'steps: 60'), 'other.yaml');
    const a = path.join(root, 'a');
    const b = path.join(root, 'b');
    await runStudy(spec, { out: a, shard: { index: 0, count: 4 }, report: null });
    await runStudy(other, { out: b, shard: { index: 0, count: 4 }, report: null });
    await expect(mergeStudies(path.join(root, 'ab'), [a, b])).rejects.toThrow(
      new RegExp(`${b.replace(/[/.]/g, '\\$&')} has spec hash [0-9a-f]{12} but`),
    );
  });

  it('runStudy(spec, {out}) refuses a directory of another spec', async () => {
    const other = writeSpec(root, tinySpecText().replace('steps: 100', 'steps: 70'), 'other2.yaml');
    const dir = path.join(root, 'c');
    await runStudy(spec, { out: dir, shard: { index: 0, count: 6 }, report: null });
    await expect(runStudy(other, { out: dir, report: null })).rejects.toThrow(
      /holds study "tiny" \(spec hash [0-9a-f]{12}\) with 2 run\(s\) that .* does not have/,
    );
  });

  it('runStudy(spec, {out}) reuses a directory for a spec that only changes analyses or adds seeds', async () => {
    const dir = path.join(root, 'grow');
    await runStudy(spec, { out: dir, report: null });
    const more = writeSpec(
      root,
      tinySpecText('tau: 0.5\n').replace('seed: [0, 1, 2]', 'seed: [0, 1, 2, 3]'),
      'more.yaml',
    );
    const o = await runStudy(more, { out: dir, report: null });
    expect(o.skipped).toHaveLength(12);
    expect(o.trained).toHaveLength(4);
    expect(readResults(dir).cells.every((c) => c.tau === 0.5 && c.seeds.length === 4)).toBe(true);
  });
});
