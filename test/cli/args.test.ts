/**
 * The shared option parsers (src/cli/args.ts) and the JSON key conversion (src/cli/json.ts):
 * each parser against hand-written values, including the wording of its error, which commander
 * shows after the flag and the whole value.
 */
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  collectArg,
  limitHelp,
  parseAutoOrPositiveIntArg,
  parseDimsArg,
  parseFloatArg,
  parseIndexListArg,
  parseIntArg,
  parseIntListArg,
  parsePositiveIntArg,
} from '../../src/cli/args.js';
import { snakeKey, snakeKeys } from '../../src/cli/json.js';

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidArgumentError);
    return (e as Error).message;
  }
  throw new Error('expected an InvalidArgumentError');
}

describe('number parsers', () => {
  it('parseIntArg(s) accepts integers, rejects fractions, words, empty and unsafe values', () => {
    expect(parseIntArg('42')).toBe(42);
    expect(parseIntArg(' -3 ')).toBe(-3);
    expect(errorOf(() => parseIntArg('1.5'))).toBe("'1.5' is not an integer");
    expect(errorOf(() => parseIntArg('abc'))).toBe("'abc' is not an integer");
    expect(errorOf(() => parseIntArg(''))).toBe("'' is not an integer");
    expect(errorOf(() => parseIntArg('9007199254740993'))).toBe("'9007199254740993' is not an integer");
  });

  it('parsePositiveIntArg(s) rejects 0 and negatives', () => {
    expect(parsePositiveIntArg('1')).toBe(1);
    expect(errorOf(() => parsePositiveIntArg('0'))).toBe("'0' is not a positive integer");
    expect(errorOf(() => parsePositiveIntArg('-2'))).toBe("'-2' is not a positive integer");
  });

  it('parseFloatArg(s) accepts decimals and exponents, rejects NaN, Infinity and words', () => {
    expect(parseFloatArg('0.7')).toBe(0.7);
    expect(parseFloatArg('1e-3')).toBe(0.001);
    for (const bad of ['NaN', 'Infinity', 'x', ''])
      expect(errorOf(() => parseFloatArg(bad))).toBe(`'${bad}' is not a number`);
  });

  it('parseAutoOrPositiveIntArg(s): auto or an integer ≥ 1', () => {
    expect(parseAutoOrPositiveIntArg('auto')).toBe('auto');
    expect(parseAutoOrPositiveIntArg('3')).toBe(3);
    expect(errorOf(() => parseAutoOrPositiveIntArg('0'))).toBe("'0' is not a positive integer");
  });

  it('parseDimsArg(s) splits on x into positive integers', () => {
    expect(parseDimsArg('4096x512x64')).toEqual([4096, 512, 64]);
    expect(errorOf(() => parseDimsArg('4096xKx64'))).toMatch(/^'K' is not a positive integer/);
  });
});

describe('list parsers', () => {
  it('parseIntListArg(s) names the bad element and a repeated one', () => {
    expect(parseIntListArg('0, 1,2')).toEqual([0, 1, 2]);
    expect(parseIntListArg('-1')).toEqual([-1]);
    expect(errorOf(() => parseIntListArg('1,x'))).toBe("'x' is not an integer");
    expect(errorOf(() => parseIntListArg('1,2,1'))).toBe('1 is listed twice');
    expect(errorOf(() => parseIntListArg(','))).toMatch(/comma-separated list of integers/);
  });

  it('parseIndexListArg(s) rejects negative indices', () => {
    expect(parseIndexListArg('3,17')).toEqual([3, 17]);
    expect(errorOf(() => parseIndexListArg('3,-1'))).toBe('-1 is not an index (≥ 0)');
  });

  it('collectArg(v, previous) appends without mutating', () => {
    const a = collectArg('x', undefined);
    const b = collectArg('y', a);
    expect([a, b]).toEqual([['x'], ['x', 'y']]);
  });

  it('limitHelp(unit, default) is the one wording of --limit', () => {
    expect(limitHelp()).toBe('use only the first n rows (default: all)');
    expect(limitHelp('tokens', '1000')).toBe('use only the first n tokens (default: 1000)');
  });
});

describe('snake_case JSON keys', () => {
  it('snakeKey(k) converts identifier-like camelCase only', () => {
    expect(snakeKey('blasCore')).toBe('blas_core');
    expect(snakeKey('ratioVsNumpy')).toBe('ratio_vs_numpy');
    expect(snakeKey('gt_mcc')).toBe('gt_mcc');
    expect(snakeKey('seed-0')).toBe('seed-0');
    expect(snakeKey('MobileNetV2')).toBe('MobileNetV2');
  });

  it('snakeKeys(v) recurses into objects and arrays, turns typed arrays into arrays, keeps values', () => {
    const v = {
      trainedRuns: 2,
      perSae: [{ firingRate: 0.5, name: 'keepThisValue' }],
      power: new Float32Array([1, 2]),
      nested: { aB: { cD: null } },
    };
    expect(snakeKeys(v)).toEqual({
      trained_runs: 2,
      per_sae: [{ firing_rate: 0.5, name: 'keepThisValue' }],
      power: [1, 2],
      nested: { a_b: { c_d: null } },
    });
  });
});
