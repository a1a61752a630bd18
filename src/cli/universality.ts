/**
 * `husai universality`: are the features of SAEs on different models, layers or data splits the
 * same, measured on shared inputs (study/universality.ts, Lan et al. 2024), always against chance.
 *   husai universality --a SAE_A --a-acts ACTS_A --b SAE_B --b-acts ACTS_B   one pair: a table
 *   husai universality --matrix SPEC.json                                   all pairs of a spec
 *   husai universality --sae NAME=SAE_DIR:ACTS --sae NAME=SAE_DIR:ACTS …     all pairs, inline
 * ACTS (a .npy, a .safetensors or a shard folder from `husai extract`) must list the same inputs in
 * the same order for every SAE. --json prints the result (pair: flat object; matrix: the matrix
 * JSON, snake_case keys); --out DIR writes DIR/universality.json and DIR/universality.html.
 * Progress, warnings and the names of the files written go to stderr.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { HusaiError } from '../core/errors.js';
import { checkUniversalityTarget, writeUniversalityReport } from '../report/universality.js';
import { loadSae } from '../sae/checkpoint/index.js';
import {
  type MatrixEntry,
  type UniversalityMatrix,
  matrixOfPair,
  readMatrixSpec,
  universalityMatrix,
} from '../inspect/universality-matrix.js';
import { type PairedSimilarity, type UniversalityOptions, compareAcrossModels } from '../inspect/universality.js';
import { collectArg, limitHelp, parseFloatArg, parseIntArg, parsePositiveIntArg } from './args.js';
import { printJson } from './json.js';
import { ProgressLine } from './progress.js';

interface UniversalityFlags {
  a?: string;
  aActs?: string;
  b?: string;
  bActs?: string;
  matrix?: string;
  sae: string[];
  limit?: number;
  draws?: number;
  corrDraws?: number;
  seed?: number;
  minCorr?: number;
  oneToOne: boolean;
  inputsNull: boolean;
  out?: string;
  json?: boolean;
}

export function registerUniversality(program: Command): void {
  program
    .command('universality')
    .description(
      'compare SAEs of different models / layers / data splits on shared inputs: activation correlation, then SVCCA ' +
        'and RSA of paired decoder atoms (Lan et al. 2024), each against its nulls',
    )
    .option('--a <dir>', 'SAE A (SAELens or sparsify layout)')
    .option('--a-acts <path>', 'activations SAE A is encoded on (.npy, .safetensors or a shard folder)')
    .option('--b <dir>', 'SAE B')
    .option('--b-acts <path>', 'activations SAE B is encoded on: the same inputs in the same order as --a-acts')
    .option('--matrix <spec.json>', 'all pairs of the SAEs a JSON spec lists (see studies/universality-models.json)')
    .option(
      '--sae <name=dir:acts>',
      'one SAE of a matrix (repeat; paths must not contain ":")',
      collectArg,
      [] as string[],
    )
    .option('--limit <n>', limitHelp(), parsePositiveIntArg)
    .option('--draws <n>', 'shuffled-pairing draws for the SVCCA / RSA null (≥ 10; default 100)', parsePositiveIntArg)
    .option(
      '--corr-draws <n>',
      'shuffled-input passes: the null of the correlations and of the many-to-one SVCCA / RSA (default 19)',
      parsePositiveIntArg,
    )
    .option('--seed <s>', 'seed of every null', parseIntArg)
    .option('--min-corr <x>', 'keep pairs with correlation above this (default 0.1, Lan et al.)', parseFloatArg)
    .option('--no-one-to-one', 'skip the one-to-one assignment version')
    .option(
      '--no-inputs-null',
      'skip rerunning pairing + SVCCA + RSA on the shuffled inputs (saves two d×d eigendecompositions per pass)',
    )
    .option('--out <dir>', 'output folder: write DIR/universality.json and DIR/universality.html')
    .option('--json', 'print JSON')
    .action(async (flags: UniversalityFlags) => {
      const pairMode =
        flags.a !== undefined || flags.b !== undefined || flags.aActs !== undefined || flags.bActs !== undefined;
      const modes = [pairMode, flags.matrix !== undefined, flags.sae.length > 0].filter(Boolean).length;
      if (modes !== 1)
        throw new HusaiError(
          'give either --a/--a-acts/--b/--b-acts, or --matrix SPEC.json, or two or more --sae NAME=SAE_DIR:ACTS',
        );
      if (flags.out !== undefined) checkUniversalityTarget(flags.out); // before the work, not after
      const bar = new ProgressLine('universality');
      let pairLabel = '';
      const cliOpts: UniversalityOptions = {
        ...(flags.limit !== undefined ? { rows: flags.limit } : {}),
        ...(flags.draws !== undefined ? { draws: flags.draws } : {}),
        ...(flags.corrDraws !== undefined ? { corrDraws: flags.corrDraws } : {}),
        ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
        ...(flags.minCorr !== undefined ? { minCorr: flags.minCorr } : {}),
        ...(flags.oneToOne === false ? { oneToOne: false } : {}),
        ...(flags.inputsNull === false ? { inputsNull: false } : {}),
        onProgress: (done, total) => bar.update(done, total, pairLabel),
      };
      if (pairMode) {
        for (const [flag, v] of [
          ['--a', flags.a],
          ['--a-acts', flags.aActs],
          ['--b', flags.b],
          ['--b-acts', flags.bActs],
        ] as const) {
          if (v === undefined)
            throw new HusaiError(`${flag} is required with --a/--b (all four of --a, --a-acts, --b, --b-acts)`);
        }
        const r = compareAcrossModels(
          { sae: loadSae(flags.a!), acts: flags.aActs! },
          { sae: loadSae(flags.b!), acts: flags.bActs! },
          cliOpts,
        );
        bar.done();
        if (flags.out !== undefined) {
          const [na, nb] = [path.basename(flags.a!), path.basename(flags.b!)];
          await report(flags.out, na === nb ? matrixOfPair(flags.a!, flags.b!, r) : matrixOfPair(na, nb, r));
        }
        for (const w of r.warnings) console.error(`warning: ${w}`);
        if (flags.json) {
          printJson(r);
          return;
        }
        console.log(
          `A: ${r.a_sae} (${r.m_a} latents, ${r.dead_a} dead; d = ${r.d_a})   B: ${r.b_sae} (${r.m_b} latents, ` +
            `${r.dead_b} dead; d = ${r.d_b})`,
        );
        console.log(
          `${r.rows} shared rows; nulls: ${r.corr_draws} shuffled-input passes, ${r.draws} shuffled pairings; seed ` +
            `${r.seed}`,
        );
        console.log(
          `  ${'measure'.padEnd(32)} ${'value'.padStart(7)}  ${'null'.padStart(15)}  ${'p'.padStart(6)}   shuffled ` +
            `inputs (p)`,
        );
        row('mean max corr A→B', r.mean_corr, r.corr_null_mean, r.corr_null_sd, r.corr_p, '');
        row('mean max corr B→A', r.mean_corr_ba, r.corr_ba_null_mean, NaN, r.corr_ba_p, '');
        if (r.paired_1to1)
          row(
            'mean corr, 1-to-1 assignment',
            r.mean_corr_1to1,
            r.corr_1to1_null_mean,
            r.corr_1to1_null_sd,
            r.corr_1to1_p,
            '',
          );
        pairedRows(`many-to-one (${r.paired.n_pairs} pairs)`, r.paired);
        if (r.paired_1to1) pairedRows(`one-to-one (${r.paired_1to1.n_pairs} pairs)`, r.paired_1to1);
        return;
      }
      const spec =
        flags.matrix !== undefined
          ? readMatrixSpec(flags.matrix)
          : { entries: flags.sae.map(parseSaeFlag), options: {} };
      const entries: MatrixEntry[] = spec.entries.map((x) => ({ name: x.name, sae: loadSae(x.sae), acts: x.acts }));
      const m = universalityMatrix(entries, {
        ...spec.options,
        ...cliOpts,
        onPair: (a, b, done, total) => (pairLabel = a === '' ? '' : `pair ${done + 1}/${total}: ${a} vs ${b}`),
      });
      bar.done();
      if (flags.out !== undefined) await report(flags.out, m);
      if (flags.json) {
        printJson(m);
        return;
      }
      printMatrix(m);
    });
}

/** NAME=SAE_DIR:ACTS. */
function parseSaeFlag(v: string): { name: string; sae: string; acts: string } {
  const eq = v.indexOf('=');
  const rest = v.slice(eq + 1);
  const parts = rest.split(':');
  if (eq < 1 || parts.length !== 2 || parts[0] === '' || parts[1] === '') {
    throw new HusaiError(
      `--sae ${JSON.stringify(v)}: expected NAME=SAE_DIR:ACTS (one "=" after the name, one ":" between the two paths)`,
    );
  }
  return { name: v.slice(0, eq), sae: parts[0], acts: parts[1] };
}

