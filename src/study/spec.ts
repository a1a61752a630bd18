/**
 * The study spec: one YAML file that says what to train and what to measure (docs/ARCHITECTURE.md, "study/:
 * spec (YAML + schema)"). Parsed with `yaml`'s parseDocument (keeping node ranges) and validated by
 * a zod schema; every error names the file, the LINE, the field path, what was found and what was
 * expected — also for errors found later, while runs are resolved (`SpecSource.fail`).
 *
 * Shape (snake_case keys; see studies/*.yaml for worked examples):
 *   name, question, description?         study name (a directory name) and the research question
 *   data: {kind: synthetic, generator, options} | {kind: file, path, tensor?, ground_truth?}
 *       | {kind: modarith, model_dir, model?, hook?, layer?, position?}   (the modular-arithmetic
 *         transformer's activations over all p² inputs; its model trained on first use)
 *   width_ratio_of?: features | d        what width_ratio multiplies (default: features when known)
 *   defaults: {param: value}             every run starts from these (params.ts)
 *   grid: {param: [values]}              cartesian product
 *   zip: [{param: [values], ...}]        each group's lists vary together (equal lengths)
 *   arch_params: {arch: {param: value | [values]}}  per-architecture values (a list sweeps that arch)
 *   analyses, null_draws (10), tau (0.7), checkpoints ([0]), eval_rows (8192), analysis_seed (0),
 *   runs_per_pass (8)
 * The `data` union is keyed by `kind`, so a new data kind is one more schema entry.
 */
import { z } from 'zod';
import {
  type Document,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Node as YamlNode,
  type Pair,
  type Scalar,
  visit,
} from 'yaml';
import { DataError } from '../core/errors.js';
import { readRegularFile } from '../formats/io.js';
import { SYNTHETIC_KINDS } from '../data/synthetic/index.js';
import { HOOKS } from '../models/modarith/extract.js';
import { ARCH_NAMES, PARAM_NAMES, listShape, paramShape, valueOrListShape } from './params.js';

/** Every analysis a study can run (results.ts fields they fill). */
export const ANALYSES = [
  'stability',
  'untrained_null',
  'ground_truth',
  'features',
  'frequency',
  'cosine_histogram',
  'atom_map',
  'steps',
  'sweeps',
  'arch_comparison',
  'fourier',
] as const;
export type AnalysisName = (typeof ANALYSES)[number];

const syntheticData = z.strictObject({
  kind: z.literal('synthetic'),
  generator: z.enum(SYNTHETIC_KINDS as [string, ...string[]]),
  /** Generator options (data/synthetic/*.ts), validated by the generator itself. */
  options: z.record(z.string(), z.unknown()),
});

const fileData = z.strictObject({
  kind: z.literal('file'),
  /** .npy, .safetensors or a shard folder, relative to the spec file. */
  path: z.string().min(1),
  tensor: z.string().min(1).optional(),
  /** Optional ground-truth directions [F, d] (.npy or .safetensors), relative to the spec file. */
  ground_truth: z.string().min(1).optional(),
  ground_truth_tensor: z.string().min(1).optional(),
});

const modarithData = z.strictObject({
  kind: z.literal('modarith'),
  /** The model folder (relative to the spec file); trained with `model` on first use when missing. */
  model_dir: z.string().min(1),
  /** models/modarith/config.ts fields (task, p, seed, steps, …); omitted ones take the grokking recipe. */
  model: z.record(z.string(), z.unknown()).default({}),
  hook: z.enum(HOOKS).default('resid_post'),
  layer: z.number().int().min(0).default(0),
  position: z.enum(['a', 'b', 'eq', 'all']).default('eq'),
});

const archParams = z.strictObject(
  Object.fromEntries(ARCH_NAMES.map((a) => [a, z.strictObject(valueOrListShape()).optional()])),
);

