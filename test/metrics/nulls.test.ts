/**
 * Random-dictionary nulls and the chance levels of docs/SCIENCE.md §4. Expected values come from
 * test/golden/metrics/chance.json (numpy/scipy, many draws); tolerances are 4 standard errors of
 * the difference between our mean and numpy's, plus ±0.005 where docs/SCIENCE.md rounds to 2 decimals.
 * The two largest settings (2048 atoms) use a single draw: on the reference engine each takes a
 * few seconds.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { meanMaxAbsSym, mmcs, pwmcc, pwmccAbs } from '../../src/metrics/pairwise.js';
import {
  againstNull,
  excess,
  randomAtoms,
  randomNull,
  ratio,
  summarizeNull,
  untrainedNull,
} from '../../src/metrics/nulls.js';
import { golden } from './golden.js';

type Summary = { mean: number; sd: number; draws: number };
const CH = golden<Record<string, Summary>>('chance.json');

/** 4 standard errors of (our mean over `draws`) − (numpy's mean). */
function tol4(key: string, draws: number): number {
  const g = CH[key];
  return 4 * Math.sqrt(g.sd ** 2 / draws + g.sd ** 2 / g.draws);
}

describe('chance levels (docs/SCIENCE.md §4)', () => {
  it('meanMaxAbsSym of Gaussian "128 × 1024" is 1024 atoms in d = 128 (≈ 0.2985), not 128 atoms in d = 1024 (≈ 0.088)', () => {
    const rng = Rng.from(1, 'chance-sym');
    const v = meanMaxAbsSym(randomAtoms(1024, 128, rng.fork('A')), randomAtoms(1024, 128, rng.fork('B')));
    expect(Math.abs(v - CH['meanMaxAbsSym n1024 d128'].mean)).toBeLessThan(tol4('meanMaxAbsSym n1024 d128', 1));
    expect(Math.abs(v - 0.2985)).toBeLessThan(tol4('meanMaxAbsSym n1024 d128', 1) + 0.0005);
    const w = meanMaxAbsSym(randomAtoms(128, 1024, rng.fork('C')), randomAtoms(128, 1024, rng.fork('D')));
    expect(Math.abs(w - CH['meanMaxAbsSym n128 d1024'].mean)).toBeLessThan(tol4('meanMaxAbsSym n128 d1024', 1));
  });

  it('Hungarian mean cos at d = 16, n = 32 is ≈ 0.46 for the signed pwmcc (≈ 0.52 for pwmccAbs)', () => {
    const nul = randomNull((a, b) => pwmcc(a, b).value, { nA: 32, nB: 32, d: 16 }, { draws: 100, seed: 1 });
    expect(Math.abs(nul.mean - CH['pwmcc n32 d16'].mean)).toBeLessThan(tol4('pwmcc n32 d16', 100));
    expect(Math.abs(nul.mean - 0.46)).toBeLessThan(tol4('pwmcc n32 d16', 100) + 0.005);
    expect(nul.sd).toBeGreaterThan(0.5 * CH['pwmcc n32 d16'].sd);
    expect(nul.sd).toBeLessThan(2 * CH['pwmcc n32 d16'].sd);
    const abs = randomNull((a, b) => pwmccAbs(a, b).value, { nA: 32, nB: 32, d: 16 }, { draws: 100, seed: 1 });
    expect(Math.abs(abs.mean - CH['pwmcc_abs n32 d16'].mean)).toBeLessThan(tol4('pwmcc_abs n32 d16', 100));
  });

  it('Hungarian mean cos at d = 64, n = 256 is ≈ 0.33 (signed pwmcc, 10 draws)', () => {
    const nul = randomNull((a, b) => pwmcc(a, b).value, { nA: 256, nB: 256, d: 64 }, { draws: 10, seed: 2 });
    expect(Math.abs(nul.mean - CH['pwmcc n256 d64'].mean)).toBeLessThan(tol4('pwmcc n256 d64', 10));
    expect(Math.abs(nul.mean - 0.33)).toBeLessThan(tol4('pwmcc n256 d64', 10) + 0.005);
  });

  it('signed MMCS at d = 512 with 2048 atoms ≈ 0.151', () => {
    const rng = Rng.from(3, 'chance-mmcs');
    const m = mmcs(randomAtoms(2048, 512, rng.fork('A')), randomAtoms(2048, 512, rng.fork('B')), { blockRows: 512 });
    expect(Math.abs(m.mmcs_ab - CH['mmcs_ab n2048 d512'].mean)).toBeLessThan(tol4('mmcs_ab n2048 d512', 1));
    expect(Math.abs(m.mmcs_ab - 0.151)).toBeLessThan(tol4('mmcs_ab n2048 d512', 1) + 0.0005);
  });

  it('Hungarian mean cos at d = 768, n = 2048 ≈ 0.12', () => {
    const rng = Rng.from(4, 'chance-pwmcc');
    const v = pwmcc(randomAtoms(2048, 768, rng.fork('A')), randomAtoms(2048, 768, rng.fork('B'))).value;
    expect(Math.abs(v - CH['pwmcc n2048 d768'].mean)).toBeLessThan(tol4('pwmcc n2048 d768', 1) + 1e-4);
    expect(Math.abs(v - 0.12)).toBeLessThan(0.005);
  });
});

