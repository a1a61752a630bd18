/**
 * `husai bench …`: measurements, printed with the BLAS core they ran on. `bench gemm --numpy`
 * runs bench/numpy_gemm.py in the same environment right after, and reports husai/numpy ratios,
 * so the comparison is same machine, same run, same OPENBLAS_CORETYPE.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, type Command } from 'commander';
import { HusaiError } from '../core/errors.js';
import { benchGemm, type GemmBenchResult } from '../engine/bench.js';
import { engineInfo, getEngine } from '../engine/index.js';
import { benchAssign } from '../metrics/assignment.js';

interface NumpyGemm {
  numpy: string;
  blasCore: string;
  results: GemmBenchResult[];
}

export function registerBench(program: Command): void {
  const bench = program.command('bench').description('measure engine and training speed');
  registerBenchAssign(bench);
  bench
    .command('gemm')
    .description('sgemm GFLOP/s for [4096×512]·[512×4096] and [4096×4096]·[4096×512] (or --m --n --k)')
    .option('--m <m>', 'rows of A and C', parsePositiveInt)
    .option('--n <n>', 'columns of B and C', parsePositiveInt)
    .option('--k <k>', 'inner dimension', parsePositiveInt)
    .option('--reps <n>', 'timed repetitions (median reported)', parsePositiveInt, 7)
    .option('--numpy', 'also time numpy.matmul on the same shapes (python3 with numpy) and report the ratio')
    .option('--json', 'print one JSON object')
    .action((opts: { m?: number; n?: number; k?: number; reps: number; numpy?: boolean; json?: boolean }) => {
      const custom = opts.m !== undefined || opts.n !== undefined || opts.k !== undefined;
      if (custom && (opts.m === undefined || opts.n === undefined || opts.k === undefined)) {
        throw new HusaiError('bench gemm: give all of --m, --n and --k, or none of them');
      }
      const shapes: Array<[number, number, number]> = custom
        ? [[opts.m!, opts.n!, opts.k!]]
        : [[4096, 4096, 512], [4096, 512, 4096]];
      const engine = getEngine();
      const info = engineInfo();
      const results = shapes.map(([m, n, k]) => benchGemm(engine, m, n, k, Math.max(5, opts.reps)));
      const numpy = opts.numpy ? runNumpy(shapes) : null;
      const out = {
        engine: info.name,
        blas: info.blas,
        blasCore: info.blasCore,
        threads: info.threads,
        openblasCoretypeEnv: process.env.OPENBLAS_CORETYPE ?? null,
        results: results.map((r, i) => ({
          ...r,
          ...(numpy ? { numpyGflops: numpy.results[i].gflops, ratioVsNumpy: r.gflops / numpy.results[i].gflops } : {}),
        })),
        ...(numpy ? { numpy: numpy.numpy, numpyBlasCore: numpy.blasCore } : {}),
      };
      if (opts.json) {
        console.log(JSON.stringify(out, null, 2));
        return;
      }
      console.log(`engine ${out.engine}, blas ${out.blas}, core ${out.blasCore || '-'}, ${out.threads} threads` +
        (out.openblasCoretypeEnv ? ` (OPENBLAS_CORETYPE=${out.openblasCoretypeEnv})` : ''));
      if (numpy) console.log(`numpy ${numpy.numpy}, core ${numpy.blasCore || '-'}`);
      for (const r of out.results) {
        const line = `[${r.m}×${r.k}]·[${r.k}×${r.n}]  ${r.gflops.toFixed(1)} GFLOP/s  (median of ${r.reps}, ${(r.medianSeconds * 1e3).toFixed(2)} ms)`;
        const cmp = 'numpyGflops' in r ? `   numpy ${(r.numpyGflops as number).toFixed(1)} GFLOP/s, ratio ${(r.ratioVsNumpy as number).toFixed(2)}×` : '';
        console.log(line + cmp);
      }
    });
}

function registerBenchAssign(bench: Command): void {
  bench
    .command('assign')
    .description('seconds to solve an N×N dense linear assignment (uniform random costs, exact optimum)')
    .requiredOption('--n <n>', 'matrix size', parsePositiveInt)
    .option('--seed <s>', 'seed of the random matrix', (v) => Number(v), 0)
    .option('--json', 'print one JSON object')
    .action((opts: { n: number; seed: number; json?: boolean }) => {
      const r = benchAssign(opts.n, opts.seed);
      if (opts.json) console.log(JSON.stringify(r, null, 2));
      else console.log(`assignment ${r.n}×${r.n}: ${r.seconds.toFixed(3)} s (optimal total ${r.total.toFixed(4)})`);
    });
}

function runNumpy(shapes: Array<[number, number, number]>): NumpyGemm {
  const script = fileURLToPath(new URL('../../bench/numpy_gemm.py', import.meta.url));
  const args = shapes.map(([m, n, k]) => `${m}x${k}x${n}`);
  const res = spawnSync('python3', [script, ...args], { encoding: 'utf8', env: process.env });
  if (res.error || res.status !== 0) {
    throw new HusaiError(`bench gemm --numpy: python3 ${script} failed: ${res.error?.message ?? res.stderr.trim()}`, 'needs python3 with numpy on PATH');
  }
  return JSON.parse(res.stdout) as NumpyGemm;
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
}