export const specSchema = z
  .strictObject({
    name: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
        'a name of letters, digits, ".", "_" or "-" (it names the output directory)',
      ),
    question: z.string().min(1),
    description: z.string().optional(),
    data: z.discriminatedUnion('kind', [syntheticData, fileData, modarithData]),
    width_ratio_of: z.enum(['features', 'd']).optional(),
    defaults: z.strictObject(paramShape()).default({}),
    grid: z.strictObject(listShape()).default({}),
    zip: z.array(z.strictObject(listShape())).default([]),
    arch_params: archParams.default({}),
    analyses: z.array(z.enum(ANALYSES)).default([...ANALYSES]),
    null_draws: z.number().int().min(10).default(10),
    tau: z.number().gt(0).max(1).default(0.7),
    checkpoints: z.array(z.number().int().min(0)).default([0]),
    eval_rows: z.number().int().min(1).default(8192),
    analysis_seed: z.number().int().default(0),
    runs_per_pass: z.number().int().min(1).default(8),
  })
  .superRefine((spec, ctx) => {
    const seen = new Map<string, string>();
    const claim = (name: string, where: (string | number)[]): void => {
      const prev = seen.get(name);
      if (prev !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: where,
          message: `a parameter swept in only one place (${name} is already swept in ${prev})`,
        });
      else seen.set(name, where.join('.'));
    };
    for (const name of Object.keys(spec.grid)) claim(name, ['grid', name]);
    spec.zip.forEach((group, g) => {
      const names = Object.keys(group) as Array<keyof typeof group>;
      if (names.length === 0)
        ctx.addIssue({ code: 'custom', path: ['zip', g], message: 'at least one parameter list' });
      const len = names.length > 0 ? (group[names[0]] as unknown[]).length : 0;
      for (const name of names) {
        claim(name, ['zip', g, name]);
        const n = (group[name] as unknown[]).length;
        if (n !== len)
          ctx.addIssue({
            code: 'custom',
            path: ['zip', g, name],
            message:
              `a list as long as zip[${g}].${String(names[0])} (${len} values), since zipped lists vary ` +
              `together; found ${n} values`,
          });
      }
    });
    const layers: Array<[string[], Record<string, unknown>]> = [
      [['defaults'], spec.defaults],
      [['sweep'], { ...spec.grid, ...Object.assign({}, ...spec.zip) }],
    ];
    for (const [a, p] of Object.entries(spec.arch_params)) if (p) layers.push([['arch_params', a], p]);
    for (const [where, layer] of layers) {
      if ('width' in layer && 'width_ratio' in layer) {
        const path = where[0] === 'sweep' ? (seen.get('width_ratio') ?? 'grid').split('.') : [...where, 'width_ratio'];
        ctx.addIssue({ code: 'custom', path, message: 'either width or width_ratio in one place, not both' });
      }
      if (where[0] === 'arch_params') {
        for (const bad of ['arch', 'seed', 'data_seed']) {
          if (bad in layer)
            ctx.addIssue({
              code: 'custom',
              path: [...where, bad],
              message: `no ${bad} here (arch_params holds per-architecture training values; sweep ${bad} in grid)`,
            });
        }
      }
    }
  });

export type StudySpec = z.output<typeof specSchema>;

/** One problem in a spec, located. */
interface SpecIssue {
  file: string;
  line: number;
  column: number;
  /** Dotted field path, e.g. `grid.width_ratio[2]`. */
  field: string;
  found: string;
  expected: string;
}

/**
 * A spec that does not parse or validate; the message lists every issue as `file:line: field: found …, expected …`.
 */
export class SpecError extends DataError {
  readonly line: number;
  constructor(readonly issues: SpecIssue[]) {
    const first = issues[0];
    super(`${first.file}:${first.line}`, first.field, first.found, first.expected);
    this.line = first.line;
    if (issues.length > 1) {
      this.message += `\n${issues
        .slice(1)
        .map((i) => `${i.file}:${i.line}: ${i.field}: found ${i.found}, expected ${i.expected}`)
        .join('\n')}`;
    }
  }
}

