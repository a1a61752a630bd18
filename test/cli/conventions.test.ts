/**
 * The CLI conventions (issue 11, deliverable 7), checked by walking the real command tree
 * (buildProgram() of src/cli/program.ts) — so a new command or option that breaks one fails here —
 * and by a few runs of the real CLI (`node bin/husai.js`, compiled into dist/ first) on cheap
 * commands: --json prints exactly one JSON document with snake_case keys only, and a bad number
 * gives a message naming the flag and the value, and exit code 2.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command, Option } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as sharedParsers from '../../src/cli/args.js';
import { ensureDist } from './dist.js';
import { buildProgram } from '../../src/cli/program.js';

/** Runnable commands without --json, with the reason. None today: every command produces a result. */
const NO_JSON: Record<string, string> = {};

/** Commands that write a folder or file: each must name it with --out. */
const WRITERS = ['synth', 'train', 'extract', 'cards', 'universality', 'study', 'modarith train', 'modarith extract'];

/** Options whose value is a string (a path, a name, a choice, a pattern), so no number parser is expected. */
const STRING_OPTIONS = new Set([
  '--out',
  '--data',
  '--arch',
  '--tensor',
  '--kind',
  '--sae',
  '--acts',
  '--ground-truth',
  '--hookpoint',
  '--fourier',
  '--source',
  '--layer',
  '--images',
  '--split',
  '--pool',
  '--text',
  '--a',
  '--a-acts',
  '--b',
  '--b-acts',
  '--matrix',
  '--model',
  '--hook',
  '--position',
  '--task',
  '--shard',
  '--worker',
]);

/** Names replaced by one convention: --limit for "first n rows", --out for output folders. */
const FORBIDDEN = ['--n', '--rows', '--max-rows', '--report', '--output', '--out-dir', '--dir'];

/** The shared parsers, with the generated `husai train` parameter parsers (made by buildProgram). */
const parsers = (): Set<unknown> =>
  new Set<unknown>([...Object.values(sharedParsers), ...sharedParsers.paramArgParsers()]);

interface Walked {
  name: string;
  cmd: Command;
  runnable: boolean;
}

function walk(cmd: Command, prefix: string[] = []): Walked[] {
  return cmd.commands.flatMap((c) => {
    const names = [...prefix, c.name()];
    const runnable = (c as unknown as { _actionHandler: unknown })._actionHandler != null;
    return [{ name: names.join(' '), cmd: c, runnable }, ...walk(c, names)];
  });
}

const commands = walk(buildProgram());
const takesValue = (o: Option): boolean => o.required || o.optional;
const parserOf = (o: Option): unknown => (o as unknown as { parseArg?: unknown }).parseArg;

