/**
 * The universality matrix over several SAEs on shared rows (`husai universality --matrix`, the
 * report's input): every pair run through compareAcrossModels (universality.ts), assembled into
 * S × S tables — directional correlations one way and the other, the many-to-one SVCCA / RSA
 * mirrored — with Holm-adjusted p-values over each kind of test in the matrix (docs/SCIENCE.md §4); the
 * two-SAE matrix of a single comparison (matrixOfPair); and the JSON `--matrix` spec (readMatrixSpec,
 * see studies/universality-models.json).
 */
import path from 'node:path';
import { z } from 'zod';
import { ConfigError, DataError, HusaiError } from '../core/errors.js';
import { readRegularFile } from '../formats/io.js';
import { holm } from '../metrics/stats.js';
import { checkOptions, compareAcrossModels } from './universality.js';
import type { UniversalityInput, UniversalityOptions, UniversalityResult } from './universality-types.js';

/** One SAE of a matrix: a display name, the SAE and the activations it is encoded on. */
export interface MatrixEntry extends UniversalityInput {
  name: string;
}

type Cell = number | null;

/** Directional keys: [i][j] reads A = i's side, [j][i] the reverse direction of the same run. */
const DIRECTIONAL = ['mean_corr', 'corr_null_mean', 'corr_p'] as const;
/** Keys of the many-to-one `paired` block, mirrored across the diagonal. */
const MIRRORED = [
  'n_pairs',
  'svcca',
  'svcca_null_mean',
  'svcca_null_sd',
  'svcca_p',
  'svcca_inputs_null_mean',
  'svcca_inputs_p',
  'rsa',
  'rsa_null_mean',
  'rsa_null_sd',
  'rsa_p',
  'rsa_inputs_null_mean',
  'rsa_inputs_p',
] as const;
const HOLM = ['corr_p', 'svcca_p', 'svcca_inputs_p', 'rsa_p', 'rsa_inputs_p'] as const;
type MatrixKey = (typeof DIRECTIONAL)[number] | (typeof MIRRORED)[number] | `${(typeof HOLM)[number]}_holm`;

/**
 * Pairwise similarities of S SAEs on shared rows (`husai universality --matrix`), the report's input.
 * Entry [i][j], i < j, comes from compareAcrossModels(i as A, j as B); [j][i] from the same run:
 * mean_corr and its null / p read the reverse direction (B's latents → their best A partner), while
 * the many-to-one SVCCA, RSA and n_pairs are mirrored (their pairs are taken from the lower index's
 * side). The diagonal is null. `*_p_holm`: Holm-adjusted over all tests of that kind in the matrix
 * (docs/SCIENCE.md §4). JSON-safe: unknown values are null. `pairs` holds every comparison in full.
 */
export type UniversalityMatrix = {
  format: 'husai-universality/1';
  names: string[];
  saes: string[];
  acts: string[];
  rows: number;
  draws: number;
  corr_draws: number;
  seed: number;
  min_corr: number;
  pairs: Array<{ a: string; b: string; result: UniversalityResult }>;
} & Record<MatrixKey, Cell[][]>;

/** All S(S − 1)/2 comparisons of `entries` (names unique, S ≥ 2); `onPair` reports progress. */
export function universalityMatrix(
  entries: MatrixEntry[],
  opts: UniversalityOptions & { onPair?: (a: string, b: string, done: number, total: number) => void } = {},
): UniversalityMatrix {
  const S = entries.length;
  if (S < 2) throw new ConfigError(`universality matrix: needs at least 2 SAEs, got ${S}`);
  const names = entries.map((x) => x.name);
  const dup = names.find((x, i) => names.indexOf(x) !== i);
  if (dup !== undefined)
    throw new ConfigError(`universality matrix: the name ${JSON.stringify(dup)} is used twice; names must be unique`);
  checkOptions(opts);
  const results: Array<{ i: number; j: number; r: UniversalityResult }> = [];
  const total = (S * (S - 1)) / 2;
  for (let i = 0; i < S; i++) {
    for (let j = i + 1; j < S; j++) {
      opts.onPair?.(names[i], names[j], results.length, total);
      results.push({ i, j, r: compareAcrossModels(entries[i], entries[j], opts) });
    }
  }
  return assemble(
    names,
    entries.map((x) => x.sae.source.path),
    entries.map((x) => x.acts),
    results,
  );
}

/** A two-SAE matrix from one comparison (for `husai universality --a … --b … --report`). */
export function matrixOfPair(nameA: string, nameB: string, r: UniversalityResult): UniversalityMatrix {
  return assemble([nameA, nameB], [r.a_sae, r.b_sae], [r.a_acts, r.b_acts], [{ i: 0, j: 1, r }]);
}

