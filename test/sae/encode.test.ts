/**
 * encodeLatents (sae/checkpoint/encode.ts) against direct loops written from SAELens' inference
 * formulas, for every architecture, with random weights: standard, topk, jumprelu, batchtopk with
 * and without a threshold, gated; apply_b_dec_to_input respected.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { getEngine } from '../../src/engine/index.js';
import { encodeLatents } from '../../src/sae/checkpoint/encode.js';
import type { SaeArchitecture, SaeWeights } from '../../src/sae/checkpoint/index.js';

const N = 7;
const D = 5;
const M = 9;

function weights(arch: SaeArchitecture, extra: Record<string, unknown> = {}, k?: number): SaeWeights {
  const rng = Rng.from(11, arch);
  const t = (shape: number[]) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    rng.fillNormal(data, 0, 0.7);
    return { data, shape, dtype: 'F32' as const };
  };
  const tensors: SaeWeights['tensors'] = {
    W_enc: t([D, M]),
    b_enc: t([M]),
    W_dec: t([M, D]),
    b_dec: t([D]),
    threshold: t([M]),
    b_gate: t([M]),
    b_mag: t([M]),
    r_mag: t([M]),
  };
  for (let i = 0; i < M; i++) tensors.threshold.data[i] = Math.abs(tensors.threshold.data[i]) * 0.5;
  return {
    architecture: arch,
    dIn: D,
    dSae: M,
    k,
    tensors,
    cfg: { apply_b_dec_to_input: true, ...extra },
    source: { format: 'saelens-v6', path: `test:${arch}` },
    warnings: [],
  } as SaeWeights;
}

/** Direct pre-activations and gate for row n. */
function direct(w: SaeWeights, x: Float32Array, n: number, mag = false): number[] {
  const T = w.tensors;
  const out: number[] = [];
  for (let m = 0; m < M; m++) {
    let s = 0;
    for (let d = 0; d < D; d++) {
      const xc = x[n * D + d] - (w.cfg.apply_b_dec_to_input === false ? 0 : T.b_dec.data[d]);
      s += xc * T.W_enc.data[d * M + m] * (mag ? Math.exp(T.r_mag.data[m]) : 1);
    }
    out.push(s + (mag ? T.b_mag.data[m] : w.architecture === 'gated' ? T.b_gate.data[m] : T.b_enc.data[m]));
  }
  return out;
}

describe('encodeLatents', () => {
  const x = new Float32Array(N * D);
  Rng.from(3, 'x').fillNormal(x);
  const e = getEngine();
  const check = (w: SaeWeights, want: (pre: number[], n: number) => number[]): void => {
    const got = encodeLatents(w, { data: x, rows: N, cols: D }, e);
    expect([got.rows, got.cols]).toEqual([N, M]);
    for (let n = 0; n < N; n++) {
      const ref = want(direct(w, x, n), n);
      for (let m = 0; m < M; m++) expect(got.data[n * M + m]).toBeCloseTo(ref[m], 5);
    }
  };
  const topk = (pre: number[], k: number): number[] => {
    const order = pre
      .map((v, i) => [v, i])
      .sort((a, b) => b[0] - a[0] || a[1] - b[1])
      .slice(0, k)
      .map((p) => p[1]);
    return pre.map((v, i) => (order.includes(i) ? Math.max(0, v) : 0));
  };

  it('standard: ReLU of the centred affine map, and without centring when the cfg says so', () => {
    check(weights('standard'), (pre) => pre.map((v) => Math.max(0, v)));
    check(weights('standard', { apply_b_dec_to_input: false }), (pre) => pre.map((v) => Math.max(0, v)));
  });
  it('topk: the k largest pre-activations, ReLU-ed', () => {
    check(weights('topk', {}, 3), (pre) => topk(pre, 3));
  });
  it('jumprelu and batchtopk with a threshold: pre where pre > θ', () => {
    for (const arch of ['jumprelu', 'batchtopk', 'matryoshka_batchtopk'] as const) {
      const w = weights(arch, {}, 3);
      check(w, (pre) => pre.map((v, m) => (v > w.tensors.threshold.data[m] ? v : 0)));
    }
  });
  it('batchtopk without a threshold: per-row top-k', () => {
    const w = weights('batchtopk', {}, 2);
    delete (w.tensors as Record<string, unknown>).threshold;
    check(w, (pre) => topk(pre, 2));
  });
  it('gated: gate on the gate pre-activation, magnitude through exp(r_mag)', () => {
    const w = weights('gated');
    check(w, (gate, n) => {
      const mag = direct(w, x, n, true);
      return gate.map((g, m) => (g > 0 ? Math.max(0, mag[m]) : 0));
    });
  });
  it('names the SAE when the input width is wrong', () => {
    expect(() => encodeLatents(weights('standard'), { data: new Float32Array(4), rows: 1, cols: 4 }, e)).toThrow(
      /test:standard.*d_in = 5/,
    );
  });
});
