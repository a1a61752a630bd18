/**
 * The study spec: YAML + zod validation with errors that name the line and the field, and every
 * spec shipped in studies/ parsing, validating and expanding.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpecError, loadSpec, parseSpec } from '../../src/study/spec.js';
import { planStudy } from '../../src/study/study.js';
import { builtinSpecPath } from '../../src/study/default.js';
import { tinySpecText, tmpDir, writeSpec } from './helpers.js';

function specError(text: string): SpecError {
  try {
    parseSpec(text, 'x.yaml');
  } catch (err) {
    if (err instanceof SpecError) return err;
    throw err;
  }
  throw new Error('expected a SpecError');
}

function planError(text: string): SpecError {
  const dir = tmpDir();
  try {
    planStudy(writeSpec(dir, text, 'x.yaml'));
  } catch (err) {
    if (err instanceof SpecError) return err;
    throw err;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  throw new Error('expected a SpecError');
}

describe('parseSpec(text, file)', () => {
  it('parses a valid spec and fills the defaults (null_draws 10, tau 0.7, all analyses)', () => {
    const { spec } = parseSpec(tinySpecText());
    expect(spec.name).toBe('tiny');
    expect(spec.null_draws).toBe(10);
    expect(spec.tau).toBe(0.7);
    expect(spec.analyses).toContain('stability');
    expect(spec.grid.seed).toEqual([0, 1, 2]);
  });

  it('names the line and field of a value of the wrong type', () => {
    const e = specError(tinySpecText().replace('steps: 100', 'steps: many'));
    expect(e.line).toBe(8);
    expect(e.message).toMatch(/^x\.yaml:8: defaults\.steps: found many, expected a number/);
  });

  it('names the line and index of a bad list element', () => {
    const e = specError(tinySpecText().replace('width_ratio: [1, 2]', 'width_ratio:\n    - 1\n    - -2'));
    expect(e.message).toMatch(/^x\.yaml:16: grid\.width_ratio\[1\]: found -2, expected a number > 0/);
  });

  it('names an unknown key with the known ones and the nearest', () => {
    const e = specError(tinySpecText().replace('  batch_size: 64', '  batch_sise: 64'));
    expect(e.line).toBe(9);
    expect(e.issues[0].field).toBe('defaults.batch_sise');
    expect(e.message).toMatch(/did you mean batch_size\?/);
  });

  it('names a missing required field at its parent', () => {
    const e = specError(tinySpecText().replace('question: does a tiny study run end to end?\n', ''));
    expect(e.issues[0].field).toBe('question');
    expect(e.issues[0].found).toMatch(/missing/);
  });

  it('names an unknown data kind with the kinds allowed', () => {
    const e = specError(tinySpecText().replace('kind: synthetic', 'kind: webcam'));
    expect(e.line).toBe(4);
    expect(e.issues[0].field).toBe('data.kind');
    expect(e.issues[0].expected).toMatch(/"synthetic", "file", "modarith"/);
  });

  it('names a modarith model field that is out of range', () => {
    const text = tinySpecText().replace(
      /data:\n[\s\S]*?seed: 3 \}\n/,
      'data:\n  kind: modarith\n  model_dir: m\n  model: { p: 114 }\n',
    );
    expect(() => planStudy(writeSpec(tmpDir(), text))).toThrow(/p = 114 must be a prime/);
  });

  it('rejects zipped lists of different lengths at the shorter one', () => {
    const e = specError(
      tinySpecText().replace('  width_ratio: [1, 2]\n', '') + 'zip:\n  - width_ratio: [1, 2]\n    k: [2]\n',
    );
    expect(e.issues[0].field).toBe('zip[0].k');
    expect(e.issues[0].line).toBe(19);
  });

  it('rejects a parameter swept in both grid and zip', () => {
    const e = specError(`${tinySpecText()}zip:\n  - seed: [5, 6]\n`);
    expect(e.issues[0].field).toBe('zip[0].seed');
    expect(e.issues[0].expected).toMatch(/already swept in grid\.seed/);
  });

  it('rejects width and width_ratio set in one place', () => {
    const e = specError(tinySpecText().replace('  k: 2\n', '  k: 2\n  width: 8\n  width_ratio: 1\n'));
    expect(e.issues[0].field).toBe('defaults.width_ratio');
  });

  it('reports a YAML syntax error with its line', () => {
    const e = specError('name: a\nquestion: [unclosed\ndata: 1\n');
    expect(e.issues[0].field).toBe('(yaml)');
    expect(e.line).toBeGreaterThanOrEqual(2);
  });

  it('lists every issue, one per line', () => {
    const e = specError(
      tinySpecText().replace('steps: 100', 'steps: -1').replace('tau', 'tau').replace('eval_rows: 512', 'eval_rows: 0'),
    );
    expect(e.issues.map((i) => i.field)).toEqual(['defaults.steps', 'eval_rows']);
    expect(e.message.split('\n')).toHaveLength(2);
  });
});

describe('planStudy(file): errors found while resolving runs', () => {
  it('names arch_params.<arch>.<param> that the architecture does not use', () => {
    const e = planError(`${tinySpecText()}arch_params:\n  relu:\n    k: 4\n`);
    expect(e.issues[0].field).toBe('arch_params.relu.k');
    expect(e.line).toBe(20);
  });

  it('names a grid value that the SAE config rejects (k > width)', () => {
    const e = planError(tinySpecText().replace('  k: 2\n', '  k: 50\n'));
    expect(e.issues[0].field).toBe('defaults.k');
    expect(e.issues[0].expected).toMatch(/topk: k = 50/);
  });

  it('names a generator option the generator rejects', () => {
    const e = planError(tinySpecText().replace('k: 2, seed: 3', 'k: 20, seed: 3'));
    expect(e.issues[0].field).toBe('data.options.k');
    expect(e.line).toBe(6);
  });

  it('names a missing data file with the path it looked for', () => {
    const e = planError(
      tinySpecText().replace(/data:\n[\s\S]*?seed: 3 \}\n/, 'data:\n  kind: file\n  path: nowhere.npy\n'),
    );
    expect(e.issues[0].field).toBe('data.path');
    expect(e.issues[0].expected).toMatch(/nowhere\.npy/);
  });
});

describe('studies/*.yaml', () => {
  const dir = path.dirname(builtinSpecPath());
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();

  it('builtinSpecPath() finds studies/default.yaml', () => {
    expect(files).toContain('default.yaml');
  });

  for (const f of files) {
    it(`planStudy(studies/${f}) parses, validates and expands`, () => {
      const file = path.join(dir, f);
      const { spec } = loadSpec(file);
      if (spec.data.kind === 'file' && !fs.existsSync(path.resolve(dir, spec.data.path))) {
        // Real-network studies read activations made by `husai extract`; the spec must say how.
        expect(fs.readFileSync(file, 'utf8')).toMatch(/husai extract --source \S+ --layer \S+/);
        expect(() => planStudy(file)).toThrow(/data\.path/);
        return;
      }
      const plan = planStudy(file);
      expect(plan.runs.length).toBeGreaterThan(0);
      expect(plan.parsed.spec.question.length).toBeGreaterThan(20);
      const cells = new Set(plan.runs.map((r) => r.cellId));
      // Every cell is a seed study: at least 3 seeds.
      for (const c of cells) expect(plan.runs.filter((r) => r.cellId === c).length).toBeGreaterThanOrEqual(3);
    });
  }

  it('the default study: TopK and ReLU, widths 0.5×–4× the 64 true features, 5 seeds, checkpoints from step 0', () => {
    const plan = planStudy(builtinSpecPath());
    const ids = plan.runs.map((r) => r.identity);
    expect(new Set(ids.map((i) => i.sae.arch))).toEqual(new Set(['topk', 'relu']));
    expect([...new Set(ids.map((i) => i.sae.dSae))].sort((a, b) => a - b)).toEqual([32, 64, 128, 256]);
    expect(new Set(ids.map((i) => i.seed)).size).toBe(5);
    expect(ids.every((i) => i.checkpoints[0] === 0)).toBe(true);
    expect(plan.data.features).toBe(64);
  });
});
