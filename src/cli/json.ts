/**
 * The one way a command prints `--json`: a single pretty-printed (2-space) JSON document on
 * stdout, nothing else there, with every object key in snake_case. Library types stay camelCase
 * (TypeScript style); the conversion happens here, at the CLI boundary, so files the library writes
 * (results.json, cards.json, …) and their readers are untouched. Only identifier-like camelCase keys
 * are converted (`blasCore` → `blas_core`); keys that are data (`seed-0`, `MobileNetV2`, paths)
 * keep their spelling. Typed arrays become plain arrays.
 */

/** `blasCore` → `blas_core`, `ratioVsNumpy` → `ratio_vs_numpy`, `gt_mcc` and `seed-0` unchanged. */
export function snakeKey(key: string): string {
  if (!/^[a-z][A-Za-z0-9]*$/.test(key)) return key;
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** A copy of `value` with every object key passed through snakeKey (recursively). */
export function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView))
    return Array.from(value as unknown as ArrayLike<number>);
  if (value === null || typeof value !== 'object') return value;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[snakeKey(k)] = snakeKeys(v);
  return out;
}

/** Prints `value` as the command's one JSON document (snake_case keys, 2-space indent). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(snakeKeys(value), null, 2)}\n`);
}
