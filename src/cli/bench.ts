/**
 * `husai bench …`: measurements, printed with the BLAS core they ran on. `bench gemm --numpy`
 * runs bench/numpy_gemm.py in the same environment right after, and reports husai/numpy ratios,
 * so the comparison is same machine, same run, same OPENBLAS_CORETYPE.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { HusaiError } from '../core/errors.js';
import { benchGemm, type GemmBenchResult } from '../bench/gemm.js';
import { writeNpy } from '../formats/npy.js';
import { engineInfo, getEngine } from '../engine/index.js';
import { type AssignBenchKind, assignBenchMatrix, benchAssign } from '../metrics/assignment.js';
import { benchTrain } from '../bench/train.js';
import { archNames } from '../sae/registry.js';
import type { ArchName } from '../sae/types.js';
import { parseDimsArg, parseIntArg, parsePositiveIntArg } from './args.js';
import { printJson } from './json.js';

interface NumpyGemm {
  numpy: string;
  blasCore: string;
  results: GemmBenchResult[];
}

export function registerBench(program: Command): void {
  const bench = program.command('bench').description('measure engine and training speed');
  registerBenchAssign(bench);
  registerBenchTrain(bench);
  const shapeHelp = 'one product [M×K]·[K×N] instead of the two defaults, e.g. 4096x512x4096';
  bench
    .command('gemm')
    .description('sgemm GFLOP/s for [4096×512]·[512×4096] and [4096×4096]·[4096×512] (or --shape)')
    .option('--shape <MxKxN>', shapeHelp, parseDimsArg)
    .option('--reps <n>', 'timed repetitions (median reported)', parsePositiveIntArg, 7)
    .option('--numpy', 'also time numpy.matmul on the same shapes (python3 with numpy) and report the ratio')
    .option(
      '--rounds <n>',
      'with --numpy: alternating husai/numpy rounds, best median of each kept',
      parsePositiveIntArg,
      3,
    )
    .option('--json', 'print one JSON object')
    .action((opts: { shape?: number[]; reps: number; rounds: number; numpy?: boolean; json?: boolean }) => {
      if (opts.shape !== undefined && opts.shape.length !== 3)
        throw new HusaiError(`--shape ${opts.shape.join('x')}: expected three sizes MxKxN`);
      // [m, n, k] as benchGemm takes them.
      const shapes: Array<[number, number, number]> = opts.shape
        ? [[opts.shape[0], opts.shape[2], opts.shape[1]]]
        : [
            [4096, 4096, 512],
            [4096, 512, 4096],
          ];
      const engine = getEngine();
      const info = engineInfo();
      // With --numpy: `rounds` alternating rounds (husai, then numpy), each side's best median kept,
      // so a slow moment of a shared machine does not decide the ratio.
      let results: GemmBenchResult[] = [];
      let numpy: NumpyGemm | null = null;
      for (let round = 0; round < (opts.numpy ? opts.rounds : 1); round++) {
        const mine = shapes.map(([m, n, k]) => benchGemm(engine, m, n, k, Math.max(5, opts.reps)));
        results = results.length === 0 ? mine : results.map((r, i) => (mine[i].gflops > r.gflops ? mine[i] : r));
        if (opts.numpy) {
          const theirs = runNumpy(shapes);
          numpy =
            numpy === null
              ? theirs
              : {
                  ...theirs,
                  results: numpy.results.map((r, i) => (theirs.results[i].gflops > r.gflops ? theirs.results[i] : r)),
                };
        }
      }
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
        ...(numpy ? { numpy: numpy.numpy, numpyBlasCore: numpy.blasCore, rounds: opts.rounds } : {}),
      };
      if (opts.json) {
        printJson(out);
        return;
      }
      console.log(
        `engine ${out.engine}, blas ${out.blas}, core ${out.blasCore || '-'}, ${out.threads} threads` +
          (out.openblasCoretypeEnv ? ` (OPENBLAS_CORETYPE=${out.openblasCoretypeEnv})` : ''),
      );
      if (numpy) console.log(`numpy ${numpy.numpy}, core ${numpy.blasCore || '-'}`);
      for (const r of out.results) {
        const line =
          `[${r.m}×${r.k}]·[${r.k}×${r.n}]  ${r.gflops.toFixed(1)} GFLOP/s  (median of ${r.reps}, ` +
          `${(r.medianSeconds * 1e3).toFixed(2)} ms)`;
        const cmp =
          'numpyGflops' in r
            ? `   numpy ${(r.numpyGflops as number).toFixed(1)} GFLOP/s, ratio ` +
              `${(r.ratioVsNumpy as number).toFixed(2)}×`
            : '';
        console.log(line + cmp);
      }
    });
}

function registerBenchAssign(bench: Command): void {
  bench
    .command('assign')
    .description(
      'seconds to solve an N×N dense linear assignment exactly (default: cosines of two random dictionaries, ' +
        'maximised)',
    )
    .requiredOption('--size <n>', 'matrix size N', parsePositiveIntArg)
    .option(
      '--kind <kind>',
      'cosines (random unit dictionaries in --d dimensions) | uniform (U(0,1) costs, minimised)',
      'cosines',
    )
    .option('--d <d>', 'dimension of the random dictionaries', parsePositiveIntArg, 512)
    .option('--seed <s>', 'seed of the random matrix', parseIntArg, 0)
    .option('--scipy', 'also time scipy.optimize.linear_sum_assignment on the same matrix and check the optimum agrees')
    .option('--json', 'print one JSON object')
    .action((opts: { size: number; kind: string; d: number; seed: number; scipy?: boolean; json?: boolean }) => {
      if (opts.kind !== 'cosines' && opts.kind !== 'uniform')
        throw new HusaiError(`--kind ${opts.kind}: expected cosines or uniform`);
      const kind = opts.kind as AssignBenchKind;
      const cost = assignBenchMatrix(opts.size, kind, opts.d, opts.seed);
      const r = benchAssign(cost, kind);
      let scipy: { seconds: number; total: number; scipy: string } | null = null;
      if (opts.scipy) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'husai-assign-'));
        try {
          const file = path.join(dir, 'cost.npy');
          writeNpy(file, cost);
          scipy = runNumpyScript('scipy_assign.py', [file, kind === 'cosines' ? 'max' : 'min']) as {
            seconds: number;
            total: number;
            scipy: string;
          };
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      }
      const out = {
        ...r,
        ...(kind === 'cosines' ? { d: opts.d } : {}),
        ...(scipy
          ? {
              scipySeconds: scipy.seconds,
              scipyTotal: scipy.total,
              sameOptimum: Math.abs(scipy.total - r.total) <= 1e-6 * Math.max(1, Math.abs(r.total)),
              speedupVsScipy: scipy.seconds / r.seconds,
              scipy: scipy.scipy,
            }
          : {}),
      };
      if (opts.json) {
        printJson(out);
        return;
      }
      console.log(
        `assignment ${r.n}×${r.n} (${kind}${kind === 'cosines' ? `, d=${opts.d}` : ''}): ` +
          `${r.seconds.toFixed(3)} s, optimal total ${r.total.toFixed(4)}` +
          (scipy
            ? `   scipy ${scipy.seconds.toFixed(3)} s (total ` +
              `${scipy.total.toFixed(4)}${out.sameOptimum ? ', same optimum' : ', DIFFERENT optimum'}), speed-up ` +
              `${(scipy.seconds / r.seconds).toFixed(2)}×`
            : ''),
      );
    });
}

function registerBenchTrain(bench: Command): void {
  bench
    .command('train')
    .description(
      'training steps per second of the real trainer on random data (default shape B=4096, d=512, m=4096, k=32)',
    )
    .option('--arch <arch>', `architecture: ${archNames().join(' | ')}`, 'topk')
    .option('--batch <b>', 'tokens per batch', parsePositiveIntArg, 4096)
    .option('--d <d>', 'activation width', parsePositiveIntArg, 512)
    .option('--width <m>', 'latents', parsePositiveIntArg, 4096)
    .option('--k <k>', 'active latents (TopK family)', parsePositiveIntArg, 32)
    .option('--steps <n>', 'timed steps (median reported)', parsePositiveIntArg, 10)
    .option('--numpy', 'also time bench/numpy_train_step.py (topk and relu) on the same shape and report the ratio')
    .option('--json', 'print one JSON object')
    .action(
      async (o: {
        arch: string;
        batch: number;
        d: number;
        width: number;
        k: number;
        steps: number;
        numpy?: boolean;
        json?: boolean;
      }) => {
        if (!(archNames() as string[]).includes(o.arch))
          throw new HusaiError(`--arch ${o.arch}: expected one of ${archNames().join(', ')}`);
        if (o.numpy && o.arch !== 'topk' && o.arch !== 'relu')
          throw new HusaiError(`--numpy: the numpy reference step exists for topk and relu only, not ${o.arch}`);
        const info = engineInfo();
        const r = await benchTrain({
          arch: o.arch as ArchName,
          batch: o.batch,
          d: o.d,
          width: o.width,
          k: o.k,
          steps: o.steps,
          warmup: 2,
        });
        const numpy = o.numpy
          ? (runNumpyScript('numpy_train_step.py', [
              '--arch',
              o.arch,
              '--batch',
              String(o.batch),
              '--d',
              String(o.d),
              '--width',
              String(o.width),
              '--k',
              String(o.k),
              '--steps',
              String(o.steps),
            ]) as { steps_per_s: number; numpy: string })
          : null;
        const out = {
          ...r,
          engine: info.name,
          blasCore: info.blasCore,
          threads: info.threads,
          openblasCoretypeEnv: process.env.OPENBLAS_CORETYPE ?? null,
          ...(numpy
            ? {
                numpyStepsPerSecond: numpy.steps_per_s,
                ratioVsNumpy: r.stepsPerSecond / numpy.steps_per_s,
                numpy: numpy.numpy,
              }
            : {}),
        };
        if (o.json) {
          printJson(out);
          return;
        }
        console.log(
          `engine ${out.engine}, core ${out.blasCore || '-'}, ${out.threads} threads` +
            (out.openblasCoretypeEnv ? ` (OPENBLAS_CORETYPE=${out.openblasCoretypeEnv})` : ''),
        );
        console.log(
          `${o.arch} B=${o.batch} d=${o.d} m=${o.width}${o.arch === 'relu' ? '' : ` k=${o.k}`}: ` +
            `${r.stepsPerSecond.toFixed(2)} steps/s ` +
            `(median step ${(r.medianStepSeconds * 1e3).toFixed(1)} ms over ${o.steps})` +
            (numpy
              ? `   numpy ${numpy.steps_per_s.toFixed(2)} steps/s, ratio ` +
                `${(r.stepsPerSecond / numpy.steps_per_s).toFixed(2)}×`
              : ''),
        );
      },
    );
}

function runNumpy(shapes: Array<[number, number, number]>): NumpyGemm {
  return runNumpyScript(
    'numpy_gemm.py',
    shapes.map(([m, n, k]) => `${m}x${k}x${n}`),
  ) as NumpyGemm;
}

/** Runs bench/SCRIPT with python3 in this process's environment (same OPENBLAS_CORETYPE, threads); parses its JSON. */
function runNumpyScript(script: string, args: string[]): unknown {
  const file = fileURLToPath(new URL(`../../bench/${script}`, import.meta.url));
  const res = spawnSync('python3', [file, ...args], { encoding: 'utf8', env: process.env });
  if (res.error || res.status !== 0) {
    throw new HusaiError(
      `python3 ${file} failed: ${res.error?.message ?? res.stderr.trim()}`,
      'the comparison needs python3 with numpy on PATH',
    );
  }
  return JSON.parse(res.stdout);
}