describe('husai command tree', () => {
  it('walk(buildProgram()) finds every command, groups and subcommands included', () => {
    const names = commands.map((c) => c.name);
    for (const n of [
      'info',
      'synth',
      'train',
      'compare',
      'study',
      'study merge',
      'bench gemm',
      'modarith extract',
      'cards',
      'report',
    ])
      expect(names).toContain(n);
  });

  it.each(commands.map((c) => [c.name, c] as const))('%s has a description', (_, c) => {
    expect(c.cmd.description().trim().length).toBeGreaterThan(10);
  });

  it.each(commands.filter((c) => c.runnable).map((c) => [c.name, c] as const))(
    '%s has --json unless listed in NO_JSON',
    (name, c) => {
      const has = c.cmd.options.some((o) => o.long === '--json');
      expect(has, NO_JSON[name] ?? `${name} produces results but has no --json`).toBe(NO_JSON[name] === undefined);
    },
  );

  it('NO_JSON and WRITERS name existing runnable commands', () => {
    const runnable = new Set(commands.filter((c) => c.runnable).map((c) => c.name));
    for (const n of [...Object.keys(NO_JSON), ...WRITERS]) expect(runnable.has(n), n).toBe(true);
  });

  it.each(WRITERS)('%s names its output with --out <…>', (name) => {
    const c = commands.find((x) => x.name === name)!;
    const out = c.cmd.options.find((o) => o.long === '--out');
    expect(out && takesValue(out)).toBe(true);
  });

  it.each(commands.map((c) => [c.name, c] as const))(
    '%s: option names are kebab-case, none of --n/--rows/--report/…',
    (_, c) => {
      for (const o of c.cmd.options) {
        expect(o.long, o.flags).toMatch(/^--[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
        expect(FORBIDDEN, o.flags).not.toContain(o.long);
      }
    },
  );

  it.each(commands.map((c) => [c.name, c] as const))('%s: an option that writes a file or folder is --out', (_, c) => {
    for (const o of c.cmd.options.filter(takesValue)) {
      if (/\b(write|writes|output)\b/i.test(o.description))
        expect(o.long, `${o.flags}: ${o.description}`).toBe('--out');
    }
  });

  it.each(commands.map((c) => [c.name, c] as const))(
    '%s: every option value goes through a shared parser (cli/args.ts) or is a listed string',
    (_, c) => {
      for (const o of c.cmd.options.filter(takesValue)) {
        const parser = parserOf(o);
        if (parser !== undefined)
          expect(parsers().has(parser), `${o.flags} uses a parser that is not in cli/args.ts`).toBe(true);
        else
          expect(
            STRING_OPTIONS.has(o.long!),
            `${o.flags} has no parser: a number needs one of cli/args.ts, a string goes into STRING_OPTIONS`,
          ).toBe(true);
        if (typeof o.defaultValue === 'number')
          expect(parser, `${o.flags} has a numeric default but no parser`).toBeDefined();
      }
    },
  );

  it.each(commands.map((c) => [c.name, c] as const))('%s: --limit reads "use only the first n …"', (_, c) => {
    for (const o of c.cmd.options.filter((x) => x.long === '--limit')) {
      expect(o.description).toMatch(/^use only the first n \S/);
      expect(parserOf(o)).toBe(sharedParsers.parsePositiveIntArg);
    }
  });
});

// ---- the real CLI -------------------------------------------------------------------------------

const repo = path.resolve(__dirname, '..', '..');
let tmp: string;

beforeAll(async () => {
  await ensureDist();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'husai-cli-'));
}, 300_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function husai(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [path.join(repo, 'bin', 'husai.js'), ...args], {
    cwd: tmp,
    encoding: 'utf8',
    env: { ...process.env, HUSAI_THREADS: '1' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Every object key, at any depth, with its path. */
function keysOf(v: unknown, at = '$'): string[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => keysOf(x, `${at}[${i}]`));
  if (v === null || typeof v !== 'object') return [];
  return Object.entries(v).flatMap(([k, x]) => [`${at}.${k}`, ...keysOf(x, `${at}.${k}`)]);
}

/** stdout is one JSON document and every key in it is snake_case. */
function jsonOf(r: { code: number | null; out: string; err: string }): Record<string, unknown> {
  expect(r.code, r.err).toBe(0);
  const doc = JSON.parse(r.out) as Record<string, unknown>;
  const bad = keysOf(doc).filter((p) => !/^[a-z0-9]+(_[a-z0-9]+)*$/.test(p.slice(p.lastIndexOf('.') + 1)));
  expect(bad).toEqual([]);
  return doc;
}

describe('husai … --json through bin/husai.js', () => {
  it('husai info --json: one snake_case object', () => {
    const doc = jsonOf(husai('info', '--json'));
    expect(doc).toHaveProperty('blas_core');
    expect(doc).toHaveProperty('husai');
  });

  it('husai synth … --json, train … --json, compare A B --json, compare A --ground-truth --json: snake_case documents', () => {
    const syn = jsonOf(
      husai(
        'synth',
        '--kind',
        'exact-k',
        '--samples',
        '512',
        '--d',
        '8',
        '--features',
        '12',
        '--k',
        '2',
        '--out',
        'syn',
        '--json',
      ),
    );
    expect(syn.acts_shape).toEqual([512, 8]);
    expect(fs.existsSync(path.join(tmp, 'syn', 'acts.npy'))).toBe(true);

    const tr = jsonOf(
      husai(
        'train',
        '--data',
        'syn',
        '--arch',
        'topk',
        '--width',
        '16',
        '--k',
        '2',
        '--steps',
        '40',
        '--seeds',
        '0,1',
        '--out',
        'sae',
        '--json',
      ),
    );
    expect((tr.runs as Array<{ seed: number }>).map((r) => r.seed)).toEqual([0, 1]);

    const pair = jsonOf(husai('compare', 'sae/seed-0', 'sae/seed-1', '--null-draws', '10', '--json'));
    expect(pair.pwmcc).toBeTypeOf('number');
    const gt = jsonOf(husai('compare', 'sae/seed-0', '--ground-truth', 'syn/gt.npy', '--null-draws', '10', '--json'));
    expect(gt.n_gt).toBe(12);
  });
});

describe('bad values through bin/husai.js', () => {
  it.each([
    [
      ['train', '--data', 'x', '--arch', 'topk', '--width', '8', '--seeds', '1,x', '--out', 'o'],
      '--seeds',
      "'1,x'",
      "'x' is not an integer",
    ],
    [['synth', '--d', 'abc', '--out', 'o'], '--d', "'abc'", "'abc' is not an integer"],
    [['compare', 'a', 'b', '--tau', 'high'], '--tau', "'high'", "'high' is not a number"],
    [['bench', 'assign', '--size', '0'], '--size', "'0'", "'0' is not a positive integer"],
  ])('husai %j: exit 2, the message names %s, %s and why', (args, flag, value, why) => {
    const r = husai(...args);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain(flag);
    expect(r.err).toContain(value);
    expect(r.err).toContain(why);
  });

  it('husai universality --report DIR: an unknown option now (renamed --out), exit 2', () => {
    const r = husai('universality', '--matrix', 'm.json', '--report', 'r');
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown option '--report'");
  });
});
