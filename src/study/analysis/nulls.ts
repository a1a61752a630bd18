/**
 * The chance baselines of a study's stability numbers (docs/SCIENCE.md §4), computed once per shape and
 * metric table and shared by every cell that has it. Every metric of the table (metric-table.ts)
 * gets its values on the same draws:
 * - random null (metrics/nulls.ts `randomNull`): metrics whose `atoms` is 'decoder' between two
 *   random dictionaries of the cell's shape [M × D], matched once per draw (metrics/pairwise.ts
 *   `pwmcc`, whose matched cosines also give the null's cosine histogram); metrics whose `atoms` is
 *   'sae' between two random SAEs, whose encoder and decoder are independent random dictionaries
 *   (one draw of 2M random rows, split in halves — the rows are i.i.d., so the halves are
 *   independent). Directed metrics contribute their a → b value;
 * - untrained-SAE null (`untrainedNull`), for metrics whose `nulls` is 'both': the same metrics
 *   between freshly initialised SAEs of the cell's exact config (sae/registry.ts `initSae`, the
 *   scheme training starts from), init seeds 1,000,000 + analysis seed + 2k and + 2k + 1 — away
 *   from the seeds studies use, so the null is not the study's own step-0 checkpoints;
 * - ground-truth null: gt_mcc between random dictionaries of shapes [F × D] and [M × D], as
 *   study/compare.ts does.
 */
import { HusaiError } from '../../core/errors.js';
import { type NullSummary, randomNull, summarizeNull, untrainedNull } from '../../metrics/nulls.js';
import type { UnitAtoms } from '../../metrics/cosine.js';
import { type SharedFractionResult, gtMetrics, pwmcc } from '../../metrics/pairwise.js';
import { stableJson } from '../../sae/checkpoint/saelens.js';
import { initSae } from '../../sae/registry.js';
import type { SaeConfig } from '../../sae/types.js';
import {
  type DecoderMatch,
  type MetricTable,
  type PairInput,
  type PairValue,
  STABILITY_METRICS,
  type StabilityMetric,
} from './metric-table.js';
import { type SaeUnitAtoms, atomsFromWeights, onePair } from './pairs.js';

export interface MetricNulls {
  /** Per metric key: its null draws (only the metrics that have this null). */
  byKey: Map<string, NullSummary>;
  /** Matched decoder cosines pooled over draws (random null only; [] for the untrained one). */
  matchedCos: number[];
}

const UNTRAINED_SEED_OFFSET = 1_000_000;

/** The value a null records for one pair: a directed metric's a → b direction. */
function forward(v: PairValue): number {
  return typeof v === 'number' ? v : v.ab;
}

/** Cache key of a shape and a table (rows are identified by their keys). */
function tableKey(shape: string, metrics: MetricTable): string {
  return `${shape}|${metrics.map((m) => m.key).join(',')}`;
}

/** One random-dictionary pair as a decoder-only metric sees it (encoders do not exist here). */
function decoderOnlyPair(a: UnitAtoms, b: UnitAtoms, tau: number, metric: () => string): PairInput {
  let match: DecoderMatch | null = null;
  const noEnc = (x: UnitAtoms): SaeUnitAtoms => ({
    dec: x,
    get enc(): UnitAtoms {
      throw new HusaiError(
        `stability metric "${metric()}" read encoder atoms, but its row says atoms: 'decoder'; declare atoms: 'sae'`,
      );
    },
  });
  return {
    a: noEnc(a),
    b: noEnc(b),
    tau,
    decoderMatch: () => {
      if (!match) {
        const m = pwmcc(a, b);
        match = { mean: m.value, matchedCos: m.matchedCos };
      }
      return match;
    },
    shared: (): SharedFractionResult => {
      throw new HusaiError(
        `stability metric "${metric()}" asked for the shared-fraction assignments, but its row says atoms: ` +
          `'decoder'; declare atoms: 'sae'`,
      );
    },
  };
}

export class NullCache {
  private readonly random = new Map<string, MetricNulls>();
  private readonly untrained = new Map<string, MetricNulls>();
  private readonly gt = new Map<string, NullSummary>();

