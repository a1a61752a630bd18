/**
 * Cross-model universality (inspect/universality.ts, Lan et al. 2024) on synthetic ground truth:
 * K sparse sources s [N × K] seen by two "models" through different dictionaries, x_A = s·G_A and
 * x_B = s·G_B, with SAEs built by hand from the true dictionaries (W_dec rows = unit atoms,
 * W_enc = their transpose, a small negative bias). When G_B = G_A·L (L an isometry R^{d_A} → R^{d_B})
 * plus a little noise, latent k of A and latent k of B see the same source and the same
 * interference: correlation ≈ 1, and the paired atoms are a linear map of each other: SVCCA ≈ 1.
 * Activations go through .npy files in a temporary folder, as the CLI reads them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '../../src/core/errors.js';
import type { Mat } from '../../src/core/mat.js';
import { Rng } from '../../src/core/rng.js';
import { writeNpy } from '../../src/formats/npy.js';
import { svcca } from '../../src/metrics/subspace.js';
import { renderUniversality } from '../../src/report/universality.js';
import { loadSpec } from '../../src/study/spec.js';
import type { SaeWeights } from '../../src/sae/checkpoint/index.js';
import { matrixOfPair, readMatrixSpec, universalityMatrix } from '../../src/inspect/universality-matrix.js';
import { type UniversalityResult, compareAcrossModels, meanCanonical, whiten } from '../../src/inspect/universality.js';
import { tmpDir } from '../study/helpers.js';

const N = 3000;
const K = 48;
const DA = 12;
const DB = 16;
const THETA = 0.3;

function gaussian(rows: number, cols: number, rng: Rng): Mat {
  const data = new Float32Array(rows * cols);
  rng.fillNormal(data);
  return { data, rows, cols };
}

function unitRows(m: Mat): Mat {
  const out = new Float32Array(m.data);
  for (let r = 0; r < m.rows; r++) {
    let ss = 0;
    for (let c = 0; c < m.cols; c++) ss += out[r * m.cols + c] ** 2;
    for (let c = 0; c < m.cols; c++) out[r * m.cols + c] /= Math.sqrt(ss);
  }
  return { data: out, rows: m.rows, cols: m.cols };
}

function matmul(a: Mat, b: Mat): Mat {
  const out = new Float32Array(a.rows * b.cols);
  for (let i = 0; i < a.rows; i++) {
    for (let k = 0; k < a.cols; k++) {
      const v = a.data[i * a.cols + k];
      if (v === 0) continue;
      for (let j = 0; j < b.cols; j++) out[i * b.cols + j] += v * b.data[k * b.cols + j];
    }
  }
  return { data: out, rows: a.rows, cols: b.cols };
}

/** dA orthonormal rows in R^dB (Gram–Schmidt on Gaussian rows): x ↦ x·L preserves inner products. */
function isometry(dA: number, dB: number, rng: Rng): Mat {
  const g = gaussian(dA, dB, rng);
  const q = new Float64Array(dA * dB);
  for (let i = 0; i < dA; i++) {
    for (let c = 0; c < dB; c++) q[i * dB + c] = g.data[i * dB + c];
    for (let j = 0; j < i; j++) {
      let dot = 0;
      for (let c = 0; c < dB; c++) dot += q[i * dB + c] * q[j * dB + c];
      for (let c = 0; c < dB; c++) q[i * dB + c] -= dot * q[j * dB + c];
    }
    let ss = 0;
    for (let c = 0; c < dB; c++) ss += q[i * dB + c] ** 2;
    for (let c = 0; c < dB; c++) q[i * dB + c] /= Math.sqrt(ss);
  }
  return { data: Float32Array.from(q), rows: dA, cols: dB };
}

/** Sparse non-negative sources: each of K active with probability 3/K, magnitude U(0.5, 1.5). */
function sources(rng: Rng): Mat {
  const s = new Float32Array(N * K);
  for (let i = 0; i < s.length; i++) if (rng.uniform() < 3 / K) s[i] = 0.5 + rng.uniform();
  return { data: s, rows: N, cols: K };
}

