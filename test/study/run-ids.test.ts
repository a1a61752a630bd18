/**
 * Run ids survive new options (src/study/run-id.ts): the ids husai 0.1.0 (commit af790e9) gave its
 * specs are pinned here, as computed by that version; a field added later changes an id only away
 * from its declared default and only where it applies; and a study directory written by 0.1.0
 * (test/fixtures/study-v0.1.0/study) resumes with the current code without retraining anything.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { DEFAULT_HYPER } from '../../src/sae/train.js';
import type { ResolvedRun } from '../../src/study/expand.js';
import { PARAMS, type ParamDef } from '../../src/study/params.js';
import { type IdDefaults, RUN_V1_KEYS, paramIdDefaults, runHashes } from '../../src/study/run-id.js';
import { planStudy } from '../../src/study/study.js';
import { readResults, tmpDir, weightBytes } from './helpers.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixture = path.join(repo, 'test', 'fixtures', 'study-v0.1.0');

/**
 * Computed with husai at af790e9, before run-id.ts existed, from the spec texts of that commit
 * (copied to test/fixtures/study-v0.1.0/specs/; every-parameter.yaml sets every 0.1.0 parameter away
 * from its default, on all six architectures). runs/cells: counts; *Sha: sha256 of the sorted ids
 * joined by '\n'; first: the first three run ids in expansion order.
 */
const PINNED: Record<string, { runs: number; runSha: string; cells: number; cellSha: string; first: string[] }> = {
  'default.yaml': {
    runs: 40,
    runSha: '81f923522277aa6ff04c69310a20bd4cf0e4f1773d332b3cf3acb925ac0b7819',
    cells: 8,
    cellSha: 'dd4ed82ee654fa35446fcd1cb5783822f2decb765dbb979fc328146234a8b2f2',
    first: ['373191fb24d4', 'ad2802fb9c00', '6f4d444b43d0'],
  },
  'architectures.yaml': {
    runs: 30,
    runSha: '564da028643cf1c5d0aed484e812301f3f1035768afbc4823e264f062553b59b',
    cells: 6,
    cellSha: '0927a8e0a99ae832df30cd7e9731162f2e38238f809934e401ddb3004b873b76',
    first: ['0a57bd8dc064', 'fef15eed9f4b', '57cc9aa398ee'],
  },
  'k-sweep.yaml': {
    runs: 30,
    runSha: 'f5422cf0148a4223a99962ca14e88db305a02e86a810b3de8e2a03044b576106',
    cells: 6,
    cellSha: 'cc187512dd3a8de410329de90b520d1ee3ca5a9226bbf03bfc59451a53eebdc4',
    first: ['cd5e4d06450f', '1a8253ae1b87', '3754960ff78a'],
  },
  'regimes.yaml': {
    runs: 40,
    runSha: 'cc430f78179bfc7bdca226b2c23988ac2d5777d6f7ddb0eec351b9b3b2c07468',
    cells: 8,
    cellSha: 'fb92cad49244ce31ad1e7e85888ec47bcd2909ffbf85218f60006d7d611dbf87',
    first: ['1a8a86dac9f5', 'd986de842596', '6d8e11f11e4c'],
  },
  'training-length.yaml': {
    runs: 30,
    runSha: 'd7f80641ebba0d30dbfc77bb428160a75c2a6c14e95eb19fcd0103635a2bcbb3',
    cells: 6,
    cellSha: '30677fd884b0b7a0c362f585e458f8b3bb38e02d0d484eb1fe3b282ce7d7e03f',
    first: ['134bfd4d8b8f', '0c976f98a704', 'dc005fb743b6'],
  },
  'width-sweep.yaml': {
    runs: 30,
    runSha: '92e72525a33cef081da18dfe55f549ae48fd59157728e636a74e136f51e7467b',
    cells: 6,
    cellSha: '8e875bd5e58518b719b88c821a777e4e98095b001b3011f13bf0ecd7280cf359',
    first: ['bb390c64070a', 'c1052e7b42c6', '07b66ea6903a'],
  },
  'every-parameter.yaml': {
    runs: 16,
    runSha: 'd3b81708f75133b4ea6eb8309bf2630af8208388762feaa584fad9ab315ee9f1',
    cells: 8,
    cellSha: '8dc7faea36326cec2fc5d94715a8480e05f60ba482da8c62f949570c3d31647c',
    first: ['b295ce9f3cc7', '8c7a9288c076', '921b792c8d63'],
  },
};