describe('nulls', () => {
  it('randomAtoms(n, d, rng) gives unit Gaussian rows, reproducibly from the seed', () => {
    const a = randomAtoms(5, 9, Rng.from(1, 'x'));
    const b = randomAtoms(5, 9, Rng.from(1, 'x'));
    expect(a.data).toEqual(b.data);
    for (let r = 0; r < 5; r++) {
      let s = 0;
      for (let c = 0; c < 9; c++) s += a.data[r * 9 + c] ** 2;
      expect(s).toBeCloseTo(1, 6);
    }
  });

  it('randomNull(metric, shape, { draws, seed }) is reproducible, and draw k does not depend on the number of draws', () => {
    const metric = (a: Parameters<typeof pwmcc>[0], b: Parameters<typeof pwmcc>[1]): number => pwmcc(a, b).value;
    const n10 = randomNull(metric, { nA: 12, nB: 9, d: 6 }, { draws: 10, seed: 4 });
    const n12 = randomNull(metric, { nA: 12, nB: 9, d: 6 }, { draws: 12, seed: 4 });
    expect(n10.n).toBe(10);
    expect(Array.from(n12.values.subarray(0, 10))).toEqual(Array.from(n10.values));
    expect(randomNull(metric, { nA: 12, nB: 9, d: 6 }, { draws: 10, seed: 5 }).mean).not.toBe(n10.mean);
  });

  it('randomNull({ draws: 3 }) throws a ConfigError citing the ≥ 10 rule', () => {
    expect(() => randomNull(() => 0, { nA: 2, nB: 2, d: 2 }, { draws: 3 })).toThrow(ConfigError);
    expect(() => randomNull(() => 0, { nA: 2, nB: 2, d: 2 }, { draws: 3 })).toThrow(/≥ 10/);
  });

  it('untrainedNull(factory, metric) compares init seeds seed+2k and seed+2k+1', () => {
    const seen: number[] = [];
    const factory = (s: number) => {
      seen.push(s);
      return randomAtoms(8, 5, Rng.from(s, 'init'));
    };
    const nul = untrainedNull(factory, (a, b) => pwmcc(a, b).value, { draws: 10, seed: 100 });
    expect(seen).toEqual(Array.from({ length: 20 }, (_, k) => 100 + k));
    expect(nul.values[3]).toBeCloseTo(
      pwmcc(randomAtoms(8, 5, Rng.from(106, 'init')), randomAtoms(8, 5, Rng.from(107, 'init'))).value,
      12,
    );
  });

  it('summarizeNull / excess / ratio / againstNull do the §4 arithmetic', () => {
    const s = summarizeNull([0.1, 0.2, 0.3, 0.4]);
    expect(s.mean).toBeCloseTo(0.25, 12);
    expect(s.sd).toBeCloseTo(Math.sqrt(0.05 / 3), 12);
    expect(excess(0.5, s)).toBeCloseTo(0.25, 12);
    expect(ratio(0.5, s)).toBeCloseTo(2, 12);
    expect(excess(0.5, 0.2)).toBeCloseTo(0.3, 12);
    const r = againstNull(0.5, s);
    expect(r).toMatchObject({ value: 0.5, null_mean: s.mean, null_sd: s.sd, null_draws: 4 });
    expect(r.z).toBeCloseTo(0.25 / s.sd, 10);
  });
});
