/**
 * The chance baselines of a study's stability numbers (SCIENCE.md §4), computed once per shape and
 * shared by every cell that has it:
 * - random null (metrics/nulls.ts `randomNull`): PW-MCC, MMCS and the matched cosines between two
 *   random dictionaries of the cell's shape [M × D]; the shared fraction between two random SAEs,
 *   whose encoder and decoder are independent random dictionaries (one draw of 2M random rows,
 *   split in halves — the rows are i.i.d., so the halves are independent);
 * - untrained-SAE null (`untrainedNull`): the same metrics between freshly initialised SAEs of the
 *   cell's exact config (sae/registry.ts `initSae`, the scheme training starts from), init seeds
 *   1,000,000 + analysis seed + 2k and + 2k + 1 — away from the seeds studies use, so the null is
 *   not the study's own step-0 checkpoints;
 * - ground-truth null: gt_mcc between random dictionaries of shapes [F × D] and [M × D], as
 *   study/compare.ts does.
 */
import { type NullSummary, randomNull, summarizeNull, untrainedNull } from '../../metrics/nulls.js';
import type { UnitAtoms } from '../../metrics/cosine.js';
import { gtMetrics, mmcs, pwmcc, sharedFraction } from '../../metrics/pairwise.js';
import { stableJson } from '../../sae/checkpoint/saelens.js';
import { initSae } from '../../sae/registry.js';
import type { SaeConfig } from '../../sae/types.js';
import { type SaeUnitAtoms, atomsFromWeights, onePair } from './pairs.js';

export interface MetricNulls {
  pwmcc: NullSummary;
  shared: NullSummary;
  mmcs: NullSummary;
  /** Matched decoder cosines pooled over draws (random null only; [] for the untrained one). */
  matchedCos: number[];
}

export const UNTRAINED_SEED_OFFSET = 1_000_000;

export class NullCache {
  private readonly random = new Map<string, MetricNulls>();
  private readonly untrained = new Map<string, MetricNulls>();
  private readonly gt = new Map<string, NullSummary>();

  constructor(
    private readonly draws: number,
    private readonly seed: number,
    private readonly tau: number,
  ) {}

  /** Random-dictionary nulls for M atoms in R^D. */
  randomNulls(M: number, D: number): MetricNulls {
    const key = `${M}x${D}`;
    const hit = this.random.get(key);
    if (hit) return hit;
    const opts = { draws: this.draws, seed: this.seed };
    const matched: number[] = [];
    const mm: number[] = [];
    const pw = randomNull((a: UnitAtoms, b: UnitAtoms) => {
      const m = pwmcc(a, b);
      for (const c of m.matchedCos) matched.push(c);
      mm.push(mmcs(a, b).mmcs_ab);
      return m.value;
    }, { nA: M, nB: M, d: D }, opts);
    const half = (x: UnitAtoms, lo: number): UnitAtoms => ({ ...x, data: x.data.subarray(lo * D, (lo + M) * D), rows: M });
    const shared = randomNull((a: UnitAtoms, b: UnitAtoms) => sharedFraction(
      { enc: half(a, 0), dec: half(a, M) }, { enc: half(b, 0), dec: half(b, M) }, { tau: this.tau, taus: [this.tau] },
    ).shared_fraction, { nA: 2 * M, nB: 2 * M, d: D }, { draws: this.draws, seed: this.seed + 1 });
    const out: MetricNulls = { pwmcc: pw, shared, mmcs: summarizeNull(mm), matchedCos: matched };
    this.random.set(key, out);
    return out;
  }

  /** Untrained-SAE nulls for the resolved config `cfg`. */
  untrainedNulls(cfg: SaeConfig): MetricNulls {
    const key = stableJson(cfg);
    const hit = this.untrained.get(key);
    if (hit) return hit;
    const shared: number[] = [];
    const mm: number[] = [];
    const factory = (initSeed: number): SaeUnitAtoms => {
      const sae = initSae(cfg, initSeed);
      return atomsFromWeights(sae.params.W_dec, sae.params.W_enc, cfg.dSae, cfg.dIn, `untrained SAE (init seed ${initSeed})`);
    };
    const pw = untrainedNull(factory, (a, b) => {
      const p = onePair(a, b, { tau: this.tau });
      shared.push(p.shared);
      mm.push(p.mmcsAB);
      return p.pwmcc;
    }, { draws: this.draws, seed: UNTRAINED_SEED_OFFSET + this.seed });
    const out: MetricNulls = { pwmcc: pw, shared: summarizeNull(shared), mmcs: summarizeNull(mm), matchedCos: [] };
    this.untrained.set(key, out);
    return out;
  }

  /** gt_mcc between random dictionaries [F × D] and [M × D]. */
  groundTruthNull(F: number, M: number, D: number): NullSummary {
    const key = `${F}x${M}x${D}`;
    const hit = this.gt.get(key);
    if (hit) return hit;
    const out = randomNull((g, x) => gtMetrics(g, x).gt_mcc, { nA: F, nB: M, d: D }, { draws: this.draws, seed: this.seed + 2 });
    this.gt.set(key, out);
    return out;
  }
}
