/**
 * The training-parameter vocabulary of a study spec: every name a spec may set in `defaults`, sweep
 * in `grid` / `zip`, or override per architecture in `arch_params`, with its schema and where it
 * lands — an SAE config field (sae/types.ts `SaeConfigInput`), an optimiser field (sae/train.ts
 * `TrainHyper`), or a run field (steps, batch size, seeds). One flat namespace, so any parameter can
 * be swept the same way (SCIENCE.md §2 "Training defaults" for what each one means).
 *
 * `archs` lists the architectures a parameter applies to. A value set in `defaults` or the grid
 * for an architecture that does not use it is dropped (a grid over k with relu in it gives one relu
 * run, not one per k); the same value in `arch_params.<arch>` is an error, since it can only be a
 * mistake there.
 */
import { z } from 'zod';
import { archNames } from '../sae/registry.js';
import type { ArchName, SaeConfigInput } from '../sae/types.js';
import type { TrainHyper } from '../sae/train.js';

export const ARCH_NAMES = archNames() as [ArchName, ...ArchName[]];

const posInt = z.number().int().min(1);
const posNum = z.number().gt(0);
const nonNeg = z.number().min(0);
const fraction = z.number().min(0).max(1);

/** Where a parameter goes when a run is resolved. */
export type ParamTarget =
  | { to: 'sae'; field: keyof SaeConfigInput }
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
  doc: string;
}

const TOPK_FAMILY: readonly ArchName[] = ['topk', 'batchtopk', 'matryoshka'];

export const PARAMS = {
  arch: { schema: z.enum(ARCH_NAMES), target: { to: 'run', field: 'arch' }, doc: `SAE architecture: ${ARCH_NAMES.join(', ')}` },
  width: { schema: posInt, target: { to: 'run', field: 'width' }, doc: 'number of latents m (d_sae)' },
  width_ratio: { schema: posNum, target: { to: 'run', field: 'width_ratio' }, doc: 'm as a multiple of the reference count (width_ratio_of: ground-truth features or d), rounded' },
  k: { schema: posInt, target: { to: 'sae', field: 'k' }, archs: TOPK_FAMILY, doc: 'active latents per token (TopK family)' },
  l1: { schema: nonNeg, target: { to: 'sae', field: 'sparsityCoeff' }, archs: ['relu', 'gated', 'jumprelu'], doc: 'λ: L1 coefficient (relu, gated) or L0 coefficient (jumprelu)' },
  variant: { schema: z.enum(['constrained-2023', 'april-2024']), target: { to: 'sae', field: 'variant' }, archs: ['relu'], doc: 'ReLU + L1 flavour' },
  aux_k_coeff: { schema: nonNeg, target: { to: 'sae', field: 'auxKCoeff' }, archs: TOPK_FAMILY, doc: 'AuxK weight α (default 1/32)' },
  k_aux: { schema: posInt, target: { to: 'sae', field: 'kAux' }, archs: TOPK_FAMILY, doc: 'AuxK k_aux (default d/2)' },
  threshold_decay: { schema: z.number().gt(0).lt(1), target: { to: 'sae', field: 'thresholdDecay' }, archs: ['batchtopk', 'matryoshka'], doc: 'EMA decay of the BatchTopK inference threshold' },
  group_fractions: { schema: z.array(z.number().gt(0).lt(1)).min(1), target: { to: 'sae', field: 'groupFractions' }, archs: ['matryoshka'], listValued: true, doc: 'Matryoshka prefix sizes as fractions of m' },
  init_threshold: { schema: posNum, target: { to: 'sae', field: 'initThreshold' }, archs: ['jumprelu'], doc: 'JumpReLU θ₀' },
  bandwidth: { schema: posNum, target: { to: 'sae', field: 'bandwidth' }, archs: ['jumprelu'], doc: 'JumpReLU rectangle-kernel bandwidth ε' },
  steps: { schema: posInt, target: { to: 'run', field: 'steps' }, doc: 'optimiser steps (default: max(one epoch, 8192))' },
  batch_size: { schema: posInt, target: { to: 'run', field: 'batch_size' }, doc: 'rows per batch (default: largest power of two ≤ rows/64, in [32, 4096])' },
  seed: { schema: z.number().int(), target: { to: 'run', field: 'seed' }, doc: 'SAE init seed' },
  data_seed: { schema: z.number().int(), target: { to: 'run', field: 'data_seed' }, doc: 'data-order seed' },
  lr: { schema: posNum.nullable(), target: { to: 'hyper', field: 'lr' }, doc: 'peak learning rate (null: the architecture default)' },
  beta1: { schema: z.number().min(0).lt(1), target: { to: 'hyper', field: 'beta1' }, doc: 'Adam β₁' },
  beta2: { schema: z.number().min(0).lt(1), target: { to: 'hyper', field: 'beta2' }, doc: 'Adam β₂' },
  eps: { schema: posNum, target: { to: 'hyper', field: 'eps' }, doc: 'Adam ε' },
  warmup_steps: { schema: z.number().int().min(0).nullable(), target: { to: 'hyper', field: 'warmupSteps' }, doc: 'lr warm-up steps (null: min(1000, 5%))' },
  decay_fraction: { schema: z.number().min(0).lt(1), target: { to: 'hyper', field: 'decayFraction' }, doc: 'fraction of steps with linear lr decay' },
  clip_norm: { schema: nonNeg, target: { to: 'hyper', field: 'clipNorm' }, doc: 'global gradient-norm clip (0: off)' },
  sparsity_warmup_fraction: { schema: fraction, target: { to: 'hyper', field: 'sparsityWarmupFraction' }, doc: 'sparsity-coefficient warm-up fraction' },
  dead_window_tokens: { schema: posInt.nullable(), target: { to: 'hyper', field: 'deadWindowTokens' }, doc: 'dead-latent window in tokens (null: min(10M, one pass))' },
  resample_every: { schema: posInt.nullable(), target: { to: 'hyper', field: 'resampleEvery' }, archs: ['relu'], doc: 'resample dead ReLU latents every n steps (null: never)' },
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
  return Object.fromEntries(PARAM_NAMES.map((n) => [n, (PARAMS[n] as ParamDef).schema.optional()])) as Record<ParamName, z.ZodOptional<z.ZodType>>;
}

/** `{ name?: non-empty list of values }` for every parameter (a `grid` block or one `zip` group). */
export function listShape(): Record<ParamName, z.ZodOptional<z.ZodType>> {
  return Object.fromEntries(PARAM_NAMES.map((n) => [n, z.array((PARAMS[n] as ParamDef).schema).min(1).optional()])) as unknown as Record<ParamName, z.ZodOptional<z.ZodType>>;
}

/** `{ name?: value or non-empty list of values }` (an `arch_params.<arch>` block: a list is a sweep for that arch). */
export function valueOrListShape(): Record<ParamName, z.ZodOptional<z.ZodType>> {
  return Object.fromEntries(PARAM_NAMES.map((n) => {
    const s = (PARAMS[n] as ParamDef).schema;
    return [n, z.union([s, z.array(s).min(1)]).optional()];
  })) as unknown as Record<ParamName, z.ZodOptional<z.ZodType>>;
}

/** True when an arch_params value is a sweep (a list; for list-valued parameters, a list of lists). */
export function isSweep(name: ParamName, v: unknown): v is ParamValue[] {
  if (!Array.isArray(v)) return false;
  return (PARAMS[name] as ParamDef).listValued ? Array.isArray(v[0]) : true;
}
