/**
 * Spec → runs: grid × zip expansion, per-architecture values, dropping of parameters that do not
 * apply, and the run id (sha256 of the resolved config): stable under rewording, changed by any
 * field that changes a run.
 */
import { describe, expect, it } from 'vitest';
import { type ExpandContext, expandSpec } from '../../src/study/expand.js';
import { parseSpec } from '../../src/study/spec.js';
import { tinySpecText } from './helpers.js';

const ctx: ExpandContext = {
  data: {
    kind: 'synthetic',
    generator: 'exact-k',
    config: { kind: 'exact-k', n: 2048, seed: 3, d: 8, features: 12, k: 2 },
  },
  d: 8,
  rows: 2048,
  features: 12,
};

function expand(text: string, c: ExpandContext = ctx) {
  const { spec, source } = parseSpec(text);
  return expandSpec(spec, source, c);
}

const base = `name: t
question: q
data: { kind: synthetic, generator: exact-k, options: { n: 2048, d: 8, features: 12, k: 2, seed: 3 } }
defaults: { steps: 50, batch_size: 64, k: 2, arch: topk, width: 16 }
`;

describe('expandSpec(spec, source, ctx)', () => {
  it('takes the cartesian product of the grid axes', () => {
    const runs = expand(tinySpecText());
    expect(runs).toHaveLength(2 * 2 * 3);
    expect(new Set(runs.map((r) => r.id)).size).toBe(12);
    expect(new Set(runs.map((r) => r.cellId)).size).toBe(4);
    expect(new Set(runs.map((r) => `${r.identity.sae.arch}/${r.identity.sae.dSae}`))).toEqual(
      new Set(['topk/12', 'topk/24', 'relu/12', 'relu/24']),
    );
  });

  it('varies zipped lists together, times the grid', () => {
    const runs = expand(`${base}grid: { seed: [0, 1, 2] }\nzip:\n  - { width: [8, 16, 32], k: [1, 2, 4] }\n`);
    expect(runs).toHaveLength(9);
    const pairs = new Set(runs.map((r) => `${r.identity.sae.dSae}:${r.identity.sae.k}`));
    expect(pairs).toEqual(new Set(['8:1', '16:2', '32:4']));
  });

  it('multiplies two zip groups with each other', () => {
    const runs = expand(
      `${base}zip:\n  - { width: [8, 16], k: [1, 2] }\n  - { seed: [0, 1, 2], data_seed: [5, 6, 7] }\n`,
    );
    expect(runs).toHaveLength(6);
    expect(new Set(runs.map((r) => `${r.identity.seed}:${r.identity.dataSeed}`))).toEqual(
      new Set(['0:5', '1:6', '2:7']),
    );
  });

  it('resolves width_ratio against the ground-truth feature count, or d with width_ratio_of: d', () => {
    const t = `${base.replace('width: 16', 'width_ratio: 2')}`;
    expect(expand(t)[0].identity.sae.dSae).toBe(24);
    expect(expand(`${t}width_ratio_of: d\n`)[0].identity.sae.dSae).toBe(16);
  });

  it('lets arch_params set per-architecture values, a list sweeping that architecture only', () => {
    const runs = expand(
      `${base}grid: { arch: [topk, relu], seed: [0, 1, 2] }\narch_params:\n  relu: { l1: [1, 3] }\n  topk: { k: 3 }\n`,
    );
    const relu = runs.filter((r) => r.identity.sae.arch === 'relu');
    const topk = runs.filter((r) => r.identity.sae.arch === 'topk');
    expect(relu).toHaveLength(6);
    expect(new Set(relu.map((r) => r.identity.sae.sparsityCoeff))).toEqual(new Set([1, 3]));
    expect(topk).toHaveLength(3);
    expect(topk.every((r) => r.identity.sae.k === 3)).toBe(true);
  });

  it('drops a grid parameter an architecture does not use, so relu runs are not repeated per k', () => {
    const runs = expand(`${base}grid: { arch: [topk, relu], k: [1, 2, 4], seed: [0, 1, 2] }\n`);
    expect(runs.filter((r) => r.identity.sae.arch === 'topk')).toHaveLength(9);
    expect(runs.filter((r) => r.identity.sae.arch === 'relu')).toHaveLength(3);
    expect(runs.every((r) => r.identity.sae.arch === 'topk' || r.identity.sae.k === null)).toBe(true);
  });

  it('lets the sweep override arch_params, and arch_params override defaults', () => {
    const runs = expand(`${base}grid: { k: [1, 4] }\narch_params:\n  topk: { k: 3, width: 12 }\n`);
    expect(runs.map((r) => r.identity.sae.k).sort()).toEqual([1, 4]);
    expect(runs.every((r) => r.identity.sae.dSae === 12)).toBe(true);
  });

  it('fills the defaults the trainer would fill (lr, warm-up, dead window) into the resolved config', () => {
    const [r] = expand(base);
    expect(r.identity.hyper.lr).toBeCloseTo(2e-4 / Math.sqrt(16 / 2 ** 14), 12);
    expect(r.identity.hyper.warmupSteps).toBe(Math.max(1, Math.round(0.05 * 50)));
    expect(r.identity.hyper.deadWindowTokens).toBe(2048);
    expect(r.runConfig).toMatchObject({ id: r.id, seed: 0, dataSeed: 0, sae: { arch: 'topk', dSae: 16, k: 2 } });
  });

  it('keeps only checkpoint steps below the run length', () => {
    const [r] = expand(`${base}checkpoints: [0, 10, 50, 999]\n`);
    expect(r.identity.checkpoints).toEqual([0, 10]);
  });
});

