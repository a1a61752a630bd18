/**
 * Engine selection. `getEngine()` returns the process-wide engine, chosen once:
 * - HUSAI_ENGINE=reference forces the TypeScript reference backend;
 * - HUSAI_ENGINE=native demands the addon and throws (with the fix) if it did not build;
 * - otherwise the native addon when it loads, else the reference backend with a recorded reason.
 * HUSAI_THREADS sets the thread count (default: all cores; capped at the core count, see
 * threadsFromEnv, whose warning cli/ shows). Every engine is wrapped in
 * CheckedEngine, so shape errors are the same whichever backend runs.
 */
import os from 'node:os';
import { ConfigError } from '../core/errors.js';
import { CheckedEngine } from './checked.js';
import { loadNativeEngine } from './native.js';
import { ReferenceEngine } from './reference.js';
import type { Engine, EngineInfo } from './types.js';

export type { Engine } from './types.js';

let current: CheckedEngine | null = null;
let fallbackReason: string | null = null;

/** The engine named `kind`, freshly constructed (tests use this to compare backends). */
export function createEngine(kind: 'native' | 'reference'): Engine {
  if (kind === 'reference') return new CheckedEngine(new ReferenceEngine());
  const loaded = loadNativeEngine();
  if ('error' in loaded) throw new ConfigError(`native engine unavailable: ${loaded.error}`, loaded.hint);
  return new CheckedEngine(loaded.engine);
}

/** The process-wide engine (see the file header for how it is chosen). */
export function getEngine(): Engine {
  if (current) return current;
  const want = (process.env.HUSAI_ENGINE ?? '').trim().toLowerCase();
  if (want !== '' && want !== 'native' && want !== 'reference') {
    throw new ConfigError(`HUSAI_ENGINE=${want}: expected "native" or "reference"`);
  }
  if (want === 'reference') {
    current = new CheckedEngine(new ReferenceEngine());
  } else {
    const loaded = loadNativeEngine();
    if ('engine' in loaded) {
      current = new CheckedEngine(loaded.engine);
    } else if (want === 'native') {
      throw new ConfigError(`HUSAI_ENGINE=native but the addon did not load: ${loaded.error}`, loaded.hint);
    } else {
      fallbackReason = `native addon unavailable (${loaded.error}); ${loaded.hint}`;
      current = new CheckedEngine(new ReferenceEngine());
    }
  }
  current.setThreads(threadCount());
  return current;
}

/** Engine info plus the reason the fast path is off, when it is. */
export function engineInfo(): EngineInfo {
  const info = getEngine().info();
  return { ...info, fallbackReason: info.fallbackReason ?? fallbackReason };
}

function threadCount(): number {
  return threadsFromEnv().threads;
}

/**
 * The thread count HUSAI_THREADS asks for (default: all cores), capped at the core count — more
 * threads than cores only spin (OpenBLAS at 100% CPU, measured at ≥ 40 on 2 cores) — with a warning
 * for the caller to show when capped. A value that is not a positive integer is a ConfigError.
 */
export function threadsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  cores = os.availableParallelism(),
): { threads: number; warning: string | null } {
  const raw = env.HUSAI_THREADS;
  if (raw === undefined || raw.trim() === '') return { threads: cores, warning: null };
  const n = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(n) || n < 1) {
    throw new ConfigError(
      `HUSAI_THREADS=${raw}: expected a whole number of threads ≥ 1 (this machine has ${cores} cores)`,
      'unset it to use every core',
    );
  }
  if (n > cores) {
    return { threads: cores, warning: `HUSAI_THREADS=${n} is more than the ${cores} cores here; using ${cores}` };
  }
  return { threads: n, warning: null };
}
