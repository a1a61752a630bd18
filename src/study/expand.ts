/**
 * Spec → runs: the grid × zip expansion with per-architecture values, resolved to the exact config
 * each run trains with, and the run id that names it (docs/ARCHITECTURE.md, "study/: grid expansion").
 *
 * Layers, later winning: `defaults` < `arch_params.<arch>` < the sweep point (grid × zip). A list in
 * arch_params is one more sweep axis for that architecture only. width and width_ratio replace each
 * other across layers (the highest layer that sets either decides). A parameter that does not apply
 * to the run's architecture is dropped when it came from defaults or the sweep (params.ts); runs
 * whose resolved configs coincide are one run.
 *
 * Resolution fills every default the trainer would fill (docs/SCIENCE.md §2: batch size and steps from
 * the row count, lr from the architecture, warm-up min(1000, 5%), dead window min(10M, one pass)),
 * so the resolved config is the whole truth about a run. Its identity — data identity, resolved SAE
 * config, seeds, steps, batch, optimiser settings, checkpoint steps — names it: run-id.ts hashes it
 * into the run id and the cell id (the same without the two seeds). Any field that changes changes
 * the id, except that a field added after husai 0.1.0 counts only away from its declared default
 * (run-id.ts), so old studies keep their ids; nothing else does (not the spec's wording or key order).
 */
import { HusaiError } from '../core/errors.js';
import { getArch, resolveConfig } from '../sae/registry.js';
import { defaultWarmupSteps } from '../sae/schedule.js';
import { DEFAULT_HYPER, type RunConfig, type TrainHyper, defaultBatchSize, defaultSteps } from '../sae/train.js';
import type { ArchName, SaeConfig, SaeConfigInput } from '../sae/types.js';
import type { DataIdentity } from './data.js';
import { PARAMS, type ParamDef, type ParamName, type ParamValue, appliesTo, isSweep } from './params.js';
import { runHashes } from './run-id.js';
import type { SpecSource, StudySpec } from './spec.js';

export { sha256 } from './run-id.js';

type ResolvedHyper = TrainHyper & { lr: number; warmupSteps: number; deadWindowTokens: number };

/** Everything that determines a run's directory, hashed into its id. */
export interface RunIdentity {
  format: 'husai-run/1';
  data: DataIdentity;
  sae: SaeConfig;
  seed: number;
  dataSeed: number;
  steps: number;
  batchSize: number;
  hyper: ResolvedHyper;
  /** Checkpoint steps stored besides the final SAE (< steps; 0 = the initialisation). */
  checkpoints: number[];
}

export interface ResolvedRun {
  /** First 12 hex digits of configHash. */
  id: string;
  configHash: string;
  cellId: string;
  identity: RunIdentity;
  /** The spec-level values of this run (width_ratio kept when used), for labels and sweeps. */
  params: Record<string, ParamValue>;
  /** What trainMany receives. */
  runConfig: RunConfig;
}

export interface ExpandContext {
  data: DataIdentity;
  d: number;
  rows: number | null;
  /** Ground-truth feature count, when known. */
  features: number | null;
  /** Largest number of runs to plan (default MAX_RUNS): a bigger grid is refused before it is expanded. */
  maxRuns?: number;
}

/** The documented run limit of one study (README "Limits"); `husai study --max-runs N` raises it. */
export const MAX_RUNS = 10_000;

interface Valued {
  value: ParamValue;
  /** YAML path of the value, for errors. */
  from: Array<string | number>;
  layer: 'defaults' | 'arch' | 'sweep';
}
type Point = Map<ParamName, Valued>;

/** All runs of the spec, deduplicated, in expansion order (cells in first-appearance order). */
export function expandSpec(spec: StudySpec, src: SpecSource, ctx: ExpandContext): ResolvedRun[] {
  const planned = countRuns(spec);
  const limit = ctx.maxRuns ?? MAX_RUNS;
  if (planned.runs > limit) {
    src.fail(
      planned.where,
      `at most ${limit.toLocaleString('en-US')} runs (raise the limit with --max-runs N if you mean it)`,
      `${planned.runs.toLocaleString('en-US')} runs (${planned.factors})`,
    );
  }
  const sweep = sweepPoints(spec);
  const out: ResolvedRun[] = [];
  const seen = new Set<string>();
  for (const point of sweep) {
    const archV = point.get('arch') ?? valued(spec.defaults, 'arch', ['defaults'], 'defaults');
    if (!archV)
      src.fail(
        ['defaults', 'arch'],
        `an architecture (${Object.keys(spec.arch_params).join(', ') || 'topk, relu, …'}) in defaults or grid`,
      );
    const arch = archV.value as ArchName;
    const archLayer = spec.arch_params[arch] ?? {};
    const archScalars: Point = new Map();
    const archAxes: Array<{ name: ParamName; values: ParamValue[] }> = [];
    for (const [name, v] of Object.entries(archLayer) as Array<[ParamName, unknown]>) {
      if (v === undefined) continue;
      if (!appliesTo(name, arch))
        src.fail(
          ['arch_params', arch, name],
          `a parameter ${arch} uses (${name} applies to ${((PARAMS[name] as ParamDef).archs ?? []).join(', ')})`,
        );
      if (isSweep(name, v)) archAxes.push({ name, values: v });
      else archScalars.set(name, { value: v as ParamValue, from: ['arch_params', arch, name], layer: 'arch' });
    }
    for (const archPoint of cartesian(
      archAxes.map((a) =>
        a.values.map(
          (value, i) => new Map([[a.name, { value, from: ['arch_params', arch, a.name, i], layer: 'arch' as const }]]),
        ),
      ),
    )) {
      const merged = mergeLayers([
        layerOf(spec.defaults, ['defaults'], 'defaults'),
        new Map([...archScalars, ...archPoint]),
        point,
      ]);
      const run = resolveRun(merged, arch, spec, src, ctx);
      if (seen.has(run.id)) continue;
      seen.add(run.id);
      out.push(run);
    }
  }
  return out;
}

