/**
 * StudyResults: the one JSON document a finished study's analyses produce and its report reads
 * (docs/ARCHITECTURE.md, "The flow": study store → report). The runner writes it to DIR/results.json and the
 * analyses table of the store; report/ reads only this (and the spec text), never the SAE files,
 * so a report can be rebuilt from a merged or copied study without recomputing anything.
 *
 * Every stability number travels with its chance value and its seed-level CI (docs/SCIENCE.md §4):
 * `Estimate` = mean over seed pairs (or seeds) + percentile bootstrap CI over seeds + the null.
 * All fields are plain JSON (no NaN: unknown values are null).
 */

import type { FeatureCards } from '../inspect/cards.js';

/** A value with its 95% seed-bootstrap CI; null fields when the sample is too small. */
export interface Estimate {
  mean: number | null;
  lo: number | null;
  hi: number | null;
  /** How many values (seeds or seed pairs) went into the mean. */
  n: number;
}

/** A chance baseline: mean ± sd over `draws` draws of the same shapes (docs/SCIENCE.md §4). */
export interface NullBand {
  kind: 'random' | 'untrained';
  mean: number | null;
  sd: number | null;
  draws: number;
}

/** A stability metric of one cell across its seeds, against chance. */
export interface StabilityStat {
  /** Pairwise values between seeds, [S][S] (diagonal 1; null where not computed). */
  matrix: Array<Array<number | null>>;
  estimate: Estimate;
  nullRandom: NullBand;
  /** Between freshly initialised SAEs of the same config (init hygiene, docs/SCIENCE.md §4). */
  nullUntrained: NullBand | null;
  /** estimate.mean − nullRandom.mean, and their ratio. */
  excess: number | null;
  ratio: number | null;
  /** One-sided Mann–Whitney U p-value, trained pair values > random null draws; then Holm across cells. */
  p: number | null;
  pHolm: number | null;
  cohensD: number | null;
}

/** Modular-arithmetic data only: what each cell's SAE latents say in the Fourier basis (issue 6). */
export interface FourierCellResult {
  /** The model's key frequencies (embedding, 90% of its Fourier power). */
  keys: number[];
  /** Key share at or above which a latent is a Fourier feature (0.8). */
  threshold: number;
  /** The activations the latents were evaluated on, e.g. "resid_post, layer 0, position eq". */
  grid: string;
  /** Fourier-feature fraction of live latents, over seeds. */
  fraction: Estimate;
  perSeedFraction: Array<number | null>;
  /** The same fraction for random-direction ReLU probes of the activations (chance). */
  chanceFraction: number | null;
  /** Mean key share of live latents, over seeds. */
  meanKeyShare: Estimate;
  /** Matched Fourier features with the same dominant frequency, over seed pairs. */
  agreement: Estimate;
  /** Shuffled-pairing null of the agreement (mean over seed pairs). */
  agreementNull: number | null;
  /** Largest permutation p-value over seed pairs (conservative). */
  agreementP: number | null;
  fourierPairsPerSeedPair: number;
  /** Fourier features per dominant key frequency, pooled over seeds. */
  featuresPerKey: Array<{ k: number; count: number }>;
}

export interface RunRecord {
  id: string;
  cell: string;
  arch: string;
  width: number;
  k: number | null;
  l1: number | null;
  seed: number;
  dataSeed: number;
  steps: number;
  batchSize: number;
  /** Relative path of the SAELens directory inside the study directory. */
  dir: string;
  status: 'done' | 'failed';
  error: string | null;
  seconds: number;
  final: { mse: number; explained_variance: number; l0: number; n_dead: number; dead_fraction: number } | null;
  /** Ground-truth recovery of this run, when the data has ground truth. */
  gt: { gt_mcc: number; gt_mmcs: number; gt_recovered_09: number; gt_recovered_07: number } | null;
  /** Who trained it, e.g. "husai 0.1.0 (numerics 1) on native/openblas" (study/provenance.ts). */
  provenance?: string;
}

/**
 * A point of a stability-vs-training curve (from checkpoints; step 0 = init hygiene): an Estimate per metric-table row
 * with `steps`.
 */
export interface StepPoint {
  step: number;
  pwmcc: Estimate;
  sharedFraction: Estimate;
}

