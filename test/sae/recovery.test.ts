/**
 * End-to-end: every registered architecture, with default hyperparameters, recovers the
 * ground-truth features of exactly-k data (docs/SCIENCE.md §5; Song et al. report GT-MCC 0.97 for TopK
 * in the matched regime) to at least its row's floor in arch-table.ts. d = 32, 64 true unit
 * features, k = 3, 20,000 samples, width 64; steps cut to 3000 (default 8192) to keep the suite
 * fast on the reference engine. Each floor must also lie well above what the untrained SAE of the
 * same config scores, so a floor can never be met without training.
 */
import { describe, expect, it } from 'vitest';
import { initSae, resolveConfig } from '../../src/sae/registry.js';
import { trainMany } from '../../src/sae/train.js';
import type { SaeConfigInput } from '../../src/sae/types.js';
import { ARCH_CASES } from './arch-table.js';
import { exactK, gtMcc, memoryStream } from './exactk.js';

const D = 32;
const N_GT = 64;
const data = exactK(1, 20_000, D, N_GT, 3);

describe('every architecture recovers exactly-k ground truth', () => {
  for (const c of ARCH_CASES) {
    const { sae, gtMccFloor } = c.recovery;
    it(`trainMany(exact-k d=32 F=64 k=3 n=20000, ${c.title} m=${sae.dSae}, 3000 steps) reaches gt_mcc ≥ ${gtMccFloor}`, async () => {
      const untrained = initSae(resolveConfig({ ...sae, dIn: D } as SaeConfigInput), 1);
      expect(gtMcc(data.gtFD, N_GT, untrained.params.W_dec, sae.dSae, D), 'untrained SAE').toBeLessThan(
        gtMccFloor - 0.2,
      );
      const [r] = await trainMany(memoryStream(data.xND, data.n, data.d), [{ sae, seed: 1, dataSeed: 1 }], {
        steps: 3000,
      });
      expect(r.batchSize).toBe(256);
      expect(gtMcc(data.gtFD, N_GT, r.sae.params.W_dec, sae.dSae, D)).toBeGreaterThanOrEqual(gtMccFloor);
      if (sae.k !== undefined) expect(r.final?.l0).toBeCloseTo(sae.k, 0);
    });
  }

  it('gtMcc(G, G) = 1 and gtMcc is invariant to atom order, sign-sensitive and scale-free', () => {
    const g = exactK(2, 1, 8, 6, 1);
    expect(gtMcc(g.gtFD, 6, g.gtFD, 6, 8)).toBeCloseTo(1, 6);
    const perm = new Float32Array(g.gtFD.length);
    for (let i = 0; i < 6; i++) for (let j = 0; j < 8; j++) perm[((i + 2) % 6) * 8 + j] = 3 * g.gtFD[i * 8 + j];
    expect(gtMcc(g.gtFD, 6, perm, 6, 8)).toBeCloseTo(1, 6);
    const neg = Float32Array.from(g.gtFD, (v) => -v);
    expect(gtMcc(g.gtFD, 6, neg, 6, 8)).toBeLessThan(0.5);
  });
});
