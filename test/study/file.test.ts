/**
 * A study on activation files (data.kind: file): paths relative to the spec, ground truth from a
 * .npy beside them, the data identity = sha256 of the bytes (so the run ids follow the content, not
 * the path), checksums of inputs and outputs in the manifest, and the results document's shape.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSynthetic } from '../../src/data/synthetic/index.js';
import { writeNpy } from '../../src/formats/npy.js';
import { planStudy, runStudy } from '../../src/study/study.js';
import { readResults, tmpDir, writeSpec } from './helpers.js';

let root: string;

const specText = (dataPath: string): string => `name: files
question: does a study on activation files with ground truth run end to end?
data:
  kind: file
  path: ${dataPath}
  ground_truth: data/gt.npy
defaults: { arch: topk, k: 2, steps: 80, batch_size: 64 }
grid:
  width_ratio: [1, 2]
  seed: [0, 1, 2]
checkpoints: [0]
analyses: [stability, ground_truth, features, sweeps]
eval_rows: 256
`;

beforeAll(() => {
  root = tmpDir();
  const data = generateSynthetic('exact-k', { n: 1500, d: 8, features: 10, k: 2, seed: 9 });
  fs.mkdirSync(path.join(root, 'data'));
  writeNpy(path.join(root, 'data', 'acts.npy'), data.acts);
  writeNpy(path.join(root, 'data', 'gt.npy'), data.gt);
  fs.copyFileSync(path.join(root, 'data', 'acts.npy'), path.join(root, 'data', 'copy.npy'));
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe('runStudy(spec with data.kind: file)', () => {
  it('resolves width_ratio against the ground-truth rows and hashes the data bytes into the run ids', () => {
    const a = planStudy(writeSpec(root, specText('data/acts.npy'), 'a.yaml'));
    const b = planStudy(writeSpec(root, specText('data/copy.npy'), 'b.yaml'));
    expect(a.data.features).toBe(10);
    expect(a.runs.map((r) => r.identity.sae.dSae).sort((x, y) => x - y)).toEqual([10, 10, 10, 20, 20, 20]);
    expect(b.runs.map((r) => r.id)).toEqual(a.runs.map((r) => r.id));
  });

  it('trains, analyses only the listed analyses, and records input and output checksums', async () => {
    const out = path.join(root, 'out');
    const o = await runStudy(path.join(root, 'a.yaml'), { out, report: null });
    expect(o.trained).toHaveLength(6);
    const r = readResults(out);
    expect(r.data).toMatchObject({ kind: 'file', rows: 1500, d: 8, groundTruth: true });
    expect(r.cells).toHaveLength(2);
    for (const c of r.cells) {
      expect(c.groundTruth?.gtMcc.n).toBe(3);
      expect(c.pwmcc.nullUntrained).toBeNull();
      expect(c.atomMap).toBeNull();
      expect(c.steps).toEqual([]);
      expect(c.presentIn).toHaveLength(3);
    }
    expect(r.sweeps.map((s) => s.param)).toEqual(['width']);
    expect(r.runs.every((x) => x.gt !== null && x.final !== null)).toBe(true);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as {
      inputs: { files: Array<{ path: string; sha256: string }> };
      outputs: Record<string, { sae_weights_sha256: string; checkpoints: Record<string, unknown> }>;
      husai_version: string;
      environment: { engine: string; threads: number; node: string };
      config_hashes: Record<string, string>;
    };
    expect(manifest.inputs.files.map((f) => path.basename(f.path))).toEqual(['acts.npy', 'gt.npy']);
    expect(manifest.inputs.files.every((f) => /^[0-9a-f]{64}$/.test(f.sha256))).toBe(true);
    expect(Object.keys(manifest.outputs).sort()).toEqual(r.runs.map((x) => x.id).sort());
    for (const o2 of Object.values(manifest.outputs)) expect(Object.keys(o2.checkpoints)).toEqual(['0']);
    expect(manifest.environment.node).toBe(process.version);
    expect(Object.values(manifest.config_hashes).every((h) => /^[0-9a-f]{64}$/.test(h))).toBe(true);
    expect(fs.readFileSync(path.join(out, 'spec.yaml'), 'utf8')).toBe(specText('data/acts.npy'));
  });
});