export interface CellResult {
  id: string;
  /** Human label, e.g. "topk m=256 k=4". */
  label: string;
  /** The grid parameters that define the cell (everything but the seed). */
  params: Record<string, string | number | boolean | null>;
  arch: string;
  width: number;
  k: number | null;
  l1: number | null;
  seeds: number[];
  runIds: string[];
  /*
   * One StabilityStat per row of the stability-metric table (study/analysis/metric-table.ts), under
   * the camelCase form of the row's key, in table order; the default table's three are typed here.
   * Read a row's stat with metric-table.ts `cellStat`.
   */
  /** Decoder PW-MCC (signed, docs/SCIENCE.md §3). The headline metric. */
  pwmcc: StabilityStat;
  /** Paulo & Belrose shared fraction at τ. */
  sharedFraction: StabilityStat;
  /** Signed MMCS, A→B averaged over ordered pairs. */
  mmcs: StabilityStat;
  tau: number;
  /** Mean final metrics over seeds. */
  l0: Estimate;
  explainedVariance: Estimate;
  deadFraction: Estimate;
  /** Ground-truth recovery over seeds, with its null (absent without ground truth). */
  groundTruth: { gtMcc: Estimate; gtRecovered09: Estimate; nullGtMcc: NullBand } | null;
  /** Per-feature stability over seeds: histogram[m − 1] = fraction of latents present in m of S seeds. */
  presentIn: number[];
  uniqueCurve: { seeds: number[]; fractionUnique: number[] };
  meanFeatureStability: number | null;
  /** Histogram of matched cosines pooled over seed pairs: bin edges (length bins + 1) and counts. */
  matchedCosines: { edges: number[]; counts: number[]; nullCounts: number[] };
  /** Stability by firing-frequency bin (docs/SCIENCE.md §4, "Frequency"). */
  frequencyBins: Array<{ lo: number; hi: number; latents: number; stability: number | null }>;
  /** Consensus features: count, and size histogram (clusterSizes[m] clusters with m members). */
  consensus: { count: number; clusterSizes: number[] };
  /** 2-D PCA map of decoder atoms of all seeds, with consensus cluster ids (−1: none). At most ~4000 points. */
  atomMap: { x: number[]; y: number[]; seed: number[]; cluster: number[] } | null;
  /** Stability against training steps (checkpoints), step 0 first. */
  steps: StepPoint[];
  /** Fourier analysis (modular-arithmetic data only; absent or null otherwise). */
  fourier?: FourierCellResult | null;
}

/**
 * One swept parameter's curve for one architecture: stability vs width, k, l1 or steps. A point holds
 * an Estimate per headline row of the metric table (nullMean, nullSd: the primary row's random null).
 */
export interface SweepCurve {
  param: string;
  arch: string;
  /** Other fixed parameters of this curve, for the legend. */
  fixed: Record<string, string | number | boolean | null>;
  points: Array<{
    x: number;
    cell: string;
    pwmcc: Estimate;
    nullMean: number | null;
    nullSd: number | null;
    sharedFraction: Estimate;
    gtMcc: Estimate | null;
  }>;
}

export interface StudyResults {
  format: 'husai-study-results/1';
  study: {
    name: string;
    question: string;
    created: string;
    husaiVersion: string;
    engine: string;
    blasCore: string;
    threads: number;
    /** The spec exactly as given (YAML text). */
    specText: string;
    /** Wall-clock seconds spent training and analysing (this process and merged shards). */
    trainSeconds: number;
    analysisSeconds: number;
    /**
     * Who trained the runs: one entry per husai version / numerics version / engine / BLAS / commit,
     * with its run count. `mixed`: the runs come from different numerics (allowed by --allow-mixed).
     */
    trainedBy?: Array<{ label: string; runs: number }>;
    mixed?: boolean;
  };
  data: {
    name: string;
    kind: string;
    rows: number | null;
    d: number;
    groundTruth: boolean;
    config: Record<string, unknown>;
    /**
     * Facts about the data (modular arithmetic: the model's accuracy, key frequencies, effective rank); absent
     * otherwise.
     */
    summary?: Record<string, unknown> | null;
  };
  runs: RunRecord[];
  cells: CellResult[];
  sweeps: SweepCurve[];
  /** Architectures compared at matched L0 (cells whose mean L0 agree within 25%), when several archs ran. */
  archComparison: Array<{ l0: number; cells: string[] }>;
  /** Generated text for the report's methods section. */
  methods: string[];
  /**
   * Feature cards of the first cell's lowest-seed SAE, when the data is a `husai extract` shard folder
   * (study/cards.ts).
   */
  cards?: FeatureCards | null;
}