/**
 * How many runs `spec` expands to before duplicates are merged, computed from the axis lengths
 * without expanding anything: grid × zip points, each times the product of its architecture's
 * arch_params sweeps. `factors` spells the product for messages; `where` is the YAML path to blame.
 */
function countRuns(spec: StudySpec): { runs: number; factors: string; where: string[] } {
  const lengths: Array<[string, number]> = [];
  let archList: string[] | null = null;
  for (const [name, values] of Object.entries(spec.grid) as Array<[string, unknown[] | undefined]>) {
    if (!values) continue;
    if (name === 'arch') archList = values as string[];
    else lengths.push([`grid.${name} ${values.length}`, values.length]);
  }
  spec.zip.forEach((group, g) => {
    const names = Object.keys(group).filter((n) => (group as Record<string, unknown>)[n] !== undefined);
    const list = (group as Record<string, unknown[]>)[names[0]];
    if ('arch' in group && group.arch !== undefined) archList = group.arch as string[];
    else lengths.push([`zip[${g}] ${list.length}`, list.length]);
  });
  const archSweep = (arch: string): number => {
    const layer = (spec.arch_params as Record<string, Record<string, unknown> | undefined>)[arch] ?? {};
    const sweeps = Object.entries(layer).filter(([n, v]) => v !== undefined && isSweep(n as ParamName, v));
    return sweeps.reduce((p, [, v]) => p * (v as unknown[]).length, 1);
  };
  const arches: string[] = archList ?? [typeof spec.defaults.arch === 'string' ? spec.defaults.arch : ''];
  const perArch = arches.reduce((sum, a) => sum + archSweep(a), 0);
  const runs = lengths.reduce((p, [, n]) => p * n, 1) * perArch;
  const factors = [...lengths.map(([f]) => f), `${perArch} architecture point${perArch === 1 ? '' : 's'}`].join(' × ');
  return { runs, factors, where: spec.zip.length > 0 && Object.keys(spec.grid).length === 0 ? ['zip'] : ['grid'] };
}

/** The sweep points: cartesian product over grid axes (YAML order) and zip groups. */
function sweepPoints(spec: StudySpec): Point[] {
  const axes: Point[][] = [];
  for (const [name, values] of Object.entries(spec.grid) as Array<[ParamName, ParamValue[] | undefined]>) {
    if (values)
      axes.push(
        values.map((value, i) => new Map([[name, { value, from: ['grid', name, i], layer: 'sweep' as const }]])),
      );
  }
  spec.zip.forEach((group, g) => {
    const names = (Object.keys(group) as ParamName[]).filter((n) => group[n] !== undefined);
    const len = (group[names[0]] as ParamValue[]).length;
    axes.push(
      Array.from(
        { length: len },
        (_, i) =>
          new Map(
            names.map((n) => [
              n,
              { value: (group[n] as ParamValue[])[i], from: ['zip', g, n, i], layer: 'sweep' as const },
            ]),
          ),
      ),
    );
  });
  return cartesian(axes);
}

function cartesian(axes: Point[][]): Point[] {
  let acc: Point[] = [new Map()];
  for (const axis of axes) acc = acc.flatMap((p) => axis.map((q) => new Map([...p, ...q])));
  return acc;
}

function valued(
  layer: Record<string, unknown>,
  name: ParamName,
  at: string[],
  kind: Valued['layer'],
): Valued | undefined {
  const v = layer[name];
  return v === undefined ? undefined : { value: v as ParamValue, from: [...at, name], layer: kind };
}

function layerOf(layer: Record<string, unknown>, at: string[], kind: Valued['layer']): Point {
  const p: Point = new Map();
  for (const name of Object.keys(layer) as ParamName[]) {
    const v = valued(layer, name, at, kind);
    if (v) p.set(name, v);
  }
  return p;
}

/** Later layers win; width and width_ratio replace each other. */
function mergeLayers(layers: Point[]): Point {
  const out: Point = new Map();
  for (const layer of layers) {
    if (layer.has('width') || layer.has('width_ratio')) {
      out.delete('width');
      out.delete('width_ratio');
    }
    for (const [k, v] of layer) out.set(k, v);
  }
  return out;
}

