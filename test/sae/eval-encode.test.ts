/**
 * One inference rule per architecture: the training step's eval forward (mode 'eval') and the
 * encode of the SAE's exported-and-reloaded checkpoint (saveSae → loadSae → encodeLatents, which
 * dispatches through the registry by the checkpoint's SAELens name) give the same latents and the
 * same reconstruction on the same inputs. Table-driven over arch-table.ts, so a new architecture is
 * checked without a new test. SAEs are perturbed off their init (every tensor non-trivial); the
 * BatchTopK-family threshold is set positive, as training leaves it (with θ = 0 the eval forward
 * falls back to batch-level top-k, a rule no checkpoint can express).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { loadSae } from '../../src/sae/checkpoint/index.js';
import { encodeLatents } from '../../src/sae/checkpoint/encode.js';
import { getArch } from '../../src/sae/registry.js';
import { saveSae } from '../../src/sae/save.js';
import { ARCH_CASES } from './arch-table.js';
import { engine, perturbedSae, randn } from './helpers.js';

const B = 16;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'husai-eval-encode-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('eval forward = encode of the saved checkpoint', () => {
  for (const [ci, c] of ARCH_CASES.entries()) {
    it(`createStep(${c.title}).forward(x, 'eval') = encodeLatents(loadSae(saveSae(sae)), x) in latents and reconstruction`, () => {
      const e = engine();
      const sae = perturbedSae(c.input, 30 + ci);
      if (sae.buffers.threshold) sae.buffers.threshold.fill(0.3);
      const { dIn: D, dSae: M } = sae.cfg;
      const x = randn(Rng.from(ci, 'eval-encode'), B * D);
      const step = getArch(sae.cfg.arch).createStep(sae, B, e);
      step.forward(x, { mode: 'eval', sparsityScale: 1, dead: null });
      const active = step.activePattern();
      const recon = Float32Array.from(step.recon);

      const dir = path.join(tmp, `arch${ci}`);
      saveSae(dir, sae, { seed: 30 + ci });
      const w = loadSae(dir);
      expect(w.architecture).toBe(getArch(sae.cfg.arch).saeLens.name);
      const f = encodeLatents(w, { data: x, rows: B, cols: D }, e).data;

      // Latents: the same set fires (up to latents within float rounding of their boundary).
      let mismatched = 0;
      let firing = 0;
      for (let t = 0; t < B * M; t++) {
        const on = f[t] !== 0;
        if (on) firing++;
        if (on !== ((active[t] & 1) === 1) && Math.abs(f[t]) > 1e-4) mismatched++;
      }
      expect(mismatched, c.title).toBe(0);
      expect(firing, `${c.title}: some latents fire`).toBeGreaterThan(0);
      expect(firing, `${c.title}: not every latent fires`).toBeLessThan(B * M);
      // Reconstruction: f·W_dec + b_dec of the reloaded weights (float64) against the step's x̂.
      const wDec = w.tensors.W_dec.data;
      const bDec = w.tensors.b_dec.data;
      let worst = 0;
      for (let b = 0; b < B; b++) {
        for (let d = 0; d < D; d++) {
          let s = bDec[d];
          for (let m = 0; m < M; m++) s += f[b * M + m] * wDec[m * D + d];
          worst = Math.max(worst, Math.abs(s - recon[b * D + d]) / (1 + Math.abs(s)));
        }
      }
      expect(worst, c.title).toBeLessThan(1e-4);
    });
  }
});
