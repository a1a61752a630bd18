/**
 * The stability-metric table (docs/SCIENCE.md §3–§4): one row per seed-stability metric of a study. A
 * row is everything the study needs to know about its metric — its key, its label and number
 * format, the value of one seed pair, which atoms its random null must draw, which nulls it is
 * compared against, whether it is a headline metric, and its clause of the methods text. The pair
 * computation (pairs.ts), the nulls (nulls.ts), the per-cell results and Holm adjustment (cell.ts,
 * index.ts), the methods text (methods.ts), the report's tables (report/page.ts) and the table of
 * `husai study` iterate over a table of rows, so adding a metric is one row here (plus, if new, its
 * pair function in metrics/). Callers take the table as an argument defaulting to
 * {@link STABILITY_METRICS}, so a test can pass its own table without touching this one.
 *
 * A row's results.json field is the camelCase form of its snake_case key (`shared_fraction` →
 * `sharedFraction`), as every field of results.json is camelCase; the key itself names the metric
 * in the CLI's JSON and in figure names.
 */
import { HusaiError } from '../../core/errors.js';
import type { UnitAtoms } from '../../metrics/cosine.js';
import { type SharedFractionResult, mmcs } from '../../metrics/pairwise.js';
import type { CellResult, Estimate, StabilityStat, StepPoint } from '../results.js';

/** Unit encoder and decoder atoms of one SAE, both [M × D]. */
export interface SaeUnitAtoms {
  dec: UnitAtoms;
  enc: UnitAtoms;
}

/** The decoder one-to-one assignment of a pair: mean matched cosine and the matched cosines. */
export interface DecoderMatch {
  mean: number;
  matchedCos: ArrayLike<number>;
}

/**
 * One seed pair (a, b) as a metric sees it. The assignments are computed at most once per pair and
 * shared by every metric of the table: `decoderMatch()` (PW-MCC's assignment of decoder atoms) and
 * `shared()` (the Paulo & Belrose shared fraction at τ, whose decoder assignment is the same one).
 * In the random null of a metric whose `atoms` is 'decoder' only decoder atoms exist: reading
 * `a.enc` or calling `shared()` there throws.
 */
export interface PairInput {
  a: SaeUnitAtoms;
  b: SaeUnitAtoms;
  tau: number;
  decoderMatch(): DecoderMatch;
  shared(): SharedFractionResult;
}

/** A symmetric metric gives one number per pair; a directed one both directions a→b and b→a. */
export type PairValue = number | { ab: number; ba: number };

export interface StabilityMetric {
  /** snake_case key; the results.json field is its camelCase form ({@link metricField}). */
  key: string;
  /** Name in prose and figure titles, e.g. "PW-MCC". */
  label: string;
  /** Column heading in the headline tables (τ is the study's threshold). */
  column: (tau: number) => string;
  /** The value of one seed pair. Directed values are averaged over ordered pairs. */
  pair: (p: PairInput) => PairValue;
  /**
   * What the metric reads, and so what its random null draws (docs/SCIENCE.md §4): 'decoder' — random
   * dictionaries [M × D] as decoders; 'sae' — random SAEs, encoder and decoder independent [M × D]
   * dictionaries (one draw of 2M rows split in halves).
   */
  atoms: 'decoder' | 'sae';
  /**
   * The nulls it is compared against: always the random null (the p-value and the verdict are
   * defined against it), plus the untrained-SAE null with 'both' when the spec's analyses include
   * untrained_null.
   */
  nulls: 'random' | 'both';
  /**
   * 'primary': the headline metric (full columns, verdict); 'secondary': value and null beside it; null: detail section
   * only.
   */
  headline: 'primary' | 'secondary' | null;
  /** Decimal digits of its values in tables. */
  digits: number;
  /** Also computed on the checkpoints (stability against training steps). */
  steps: boolean;
  /** Its clause of the methods text's seed-stability sentence. */
  methods: (tau: number) => string;
}

export type MetricTable = readonly StabilityMetric[];

export const STABILITY_METRICS: MetricTable = [
  {
    key: 'pwmcc',
    label: 'PW-MCC',
    column: () => 'PW-MCC',
    pair: (p) => p.decoderMatch().mean,
    atoms: 'decoder',
    nulls: 'both',
    headline: 'primary',
    digits: 3,
    steps: true,
    methods: () =>
      'decoder PW-MCC (signed cosines of unit decoder atoms under a maximum-weight one-to-one assignment, Song et ' +
      'al. 2025)',
  },
  {
    key: 'shared_fraction',
    label: 'shared fraction',
    column: (tau) => `shared τ=${tau}`,
    pair: (p) => p.shared().shared_fraction,
    atoms: 'sae',
    nulls: 'both',
    headline: 'secondary',
    digits: 2,
    steps: true,
    methods: (tau) =>
      `the shared fraction at τ = ${tau} (encoder and decoder assignments agree and both cosines ≥ τ, Paulo & ` +
      `Belrose 2025)`,
  },
  {
    key: 'mmcs',
    label: 'MMCS',
    column: () => 'MMCS',
    pair: (p) => {
      const m = mmcs(p.a.dec, p.b.dec);
      return { ab: m.mmcs_ab, ba: m.mmcs_ba };
    },
    atoms: 'decoder',
    nulls: 'both',
    headline: null,
    digits: 3,
    steps: false,
    methods: () => 'signed MMCS (Sharkey et al. 2022)',
  },
];

/** The results.json field of a metric key: snake_case → camelCase. */
export function metricField(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * A cell's StabilityStat of metric `m`, or null when the cell does not have it (results written with another table).
 */
export function cellStat(cell: CellResult, m: StabilityMetric): StabilityStat | null {
  return (cell as unknown as Record<string, StabilityStat | undefined>)[metricField(m.key)] ?? null;
}

/** A checkpoint point's estimate of metric `m`, or null. */
export function stepEstimate(point: StepPoint, m: StabilityMetric): Estimate | null {
  return (point as unknown as Record<string, Estimate | undefined>)[metricField(m.key)] ?? null;
}

/** Checks a table: unique snake_case keys and exactly one primary row. */
export function checkMetricTable(table: MetricTable): void {
  const seen = new Set<string>();
  for (const m of table) {
    if (!/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/.test(m.key))
      throw new HusaiError(`stability metric key "${m.key}" is not snake_case`);
    if (seen.has(m.key)) throw new HusaiError(`stability metric key "${m.key}" appears twice in the metric table`);
    seen.add(m.key);
  }
  const primary = table.filter((m) => m.headline === 'primary');
  if (primary.length !== 1)
    throw new HusaiError(
      `the metric table needs exactly one primary (headline) metric, got ${primary.length}: ` +
        `${primary.map((m) => m.key).join(', ') || 'none'}`,
    );
}

/** The primary metric of a table. */
export function primaryMetric(table: MetricTable): StabilityMetric {
  const row = table.find((m) => m.headline === 'primary');
  if (!row) throw new HusaiError('the metric table has no primary (headline) metric');
  return row;
}
