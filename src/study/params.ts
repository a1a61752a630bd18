/**
 * The training-parameter vocabulary of a study spec: every name a spec may set in `defaults`, sweep
 * in `grid` / `zip`, or override per architecture in `arch_params`, with its schema and where it
 * lands — an SAE config field (sae/types.ts `SaeConfigInput`), an optimiser field (sae/train.ts
 * `TrainHyper`), or a run field (steps, batch size, seeds). One flat namespace, so any parameter can
 * be swept the same way (docs/SCIENCE.md §2 "Training defaults" for what each one means).
 *
 * `archs` lists the architectures a parameter applies to, read from the registry (an SAE field:
 * the architectures whose `fields` name it; resample_every: those that resample), never written
 * here. A value set in `defaults` or the grid for an architecture that does not use it is dropped
 * (a grid over k with relu in it gives one relu run, not one per k); the same value in
 * `arch_params.<arch>` is an error, since it can only be a mistake there.
 *
 * The same table is `husai train`'s flags (cli/train.ts): flag = the name in kebab case, the
 * value parsed from text and checked by the parameter's schema (`parseParamText`), `doc` as the
 * help; and `husai study --params` prints it (`paramTable`). It stays in study/ because the
 * vocabulary is the spec's (run fields like width_ratio only exist there); cli/ may import it.
 */
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { archNames, archsResampling, archsUsing, getArch } from '../sae/registry.js';
import type { ArchName, SaeField } from '../sae/types.js';
import { DEFAULT_HYPER, type TrainHyper } from '../sae/train.js';

export const ARCH_NAMES = archNames() as [ArchName, ...ArchName[]];

const posInt = z.number().int().min(1);
const posNum = z.number().gt(0);
const nonNeg = z.number().min(0);
const fraction = z.number().min(0).max(1);

/** Where a parameter goes when a run is resolved. */
export type ParamTarget =
  | { to: 'sae'; field: SaeField }
  | { to: 'hyper'; field: keyof TrainHyper }
  | { to: 'run'; field: 'arch' | 'width' | 'width_ratio' | 'steps' | 'batch_size' | 'seed' | 'data_seed' };

export interface ParamDef {
  schema: z.ZodType;
  target: ParamTarget;
  /** Architectures the parameter applies to; undefined = all. */
  archs?: readonly ArchName[];
  /** True for list-valued parameters (a sweep over them is a list of lists). */
  listValued?: boolean;
  /**
   * Required for every parameter added after husai 0.1.0 (run-id.ts): the value of the identity
   * field `target.field` (resolved, as the run trains with it) at which the field stays out of the
   * run id, normally its default. Runs that leave the parameter at this value keep the ids they had
   * before it existed. Never set it on a 0.1.0 parameter (run-id.ts RUN_V1_KEYS hashes those always).
   */
  idDefault?: ParamValue;
  /** Run fields: the default when unset ('auto': a rule of the data, given in `doc`). */
  runDefault?: ParamValue | 'auto';
  /**
   * `husai train`: 'flag' (default) a flag generated from this entry; 'own' a flag of the same name
   * that train defines itself (required, or with a list form); 'none' not a property of one run.
   */
  train?: 'flag' | 'own' | 'none';
  doc: string;
}

/** An SAE config field: its architectures are those whose registry entry uses it. */
function sae(field: SaeField, schema: z.ZodType, doc: string, more: Partial<ParamDef> = {}): ParamDef {
  return { schema, target: { to: 'sae', field }, archs: archsUsing(field), doc, ...more };
}

