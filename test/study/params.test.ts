/**
 * The one parameter vocabulary (study/params.ts): `archs` agree with what each architecture's
 * resolve accepts (the registry decides, the table follows); values from text are checked by the
 * schema; `husai train` has a flag per one-run parameter (kebab case of the name), keeps its own
 * flags, and routes generated flags into the saved SAE's config and training hyperparameters.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { registerTrain } from '../../src/cli/train.js';
import { writeNpy } from '../../src/formats/npy.js';
import { loadSae } from '../../src/sae/checkpoint/index.js';
import { archNames, resolveConfig } from '../../src/sae/registry.js';
import type { SaeConfigInput } from '../../src/sae/types.js';
import {
  PARAMS,
  PARAM_NAMES,
  type ParamDef,
  flagOf,
  paramTable,
  parseParamText,
  trainFlagParams,
} from '../../src/study/params.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'husai-params-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A valid value per SAE field, for probing resolve. */
const PROBE: Record<string, unknown> = {
  k: 2,
  sparsityCoeff: 0.5,
  variant: 'constrained-2023',
  auxKCoeff: 0.1,
  kAux: 2,
  thresholdDecay: 0.9,
  groupFractions: [0.25],
  initThreshold: 0.2,
  bandwidth: 0.1,
};

describe('PARAMS', () => {
  it('PARAMS[name].archs = the architectures whose resolveConfig accepts the field (SAE fields)', () => {
    for (const name of PARAM_NAMES) {
      const def = PARAMS[name] as ParamDef;
      if (def.target.to !== 'sae') continue;
      const field = def.target.field;
      const accepting = archNames().filter((arch) => {
        const input = { arch, dIn: 8, dSae: 16, k: 2, [field]: PROBE[field] } as SaeConfigInput;
        if (field !== 'k' && !['topk', 'batchtopk', 'matryoshka'].includes(arch)) delete input.k;
        try {
          resolveConfig(input);
          return true;
        } catch {
          return false;
        }
      });
      expect([...(def.archs ?? [])].sort(), name).toEqual(accepting.sort());
    }
  });

  it('parseParamText(name, text) parses by the schema: numbers, null, enums, comma lists; rejects naming the flag', () => {
    expect(parseParamText('k', '4')).toBe(4);
    expect(parseParamText('lr', 'null')).toBeNull();
    expect(parseParamText('lr', '3e-4')).toBe(3e-4);
    expect(parseParamText('variant', 'constrained-2023')).toBe('constrained-2023');
    expect(parseParamText('group_fractions', '0.1, 0.2')).toEqual([0.1, 0.2]);
    expect(() => parseParamText('k', '2.5')).toThrow(/--k "2.5": expected integer ≥ 1/);
    expect(() => parseParamText('batch_size', 'null')).toThrow(/--batch-size/);
    expect(() => parseParamText('variant', 'x')).toThrow(/constrained-2023 \| april-2024/);
    expect(() => parseParamText('group_fractions', '0.5,2')).toThrow(/--group-fractions/);
  });

  it('paramTable() has one row per parameter with flag = --kebab-name (null for width_ratio)', () => {
    const rows = paramTable();
    expect(rows.map((r) => r.name)).toEqual(PARAM_NAMES);
    expect(flagOf('sparsity_warmup_fraction')).toBe('--sparsity-warmup-fraction');
    expect(rows.find((r) => r.name === 'width_ratio')?.flag).toBeNull();
    expect(rows.find((r) => r.name === 'beta2')).toMatchObject({
      type: 'number ≥ 0, < 1',
      default: '0.999',
      archs: 'all',
    });
    expect(rows.find((r) => r.name === 'threshold_decay')).toMatchObject({
      default: '0.999',
      archs: ['batchtopk', 'matryoshka'],
    });
  });
});

describe('husai train flags', () => {
  const cmd = (): Command => {
    const program = new Command().exitOverride();
    registerTrain(program);
    return program.commands.find((c) => c.name() === 'train') as Command;
  };

  it('registerTrain(program) has a flag per one-run parameter and keeps its own flags', () => {
    const flags = cmd().options.map((o) => o.long);
    for (const f of [
      '--data',
      '--arch',
      '--width',
      '--seed',
      '--seeds',
      '--data-seed',
      '--tensor',
      '--out',
      '--json',
      '--k',
      '--l1',
      '--steps',
      '--batch-size',
      '--lr',
    ])
      expect(flags).toContain(f);
    for (const n of trainFlagParams()) expect(flags).toContain(flagOf(n));
    expect(flags).not.toContain('--width-ratio');
    expect(new Set(flags).size).toBe(flags.length);
  });

  it('husai train --variant --l1 --beta1 --batch-size --steps lands in the saved cfg.json (sae_config, hyper, batch, steps)', async () => {
    const D = 4;
    const N = 256;
    const x = new Float32Array(N * D);
    Rng.from(1, 'train-flags').fillNormal(x);
    const data = path.join(tmp, 'x.npy');
    writeNpy(data, { data: x, rows: N, cols: D });
    const out = path.join(tmp, 'sae');
    const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined });
    registerTrain(program);
    const log = console.log;
    console.log = () => undefined;
    try {
      await program.parseAsync(
        [
          'train',
          '--data',
          data,
          '--arch',
          'relu',
          '--width',
          '8',
          '--variant',
          'constrained-2023',
          '--l1',
          '0.25',
          '--beta1',
          '0.8',
          '--batch-size',
          '32',
          '--steps',
          '5',
          '--out',
          out,
          '--json',
        ],
        { from: 'user' },
      );
    } finally {
      console.log = log;
    }
    const w = loadSae(out);
    const training = (w.cfg.metadata as Record<string, unknown>).training as Record<
      string,
      Record<string, unknown> | number
    >;
    expect(training.sae).toMatchObject({ arch: 'relu', dSae: 8, variant: 'constrained-2023', sparsityCoeff: 0.25 });
    expect(training.hyper).toMatchObject({ beta1: 0.8 });
    expect(training.batch_size).toBe(32);
    expect(training.steps).toBe(5);
    await expect(
      program.parseAsync(['train', '--data', data, '--arch', 'relu', '--width', '8', '--k', 'x', '--out', out], {
        from: 'user',
      }),
    ).rejects.toThrow(/--k "x"/);
  });
});