async function report(dir: string, m: UniversalityMatrix): Promise<void> {
  const out = await writeUniversalityReport(dir, m);
  console.error(`wrote ${out.html} and ${out.json}`);
}

function fmt(v: number | null, digits = 4): string {
  return v !== null && Number.isFinite(v) ? v.toFixed(digits) : '—';
}

function row(name: string, v: number, nm: number, nsd: number, p: number, inputs: string): void {
  const nul = Number.isFinite(nsd) ? `${fmt(nm)} ± ${fmt(nsd, 3)}` : fmt(nm);
  console.log(`  ${name.padEnd(32)} ${fmt(v).padStart(7)}  ${nul.padStart(15)}  ${fmt(p, 3).padStart(6)}   ${inputs}`);
}

function pairedRows(label: string, q: PairedSimilarity): void {
  const inputs = (m: number, p: number): string =>
    q.inputs_null_draws > 0 ? `${fmt(m)} (${fmt(p, 3)}, ${q.inputs_null_draws} draws)` : '';
  row(
    `SVCCA, ${label}`,
    q.svcca,
    q.svcca_null_mean,
    q.svcca_null_sd,
    q.svcca_p,
    inputs(q.svcca_inputs_null_mean, q.svcca_inputs_p),
  );
  row(`RSA, ${label}`, q.rsa, q.rsa_null_mean, q.rsa_null_sd, q.rsa_p, inputs(q.rsa_inputs_null_mean, q.rsa_inputs_p));
}