export const PARAMS = {
  arch: {
    schema: z.enum(ARCH_NAMES),
    target: { to: 'run', field: 'arch' },
    train: 'own',
    doc: `SAE architecture: ${ARCH_NAMES.join(', ')}`,
  },
  width: { schema: posInt, target: { to: 'run', field: 'width' }, train: 'own', doc: 'number of latents m (d_sae)' },
  width_ratio: {
    schema: posNum,
    target: { to: 'run', field: 'width_ratio' },
    train: 'none',
    doc: 'm as a multiple of the reference count (width_ratio_of: ground-truth features or d), rounded',
  },
  k: sae('k', posInt, 'active latents per token (TopK family)'),
  l1: sae('sparsityCoeff', nonNeg, 'λ: L1 coefficient (relu, gated) or L0 coefficient (jumprelu)'),
  variant: sae('variant', z.enum(['constrained-2023', 'april-2024']), 'ReLU + L1 flavour'),
  aux_k_coeff: sae('auxKCoeff', nonNeg, 'AuxK weight α (default 1/32)'),
  k_aux: sae('kAux', posInt, 'AuxK k_aux (default d/2)'),
  threshold_decay: sae('thresholdDecay', z.number().gt(0).lt(1), 'EMA decay of the BatchTopK inference threshold'),
  group_fractions: sae(
    'groupFractions',
    z.array(z.number().gt(0).lt(1)).min(1),
    'Matryoshka prefix sizes as fractions of m',
    { listValued: true },
  ),
  init_threshold: sae('initThreshold', posNum, 'JumpReLU θ₀'),
  bandwidth: sae('bandwidth', posNum, 'JumpReLU rectangle-kernel bandwidth ε'),
  steps: {
    schema: posInt,
    target: { to: 'run', field: 'steps' },
    runDefault: 'auto',
    doc: 'optimiser steps (default: max(one epoch, 8192))',
  },
  batch_size: {
    schema: posInt,
    target: { to: 'run', field: 'batch_size' },
    runDefault: 'auto',
    doc: 'rows per batch (default: largest power of two ≤ rows/64, in [32, 4096])',
  },
  seed: {
    schema: z.number().int(),
    target: { to: 'run', field: 'seed' },
    runDefault: 0,
    train: 'own',
    doc: 'SAE init seed',
  },
  data_seed: {
    schema: z.number().int(),
    target: { to: 'run', field: 'data_seed' },
    runDefault: 0,
    train: 'own',
    doc: 'data-order seed',
  },
  lr: {
    schema: posNum.nullable(),
    target: { to: 'hyper', field: 'lr' },
    doc: 'peak learning rate (null: the architecture default)',
  },
  beta1: { schema: z.number().min(0).lt(1), target: { to: 'hyper', field: 'beta1' }, doc: 'Adam β₁' },
  beta2: { schema: z.number().min(0).lt(1), target: { to: 'hyper', field: 'beta2' }, doc: 'Adam β₂' },
  eps: { schema: posNum, target: { to: 'hyper', field: 'eps' }, doc: 'Adam ε' },
  warmup_steps: {
    schema: z.number().int().min(0).nullable(),
    target: { to: 'hyper', field: 'warmupSteps' },
    doc: 'lr warm-up steps (null: min(1000, 5%))',
  },
  decay_fraction: {
    schema: z.number().min(0).lt(1),
    target: { to: 'hyper', field: 'decayFraction' },
    doc: 'fraction of steps with linear lr decay',
  },
  clip_norm: { schema: nonNeg, target: { to: 'hyper', field: 'clipNorm' }, doc: 'global gradient-norm clip (0: off)' },
  sparsity_warmup_fraction: {
    schema: fraction,
    target: { to: 'hyper', field: 'sparsityWarmupFraction' },
    doc: 'sparsity-coefficient warm-up fraction',
  },
  dead_window_tokens: {
    schema: posInt.nullable(),
    target: { to: 'hyper', field: 'deadWindowTokens' },
    doc: 'dead-latent window in tokens (null: min(10M, one pass))',
  },
  resample_every: {
    schema: posInt.nullable(),
    target: { to: 'hyper', field: 'resampleEvery' },
    archs: archsResampling(),
    doc: 'resample dead ReLU latents every n steps (null: never)',
  },
} satisfies Record<string, ParamDef>;

export type ParamName = keyof typeof PARAMS;
export const PARAM_NAMES = Object.keys(PARAMS) as ParamName[];

/** A parameter value as written in YAML. */
export type ParamValue = string | number | boolean | null | number[];

/** True when `name` applies to `arch`. */
export function appliesTo(name: ParamName, arch: ArchName): boolean {
  const archs = (PARAMS[name] as ParamDef).archs;
  return archs === undefined || archs.includes(arch);
}

/** `{ name?: schema }` for every parameter (a `defaults` block). */
export function paramShape(): Record<ParamName, z.ZodOptional<z.ZodType>> {
  return Object.fromEntries(PARAM_NAMES.map((n) => [n, (PARAMS[n] as ParamDef).schema.optional()])) as Record<
    ParamName,
    z.ZodOptional<z.ZodType>
  >;
}

/** `{ name?: non-empty list of values }` for every parameter (a `grid` block or one `zip` group). */
export function listShape(): Record<ParamName, z.ZodOptional<z.ZodType>> {
  return Object.fromEntries(
    PARAM_NAMES.map((n) => [
      n,
      z
        .array((PARAMS[n] as ParamDef).schema)
        .min(1)
        .optional(),
    ]),
  ) as unknown as Record<ParamName, z.ZodOptional<z.ZodType>>;
}

/** `{ name?: value or non-empty list of values }` (an `arch_params.<arch>` block: a list is a sweep for that arch). */
export function valueOrListShape(): Record<ParamName, z.ZodOptional<z.ZodType>> {
  return Object.fromEntries(
    PARAM_NAMES.map((n) => {
      const s = (PARAMS[n] as ParamDef).schema;
      return [n, z.union([s, z.array(s).min(1)]).optional()];
    }),
  ) as unknown as Record<ParamName, z.ZodOptional<z.ZodType>>;
}

