/**
 * The stability-metric table (study/analysis/metric-table.ts) is the one place a metric is
 * declared: a test-only table with one extra row (unsigned PW-MCC, metrics/pairwise.ts
 * `pwmccAbs`), passed in — the global table is not touched — must come out in results (pair
 * values recomputed independently, both nulls, Holm-adjusted p), in the methods text, in the report
 * HTML and figures and in the `husai study` table, while every number of the default metrics stays
 * what the default table gives.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HusaiError } from '../../src/core/errors.js';
import { studyTable } from '../../src/cli/study.js';
import { pwmccAbs } from '../../src/metrics/pairwise.js';
import { holm } from '../../src/metrics/stats.js';
import { allFigures } from '../../src/report/charts.js';
import { renderPage } from '../../src/report/page.js';
import { analyseStudy, loadAtoms } from '../../src/study/analysis/index.js';
import {
  type MetricTable,
  STABILITY_METRICS,
  type StabilityMetric,
  cellStat,
  checkMetricTable,
  metricField,
} from '../../src/study/analysis/metric-table.js';
import { NullCache } from '../../src/study/analysis/nulls.js';
import { analysisData } from '../../src/study/data.js';
import type { StudyResults } from '../../src/study/results.js';
import { RUNS_DIR, StudyStore } from '../../src/study/store.js';
import { planStudy, runStudy } from '../../src/study/study.js';
import { tinySpecText, tmpDir, writeSpec } from './helpers.js';

const ABS: StabilityMetric = {
  key: 'abs_pwmcc',
  label: 'unsigned PW-MCC',
  column: () => 'abs PW-MCC',
  pair: (p) => pwmccAbs(p.a.dec, p.b.dec).value,
  atoms: 'decoder',
  nulls: 'both',
  headline: 'secondary',
  digits: 3,
  steps: false,
  methods: () => 'unsigned PW-MCC (test-only row)',
};
const EXTENDED: MetricTable = [...STABILITY_METRICS, ABS];

let dir: string;
let studyDir: string;
let base: StudyResults;
let ext: StudyResults;

beforeAll(async () => {
  dir = tmpDir('husai-metric-table-');
  const specFile = writeSpec(dir, tinySpecText());
  studyDir = path.join(dir, 'study');
  base = (await runStudy(specFile, { out: studyDir })).results!;
  const plan = planStudy(specFile);
  const store = StudyStore.open(studyDir);
  try {
    ext = analyseStudy({
      store,
      spec: plan.parsed.spec,
      specText: plan.parsed.source.text,
      runs: plan.runs,
      data: analysisData(plan.parsed.spec, plan.specDir, plan.data.identity, plan.parsed.source),
      engine: {
        name: base.study.engine,
        blasCore: base.study.blasCore,
        threads: base.study.threads,
        node: process.version,
      },
      metrics: EXTENDED,
    });
  } finally {
    store.close();
  }
}, 180_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('analyseStudy({ metrics: [...STABILITY_METRICS, extra] })', () => {
  it("puts the extra row under its camelCase field with pair values equal to pwmccAbs on the runs' decoder atoms", () => {
    expect(ext.cells.length).toBe(4);
    for (const c of ext.cells) {
      const s = cellStat(c, ABS)!;
      expect(s).not.toBeNull();
      expect((c as unknown as Record<string, unknown>).absPwmcc).toBe(s);
      const atoms = c.runIds.map((id) => loadAtoms(path.join(studyDir, RUNS_DIR, id), id));
      for (let a = 0; a < atoms.length; a++)
        for (let b = a + 1; b < atoms.length; b++) {
          expect(s.matrix[a][b]).toBeCloseTo(pwmccAbs(atoms[a].dec, atoms[b].dec).value, 10);
          // Assigning on |C| maximises Σ|C| ≥ Σ C of the signed assignment.
          expect(s.matrix[a][b]!).toBeGreaterThanOrEqual(c.pwmcc.matrix[a][b]! - 1e-9);
        }
    }
  });

  it('compares the extra row against both nulls and Holm-adjusts its p across cells', () => {
    const draws = 10;
    for (const c of ext.cells) {
      const s = cellStat(c, ABS)!;
      expect(s.nullRandom.draws).toBe(draws);
      expect(s.nullRandom.mean!).toBeGreaterThan(0);
      expect(s.nullUntrained?.draws).toBe(draws);
      expect(s.p).not.toBeNull();
    }
    const ps = ext.cells.map((c) => cellStat(c, ABS)!.p as number);
    expect(ext.cells.map((c) => cellStat(c, ABS)!.pHolm)).toEqual(Array.from(holm(ps)));
  });

  it('leaves every number of the default metrics as the default table gives them', () => {
    for (let i = 0; i < base.cells.length; i++) {
      for (const m of STABILITY_METRICS) expect(cellStat(ext.cells[i], m)).toEqual(cellStat(base.cells[i], m));
      expect(ext.cells[i].steps).toEqual(base.cells[i].steps);
      expect(ext.cells[i].matchedCosines).toEqual(base.cells[i].matchedCosines);
    }
    expect(cellStat(base.cells[0], ABS)).toBeNull();
  });

  it('adds the row to every sweep point, after the default metrics, and leaves the default points as they were', () => {
    expect(ext.sweeps.length).toBeGreaterThan(0);
    const byId = new Map(ext.cells.map((c) => [c.id, c]));
    for (const s of ext.sweeps)
      for (const p of s.points) {
        expect(Object.keys(p)).toEqual([
          'x',
          'cell',
          'pwmcc',
          'nullMean',
          'nullSd',
          'sharedFraction',
          'absPwmcc',
          'gtMcc',
        ]);
        expect((p as unknown as Record<string, unknown>).absPwmcc).toEqual(cellStat(byId.get(p.cell)!, ABS)!.estimate);
      }
    expect(
      ext.sweeps.map((s) =>
        s.points.map(({ x, cell, pwmcc, nullMean, nullSd, sharedFraction, gtMcc }) => ({
          x,
          cell,
          pwmcc,
          nullMean,
          nullSd,
          sharedFraction,
          gtMcc,
        })),
      ),
    ).toEqual(base.sweeps.map((s) => s.points));
  });

  it("adds the row's clause to the methods text", () => {
    expect(ext.methods.join('\n')).toContain('and unsigned PW-MCC (test-only row), over all seed pairs');
    expect(base.methods.join('\n')).not.toContain('test-only row');
  });
});

describe('renderPage(results, figures, metrics) and studyTable(results, metrics) with an extra row', () => {
  it('the report shows the row in the headline table, in its own section and as a heatmap', () => {
    const html = renderPage(ext, [], EXTENDED);
    expect(html).toContain('<th>abs PW-MCC [CI]</th><th>abs PW-MCC null</th>');
    expect(html).toContain('<h3 id="metric-abs_pwmcc">unsigned PW-MCC</h3>');
    for (const c of ext.cells) expect(html).toContain(`<td>${cellStat(c, ABS)!.nullRandom.mean!.toFixed(3)}</td>`);
    expect(renderPage(ext, [])).not.toContain('abs PW-MCC');
    const figs = allFigures(ext, EXTENDED);
    expect(figs.map((f) => f.name)).toContain('seed-heatmaps-abs_pwmcc');
    const sweep = figs.find((f) => f.name === 'stability-vs-width')!;
    expect((sweep.spec.data as { values: Array<{ metric: string }> }).values.map((v) => v.metric)).toContain(
      'unsigned PW-MCC',
    );
  });

  it('the CLI table has its column, "value (null)" per cell', () => {
    const lines = studyTable(ext, EXTENDED);
    expect(lines[0]).toContain('abs PW-MCC');
    ext.cells.forEach((c, i) => {
      const s = cellStat(c, ABS)!;
      expect(lines[i + 1]).toContain(`${s.estimate.mean!.toFixed(3)} (${s.nullRandom.mean!.toFixed(3)})`);
    });
    expect(studyTable(ext)[0]).not.toContain('abs PW-MCC');
  });
});

describe('metric table checks', () => {
  it('metricField(key) is the camelCase results field: shared_fraction → sharedFraction', () => {
    expect(STABILITY_METRICS.map((m) => metricField(m.key))).toEqual(['pwmcc', 'sharedFraction', 'mmcs']);
    expect(metricField('abs_pwmcc')).toBe('absPwmcc');
  });

  it('checkMetricTable(table) rejects a repeated key, a non-snake_case key and a table without one primary row', () => {
    expect(() => checkMetricTable(EXTENDED)).not.toThrow();
    expect(() => checkMetricTable([...STABILITY_METRICS, STABILITY_METRICS[1]])).toThrow(
      /shared_fraction" appears twice/,
    );
    expect(() => checkMetricTable([...STABILITY_METRICS, { ...ABS, key: 'absPwmcc' }])).toThrow(/not snake_case/);
    expect(() => checkMetricTable(STABILITY_METRICS.slice(1))).toThrow(/exactly one primary/);
  });

  it('randomNulls(M, D, table) throws a HusaiError naming a decoder-only row that reads encoder atoms', () => {
    const bad: StabilityMetric = { ...ABS, key: 'reads_enc', pair: (p) => p.a.enc.rows };
    expect(() => new NullCache(10, 0, 0.7).randomNulls(8, 4, [STABILITY_METRICS[0], bad])).toThrow(HusaiError);
    expect(() => new NullCache(10, 0, 0.7).randomNulls(8, 4, [STABILITY_METRICS[0], bad])).toThrow(
      /"reads_enc" read encoder atoms/,
    );
  });
});