function printMatrix(m: UniversalityMatrix): void {
  console.log(`${m.names.length} SAEs on ${m.rows} shared rows; cell = value (null mean, p); row = A, column = B`);
  const w = Math.max(8, ...m.names.map((n) => n.length));
  const show = (
    title: string,
    v: UniversalityMatrix['svcca'],
    nm: UniversalityMatrix['svcca'],
    p: UniversalityMatrix['svcca'],
  ): void => {
    console.log(`\n${title}`);
    console.log(`  ${''.padEnd(w)}  ${m.names.map((n) => n.padStart(24)).join('')}`);
    m.names.forEach((a, i) =>
      console.log(
        `  ${a.padEnd(w)}  ` +
          m.names
            .map((_, j) =>
              (i === j ? '—' : `${fmt(v[i][j], 3)} (${fmt(nm[i][j], 3)}, ${fmt(p[i][j], 3)})`).padStart(24),
            )
            .join(''),
      ),
    );
  };
  show('mean max activation correlation (null: shuffled inputs)', m.mean_corr, m.corr_null_mean, m.corr_p);
  show('SVCCA of paired decoder atoms (null: shuffled pairs)', m.svcca, m.svcca_null_mean, m.svcca_p);
  show('SVCCA (null: pipeline on shuffled inputs)', m.svcca, m.svcca_inputs_null_mean, m.svcca_inputs_p);
  show('RSA of paired decoder atoms (null: shuffled pairs)', m.rsa, m.rsa_null_mean, m.rsa_p);
  show('RSA (null: pipeline on shuffled inputs)', m.rsa, m.rsa_inputs_null_mean, m.rsa_inputs_p);
}
