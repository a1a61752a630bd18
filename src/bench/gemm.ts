/**
 * GEMM throughput measurement for `husai bench gemm`: warm-up, then the median of `reps` timed
 * runs of C = A·B at the given shape, in GFLOP/s (2·m·n·k flops per product). Benchmarks are
 * measurements, never tests (the brief: tests check correctness only).
 */
import { Rng } from '../core/rng.js';
import type { Engine } from '../engine/types.js';

export interface GemmBenchResult {
  m: number;
  n: number;
  k: number;
  reps: number;
  medianSeconds: number;
  gflops: number;
}

export function benchGemm(engine: Engine, m: number, n: number, k: number, reps = 7, warmup = 2): GemmBenchResult {
  const rng = Rng.from(0, 'bench-gemm');
  const a = new Float32Array(m * k);
  const b = new Float32Array(k * n);
  const c = new Float32Array(m * n);
  rng.fillNormal(a);
  rng.fillNormal(b);
  for (let i = 0; i < warmup; i++) engine.gemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n);
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    engine.gemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n);
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  times.sort((x, y) => x - y);
  const med = median(times);
  return { m, n, k, reps, medianSeconds: med, gflops: (2 * m * n * k) / med / 1e9 };
}

function median(sorted: number[]): number {
  const s = [...sorted].sort((x, y) => x - y);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}