/** The run ids of the fixture study directory, as 0.1.0 named them (its runs/ folders). */
const FIXTURE_RUN_IDS = [
  '0bfa54932ff4',
  '24b5f9db9c40',
  '29c13e9a18c7',
  '63d3cc2b5d53',
  '7bc854198aa7',
  '7c4e791ea5ef',
];

const sortedSha = (ids: string[]): string =>
  crypto
    .createHash('sha256')
    .update([...ids].sort().join('\n'))
    .digest('hex');

describe('run ids of husai 0.1.0 specs', () => {
  for (const [file, want] of Object.entries(PINNED)) {
    it(`planStudy(specs/${file}).runs keep the ids husai 0.1.0 gave them`, () => {
      const runs = planStudy(path.join(fixture, 'specs', file)).runs;
      const cells = [...new Set(runs.map((r) => r.cellId))];
      expect({
        runs: runs.length,
        runSha: sortedSha(runs.map((r) => r.id)),
        cells: cells.length,
        cellSha: sortedSha(cells),
        first: runs.slice(0, 3).map((r) => r.id),
      }).toEqual(want);
    });
  }

  it('planStudy(fixture spec).runs are the run directories husai 0.1.0 wrote', () => {
    const ids = planStudy(path.join(fixture, 'spec.yaml'))
      .runs.map((r) => r.id)
      .sort();
    expect(ids).toEqual(FIXTURE_RUN_IDS);
    expect(fs.readdirSync(path.join(fixture, 'study', 'runs')).sort()).toEqual(FIXTURE_RUN_IDS);
  });
});

/** A copy of the run's identity with one more field: at the top level, or inside `sae` or `hyper`. */
function withField(
  r: ResolvedRun,
  section: 'run' | 'sae' | 'hyper',
  key: string,
  value: unknown,
): Record<string, unknown> {
  const identity = structuredClone(r.identity) as unknown as Record<string, unknown>;
  if (section === 'run') identity[key] = value;
  else (identity[section] as Record<string, unknown>)[key] = value;
  return identity;
}