/** A parsed spec with what errors need to point back into its text. */
export class SpecSource {
  constructor(
    readonly file: string,
    readonly text: string,
    readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** 1-based line and column of the YAML node at `path` (the deepest existing ancestor when missing). */
  locate(path: ReadonlyArray<string | number>): {
    line: number;
    column: number;
    node: YamlNode | null;
    exists: boolean;
  } {
    let node: unknown = this.doc.contents;
    let at: [number, number] | null = rangeOf(node);
    let exists = true;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p: Pair) => (isScalar(p.key) ? (p.key as Scalar).value : p.key) === seg);
        if (!pair) {
          exists = false;
          break;
        }
        at = rangeOf(pair.key) ?? at;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
        node = node.items[seg];
        at = rangeOf(node) ?? at;
      } else {
        exists = false;
        break;
      }
    }
    const pos = this.lines.linePos(at ? at[0] : 0);
    return {
      line: pos.line,
      column: pos.col,
      node: exists && node && typeof node === 'object' ? (node as YamlNode) : null,
      exists,
    };
  }

  /** A SpecIssue at `path` (found: the YAML source there unless given). */
  issue(path: ReadonlyArray<string | number>, expected: string, found?: string): SpecIssue {
    const loc = this.locate(path);
    return {
      file: this.file,
      line: loc.line,
      column: loc.column,
      field: fieldName(path),
      found: found ?? describeNode(loc.node, loc.exists, this.text),
      expected,
    };
  }

  /** Throws a SpecError at `path`. */
  fail(path: ReadonlyArray<string | number>, expected: string, found?: string): never {
    throw new SpecError([this.issue(path, expected, found)]);
  }
}

export interface ParsedSpec {
  spec: StudySpec;
  source: SpecSource;
}

/** Alias expansions a spec may make (yaml's maxAliasCount): more is an alias bomb, refused with its line. */
const MAX_ALIAS_COUNT = 100;

/** Reads and validates a spec file. */
export function loadSpec(file: string): ParsedSpec {
  return parseSpec(readRegularFile(file, 'utf8'), file);
}

/** Parses and validates spec text; `file` names it in errors. */
export function parseSpec(text: string, file = 'spec.yaml'): ParsedSpec {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const source = new SpecSource(file, text, doc, lines);
  if (doc.errors.length > 0) {
    throw new SpecError(
      doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        return {
          file,
          line: pos.line,
          column: pos.col,
          field: '(yaml)',
          found: `a YAML syntax error (${e.code})`,
          expected: `valid YAML: ${e.message.split('\n')[0]}`,
        };
      }),
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // yaml throws a ReferenceError when aliases expand past maxAliasCount (a "billion laughs" bomb).
    if (!(err instanceof ReferenceError)) throw err;
    let at: [number, number] | null = null;
    visit(doc, { Alias: (_k, node) => ((at = node.range ? [node.range[0], node.range[1]] : null), visit.BREAK) });
    const pos = lines.linePos(at ? (at as [number, number])[0] : 0);
    throw new SpecError([
      {
        file,
        line: pos.line,
        column: pos.col,
        field: '(yaml)',
        found: `aliases that expand too far (${err.message})`,
        expected: `at most ${MAX_ALIAS_COUNT} alias expansions: write the lists out`,
      },
    ]);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    source.fail(
      [],
      'a YAML mapping with name, question, data, …',
      raw === null ? 'an empty document' : `a ${Array.isArray(raw) ? 'list' : typeof raw}`,
    );
  const parsed = specSchema.safeParse(raw);
  if (!parsed.success) throw new SpecError(parsed.error.issues.flatMap((i) => zodIssues(source, i)));
  return { spec: parsed.data, source };
}