describe('run id = sha256(resolved config)', () => {
  const ids = (text: string, c: ExpandContext = ctx): string[] => expand(text, c).map((r) => r.id);

  it('is 12 hex digits and the same on every parse', () => {
    const a = ids(tinySpecText());
    expect(a.every((id) => /^[0-9a-f]{12}$/.test(id))).toBe(true);
    expect(ids(tinySpecText())).toEqual(a);
  });

  it('does not change with comments, key order, the study name or explicit defaults', () => {
    const a = ids(base);
    const b = ids(
      `# a comment\nquestion: another wording\nname: other\ndata: { kind: synthetic, generator: exact-k, options: { seed: 3, n: 2048, d: 8, features: 12, k: 2 } }\ndefaults: { width: 16, arch: topk, k: 2, batch_size: 64, steps: 50, lr: null, beta1: 0.9, decay_fraction: 0.2, seed: 0 }\n`,
    );
    expect(b).toEqual(a);
  });

  it('changes with every field of the resolved config', () => {
    const a = ids(base)[0];
    const variants: Record<string, string> = {
      steps: base.replace('steps: 50', 'steps: 51'),
      batch_size: base.replace('batch_size: 64', 'batch_size: 32'),
      k: base.replace('k: 2, arch', 'k: 3, arch'),
      width: base.replace('width: 16', 'width: 17'),
      arch: base.replace('k: 2, arch: topk', 'arch: relu'),
      seed: base.replace('steps: 50', 'steps: 50, seed: 1'),
      data_seed: base.replace('steps: 50', 'steps: 50, data_seed: 1'),
      lr: base.replace('steps: 50', 'steps: 50, lr: 0.001'),
      warmup_steps: base.replace('steps: 50', 'steps: 50, warmup_steps: 7'),
      clip_norm: base.replace('steps: 50', 'steps: 50, clip_norm: 0.5'),
      aux_k_coeff: base.replace('steps: 50', 'steps: 50, aux_k_coeff: 0.1'),
      checkpoints: `${base}checkpoints: [0, 10]\n`,
    };
    const seen = new Set([a]);
    for (const [field, text] of Object.entries(variants)) {
      const id = ids(text)[0];
      expect(id, field).not.toBe(a);
      seen.add(id);
    }
    expect(seen.size).toBe(Object.keys(variants).length + 1);
    for (const [key, value] of [
      ['n', 2049],
      ['seed', 4],
      ['d', 9],
      ['features', 13],
      ['k', 3],
    ] as const) {
      const data = {
        ...ctx.data,
        config: { ...(ctx.data as { config: Record<string, unknown> }).config, [key]: value },
      } as ExpandContext['data'];
      expect(ids(base, { ...ctx, data })[0], `data.${key}`).not.toBe(a);
    }
  });

  it('puts runs that differ only in their seeds into one cell', () => {
    const runs = expand(`${base}grid: { seed: [0, 1], data_seed: [0, 1] }\n`);
    expect(new Set(runs.map((r) => r.id)).size).toBe(4);
    expect(new Set(runs.map((r) => r.cellId)).size).toBe(1);
  });
});