describe('runHashes(identity, defaults) with a field added after husai-run/1', () => {
  // The mechanism a new option uses: a PARAMS row with idDefault. Simulated: decoder_init_norm
  // (sae.decoderInitNorm, default 0.1, topk family only: other archs resolve it to null),
  // weight_decay (hyper.weightDecay, default 0) and init_kind (a top-level field, default 'kaiming').
  const fake: Record<string, ParamDef> = {
    ...PARAMS,
    decoder_init_norm: {
      schema: z.number(),
      target: { to: 'sae', field: 'decoderInitNorm' as 'k' },
      archs: ['topk'],
      idDefault: 0.1,
      doc: 'simulated',
    },
    weight_decay: {
      schema: z.number(),
      target: { to: 'hyper', field: 'weightDecay' as 'lr' },
      idDefault: 0,
      doc: 'simulated',
    },
    init_kind: {
      schema: z.string(),
      target: { to: 'run', field: 'initKind' as 'seed' },
      idDefault: 'kaiming',
      doc: 'simulated',
    },
  };
  let defaults: IdDefaults;
  let topk: ResolvedRun[];
  let relu: ResolvedRun;

  beforeAll(() => {
    defaults = paramIdDefaults(fake);
    const runs = planStudy(path.join(fixture, 'spec.yaml')).runs;
    topk = runs.filter((r) => r.identity.sae.arch === 'topk');
    relu = runs.find((r) => r.identity.sae.arch === 'relu') as ResolvedRun;
  });

  it('paramIdDefaults(params) reads idDefault from the rows, keyed by identity section and field', () => {
    expect(defaults.sae.get('decoderInitNorm')).toBe(0.1);
    expect(defaults.hyper.get('weightDecay')).toBe(0);
    expect(defaults.run.get('initKind')).toBe('kaiming');
    expect(paramIdDefaults().sae.size + paramIdDefaults().hyper.size).toBe(
      Object.values(PARAMS as Record<string, ParamDef>).filter(
        (d) => d.idDefault !== undefined && d.target.to !== 'run',
      ).length,
    );
  });

  it('runHashes(identity + field at its default) is the 0.1.0 id and cell id', () => {
    for (const [section, key, value] of [
      ['sae', 'decoderInitNorm', 0.1],
      ['hyper', 'weightDecay', 0],
      ['run', 'initKind', 'kaiming'],
    ] as const) {
      const h = runHashes(withField(topk[0], section, key, value), defaults);
      expect([h.id, h.cellId, h.configHash], key).toEqual([topk[0].id, topk[0].cellId, topk[0].configHash]);
    }
    expect(FIXTURE_RUN_IDS).toContain(topk[0].id);
  });

  it('runHashes(identity + field away from its default) is a new id, and seeds still share the new cell', () => {
    for (const [section, key, value] of [
      ['sae', 'decoderInitNorm', 0.5],
      ['hyper', 'weightDecay', 1e-4],
      ['run', 'initKind', 'orthogonal'],
    ] as const) {
      const a = runHashes(withField(topk[0], section, key, value), defaults);
      const b = runHashes(withField(topk[1], section, key, value), defaults);
      expect(a.id, key).not.toBe(topk[0].id);
      expect(a.cellId, key).not.toBe(topk[0].cellId);
      expect(a.id, key).not.toBe(b.id);
      expect(a.cellId, key).toBe(b.cellId);
    }
  });

  it('runHashes(identity + sae field resolved to null for an architecture it does not apply to) is the 0.1.0 id', () => {
    const h = runHashes(withField(relu, 'sae', 'decoderInitNorm', null), defaults);
    expect([h.id, h.cellId]).toEqual([relu.id, relu.cellId]);
  });

  it('runHashes(identity + field without an idDefault) throws a ConfigError naming the field', () => {
    expect(() => runHashes(withField(topk[0], 'hyper', 'rho', 0.05), defaults)).toThrow(ConfigError);
    expect(() => runHashes(withField(topk[0], 'hyper', 'rho', 0.05), defaults)).toThrow('hyper.rho = 0.05');
  });

  it('runHashes(identity) hashes a husai-run/1 field even at null or its usual default', () => {
    const h = runHashes({ ...structuredClone(relu.identity), sae: { ...relu.identity.sae, k: 7 } }, defaults);
    expect(h.id).not.toBe(relu.id);
    const { resampleEvery: _r, ...hyper } = relu.identity.hyper;
    expect(runHashes({ ...relu.identity, hyper }, defaults).id).not.toBe(relu.id);
  });
});

