/**
 * Manual benchmark (not a vitest file): every architecture with default hyperparameters on the
 * exactly-k acceptance data (d 64, 128 features, k 4, 50,000 rows, width 128): gt_mcc, L0, EV, time.
 * Usage: npx vite-node test/sae/bench-archs.ts [steps] [seed]
 */
import { trainMany } from '../../src/sae/train.js';
import type { RunConfig } from '../../src/sae/train.js';
import { exactK, gtMcc, memoryStream } from './exactk.js';

const steps = process.argv[2] ? Number(process.argv[2]) : undefined;
const seed = Number(process.argv[3] ?? 0);
const data = exactK(seed, 50_000, 64, 128, 4);
const runs: RunConfig[] = [
  { id: 'topk', sae: { arch: 'topk', dSae: 128, k: 4 }, seed, dataSeed: seed },
  { id: 'batchtopk', sae: { arch: 'batchtopk', dSae: 128, k: 4 }, seed, dataSeed: seed },
  { id: 'matryoshka', sae: { arch: 'matryoshka', dSae: 128, k: 4 }, seed, dataSeed: seed },
  { id: 'relu-april', sae: { arch: 'relu', dSae: 128 }, seed, dataSeed: seed },
  { id: 'relu-2023', sae: { arch: 'relu', dSae: 128, variant: 'constrained-2023' }, seed, dataSeed: seed },
  { id: 'jumprelu', sae: { arch: 'jumprelu', dSae: 128 }, seed, dataSeed: seed },
  { id: 'gated', sae: { arch: 'gated', dSae: 128 }, seed, dataSeed: seed },
];
for (const run of runs) {
  const t = performance.now();
  const [r] = await trainMany(memoryStream(data.xND, data.n, data.d), [run], { steps });
  const s = (performance.now() - t) / 1000;
  const f = r.final;
  console.log(run.id.padEnd(11), 'gt_mcc', gtMcc(data.gtFD, 128, r.sae.params.W_dec, 128, 64).toFixed(3), 'L0', f?.l0.toFixed(2), 'EV', f?.explained_variance.toFixed(3), 'dead', f?.n_dead, 's', s.toFixed(1));
}
