/**
 * Manual benchmark (not a vitest file): steps/s of one full training step (forward, backward,
 * projection, clip, Adam, renormalise) at the acceptance shape B = 4096, d = 512, m = 4096, k = 32.
 * Usage: npx vite-node test/sae/bench-step.ts [arch=topk] [steps=10] [b_enc shift, e.g. -2.5 for a
 * sparse ReLU as after training]
 */
import { Rng } from '../../src/core/rng.js';
import { getEngine } from '../../src/engine/index.js';
import { AdamState, clipGlobalNorm } from '../../src/nn/optim.js';
import { getArch, initSae, resolveConfig } from '../../src/sae/registry.js';
import type { ArchName, TensorMap } from '../../src/sae/types.js';

const arch = (process.argv[2] ?? 'topk') as ArchName;
const n = Number(process.argv[3] ?? 10);
const B = 4096, D = 512, M = 4096, K = 32;
const e = getEngine();
const input = arch === 'relu' || arch === 'jumprelu' || arch === 'gated' ? { arch, dIn: D, dSae: M } : { arch, dIn: D, dSae: M, k: K };
const cfg = resolveConfig(input);
const sae = initSae(cfg, Rng.from(0, 'init'));
const shift = Number(process.argv[4] ?? 0);
if (sae.params.b_enc) sae.params.b_enc.fill(shift);
const step = getArch(arch).createStep(sae, B, e);
const x = new Float32Array(B * D);
Rng.from(1, 'x').fillNormal(x);
const grads: TensorMap = {};
for (const [k, t] of Object.entries(sae.params)) grads[k] = new Float32Array(t.length);
const adam = new AdamState(sae.params);
const counts = new Int32Array(M);
let l0 = 0;
const one = (s: number) => {
  l0 = step.forward(x, { mode: 'train', sparsityScale: 1, dead: null }).l0;
  step.backward(grads);
  step.constrainGrads(grads);
  clipGlobalNorm(e, grads, 1);
  adam.step(e, sae.params, grads, { lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: s, weightDecay: 0 });
  step.afterUpdate(s, 1000);
  step.countFiring(counts);
};
one(1);
const times: number[] = [];
for (let s = 2; s < n + 2; s++) {
  const t = performance.now();
  one(s);
  times.push(performance.now() - t);
}
times.sort((a, b) => a - b);
const med = times[Math.floor(times.length / 2)];
console.log(JSON.stringify({ engine: e.info().name, threads: e.info().threads, blasCore: e.info().blasCore, arch, medianMs: +med.toFixed(1), minMs: +times[0].toFixed(1), stepsPerS: +(1000 / med).toFixed(2), l0: +l0.toFixed(1) }));