  constructor(
    private readonly draws: number,
    private readonly seed: number,
    private readonly tau: number,
  ) {}

  /** Random nulls of every metric of `metrics` for M atoms in R^D. */
  randomNulls(M: number, D: number, metrics: MetricTable = STABILITY_METRICS): MetricNulls {
    const key = tableKey(`${M}x${D}`, metrics);
    const hit = this.random.get(key);
    if (hit) return hit;
    const values = new Map<string, number[]>(metrics.map((m) => [m.key, []]));
    const matched: number[] = [];
    const decoderOnly = metrics.filter((m) => m.atoms === 'decoder');
    randomNull(
      (a: UnitAtoms, b: UnitAtoms) => {
        let current = '';
        const input = decoderOnlyPair(a, b, this.tau, () => current);
        for (const m of decoderOnly) {
          current = m.key;
          values.get(m.key)?.push(forward(m.pair(input)));
        }
        const cos = input.decoderMatch().matchedCos;
        for (let i = 0; i < cos.length; i++) matched.push(cos[i]);
        return 0;
      },
      { nA: M, nB: M, d: D },
      { draws: this.draws, seed: this.seed },
    );
    const whole = metrics.filter((m) => m.atoms === 'sae');
    if (whole.length > 0) {
      const half = (x: UnitAtoms, lo: number): UnitAtoms => ({
        ...x,
        data: x.data.subarray(lo * D, (lo + M) * D),
        rows: M,
      });
      randomNull(
        (a: UnitAtoms, b: UnitAtoms) => {
          const p = onePair(
            { enc: half(a, 0), dec: half(a, M) },
            { enc: half(b, 0), dec: half(b, M) },
            this.tau,
            whole,
          );
          for (const m of whole) values.get(m.key)?.push(forward(p.values.get(m.key) as PairValue));
          return 0;
        },
        { nA: 2 * M, nB: 2 * M, d: D },
        { draws: this.draws, seed: this.seed + 1 },
      );
    }
    const out: MetricNulls = { byKey: summaries(values), matchedCos: matched };
    this.random.set(key, out);
    return out;
  }

  /** Untrained-SAE nulls for the resolved config `cfg`, of the metrics whose `nulls` is 'both'. */
  untrainedNulls(cfg: SaeConfig, metrics: MetricTable = STABILITY_METRICS): MetricNulls {
    const withNull: StabilityMetric[] = metrics.filter((m) => m.nulls === 'both');
    const key = tableKey(stableJson(cfg), withNull);
    const hit = this.untrained.get(key);
    if (hit) return hit;
    const values = new Map<string, number[]>(withNull.map((m) => [m.key, []]));
    const factory = (initSeed: number): SaeUnitAtoms => {
      const sae = initSae(cfg, initSeed);
      return atomsFromWeights(
        sae.params.W_dec,
        sae.params.W_enc,
        cfg.dSae,
        cfg.dIn,
        `untrained SAE (init seed ${initSeed})`,
      );
    };
    if (withNull.length > 0) {
      untrainedNull(
        factory,
        (a, b) => {
          const p = onePair(a, b, this.tau, withNull);
          for (const m of withNull) values.get(m.key)?.push(forward(p.values.get(m.key) as PairValue));
          return 0;
        },
        { draws: this.draws, seed: UNTRAINED_SEED_OFFSET + this.seed },
      );
    }
    const out: MetricNulls = { byKey: summaries(values), matchedCos: [] };
    this.untrained.set(key, out);
    return out;
  }

  /** gt_mcc between random dictionaries [F × D] and [M × D]. */
  groundTruthNull(F: number, M: number, D: number): NullSummary {
    const key = `${F}x${M}x${D}`;
    const hit = this.gt.get(key);
    if (hit) return hit;
    const out = randomNull(
      (g, x) => gtMetrics(g, x).gt_mcc,
      { nA: F, nB: M, d: D },
      { draws: this.draws, seed: this.seed + 2 },
    );
    this.gt.set(key, out);
    return out;
  }
}

function summaries(values: Map<string, number[]>): Map<string, NullSummary> {
  return new Map([...values].map(([k, v]) => [k, summarizeNull(v)]));
}
