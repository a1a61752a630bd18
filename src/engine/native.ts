/**
 * Native backend: the N-API addon build/Release/husai_native.node (native/src/*.cc; OpenBLAS
 * cblas_sgemm plus C++/OpenMP kernels working in place on the Float32Array views). Built by
 * `node native/build.mjs` during `npm ci`; when that failed, `loadNativeEngine()` returns the
 * reason and the fix instead of throwing, and index.ts falls back to the reference engine.
 *
 * The addon's exports carry the Engine members' names and argument orders (adam takes the
 * options positionally), so this wrapper is a thin pass-through.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { AdamOptions, Engine, EngineInfo, F32, I32 } from './types.js';

/** The addon's exports (native/src/addon.cc). */
interface NativeAddon {
  gemm(
    tA: boolean,
    tB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: F32,
    lda: number,
    b: F32,
    ldb: number,
    beta: number,
    c: F32,
    ldc: number,
  ): void;
  addRowVec(x: F32, rows: number, cols: number, v: F32, alpha: number): void;
  colSum(x: F32, rows: number, cols: number, out: F32, alpha: number, beta: number): void;
  rowNorms(x: F32, rows: number, cols: number, out: F32): void;
  normalizeRows(x: F32, rows: number, cols: number, normsOut: F32 | null): void;
  projectOutRows(w: F32, g: F32, rows: number, cols: number): void;
  rowMax(x: F32, rows: number, cols: number, valOut: F32, idxOut: I32): void;
  colNonzeroCount(x: F32, rows: number, cols: number, counts: I32): void;
  relu(x: F32, out: F32): void;
  reluBackward(pre: F32, gOut: F32, gIn: F32, rows: number, cols: number, colAdd: F32 | null): void;
  axpy(alpha: number, x: F32, y: F32): void;
  scale(x: F32, alpha: number): void;
  sumSq(x: F32): number;
  sumSqDiff(a: F32, b: F32): number;
  dot(a: F32, b: F32): number;
  topkRows(x: F32, rows: number, cols: number, k: number, valsOut: F32, idxOut: I32): void;
  scatterRows(vals: F32, idx: I32, rows: number, k: number, out: F32, cols: number): void;
  gatherRows(x: F32, cols: number, idx: I32, rows: number, k: number, out: F32): void;
  sparseDecode(
    vals: F32,
    idx: I32,
    rows: number,
    k: number,
    w: F32,
    m: number,
    d: number,
    out: F32,
    beta: number,
  ): void;
  sparseDecodeGradVals(gOut: F32, idx: I32, rows: number, k: number, w: F32, m: number, d: number, gVals: F32): void;
  sparseDecodeGradW(vals: F32, idx: I32, rows: number, k: number, gOut: F32, m: number, d: number, gW: F32): void;
  adam(
    param: F32,
    grad: F32,
    m: F32,
    v: F32,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    step: number,
    weightDecay: number,
  ): void;
  setThreads(n: number): void;
  info(): {
    blas: 'openblas' | 'builtin';
    blasConfig: string;
    blasCore: string;
    blasThreading: 'openmp' | 'pthreads' | 'none';
    threads: number;
  };
}

const REQUIRED: ReadonlyArray<keyof NativeAddon> = [
  'gemm',
  'addRowVec',
  'colSum',
  'rowNorms',
  'normalizeRows',
  'projectOutRows',
  'rowMax',
  'colNonzeroCount',
  'relu',
  'reluBackward',
  'axpy',
  'scale',
  'sumSq',
  'sumSqDiff',
  'dot',
  'topkRows',
  'scatterRows',
  'gatherRows',
  'sparseDecode',
  'sparseDecodeGradVals',
  'sparseDecodeGradW',
  'adam',
  'setThreads',
  'info',
];

const NATIVE_HINT = 'run `npm run build:native`; for the fast path apt-get install libopenblas-openmp-dev';

/** Why the built-in GEMM is in use (the addon was compiled without OpenBLAS). */
const BUILTIN_BLAS_REASON =
  'OpenBLAS not found at build time; for the fast path: apt-get install libopenblas-openmp-dev (or libopenblas-dev), ' +
  'then npm rebuild / npm ci';

class NativeEngine implements Engine {
  readonly name = 'native' as const;

  constructor(private readonly addon: NativeAddon) {}

  info(): EngineInfo {
    const i = this.addon.info();
    return {
      name: 'native',
      blas: i.blas,
      blasConfig: i.blasConfig,
      blasCore: i.blasCore,
      blasThreading: i.blasThreading,
      threads: i.threads,
      fallbackReason: i.blas === 'builtin' ? BUILTIN_BLAS_REASON : null,
    };
  }

  setThreads(n: number): void {
    this.addon.setThreads(n);
  }

