/**
 * Finite-difference checks for every module of the modular-arithmetic transformer (issue 6):
 * attention, LayerNorm and cross-entropy on their own, then every parameter tensor of the whole
 * model — 1 and 2 layers, with and without LayerNorm, full and "=-only" final block. Central
 * differences (h = 1e-2, shrunk towards 1e-4 when the two disagree, e.g. near a ReLU kink), on O(1)
 * losses, relative tolerance 2e-2 against the largest gradient entry of the tensor.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { getEngine } from '../../src/engine/index.js';
import { attentionBackward, attentionForward, scoreTable, scoreTableBackward } from '../../src/nn/attention.js';
import { crossEntropy } from '../../src/nn/cross-entropy.js';
import { layerNormBackward, layerNormForward } from '../../src/nn/layernorm.js';
import { resolveConfig } from '../../src/models/modarith/config.js';
import { initParams, Transformer } from '../../src/models/modarith/transformer.js';
import { makeModArith, selectPairs } from '../../src/models/modarith/dataset.js';

const randn = (rng: Rng, n: number, sd = 1): Float32Array => {
  const a = new Float32Array(n);
  rng.fillNormal(a, 0, sd);
  return a;
};

/** Compares analytic gradient g of f w.r.t. t at `coords` random coordinates. */
function fd(t: Float32Array, g: Float32Array, f: () => number, rng: Rng, coords = 6, label = ''): void {
  let scale = 0;
  for (const v of g) scale = Math.max(scale, Math.abs(v));
  for (let c = 0; c < coords; c++) {
    const i = rng.int(t.length);
    const orig = t[i];
    let num = NaN;
    let ok = false;
    for (const h of [1e-2, 3e-3, 1e-3, 3e-4, 1e-4]) {
      t[i] = orig + h;
      const lp = f();
      t[i] = orig - h;
      const lm = f();
      t[i] = orig;
      num = (lp - lm) / (2 * h);
      if (Math.abs(num - g[i]) <= 2e-2 * Math.max(scale, 1e-3)) {
        ok = true;
        break;
      }
    }
    if (!ok) expect.fail(`${label} coordinate ${i}: analytic ${g[i]} vs numeric ${num} (scale ${scale})`);
  }
}

describe('attention backward', () => {
  for (const Sq of [3, 1]) {
    it(`matches finite differences (Sq = ${Sq})`, () => {
      const sh = { N: 3, S: 3, Sq, H: 2, Dh: 4 };
      const rng = Rng.from(1, 'attn', Sq);
      const W = 3 * sh.H * sh.Dh;
      const qkv = randn(rng, sh.N * sh.S * W);
      const wZ = randn(rng, sh.N * Sq * sh.H * sh.Dh);
      const z = new Float32Array(wZ.length);
      const prob = new Float32Array(sh.N * sh.H * Sq * sh.S);
      const loss = (): number => {
        attentionForward(sh, qkv, z, prob);
        let s = 0;
        for (let i = 0; i < z.length; i++) s += z[i] * wZ[i];
        return s;
      };
      loss();
      // Causal: probabilities over keys t > s are exactly 0 and each row sums to 1.
      for (let r = 0; r < prob.length / 3; r++) {
        const s = (r % Sq) + 3 - Sq;
        let sum = 0;
        for (let t = 0; t < 3; t++) {
          if (t > s) expect(prob[r * 3 + t]).toBe(0);
          sum += prob[r * 3 + t];
        }
        expect(sum).toBeCloseTo(1, 6);
      }
      const g = new Float32Array(qkv.length);
      attentionBackward(sh, qkv, prob, wZ, g);
      fd(qkv, g, loss, rng, 12);
    });
  }
});

describe('attention with tabulated rows and scores', () => {
  it('equals the direct computation, forward and backward', () => {
    const sh = { N: 6, S: 3, Sq: 1, H: 2, Dh: 4 };
    const T = 5;
    const W = 3 * sh.H * sh.Dh;
    const rng = Rng.from(4, 'table');
    const table = randn(rng, T * W);
    const rowOf = Int32Array.from({ length: sh.N * sh.S }, () => rng.int(T));
    const flat = new Float32Array(sh.N * sh.S * W);
    for (let r = 0; r < rowOf.length; r++) flat.set(table.subarray(rowOf[r] * W, (rowOf[r] + 1) * W), r * W);
    const e = getEngine();
    const z1 = new Float32Array(sh.N * sh.H * sh.Dh);
    const z2 = new Float32Array(z1.length);
    const p1 = new Float32Array(sh.N * sh.H * sh.S);
    const p2 = new Float32Array(p1.length);
    attentionForward(sh, flat, z1, p1);
    const scores = new Float32Array(sh.H * T * T);
    scoreTable(e, table, T, sh.H, sh.Dh, scores);
    attentionForward(sh, table, z2, p2, rowOf, scores);
    for (let i = 0; i < z1.length; i++) expect(z2[i]).toBeCloseTo(z1[i], 5);
    const gz = randn(rng, z1.length);
    const gFlat = new Float32Array(flat.length);
    attentionBackward(sh, flat, p1, gz, gFlat);
    const gTable = new Float32Array(table.length);
    const gScores = new Float32Array(scores.length);
    attentionBackward(sh, table, p2, gz, gTable, rowOf, gScores);
    scoreTableBackward(e, table, gScores, T, sh.H, sh.Dh, gTable);
    // The flat gradient summed over rows that share a table row is the table gradient.
    const folded = new Float64Array(table.length);
    for (let r = 0; r < rowOf.length; r++) for (let j = 0; j < W; j++) folded[rowOf[r] * W + j] += gFlat[r * W + j];
    for (let i = 0; i < folded.length; i++) expect(gTable[i]).toBeCloseTo(folded[i], 4);
  });
});

