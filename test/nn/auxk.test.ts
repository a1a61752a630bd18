import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { getEngine } from '../../src/engine/index.js';
import { AuxK } from '../../src/nn/auxk.js';
import { ScratchPool } from '../../src/nn/scratch.js';

const B = 5;
const M = 9;
const D = 4;

function setup() {
  const rng = Rng.from(3, 'auxk');
  const h = new Float32Array(B * M);
  rng.fillNormal(h);
  const w = new Float32Array(M * D);
  rng.fillNormal(w);
  const x = new Float32Array(B * D);
  rng.fillNormal(x);
  const recon = new Float32Array(B * D);
  rng.fillNormal(recon, 0, 0.5);
  const dead = new Uint8Array(M);
  for (const i of [1, 4, 5, 8]) dead[i] = 1;
  return { h, w, x, recon, dead, aux: new AuxK(B, M, D, 2, new ScratchPool()) };
}

describe('AuxK', () => {
  it('AuxK.forward(e, h, dead, x, recon, W_dec, α) is 0 with no dead latent and scales by min(n_dead/k_aux, 1)', () => {
    const e = getEngine();
    const { h, w, x, recon, dead, aux } = setup();
    expect(aux.forward(e, h, null, x, recon, w, 0.5)).toBe(0);
    expect(aux.forward(e, h, new Uint8Array(M), x, recon, w, 0.5)).toBe(0);
    const one = new Uint8Array(M);
    one[4] = 1;
    const l1 = aux.forward(e, h, one, x, recon, w, 0.5);
    // direct: latent 4 alone, ReLU, scale 1/2
    let s = 0;
    for (let b = 0; b < B; b++) {
      const v = Math.max(h[b * M + 4], 0);
      for (let d = 0; d < D; d++) s += (v * w[4 * D + d] - (x[b * D + d] - recon[b * D + d])) ** 2;
    }
    expect(l1).toBeCloseTo(0.5 * 0.5 * (s / B), 5);
    expect(aux.forward(e, h, dead, x, recon, w, 0.5)).toBeGreaterThan(0);
  });

  it('AuxK.backward(e, W_dec, gW_dec, gH) matches finite differences in h and W_dec and touches dead latents only', () => {
    const e = getEngine();
    const { h, w, x, recon, dead, aux } = setup();
    aux.forward(e, h, dead, x, recon, w, 0.5);
    const gW = new Float32Array(M * D);
    const gH = new Float32Array(B * M);
    aux.backward(e, w, gW, gH);
    for (let i = 0; i < M; i++) {
      if (dead[i]) continue;
      for (let d = 0; d < D; d++) expect(gW[i * D + d]).toBe(0);
      for (let b = 0; b < B; b++) expect(gH[b * M + i]).toBe(0);
    }
    const sel = () => {
      const p = new Uint8Array(B * M);
      aux.markPattern(p, 1);
      return p.join('');
    };
    const base = sel();
    const check = (t: Float32Array, g: Float32Array) => {
      let compared = 0;
      for (let i = 0; i < t.length; i++) {
        const o = t[i];
        const hStep = 1e-2;
        t[i] = o + hStep;
        const lp = aux.forward(e, h, dead, x, recon, w, 0.5);
        const sp = sel();
        t[i] = o - hStep;
        const lm = aux.forward(e, h, dead, x, recon, w, 0.5);
        const sm = sel();
        t[i] = o;
        if (sp !== base || sm !== base) continue;
        const fd = (lp - lm) / (2 * hStep);
        expect(Math.abs(fd - g[i])).toBeLessThanOrEqual(1e-2 * Math.max(Math.abs(fd), Math.abs(g[i])) + 1e-4);
        compared++;
      }
      return compared;
    };
    expect(check(h, gH)).toBeGreaterThan((B * M) / 2);
    expect(check(w, gW)).toBeGreaterThan((M * D) / 2);
  });
});
