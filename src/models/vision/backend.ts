/**
 * The TensorFlow.js backend the vision models run on: @tensorflow/tfjs-backend-wasm (XNNPACK, SIMD,
 * single-threaded in Node), whose .wasm binaries are read from the installed package folder — no
 * network. tfjs-node would be faster but downloads libtensorflow at install time, which husai's
 * offline install cannot do (docs/ARCHITECTURE.md, "The engine"). Initialised once per process.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { ConfigError } from '../../core/errors.js';

let ready: Promise<void> | null = null;

/** The folder holding tfjs-backend-wasm's .wasm files (its dist/ folder), with a trailing slash. */
function wasmDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
}

/** Selects the wasm backend (idempotent); resolves once tfjs is ready. */
export function initWasmBackend(): Promise<void> {
  ready ??= (async () => {
    setWasmPaths(wasmDir());
    const ok = await tf.setBackend('wasm');
    if (!ok) throw new ConfigError(`tfjs: the wasm backend failed to start (binaries looked for in ${wasmDir()})`);
    await tf.ready();
  })();
  return ready;
}

/** What records the numeric environment in an extraction's config. */
export function backendInfo(): { tfjs: string; backend: string } {
  return { tfjs: tf.version.tfjs, backend: tf.getBackend() };
}
