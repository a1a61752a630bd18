/**
 * The methods section of a study's report, generated from what was actually run (the resolved
 * configs, the store's rows and the analysis settings), citing docs/SCIENCE.md's definitions, so the text
 * cannot drift from the numbers beside it. The seed-stability sentence lists the metric table's
 * methods clauses, so a metric added to the table is described where it is computed.
 */
import type { ResolvedRun } from '../expand.js';
import type { AnalysisData } from '../data.js';
import type { StudyResults } from '../results.js';
import type { StudySpec } from '../spec.js';
import type { MetricTable } from './metric-table.js';
import { RESAMPLES } from './stats.js';

interface MethodsInput {
  spec: StudySpec;
  data: AnalysisData;
  runs: readonly ResolvedRun[];
  done: number;
  failed: number;
  missing: number;
  cells: number;
  engine: { name: string; blasCore: string; threads: number; husaiVersion: string; node: string };
  evalRows: number;
  /** The stability metrics computed (metric-table.ts); each contributes its clause. */
  metrics: MetricTable;
}

/** "a", "a and b", "a, b and c". */
function listText(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

export function methodsText(m: MethodsInput): StudyResults['methods'] {
  const out: string[] = [];
  const c = m.data.config;
  if (m.data.kind === 'synthetic') {
    const g = String(c.generator);
    out.push(
      `Activations: ${g} synthetic data (docs/SCIENCE.md §5) with n = ${c.n} rows, d = ${c.d}, ${c.features} ` +
        `ground-truth features, ${g === 'exact-k' ? 'exactly' : 'on average'} k = ${c.k} active per row, data seed ` +
        `${c.seed}.`,
    );
  } else {
    out.push(
      `Activations: ${String(c.path)} (${m.data.rows ?? 'unknown'} rows, d = ${m.data.d})` +
        (m.data.gt ? `, with ${m.data.gt.rows} ground-truth directions from ${String(c.ground_truth)}` : '') +
        `.`,
    );
  }
  const ids = m.runs.map((r) => r.identity);
  const uniq = <T>(xs: T[]): T[] => [...new Set(xs)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const range = (xs: number[]): string => {
    const u = uniq(xs).sort((a, b) => a - b);
    return u.length === 1 ? String(u[0]) : u.length <= 6 ? u.join(', ') : `${u[0]}–${u[u.length - 1]}`;
  };
  const archs = uniq(ids.map((i) => i.sae.arch));
  const seeds = uniq(ids.map((i) => i.seed));
  const dataSeeds = uniq(ids.map((i) => i.dataSeed));
  out.push(
    `We trained ${m.runs.length} SAEs in ${m.cells} configurations (architectures ${archs.join(', ')}; widths ` +
      `${range(ids.map((i) => i.sae.dSae))}), each with init seeds ${range(seeds)} and data-order ` +
      `seed${dataSeeds.length > 1 ? 's' : ''} ${range(dataSeeds)} (docs/SCIENCE.md §2, "Seeds").`,
  );
  const lrs = uniq(ids.map((i) => Number(i.hyper.lr.toPrecision(3))));
  const lrText = lrs.length <= 4 ? lrs.join(', ') : `${lrs[0]}–${lrs[lrs.length - 1]}`;
  out.push(
    `Training (docs/SCIENCE.md §2): ${range(ids.map((i) => i.steps))} steps at batch ` +
      `${range(ids.map((i) => i.batchSize))}, Adam (β = ${ids[0]?.hyper.beta1 ?? 0.9}, ` +
      `${ids[0]?.hyper.beta2 ?? 0.999}), peak lr ${lrText} ` +
      `with linear warm-up and linear decay over the last ` +
      `${Math.round((ids[0]?.hyper.decayFraction ?? 0.2) * 100)}%, gradient-norm clip ` +
      `${ids[0]?.hyper.clipNorm ?? 1}; inputs scaled to E‖x‖² = d, the scale folded back into the saved weights.`,
  );
  out.push(
    `Seed stability (docs/SCIENCE.md §3): ${listText(m.metrics.map((x) => x.methods(m.spec.tau)))}, over all seed ` +
      `pairs of each configuration.`,
  );
  out.push(
    `Chance (docs/SCIENCE.md §4): random dictionaries of the same shapes (Gaussian rows, normalised; ` +
      `${m.spec.null_draws} draws)` +
      (m.spec.analyses.includes('untrained_null')
        ? ` and freshly initialised SAEs of each configuration (${m.spec.null_draws} pairs)`
        : '') +
      `; excess = value − random null, ratio = value / random null.`,
  );
  out.push(
    `Uncertainty: 95% percentile intervals from ${RESAMPLES.toLocaleString('en-US')} bootstrap resamples of seeds ` +
      `(never of latents); one-sided Mann–Whitney U of the seed-pair values against the random-null draws, ` +
      `Holm-adjusted across the ${m.cells} configurations; Cohen's d with the pooled sd.`,
  );
  if (m.data.gt && m.spec.analyses.includes('ground_truth')) {
    out.push(
      `Ground truth: gt_mcc = PW-MCC between the ${m.data.gt.rows} true directions and the decoder atoms; a true ` +
        `feature counts as recovered when some atom has cos ≥ 0.9; null: random dictionaries of both shapes.`,
    );
  }
  if (m.spec.analyses.includes('features'))
    out.push(
      `Per-feature stability: a latent is present in another seed when its matched partner there has cos ≥ ` +
        `${m.spec.tau}; consensus features are cliques of mutually matched atoms across seeds.`,
    );
  if (m.spec.analyses.includes('frequency'))
    out.push(
      `Firing frequencies were measured on a fixed sample of ${m.evalRows} rows with each architecture's inference ` +
        `rule and binned by half-decades.`,
    );
  if (m.spec.analyses.includes('steps'))
    out.push(
      `Stability against training: the same pair metrics on checkpoints at steps ` +
        `${uniq(ids.flatMap((i) => i.checkpoints)).join(', ') || '(none)'} and at the end; step 0 is the ` +
        `initialisation (init hygiene: a high value there means shared initialisation, not stability).`,
    );
  if (m.failed + m.missing > 0)
    out.push(
      `${m.failed} run(s) failed (non-finite loss) and ${m.missing} were not trained; both are excluded from every ` +
        `statistic.`,
    );
  out.push(
    `Computed with husai ${m.engine.husaiVersion} on the ${m.engine.name} engine` +
      (m.engine.blasCore ? ` (OpenBLAS core ${m.engine.blasCore})` : '') +
      `, ${m.engine.threads} thread(s), Node ${m.engine.node}.`,
  );
  return out;
}