describe('the parameter table and husai-run/1', () => {
  /** The PARAMS rows of husai 0.1.0 (af790e9): their fields are husai-run/1 fields. */
  const V1_PARAMS = [
    'arch',
    'width',
    'width_ratio',
    'k',
    'l1',
    'variant',
    'aux_k_coeff',
    'k_aux',
    'threshold_decay',
    'group_fractions',
    'init_threshold',
    'bandwidth',
    'steps',
    'batch_size',
    'seed',
    'data_seed',
    'lr',
    'beta1',
    'beta2',
    'eps',
    'warmup_steps',
    'decay_fraction',
    'clip_norm',
    'sparsity_warmup_fraction',
    'dead_window_tokens',
    'resample_every',
  ];

  it('PARAMS: 0.1.0 rows have no idDefault; every later row has one, off the husai-run/1 keys (hyper ones equal to DEFAULT_HYPER)', () => {
    for (const [name, def] of Object.entries(PARAMS as Record<string, ParamDef>)) {
      if (V1_PARAMS.includes(name)) {
        expect(def.idDefault, name).toBeUndefined();
        continue;
      }
      expect(def.idDefault, `${name} is newer than husai 0.1.0: give it an idDefault`).toBeDefined();
      expect(
        (RUN_V1_KEYS[def.target.to] as readonly string[]).includes(def.target.field),
        `${name} targets husai-run/1 field ${def.target.field}`,
      ).toBe(false);
      const trainerDefault = (DEFAULT_HYPER as unknown as Record<string, unknown>)[def.target.field];
      if (def.target.to === 'hyper' && trainerDefault !== null) expect(def.idDefault, name).toEqual(trainerDefault);
    }
    expect(V1_PARAMS.every((n) => n in PARAMS)).toBe(true);
  });

  it('RUN_V1_KEYS are the 9 top-level, 12 sae and 10 hyper identity keys of a 0.1.0 spec run', () => {
    const r = planStudy(path.join(fixture, 'spec.yaml')).runs[0];
    for (const section of ['sae', 'hyper'] as const)
      expect(Object.keys(r.identity[section]), section).toEqual(expect.arrayContaining([...RUN_V1_KEYS[section]]));
    expect(Object.keys(r.identity)).toEqual(expect.arrayContaining([...RUN_V1_KEYS.run]));
    expect(RUN_V1_KEYS.sae).toHaveLength(12);
    expect(RUN_V1_KEYS.hyper).toHaveLength(10);
    expect(RUN_V1_KEYS.run).toHaveLength(9);
  });
});

describe('husai study on a copy of a study directory written by husai 0.1.0', () => {
  let root: string;
  let dir: string;

  beforeAll(() => {
    root = tmpDir('husai-v010-');
    dir = path.join(root, 'moved', 'study');
    fs.cpSync(path.join(fixture, 'study'), dir, { recursive: true });
  });

  afterAll(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('resumes it from its spec copy without training a run, with the recorded PW-MCC numbers', () => {
    // The fixture was trained on the native engine. Under HUSAI_ENGINE=reference (CI's second pass)
    // a plain resume is refused as mixing engines; with --allow-mixed it keeps every finished run,
    // and the analyses, recomputed on the reference engine, agree to float32 rounding.
    const reference = process.env.HUSAI_ENGINE === 'reference';
    const args = ['study', path.join(dir, 'spec.yaml'), '--out', dir, '--json', '--no-report', '--jobs', '1'];
    const run = (extra: string[]) =>
      spawnSync(
        process.execPath,
        [
          path.join(repo, 'node_modules', 'vite-node', 'vite-node.mjs'),
          path.join(repo, 'test', 'study', 'cli-harness.ts'),
          ...args,
          ...extra,
        ],
        { cwd: repo, encoding: 'utf8' },
      );
    if (reference) {
      const refused = run([]);
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toMatch(/trained by husai 0\.1\.0 \(numerics 1\) on native; this is .* on reference/);
    }
    const child = run(reference ? ['--allow-mixed'] : []);
    expect(child.status, child.stderr).toBe(0);
    const out = JSON.parse(child.stdout) as {
      runs: { total: number; trained: number; skipped: number; failed: number };
    };
    expect(out.runs).toMatchObject({ total: 6, trained: 0, skipped: 6, failed: 0 });

    const want = weightBytes(path.join(fixture, 'study'));
    const got = weightBytes(dir);
    expect([...got.keys()]).toEqual([...want.keys()]);
    for (const [k, b] of want) expect(Buffer.compare(got.get(k) as Buffer, b), k).toBe(0);

    const before = readResults(path.join(fixture, 'study'));
    const after = readResults(dir);
    expect(after.cells.map((c) => [c.id, c.runIds])).toEqual(before.cells.map((c) => [c.id, c.runIds]));
    for (const [i, c] of before.cells.entries()) {
      for (const [got, want] of [
        [after.cells[i].pwmcc.estimate.mean, c.pwmcc.estimate.mean],
        [after.cells[i].pwmcc.nullRandom.mean, c.pwmcc.nullRandom.mean],
      ]) {
        expect(typeof want, c.id).toBe('number');
        expect(got, c.id).toBeCloseTo(want as number, reference ? 6 : 12);
      }
    }
  });
});
