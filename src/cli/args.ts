/**
 * The shared parsers of option values, used by every command so that a bad value reads the same
 * everywhere. Each one is a commander option parser: it throws InvalidArgumentError, and commander
 * prints `error: option '--seeds <list>' argument '1,x' is invalid. 'x' is not an integer` (the
 * flag, the whole value, then which part is wrong) and main.ts exits 2. Parse values here, in the
 * option declaration, never by hand in an action: a parser error thrown from an action bypasses
 * commander's message (main.ts prints it, but without the flag's name).
 * test/cli/conventions.test.ts checks that every option with an argument uses one of these or is
 * a listed string option.
 */
import { InvalidArgumentError } from 'commander';
import { ConfigError } from '../core/errors.js';
import { type ParamName, type ParamValue, parseParamText } from '../study/params.js';

/** Help text of `--limit`, the one name for "use only the first n …" (rows, images, tokens). */
export function limitHelp(unit = 'rows', deflt = 'all'): string {
  return `use only the first n ${unit} (default: ${deflt})`;
}

function integer(text: string): number {
  const s = text.trim();
  const n = s === '' ? NaN : Number(s);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`'${text}' is not an integer`);
  return n;
}

/** Any integer: seeds, offsets. */
export function parseIntArg(value: string): number {
  return integer(value);
}

/** An integer ≥ 1: sizes, counts, steps. */
export function parsePositiveIntArg(value: string): number {
  const n = integer(value);
  if (n < 1) throw new InvalidArgumentError(`'${value}' is not a positive integer`);
  return n;
}

/** A finite number: rates, thresholds, fractions. */
export function parseFloatArg(value: string): number {
  const s = value.trim();
  const x = s === '' ? NaN : Number(s);
  if (!Number.isFinite(x)) throw new InvalidArgumentError(`'${value}' is not a number`);
  return x;
}

/** Comma-separated distinct integers, e.g. `--seeds 0,1,2`. */
export function parseIntListArg(value: string): number[] {
  const parts = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (parts.length === 0) throw new InvalidArgumentError('expected a comma-separated list of integers, e.g. 0,1,2');
  const list = parts.map(integer);
  const dup = list.find((n, i) => list.indexOf(n) !== i);
  if (dup !== undefined) throw new InvalidArgumentError(`${dup} is listed twice`);
  return list;
}

/** Comma-separated distinct indices ≥ 0, e.g. `--latents 3,17,42`. */
export function parseIndexListArg(value: string): number[] {
  const list = parseIntListArg(value);
  const neg = list.find((n) => n < 0);
  if (neg !== undefined) throw new InvalidArgumentError(`${neg} is not an index (≥ 0)`);
  return list;
}

/** `auto` or an integer ≥ 1, e.g. `--jobs`. */
export function parseAutoOrPositiveIntArg(value: string): number | 'auto' {
  return value.trim() === 'auto' ? 'auto' : parsePositiveIntArg(value);
}

/** A repeatable string option: each use appends its value, e.g. `--sae A --sae B`. */
export function collectArg(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Sizes joined by `x`, e.g. `--shape 4096x512x4096`: each an integer ≥ 1. */
export function parseDimsArg(value: string): number[] {
  const parts = value.split(/[x×]/);
  return parts.map((p) => {
    const n = p.trim() === '' ? NaN : Number(p);
    if (!Number.isSafeInteger(n) || n < 1)
      throw new InvalidArgumentError(`'${p}' is not a positive integer (expected sizes like 4096x512x4096)`);
    return n;
  });
}

const paramParsers = new Map<ParamName, (text: string) => ParamValue>();

/**
 * The parser of a generated `husai train` flag: the spec parameter's own schema (study/params.ts
 * parseParamText), so a flag and a spec value are checked by the same rule. One function per
 * parameter (memoised), so the conventions test can recognise them.
 */
export function parseParamArg(name: ParamName): (text: string) => ParamValue {
  let f = paramParsers.get(name);
  if (!f) {
    f = (text: string): ParamValue => {
      try {
        return parseParamText(name, text);
      } catch (err) {
        if (err instanceof ConfigError) throw new InvalidArgumentError(err.message);
        throw err;
      }
    };
    paramParsers.set(name, f);
  }
  return f;
}

/** Every parameter parser made so far (for test/cli/conventions.test.ts). */
export function paramArgParsers(): ReadonlySet<unknown> {
  return new Set(paramParsers.values());
}
