/**
 * Run ids that survive new training options: which fields of a run's identity enter the hash that
 * names its directory (expand.ts builds the identity; docs/ARCHITECTURE.md "study/: grid expansion").
 *
 * The hash is sha256 of the sorted-key JSON (stableJson) of the hashed identity; the run id is its
 * first 12 hex digits, the cell id the same hash over the identity without `seed` and `dataSeed`.
 *
 * Two kinds of field:
 * - The fields of "husai-run/1" (husai 0.1.0, commit af790e9), listed in RUN_V1_KEYS: the top-level
 *   RunIdentity keys, every SaeConfig key and every ResolvedHyper key of that version. They are
 *   hashed always and exactly as 0.1.0 hashed them (null included), so every id 0.1.0 gave a spec
 *   is still its id and an old study directory resumes without retraining. Frozen: never edit.
 * - Every field added later (in RunIdentity, SaeConfig or TrainHyper). It is left out of the hashed
 *   object when its value is null (a SaeConfig field that does not apply to the architecture
 *   resolves to null) or equals its declared id default, and hashed otherwise. So a new option
 *   re-keys only the runs that set it to something else than its default.
 *
 * Where a later field's default is declared: `idDefault` on its row of the parameter table
 * (params.ts PARAMS), which maps the parameter to that field (`target.field` is the field's name in
 * the identity: SaeConfig, TrainHyper, or a top-level RunIdentity key for `to: 'run'`). A new
 * training option stays one row. A later field with neither a row nor an `idDefault` is a ConfigError
 * at expansion, so it cannot silently re-key every run. The recorded identity (store `config`,
 * manifest, cfg) keeps every field; only the hashed object drops defaults.
 */
import crypto from 'node:crypto';
import { ConfigError } from '../core/errors.js';
import { stableJson } from '../sae/checkpoint/saelens.js';
import { PARAMS, type ParamDef } from './params.js';

/** The run ids hash length (hex digits). */
const RUN_ID_HEX = 12;

/** The identity keys of husai-run/1, hashed always and as they are. Frozen: ids of old studies depend on them. */
export const RUN_V1_KEYS = Object.freeze({
  run: Object.freeze(['format', 'data', 'sae', 'seed', 'dataSeed', 'steps', 'batchSize', 'hyper', 'checkpoints']),
  sae: Object.freeze([
    'arch',
    'dIn',
    'dSae',
    'k',
    'sparsityCoeff',
    'variant',
    'auxKCoeff',
    'kAux',
    'initThreshold',
    'bandwidth',
    'thresholdDecay',
    'prefixEnds',
  ]),
  hyper: Object.freeze([
    'lr',
    'beta1',
    'beta2',
    'eps',
    'warmupSteps',
    'decayFraction',
    'clipNorm',
    'sparsityWarmupFraction',
    'deadWindowTokens',
    'resampleEvery',
  ]),
});

/** Where a field sits in the identity: top level, `sae` or `hyper`. */
export type IdSection = keyof typeof RUN_V1_KEYS;

/** Per section: later field → the value at which it stays out of the hash. */
export type IdDefaults = Record<IdSection, ReadonlyMap<string, unknown>>;

/** The id defaults declared in the parameter table (`idDefault` of each PARAMS row that has one). */
export function paramIdDefaults(params: Record<string, ParamDef> = PARAMS): IdDefaults {
  const out: Record<IdSection, Map<string, unknown>> = { run: new Map(), sae: new Map(), hyper: new Map() };
  for (const def of Object.values(params)) {
    if (def.idDefault === undefined) continue;
    const section: IdSection = def.target.to;
    out[section].set(def.target.field, def.idDefault);
  }
  return out;
}

const ID_DEFAULTS = paramIdDefaults();

/** The object whose hash names a run: the identity with later fields at their default (or null) left out. */
function hashedIdentity(identity: object, defaults: IdDefaults = ID_DEFAULTS): Record<string, unknown> {
  const out = keep(identity as Record<string, unknown>, 'run', defaults);
  for (const section of ['sae', 'hyper'] as const) {
    const inner = out[section];
    if (typeof inner === 'object' && inner !== null)
      out[section] = keep(inner as Record<string, unknown>, section, defaults);
  }
  return out;
}

function keep(obj: Record<string, unknown>, section: IdSection, defaults: IdDefaults): Record<string, unknown> {
  const v1: readonly string[] = RUN_V1_KEYS[section];
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    if (v1.includes(key)) {
      out[key] = value;
      continue;
    }
    if (value === null || value === undefined) continue;
    const def = defaults[section].get(key);
    if (def === undefined) {
      const where = section === 'run' ? key : `${section}.${key}`;
      throw new ConfigError(
        `run identity field ${where} = ${JSON.stringify(value)}: it is not a husai-run/1 field and declares no id ` +
          `default`,
        'give its PARAMS row (src/study/params.ts) an idDefault, so that runs at the default keep their ids ' +
          '(src/study/run-id.ts)',
      );
    }
    if (stableJson(value) !== stableJson(def)) out[key] = value;
  }
  return out;
}

/** The full hash, the run id and the cell id (the hash without the two seeds) of an identity. */
export function runHashes(
  identity: object,
  defaults: IdDefaults = ID_DEFAULTS,
): { configHash: string; id: string; cellId: string } {
  const hashed = hashedIdentity(identity, defaults);
  const configHash = sha256(stableJson(hashed));
  const { seed: _s, dataSeed: _d, ...cell } = hashed;
  return { configHash, id: configHash.slice(0, RUN_ID_HEX), cellId: sha256(stableJson(cell)).slice(0, RUN_ID_HEX) };
}

export function sha256(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex');
}
