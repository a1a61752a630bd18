/**
 * Config validation for the synthetic generators: each check throws a ConfigError naming the
 * generator, the field, the value found and what was expected (docs/ARCHITECTURE.md, "Configs documented field
 * by field and validated on construction").
 */
import { ConfigError } from '../../core/errors.js';

export function checkInt(kind: string, field: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `in [${min}, ${max}]`;
    throw new ConfigError(`synthetic ${kind}: ${field} = ${String(v)}: expected an integer ${range}`);
  }
  return v;
}

export function checkNum(
  kind: string,
  field: string,
  v: unknown,
  min: number,
  max: number,
  opts: { minOpen?: boolean; maxOpen?: boolean } = {},
): number {
  const lowOk = typeof v === 'number' && (opts.minOpen ? v > min : v >= min);
  const highOk = typeof v === 'number' && (opts.maxOpen ? v < max : v <= max);
  if (typeof v !== 'number' || !Number.isFinite(v) || !lowOk || !highOk) {
    const range = `${opts.minOpen ? '(' : '['}${min}, ${max}${opts.maxOpen ? ')' : ']'}`;
    throw new ConfigError(`synthetic ${kind}: ${field} = ${String(v)}: expected a number in ${range}`);
  }
  return v;
}

/** Throws naming both fields when `ok` is false. */
export function checkPair(kind: string, ok: boolean, message: string): void {
  if (!ok) throw new ConfigError(`synthetic ${kind}: ${message}`);
}

/** Rejects option names the generator does not know (catches typos such as `feature` for `features`). */
export function checkKnown(kind: string, opts: object, known: readonly string[]): void {
  for (const key of Object.keys(opts)) {
    if (!known.includes(key))
      throw new ConfigError(`synthetic ${kind}: unknown option ${JSON.stringify(key)} (known: ${known.join(', ')})`);
  }
}