/** True when an arch_params value is a sweep (a list; for list-valued parameters, a list of lists). */
export function isSweep(name: ParamName, v: unknown): v is ParamValue[] {
  if (!Array.isArray(v)) return false;
  return (PARAMS[name] as ParamDef).listValued ? Array.isArray(v[0]) : true;
}

// ── the table as CLI flags and as a printed table ─────────────────────

/** The `husai train` flag of a parameter: its name in kebab case (batch_size → --batch-size). */
export function flagOf(name: ParamName): string {
  return `--${name.replace(/_/g, '-')}`;
}

/** The parameters `husai train` takes as generated flags (def.train 'flag', the default). */
export function trainFlagParams(): ParamName[] {
  return PARAM_NAMES.filter((n) => ((PARAMS[n] as ParamDef).train ?? 'flag') === 'flag');
}

/** The value type a schema accepts, in words, from its JSON Schema (e.g. "integer ≥ 1 | null"). */
export function describeSchema(schema: z.ZodType): string {
  const one = (j: Record<string, unknown>): string => {
    if (Array.isArray(j.anyOf)) return (j.anyOf as Array<Record<string, unknown>>).map(one).join(' | ');
    if (Array.isArray(j.enum)) return (j.enum as unknown[]).map(String).join(' | ');
    if (j.type === 'null') return 'null';
    if (j.type === 'array') return `list of ${one(j.items as Record<string, unknown>)}`;
    const bounds: string[] = [];
    if (typeof j.minimum === 'number' && j.minimum > Number.MIN_SAFE_INTEGER) bounds.push(`≥ ${j.minimum}`);
    if (typeof j.exclusiveMinimum === 'number') bounds.push(`> ${j.exclusiveMinimum}`);
    if (typeof j.maximum === 'number' && j.maximum < Number.MAX_SAFE_INTEGER) bounds.push(`≤ ${j.maximum}`);
    if (typeof j.exclusiveMaximum === 'number') bounds.push(`< ${j.exclusiveMaximum}`);
    return [String(j.type), ...bounds].join(' ').replace(/(≥ [^ ]+|> [^ ]+) (≤|<)/, '$1, $2');
  };
  return one(z.toJSONSchema(schema) as Record<string, unknown>);
}

/**
 * A parameter's value from command-line text, checked by its schema: "null" is null, a
 * list-valued parameter takes comma-separated numbers, text that reads as a number is that number,
 * anything else stays text (enums). ConfigError naming the flag and the accepted type otherwise.
 */
export function parseParamText(name: ParamName, text: string): ParamValue {
  const def = PARAMS[name] as ParamDef;
  const t = text.trim();
  const asNumber = (v: string): number | string => (v !== '' && Number.isFinite(Number(v)) ? Number(v) : v);
  const candidate = t === 'null' ? null : def.listValued ? t.split(',').map((v) => asNumber(v.trim())) : asNumber(t);
  const r = def.schema.safeParse(candidate);
  if (!r.success)
    throw new ConfigError(
      `${flagOf(name)} ${JSON.stringify(text)}: expected ` +
        `${describeSchema(def.schema)}${def.listValued ? ' (comma-separated)' : ''}`,
    );
  return r.data as ParamValue;
}

/**
 * The default of a parameter in words: the optimiser default, the run rule, or the registry's per-architecture
 * constant.
 */
export function describeDefault(name: ParamName): string {
  const def = PARAMS[name] as ParamDef;
  const t = def.target;
  const show = (v: unknown): string =>
    Array.isArray(v)
      ? v.map((x) => +Number(x).toPrecision(6)).join(',')
      : typeof v === 'number'
        ? String(+v.toPrecision(6))
        : String(v);
  if (t.to === 'hyper') return show(DEFAULT_HYPER[t.field]);
  if (t.to === 'run') return def.runDefault === undefined ? '—' : show(def.runDefault);
  const per = (def.archs ?? []).map((a) => [a, getArch(a).defaults[t.field]] as const);
  const values = [...new Set(per.map(([, v]) => (v === undefined ? '—' : show(v))))];
  if (values.length === 1) return values[0];
  return per.map(([a, v]) => `${a}: ${v === undefined ? '—' : show(v)}`).join('; ');
}

/** One row of `husai study --params`. */
interface ParamRow {
  name: ParamName;
  flag: string | null;
  type: string;
  default: string;
  archs: ArchName[] | 'all';
  doc: string;
}

/** The parameter table: name, `husai train` flag (null when train has none), type, default, architectures, doc. */
export function paramTable(): ParamRow[] {
  return PARAM_NAMES.map((name) => {
    const def = PARAMS[name] as ParamDef;
    return {
      name,
      flag: (def.train ?? 'flag') === 'none' ? null : flagOf(name),
      type: describeSchema(def.schema),
      default: describeDefault(name),
      archs: def.archs ? [...def.archs] : 'all',
      doc: def.doc,
    };
  });
}