function assemble(
  names: string[],
  saes: string[],
  acts: string[],
  results: Array<{ i: number; j: number; r: UniversalityResult }>,
): UniversalityMatrix {
  const keys: MatrixKey[] = [...DIRECTIONAL, ...MIRRORED, ...HOLM.map((k) => `${k}_holm` as const)];
  const m = Object.fromEntries(keys.map((k) => [k, names.map(() => names.map((): Cell => null))])) as Record<
    MatrixKey,
    Cell[][]
  >;
  const num = (v: number): Cell => (Number.isFinite(v) ? v : null);
  for (const { i, j, r } of results) {
    const dir: Record<(typeof DIRECTIONAL)[number], [number, number]> = {
      mean_corr: [r.mean_corr, r.mean_corr_ba],
      corr_null_mean: [r.corr_null_mean, r.corr_ba_null_mean],
      corr_p: [r.corr_p, r.corr_ba_p],
    };
    for (const k of DIRECTIONAL) [m[k][i][j], m[k][j][i]] = [num(dir[k][0]), num(dir[k][1])];
    for (const k of MIRRORED) m[k][i][j] = m[k][j][i] = num(r.paired[k]);
  }
  for (const k of HOLM) {
    const mirrored = k !== 'corr_p';
    const at: Array<[number, number]> = [];
    m[k].forEach((row, i) =>
      row.forEach((v, j) => {
        if (i !== j && v !== null && (!mirrored || i < j)) at.push([i, j]);
      }),
    );
    if (at.length === 0) continue;
    const adj = holm(at.map(([i, j]) => m[k][i][j] as number));
    at.forEach(([i, j], t) => {
      m[`${k}_holm`][i][j] = adj[t];
      if (mirrored) m[`${k}_holm`][j][i] = adj[t];
    });
  }
  const r0 = results[0].r;
  return {
    format: 'husai-universality/1',
    names,
    saes,
    acts,
    rows: r0.rows,
    draws: r0.draws,
    corr_draws: r0.corr_draws,
    seed: r0.seed,
    min_corr: r0.min_corr,
    ...m,
    pairs: results.map(({ i, j, r }) => ({ a: names[i], b: names[j], result: r })),
  };
}

const matrixSpecSchema = z.strictObject({
  _comment: z.union([z.string(), z.array(z.string())]).optional(),
  rows: z.number().int().min(2).optional(),
  draws: z.number().int().min(10).optional(),
  corr_draws: z.number().int().min(1).optional(),
  seed: z.number().int().optional(),
  min_corr: z.number().min(-1).lt(1).optional(),
  one_to_one: z.boolean().optional(),
  saes: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        /** SAE directory, relative to the spec file. */
        sae: z.string().min(1),
        /** Activations the SAE is encoded on (the same rows for every entry), relative to the spec file. */
        acts: z.string().min(1),
        _comment: z.string().optional(),
      }),
    )
    .min(2),
});

/** A `--matrix` spec: SAE entries with paths resolved against the spec file, and the options it sets. */
interface MatrixSpec {
  entries: Array<{ name: string; sae: string; acts: string }>;
  options: Pick<UniversalityOptions, 'rows' | 'draws' | 'corrDraws' | 'seed' | 'minCorr' | 'oneToOne'>;
}

/** Reads and validates a `--matrix` JSON spec (see studies/universality-models.json). */
export function readMatrixSpec(file: string): MatrixSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(readRegularFile(file, 'utf8'));
  } catch (err) {
    if (err instanceof HusaiError) throw err;
    throw new DataError(file, 'content', (err as Error).message, 'a readable JSON universality spec');
  }
  const parsed = matrixSpecSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const found = issue.path.reduce<unknown>(
      (v, k) =>
        v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[k as string | number] : undefined,
      raw,
    );
    throw new DataError(
      file,
      issue.path.join('.') || '(top level)',
      found === undefined ? 'nothing' : JSON.stringify(found),
      issue.message,
    );
  }
  const s = parsed.data;
  const dir = path.dirname(file);
  return {
    entries: s.saes.map((x) => ({ name: x.name, sae: path.resolve(dir, x.sae), acts: path.resolve(dir, x.acts) })),
    options: {
      ...(s.rows !== undefined ? { rows: s.rows } : {}),
      ...(s.draws !== undefined ? { draws: s.draws } : {}),
      ...(s.corr_draws !== undefined ? { corrDraws: s.corr_draws } : {}),
      ...(s.seed !== undefined ? { seed: s.seed } : {}),
      ...(s.min_corr !== undefined ? { minCorr: s.min_corr } : {}),
      ...(s.one_to_one !== undefined ? { oneToOne: s.one_to_one } : {}),
    },
  };
}