  gemm(
    tA: boolean,
    tB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: F32,
    lda: number,
    b: F32,
    ldb: number,
    beta: number,
    c: F32,
    ldc: number,
  ): void {
    this.addon.gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
  addRowVec(x: F32, rows: number, cols: number, v: F32, alpha: number): void {
    this.addon.addRowVec(x, rows, cols, v, alpha);
  }
  colSum(x: F32, rows: number, cols: number, out: F32, alpha: number, beta: number): void {
    this.addon.colSum(x, rows, cols, out, alpha, beta);
  }
  rowNorms(x: F32, rows: number, cols: number, out: F32): void {
    this.addon.rowNorms(x, rows, cols, out);
  }
  normalizeRows(x: F32, rows: number, cols: number, normsOut: F32 | null): void {
    this.addon.normalizeRows(x, rows, cols, normsOut);
  }
  projectOutRows(w: F32, g: F32, rows: number, cols: number): void {
    this.addon.projectOutRows(w, g, rows, cols);
  }
  rowMax(x: F32, rows: number, cols: number, valOut: F32, idxOut: I32): void {
    this.addon.rowMax(x, rows, cols, valOut, idxOut);
  }
  colNonzeroCount(x: F32, rows: number, cols: number, counts: I32): void {
    this.addon.colNonzeroCount(x, rows, cols, counts);
  }
  relu(x: F32, out: F32): void {
    this.addon.relu(x, out);
  }
  reluBackward(pre: F32, gOut: F32, gIn: F32, rows: number, cols: number, colAdd: F32 | null): void {
    this.addon.reluBackward(pre, gOut, gIn, rows, cols, colAdd);
  }
  axpy(alpha: number, x: F32, y: F32): void {
    this.addon.axpy(alpha, x, y);
  }
  scale(x: F32, alpha: number): void {
    this.addon.scale(x, alpha);
  }
  sumSq(x: F32): number {
    return this.addon.sumSq(x);
  }
  sumSqDiff(a: F32, b: F32): number {
    return this.addon.sumSqDiff(a, b);
  }
  dot(a: F32, b: F32): number {
    return this.addon.dot(a, b);
  }
  topkRows(x: F32, rows: number, cols: number, k: number, valsOut: F32, idxOut: I32): void {
    this.addon.topkRows(x, rows, cols, k, valsOut, idxOut);
  }
  scatterRows(vals: F32, idx: I32, rows: number, k: number, out: F32, cols: number): void {
    this.addon.scatterRows(vals, idx, rows, k, out, cols);
  }
  gatherRows(x: F32, cols: number, idx: I32, rows: number, k: number, out: F32): void {
    this.addon.gatherRows(x, cols, idx, rows, k, out);
  }
  sparseDecode(
    vals: F32,
    idx: I32,
    rows: number,
    k: number,
    w: F32,
    m: number,
    d: number,
    out: F32,
    beta: number,
  ): void {
    this.addon.sparseDecode(vals, idx, rows, k, w, m, d, out, beta);
  }
  sparseDecodeGradVals(gOut: F32, idx: I32, rows: number, k: number, w: F32, m: number, d: number, gVals: F32): void {
    this.addon.sparseDecodeGradVals(gOut, idx, rows, k, w, m, d, gVals);
  }
  sparseDecodeGradW(vals: F32, idx: I32, rows: number, k: number, gOut: F32, m: number, d: number, gW: F32): void {
    this.addon.sparseDecodeGradW(vals, idx, rows, k, gOut, m, d, gW);
  }
  adam(param: F32, grad: F32, m: F32, v: F32, o: AdamOptions): void {
    this.addon.adam(param, grad, m, v, o.lr, o.beta1, o.beta2, o.eps, o.step, o.weightDecay);
  }
}

type NativeLoad = { engine: Engine } | { error: string; hint: string };

let cached: NativeLoad | null = null;

/**
 * Loads the addon once per process. Never throws: a missing or broken addon gives `{ error, hint }`.
 * The path is relative to this file, which lives two levels below the package root both as
 * src/engine/native.ts (tests) and as dist/engine/native.js (compiled).
 */
export function loadNativeEngine(): NativeLoad {
  if (cached) return cached;
  cached = load();
  return cached;
}

function load(): NativeLoad {
  const file = fileURLToPath(new URL('../../build/Release/husai_native.node', import.meta.url));
  if (!fs.existsSync(file)) {
    return { error: `addon not built (${file} is missing)`, hint: NATIVE_HINT };
  }
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(file) as NativeAddon;
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return { error: `addon failed to load (${msg})`, hint: NATIVE_HINT };
  }
  const missing = REQUIRED.filter((name) => typeof (addon as unknown as Record<string, unknown>)[name] !== 'function');
  if (missing.length > 0) {
    return { error: `addon is out of date (missing ${missing.join(', ')})`, hint: NATIVE_HINT };
  }
  return { engine: new NativeEngine(addon) };
}