/** Turns one zod issue into located SpecIssues (unknown keys: one per key). */
function zodIssues(src: SpecSource, issue: z.core.$ZodIssue): SpecIssue[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => {
        const known = knownKeysAt(path, src);
        const near = closest(key, known);
        return src.issue(
          [...path, key],
          `one of ${known.join(', ')}${near ? ` (did you mean ${near}?)` : ''}`,
          `an unknown key ${JSON.stringify(key)}`,
        );
      });
    case 'invalid_type':
      return [src.issue(path, `${article(issue.expected)}`)];
    case 'invalid_value':
      return [src.issue(path, `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`)];
    case 'too_small':
    case 'too_big': {
      const op = issue.code === 'too_small' ? (issue.inclusive ? '≥' : '>') : issue.inclusive ? '≤' : '<';
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const what =
        issue.origin === 'array'
          ? `a list with ${op} ${bound} item(s)`
          : issue.origin === 'string'
            ? `a string of length ${op} ${bound}`
            : `a number ${op} ${bound}`;
      return [src.issue(path, what)];
    }
    case 'invalid_union': {
      const disc = issue as unknown as { discriminator?: string; options?: unknown[] };
      if (disc.discriminator && disc.options)
        return [src.issue(path, `one of ${disc.options.map((o) => JSON.stringify(o)).join(', ')}`)];
      const alts = issue.errors
        .map((errs) => errs.map((e) => describeExpected(e)).join(' and '))
        .filter((s) => s.length > 0);
      return [src.issue(path, alts.length > 0 ? alts.join(', or ') : issue.message)];
    }
    case 'invalid_format':
      return [
        src.issue(path, issue.message.startsWith('Invalid') ? `a string matching ${issue.format}` : issue.message),
      ];
    default:
      return [src.issue(path, issue.message)];
  }
}

function describeExpected(e: z.core.$ZodIssue): string {
  switch (e.code) {
    case 'invalid_type':
      return article(e.expected);
    case 'invalid_value':
      return `one of ${e.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      return `${e.origin === 'array' ? 'a list of length' : 'a number'} ${e.inclusive ? '≥' : '>'} ${e.minimum}`;
    case 'too_big':
      return `${e.origin === 'array' ? 'a list of length' : 'a number'} ${e.inclusive ? '≤' : '<'} ${e.maximum}`;
    default:
      return e.message;
  }
}

function article(expected: string): string {
  const words: Record<string, string> = {
    int: 'an integer',
    number: 'a number',
    string: 'a string',
    array: 'a list',
    object: 'a mapping',
    boolean: 'true or false',
    null: 'null',
  };
  return words[expected] ?? expected;
}

/** The keys allowed at `path` (for unknown-key messages). */
function knownKeysAt(path: ReadonlyArray<string | number>, src: SpecSource): string[] {
  if (path.length === 0) return TOP_KEYS;
  const top = path[0];
  if (top === 'data') {
    const kind = (src.doc.toJS() as { data?: { kind?: string } }).data?.kind;
    return Object.keys((kind === 'file' ? fileData : kind === 'modarith' ? modarithData : syntheticData).shape);
  }
  if (top === 'arch_params' && path.length === 1) return [...ARCH_NAMES];
  return [...PARAM_NAMES];
}

const TOP_KEYS = [
  'name',
  'question',
  'description',
  'data',
  'width_ratio_of',
  'defaults',
  'grid',
  'zip',
  'arch_params',
  'analyses',
  'null_draws',
  'tau',
  'checkpoints',
  'eval_rows',
  'analysis_seed',
  'runs_per_pass',
];

/** The known key nearest to `key` by edit distance, when it is close (≤ 2 edits or a prefix). */
function closest(key: string, known: string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== null && (bestD <= 2 || best.startsWith(key)) ? best : null;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

function rangeOf(node: unknown): [number, number] | null {
  if (node && typeof node === 'object' && 'range' in node) {
    const r = (node as { range?: [number, number, number] | null }).range;
    if (r) return [r[0], r[1]];
  }
  return null;
}

/** `grid.width_ratio[2]` from ['grid', 'width_ratio', 2]. */
function fieldName(path: ReadonlyArray<string | number>): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  return out === '' ? '(document)' : out;
}

function describeNode(node: YamlNode | null, exists: boolean, text: string): string {
  if (!exists) return 'nothing (the field is missing)';
  if (node === null) return 'an empty value';
  if (isScalar(node)) {
    const r = rangeOf(node);
    const srcText = r ? text.slice(r[0], r[1]).trim() : String(node.value);
    return srcText.length > 60 ? `${srcText.slice(0, 57)}...` : srcText === '' ? 'an empty value' : srcText;
  }
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isPair(node)) return 'a key/value pair';
  return 'a YAML value';
}
