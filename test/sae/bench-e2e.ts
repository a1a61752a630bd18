/**
 * Manual benchmark (not a vitest file): the acceptance run on exactly-k data —
 * d = 64, 128 true features, k = 4, 50,000 samples, TopK width 128, k = 4, default hyperparameters.
 * Usage: npx vite-node test/sae/bench-e2e.ts [seeds=0,1,2] [extra JSON hyper]
 */
import { getEngine } from '../../src/engine/index.js';
import { trainMany } from '../../src/sae/train.js';
import { exactK, gtMcc, memoryStream } from './exactk.js';

const seeds = (process.argv[2] ?? '0,1,2').split(',').map(Number);
const extra = process.argv[3] ? JSON.parse(process.argv[3]) : {};
const opts = extra.opts ?? {};
const hyper = extra.hyper ?? {};
const sae = { arch: 'topk' as const, dSae: 128, k: 4, ...(extra.sae ?? {}) };
console.log('engine', getEngine().info().name, getEngine().info().threads, 'threads');
for (const s of seeds) {
  const t0 = performance.now();
  const data = exactK(s, 50_000, 64, 128, 4);
  const src = memoryStream(data.xND, data.n, data.d);
  const t1 = performance.now();
  const [r] = await trainMany(src, [{ sae, seed: s, dataSeed: s, hyper }], opts);
  const t2 = performance.now();
  const mcc = gtMcc(data.gtFD, 128, r.sae.params.W_dec, r.cfg.dSae, 64);
  console.log(JSON.stringify({ seed: s, gt_mcc: +mcc.toFixed(4), final: r.final, batch: r.batchSize, steps: r.steps, lr: r.hyper.lr, dataS: +((t1 - t0) / 1000).toFixed(2), trainS: +((t2 - t1) / 1000).toFixed(2) }));
}