describe('layernorm backward', () => {
  it('matches finite differences for x, gain and bias', () => {
    const R = 4;
    const D = 6;
    const rng = Rng.from(2, 'ln');
    const x = randn(rng, R * D, 2);
    const gain = randn(rng, D);
    const bias = randn(rng, D);
    const w = randn(rng, R * D);
    const y = new Float32Array(R * D);
    const cache = { xhatRD: new Float32Array(R * D), rstdR: new Float64Array(R) };
    const loss = (): number => {
      layerNormForward(x, R, D, gain, bias, y, cache);
      let s = 0;
      for (let i = 0; i < y.length; i++) s += y[i] * w[i];
      return s;
    };
    loss();
    const gx = new Float32Array(R * D);
    const gg = new Float32Array(D);
    const gb = new Float32Array(D);
    layerNormBackward(w, R, D, gain, cache, gx, gg, gb);
    fd(x, gx, loss, rng, 10);
    fd(gain, gg, loss, rng, 6);
    fd(bias, gb, loss, rng, 6);
  });
});

describe('cross-entropy', () => {
  it('matches a direct float64 computation and finite differences', () => {
    const N = 5;
    const C = 7;
    const rng = Rng.from(3, 'ce');
    const logits = randn(rng, N * C, 3);
    const targets = Int32Array.from({ length: N }, () => rng.int(C));
    let ref = 0;
    for (let n = 0; n < N; n++) {
      let z = 0;
      for (let c = 0; c < C; c++) z += Math.exp(logits[n * C + c]);
      ref += Math.log(z) - logits[n * C + targets[n]];
    }
    const g = new Float32Array(N * C);
    const r = crossEntropy(logits, N, C, targets, g);
    expect(r.loss).toBeCloseTo(ref / N, 6);
    fd(logits, g, () => crossEntropy(logits, N, C, targets).loss, rng, 10);
  });

  it('keeps a tiny loss that float32 log-softmax would round to zero', () => {
    const logits = Float32Array.from([40, 0, 0]);
    const r = crossEntropy(logits, 1, 3, Int32Array.from([0]));
    expect(r.loss).toBeGreaterThan(0);
    expect(r.loss).toBeCloseTo(2 * Math.exp(-40), 20);
  });
});

describe('transformer backward', () => {
  const cases = [
    { n_layers: 1, layernorm: false, lastOnly: true },
    { n_layers: 1, layernorm: false, lastOnly: false },
    { n_layers: 2, layernorm: true, lastOnly: true },
    { n_layers: 2, layernorm: false, lastOnly: false },
  ];
  for (const c of cases) {
    it(`matches finite differences for every tensor (${JSON.stringify(c)})`, () => {
      const cfg = resolveConfig({
        p: 7,
        n_layers: c.n_layers,
        d_model: 8,
        n_heads: 2,
        d_head: 4,
        d_mlp: 16,
        layernorm: c.layernorm,
      });
      const params = initParams(cfg, 5);
      // Move biases and gains off their init so their gradients are exercised.
      const rng = Rng.from(5, 'perturb');
      for (const [n, t] of Object.entries(params))
        if (/\.(b_in|b_out|w|b)$/.test(n)) for (let i = 0; i < t.length; i++) t[i] += 0.3 * rng.normal();
      const model = new Transformer(cfg, params, getEngine());
      const data = makeModArith(7, 'add', 0.5, 0);
      const { tokens, targets } = selectPairs(data, data.train.subarray(0, 10));
      const loss = (): number => crossEntropy(model.forward(tokens, c.lastOnly).logitsNC, 10, 7, targets).loss;
      const fw = model.forward(tokens, c.lastOnly);
      const gLogits = new Float32Array(10 * 7);
      crossEntropy(fw.logitsNC, 10, 7, targets, gLogits);
      const grads = Object.fromEntries(
        Object.entries(params).map(([n, t]) => [n, new Float32Array(t.length).fill(NaN)]),
      );
      model.backward(fw, gLogits, grads);
      for (const [name, t] of Object.entries(params)) {
        expect(grads[name].every(Number.isFinite), name).toBe(true);
        fd(t, grads[name], loss, Rng.from(7, name), 5, name);
      }
    });
  }

  it('gives the same logits with and without the "=-only" final block', () => {
    const cfg = resolveConfig({ p: 11, n_layers: 2, d_model: 16, n_heads: 4, d_head: 4, d_mlp: 32 });
    const model = new Transformer(cfg, initParams(cfg, 1), getEngine());
    const data = makeModArith(11, 'add', 0.5, 0);
    const a = model.forward(data.tokens, true).logitsNC;
    const b = model.forward(data.tokens, false).logitsNC;
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-5);
  });
});