/** A 'standard' SAE whose decoder rows are the unit atoms and whose encoder is their transpose. */
function handSae(name: string, atomsKD: Mat): SaeWeights {
  const { rows: M, cols: D } = atomsKD;
  const wEnc = new Float32Array(D * M);
  for (let m = 0; m < M; m++) for (let d = 0; d < D; d++) wEnc[d * M + m] = atomsKD.data[m * D + d];
  return {
    architecture: 'standard',
    dIn: D,
    dSae: M,
    tensors: {
      W_enc: { shape: [D, M], data: wEnc },
      b_enc: { shape: [M], data: new Float32Array(M).fill(-THETA) },
      W_dec: { shape: [M, D], data: new Float32Array(atomsKD.data) },
      b_dec: { shape: [D], data: new Float32Array(D) },
    },
    cfg: {},
    source: { format: 'saelens-v6', path: name },
    warnings: [],
  };
}

let dir: string;
let gA: Mat;
let gB: Mat;
let actsA: string;
let actsB: string;
let actsIndep: string;
let matched: UniversalityResult;
const OPTS = { draws: 49, corrDraws: 9, seed: 3 };

beforeAll(() => {
  dir = tmpDir('husai-univ-');
  const rng = Rng.from(11, 'universality-test');
  gA = unitRows(gaussian(K, DA, rng.fork('gA')));
  const noisy = matmul(gA, isometry(DA, DB, rng.fork('L')));
  const eps = gaussian(K, DB, rng.fork('eps'));
  for (let i = 0; i < noisy.data.length; i++) noisy.data[i] += 0.05 * eps.data[i];
  gB = unitRows(noisy);
  const s = sources(rng.fork('s'));
  actsA = path.join(dir, 'a.npy');
  actsB = path.join(dir, 'b.npy');
  actsIndep = path.join(dir, 'b-independent.npy');
  writeNpy(actsA, matmul(s, gA));
  writeNpy(actsB, matmul(s, gB));
  writeNpy(actsIndep, matmul(sources(rng.fork('s2')), gB));
  matched = compareAcrossModels({ sae: handSae('A', gA), acts: actsA }, { sae: handSae('B', gB), acts: actsB }, OPTS);
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const A = (): { sae: SaeWeights; acts: string } => ({ sae: handSae('A', gA), acts: actsA });
const B = (): { sae: SaeWeights; acts: string } => ({ sae: handSae('B', gB), acts: actsB });

describe('compareAcrossModels(a, b, opts) on synthetic ground truth', () => {
  it('matched dictionaries (G_B = G_A·L + noise): correlation ≈ 1, SVCCA and RSA high, every p at its floor', () => {
    const r = matched;
    expect([r.rows, r.d_a, r.d_b, r.m_a, r.m_b, r.dead_a, r.dead_b]).toEqual([N, DA, DB, K, K, 0, 0]);
    expect(r.mean_corr).toBeGreaterThan(0.95);
    expect(r.mean_corr_ba).toBeGreaterThan(0.95);
    expect(r.corr_null_mean).toBeLessThan(0.1);
    expect(r.corr_p).toBeCloseTo(1 / (1 + OPTS.corrDraws), 12);
    expect(r.corr_z).toBeGreaterThan(50);
    // Every latent finds its own source's latent: the pairing is the identity.
    expect(r.paired.n_pairs).toBe(K);
    expect(r.paired.n_unique_b).toBe(K);
    expect(r.paired.svcca).toBeGreaterThan(0.95);
    expect(r.paired.svcca_null_mean).toBeLessThan(0.6);
    expect(r.paired.svcca_p).toBeCloseTo(1 / (1 + OPTS.draws), 12);
    expect(r.paired.rsa).toBeGreaterThan(0.9);
    expect(Math.abs(r.paired.rsa_null_mean)).toBeLessThan(0.1);
    expect(r.paired.rsa_p).toBeCloseTo(1 / (1 + OPTS.draws), 12);
    // No null pass keeps a pair above ρ = 0.1 here (chance correlations ≈ 0.04 at N = 3000).
    expect(r.paired.inputs_null_draws).toBe(0);
    expect(r.paired.n_pairs_inputs_null_mean).toBe(0);
    expect(r.mean_corr_1to1).toBeGreaterThan(0.95);
    expect(r.corr_1to1_p).toBeCloseTo(1 / (1 + OPTS.corrDraws), 12);
    expect(r.paired_1to1!.n_pairs).toBe(K);
    expect(r.paired_1to1!.svcca).toBeCloseTo(r.paired.svcca, 6);
    expect(r.warnings).toEqual([]);
    expect(JSON.parse(JSON.stringify(r)).paired.svcca).toBeCloseTo(r.paired.svcca, 12);
  });

  it('B with a random dictionary on the same inputs: correlation and SVCCA fall well below the matched case', () => {
    // Random directions still see the same sources, and each A latent's best random partner leans
    // towards its feature, so both stay above chance; the matched SAE is far above them.
    const r = compareAcrossModels(
      A(),
      { sae: handSae('random', unitRows(gaussian(K, DB, Rng.from(5, 'random-dictionary')))), acts: actsB },
      OPTS,
    );
    expect(r.mean_corr).toBeLessThan(matched.mean_corr - 0.25);
    expect(r.paired.n_unique_b).toBeLessThan(K);
    expect(r.paired.svcca).toBeLessThan(matched.paired.svcca - 0.2);
    expect(r.paired.rsa).toBeLessThan(matched.paired.rsa - 0.5);
  });

  it('independent inputs for B: correlation at its shuffled-input null; SVCCA and RSA at the shuffled-input null, not at the shuffled-pairing null', () => {
    const r = compareAcrossModels(A(), { sae: handSae('B', gB), acts: actsIndep }, { ...OPTS, minCorr: -1 });
    expect(Math.abs(r.mean_corr - r.corr_null_mean)).toBeLessThan(3 * r.corr_null_sd);
    expect(r.corr_p).toBeGreaterThan(0.1);
    const q = r.paired;
    expect(q.inputs_null_draws).toBe(OPTS.corrDraws);
    expect(q.svcca_inputs_p).toBeGreaterThan(0.1);
    expect(q.rsa_inputs_p).toBeGreaterThan(0.1);
    // Lan et al.'s shuffled-pairing null is anti-conservative for many-to-one pairs: A latents with
    // correlated activations tend to pick the same (chance) B partner, so the duplicates follow A's
    // geometry. Documented here so that a change in this behaviour is noticed.
    expect(q.n_unique_b).toBeLessThan(K);
    expect(q.svcca_p).toBeLessThanOrEqual(0.05);
    expect(q.rsa_p).toBeLessThanOrEqual(0.05);
  });

  it('streams: chunks of 257 rows give the result of one 4096-row chunk; rows = 1000 uses the first 1000 rows', () => {
    const opts = { draws: 10, corrDraws: 1, seed: 1, oneToOne: false };
    const big = compareAcrossModels(A(), B(), { ...opts, chunkRows: 4096 });
    const small = compareAcrossModels(A(), B(), { ...opts, chunkRows: 257 });
    expect(small.mean_corr).toBeCloseTo(big.mean_corr, 5);
    expect(small.corr_null_mean).toBeCloseTo(big.corr_null_mean, 5);
    expect(small.paired.svcca).toBeCloseTo(big.paired.svcca, 6);
    const head = compareAcrossModels(A(), B(), { ...opts, rows: 1000 });
    expect(head.rows).toBe(1000);
    expect(head.mean_corr).not.toBe(big.mean_corr);
    expect(head.paired_1to1).toBeNull();
    expect(Number.isNaN(head.mean_corr_1to1)).toBe(true);
  });

  it('nulls are reproducible from the seed and change with it', () => {
    const opts = { draws: 20, corrDraws: 2, oneToOne: false };
    const r1 = compareAcrossModels(A(), B(), { ...opts, seed: 7 });
    const r2 = compareAcrossModels(A(), B(), { ...opts, seed: 7 });
    const r3 = compareAcrossModels(A(), B(), { ...opts, seed: 8 });
    for (const k of ['corr_null_mean', 'corr_null_sd'] as const) expect(r2[k]).toBe(r1[k]);
    for (const k of ['svcca_null_mean', 'svcca_null_sd', 'rsa_null_mean', 'rsa_null_sd'] as const)
      expect(r2.paired[k]).toBe(r1.paired[k]);
    expect(r3.corr_null_mean).not.toBe(r1.corr_null_mean);
    expect(r3.paired.svcca_null_mean).not.toBe(r1.paired.svcca_null_mean);
    expect(r3.paired.rsa_null_mean).not.toBe(r1.paired.rsa_null_mean);
  });

  it('different row counts: a DataError naming both files', () => {
    const short = path.join(dir, 'b-short.npy');
    writeNpy(short, { data: new Float32Array(10 * DB), rows: 10, cols: DB });
    let err: unknown;
    try {
      compareAcrossModels(A(), { sae: handSae('B', gB), acts: short }, OPTS);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DataError);
    const msg = (err as Error).message;
    expect(msg).toContain(short);
    expect(msg).toContain(actsA);
    expect(msg).toMatch(/10 rows.*3000 rows/);
  });

  it("activations whose width is not the SAE's d_in: a DataError naming the file and the SAE", () => {
    expect(() => compareAcrossModels(A(), { sae: handSae('B', gB), acts: actsA }, OPTS)).toThrow(
      /a\.npy: d \(columns\): found 12, expected 16, the d_in of the SAE at B/,
    );
  });

  it('bad options: ConfigError naming the option', () => {
    expect(() => compareAcrossModels(A(), B(), { draws: 5 })).toThrow(ConfigError);
    expect(() => compareAcrossModels(A(), B(), { draws: 5 })).toThrow(/draws = 5, expected an integer ≥ 10/);
    expect(() => compareAcrossModels(A(), B(), { minCorr: 1 })).toThrow(/minCorr = 1/);
  });
});

describe('whiten(x) + meanCanonical(x, y, perm): SVCCA with a cheap permutation null', () => {
  const rng = Rng.from(2, 'svcca-twin');
  const x = gaussian(200, 9, rng);
  const mix = gaussian(9, 7, rng);
  const y = matmul(x, mix);
  const noise = gaussian(200, 7, rng);
  for (let i = 0; i < y.data.length; i++) y.data[i] += 2 * noise.data[i];

  it('meanCanonical(whiten(x), whiten(y), null) = subspace.ts svcca(x, y).mean (float64 twin) to 1e-4', () => {
    for (const keep of [0.99, 0.9, 1]) {
      const fast = meanCanonical(whiten(x, keep), whiten(y, keep), null);
      expect(Math.abs(fast - svcca(x, y, { varianceKept: keep }).mean)).toBeLessThan(1e-4);
    }
  });

  it("a permutation of y's rows = svcca(x, y[perm]); the n < P Gram path agrees with the covariance path", () => {
    const perm = Rng.from(9).permutation(200);
    const yp = { data: new Float32Array(200 * 7), rows: 200, cols: 7 };
    for (let r = 0; r < 200; r++) yp.data.set(y.data.subarray(perm[r] * 7, (perm[r] + 1) * 7), r * 7);
    expect(Math.abs(meanCanonical(whiten(x, 0.99), whiten(y, 0.99), perm) - svcca(x, yp).mean)).toBeLessThan(1e-4);
    // 6 observations of 9 variables: the Gram route (n < P).
    const x6 = { data: x.data.slice(0, 54), rows: 6, cols: 9 };
    const y6 = { data: y.data.slice(0, 42), rows: 6, cols: 7 };
    expect(Math.abs(meanCanonical(whiten(x6, 0.99), whiten(y6, 0.99), null) - svcca(x6, y6).mean)).toBeLessThan(1e-4);
  });
});

describe('universalityMatrix(entries, opts), readMatrixSpec(file) and the report', () => {
  it('3 SAEs: diagonal null, [i][j] / [j][i] read both directions of one run, SVCCA mirrored, Holm by the step-down rule', async () => {
    const entries = [
      { name: 'A', sae: handSae('A', gA), acts: actsA },
      { name: 'B', sae: handSae('B', gB), acts: actsB },
      { name: 'B-indep', sae: handSae('B2', gB), acts: actsIndep },
    ];
    const m = universalityMatrix(entries, { draws: 10, corrDraws: 2, seed: 1, oneToOne: false });
    expect(m.names).toEqual(['A', 'B', 'B-indep']);
    expect(m.pairs.map((p) => `${p.a}-${p.b}`)).toEqual(['A-B', 'A-B-indep', 'B-B-indep']);
    for (let i = 0; i < 3; i++) expect(m.svcca[i][i]).toBeNull();
    const ab = m.pairs[0].result;
    expect(m.mean_corr[0][1]).toBe(ab.mean_corr);
    expect(m.mean_corr[1][0]).toBe(ab.mean_corr_ba);
    expect(m.svcca[1][0]).toBe(m.svcca[0][1]);
    expect(m.svcca[0][1]).toBe(ab.paired.svcca);
    expect(m.mean_corr[0][1]!).toBeGreaterThan(0.95);
    expect(m.mean_corr[0][2]!).toBeLessThan(0.1);
    // Holm over the correlation p-values (one test per direction), by the textbook step-down rule.
    const at: Array<[number, number]> = [];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) if (i !== j && m.corr_p[i][j] !== null) at.push([i, j]);
    expect(at.length).toBe(6);
    const order = at.map((_, t) => t).sort((u, v) => m.corr_p[at[u][0]][at[u][1]]! - m.corr_p[at[v][0]][at[v][1]]!);
    let running = 0;
    order.forEach((t, rank) => {
      const [i, j] = at[t];
      running = Math.max(running, Math.min(1, (at.length - rank) * m.corr_p[i][j]!));
      expect(m.corr_p_holm[i][j]).toBeCloseTo(running, 12);
    });
    const html = await renderUniversality(m);
    expect(html).toContain('<svg');
    expect(html).toContain('B-indep');
    expect(html).toContain(m.mean_corr[0][1]!.toFixed(3));
    expect(html).not.toMatch(/<script/i);
  });

  it('readMatrixSpec resolves paths against the spec file and names the bad field', () => {
    const spec = path.join(dir, 'spec.json');
    fs.writeFileSync(
      spec,
      JSON.stringify({
        draws: 20,
        saes: [
          { name: 'x', sae: 'sae-x', acts: 'a.npy' },
          { name: 'y', sae: '/abs/sae-y', acts: 'b.npy' },
        ],
      }),
    );
    const s = readMatrixSpec(spec);
    expect(s.options).toEqual({ draws: 20 });
    expect(s.entries[0]).toEqual({ name: 'x', sae: path.join(dir, 'sae-x'), acts: actsA });
    expect(s.entries[1].sae).toBe('/abs/sae-y');
    fs.writeFileSync(spec, JSON.stringify({ draws: 3, saes: [] }));
    expect(() => readMatrixSpec(spec)).toThrow(/spec\.json: draws: found 3/);
    const one = matrixOfPair('a', 'b', matched);
    expect(one.names).toEqual(['a', 'b']);
    expect([one.mean_corr[0][1], one.mean_corr[1][0]]).toEqual([matched.mean_corr, matched.mean_corr_ba]);
    expect(one.svcca[0][1]).toBe(matched.paired.svcca);
    expect(one.svcca[1][0]).toBe(matched.paired.svcca);
    // One test of each kind: Holm leaves its p-value as it is.
    expect(one.svcca_p_holm[0][1]).toBe(one.svcca_p[0][1]);
  });

  it('the shipped studies/universality-models.json and universality-ratio.yaml are valid specs', () => {
    const s = readMatrixSpec(new URL('../../studies/universality-models.json', import.meta.url).pathname);
    expect(s.entries.map((x) => path.basename(x.acts))).toEqual([
      'mnv2-out_relu',
      'incv3-mixed10',
      'mnv2-block_15_add',
      'mnv2-out_relu',
    ]);
    const { spec } = loadSpec(new URL('../../studies/universality-ratio.yaml', import.meta.url).pathname);
    expect(spec.grid.width_ratio).toEqual([1, 2, 4, 8, 16, 32]);
    expect(spec.width_ratio_of).toBe('d');
  });
});