function resolveRun(point: Point, arch: ArchName, spec: StudySpec, src: SpecSource, ctx: ExpandContext): ResolvedRun {
  for (const [name, v] of [...point]) if (!appliesTo(name, arch) && v.layer !== 'arch') point.delete(name);
  const get = (n: ParamName): ParamValue | undefined => point.get(n)?.value;
  const at = (n: ParamName): Array<string | number> => point.get(n)?.from ?? ['defaults', n];

  let width = get('width') as number | undefined;
  if (width === undefined) {
    const ratio = get('width_ratio') as number | undefined;
    if (ratio === undefined)
      src.fail(['defaults', 'width'], 'width or width_ratio in defaults, grid, zip or arch_params');
    const of = spec.width_ratio_of ?? (ctx.features !== null ? 'features' : 'd');
    if (of === 'features' && ctx.features === null)
      src.fail(
        ['width_ratio_of'],
        'width_ratio_of: d, since these data have no ground-truth feature count',
        'features',
      );
    const ref = of === 'features' ? (ctx.features as number) : ctx.d;
    width = Math.round(ratio * ref);
    if (width < 1) src.fail(at('width_ratio'), `a ratio giving at least one latent (× ${ref} ${of} = ${ratio * ref})`);
  }

  const saeInput: SaeConfigInput = { arch, dIn: ctx.d, dSae: width };
  const hyper: Partial<TrainHyper> = {};
  for (const [name, v] of point) {
    const t = (PARAMS[name] as ParamDef).target;
    if (t.to === 'sae') (saeInput as unknown as Record<string, unknown>)[t.field] = v.value;
    else if (t.to === 'hyper') (hyper as Record<string, unknown>)[t.field] = v.value;
  }
  let cfg: SaeConfig;
  try {
    cfg = resolveConfig(saeInput);
  } catch (err) {
    if (!(err instanceof HusaiError)) throw err;
    const name = blame(err.message, point);
    src.fail(name ? at(name) : at('arch'), `a valid ${arch} config (${err.message})`);
  }

  const batchSize = (get('batch_size') as number | undefined) ?? defaultBatchSize(ctx.rows);
  if (ctx.rows !== null && batchSize > ctx.rows)
    src.fail(at('batch_size'), `a batch size ≤ the ${ctx.rows} rows of the data`);
  const given = get('steps') as number | undefined;
  if (given === undefined && ctx.rows === null)
    src.fail(['defaults', 'steps'], 'steps (the data have no known length)');
  const steps = given ?? defaultSteps(ctx.rows as number, batchSize);
  const h = { ...DEFAULT_HYPER, ...hyper };
  const resolvedHyper: ResolvedHyper = {
    ...h,
    lr: h.lr ?? getArch(arch).defaultLr(cfg),
    warmupSteps: h.warmupSteps ?? defaultWarmupSteps(steps),
    deadWindowTokens: h.deadWindowTokens ?? Math.min(10_000_000, Math.max(batchSize, ctx.rows ?? 10_000_000)),
  };
  const seed = (get('seed') as number | undefined) ?? 0;
  const dataSeed = (get('data_seed') as number | undefined) ?? 0;
  const checkpoints = [...new Set(spec.checkpoints)].filter((s) => s < steps).sort((a, b) => a - b);
  const identity: RunIdentity = {
    format: 'husai-run/1',
    data: ctx.data,
    sae: cfg,
    seed,
    dataSeed,
    steps,
    batchSize,
    hyper: resolvedHyper,
    checkpoints,
  };
  const { configHash, id, cellId } = runHashes(identity);

  const params: Record<string, ParamValue> = { arch, width };
  for (const [name, v] of point) if (name !== 'width') params[name] = v.value;
  if (cfg.k !== null) params.k = cfg.k;
  if (cfg.sparsityCoeff !== null) params.l1 = cfg.sparsityCoeff;
  params.seed = seed;
  params.data_seed = dataSeed;
  params.steps = steps;
  params.batch_size = batchSize;
  const { dIn: _dIn, ...saeForRun } = saeInput;
  return {
    id,
    configHash,
    cellId,
    identity,
    params,
    runConfig: { id, sae: saeForRun, seed, dataSeed, hyper: resolvedHyper },
  };
}

/** The spec parameter a config error message names (sae field names mapped back), preferring "field = value". */
function blame(message: string, point: Point): ParamName | null {
  for (const suffix of [' =', '\\b']) {
    let best: ParamName | null = null;
    let at = Infinity;
    for (const [name, def] of Object.entries(PARAMS) as Array<[ParamName, ParamDef]>) {
      if (!point.has(name)) continue;
      for (const word of [def.target.field, name]) {
        const m = new RegExp(`(?<![\\w-])${word}${suffix}`).exec(message);
        if (m && m.index < at) {
          at = m.index;
          best = name;
        }
      }
    }
    if (best !== null) return best;
  }
  if (/dSae/.test(message)) return point.has('width') ? 'width' : 'width_ratio';
  return null;
}
