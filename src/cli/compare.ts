/**
 * `husai compare`: stability of SAE directories in any layout the loader reads (SAELens v6 /
 * pre-6, sparsify), always next to chance.
 *   husai compare A B                      two SAEs: MMCS, PW-MCC, shared fraction, null
 *   husai compare SAE --ground-truth GT    one SAE against true directions [n_gt, d] (.npy)
 *   husai compare D1 D2 D3 …               seed study: pairwise matrix, bootstrap CI, null, histogram
 *   husai compare D1 … --fourier ACTS      modular arithmetic: Fourier-feature fraction per SAE and
 *                                          whether matched latents share their key frequency
 */
import type { Command } from 'commander';
import { HusaiError } from '../core/errors.js';
import { matFrom } from '../core/mat.js';
import { readNpy } from '../formats/npy.js';
import { loadSae } from '../sae/checkpoint/index.js';
import { compareGroundTruth, comparePair, compareSeeds } from '../inspect/compare.js';
import { compareFourier, fourierContextFromFile } from '../inspect/compare-fourier.js';
import { parseFloatArg, parseIntArg, parsePositiveIntArg } from './args.js';
import { printJson } from './json.js';

interface CompareFlags {
  json?: boolean;
  nullDraws: number;
  tau: number;
  seed: number;
  groundTruth?: string;
  hookpoint?: string;
  fourier?: string;
}

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description('compare SAEs (two, one vs ground truth, or three or more seeds), each metric next to its chance null')
    .argument('<dirs...>', 'SAE directories (SAELens or sparsify layout)')
    .option('--ground-truth <file>', 'true directions [n_gt, d] as .npy: compare one SAE against them')
    .option('--null-draws <n>', 'random-dictionary draws for the null (≥ 10)', parsePositiveIntArg, 10)
    .option('--tau <x>', 'cosine threshold for shared fraction / stability', parseFloatArg, 0.7)
    .option('--seed <n>', 'seed of null draws and bootstrap resamples', parseIntArg, 0)
    .option('--hookpoint <name>', 'sparsify folders with several hookpoints: which one')
    .option(
      '--fourier <acts>',
      "activations from `husai modarith extract` (one position): Fourier analysis of each SAE's latents",
    )
    .option('--json', 'print one JSON object')
    .action((dirs: string[], flags: CompareFlags) => {
      const opts = { nullDraws: flags.nullDraws, tau: flags.tau, seed: flags.seed };
      const load = (d: string) => loadSae(d, { hookpoint: flags.hookpoint });
      if (flags.fourier !== undefined) {
        const out = compareFourier(dirs.map(load), fourierContextFromFile(flags.fourier), { seed: flags.seed });
        if (flags.json) {
          printJson(out);
          return;
        }
        console.log(
          `Fourier analysis on ${out.grid}; key frequencies ${out.keys.join(', ')}; a Fourier feature has ≥ 80% of ` +
            `its grid variance in them`,
        );
        for (const s of out.per_sae)
          console.log(
            `  ${s.path}: ${s.fourier_features} of ${s.live} live latents are Fourier features ` +
              `(${(100 * s.fourier_fraction).toFixed(1)}%), mean key share ${fmt(s.mean_key_share)}`,
          );
        console.log(`  chance (random-direction ReLU probes, same count): ${(100 * out.chance_fraction).toFixed(1)}%`);
        for (const q of out.pairs)
          console.log(
            `  SAE ${q.a} vs ${q.b}: ${q.fourier_pairs} matched Fourier pairs, same dominant frequency ` +
              `${(100 * q.agreement).toFixed(1)}% (shuffled ${(100 * q.null_mean).toFixed(1)}%, p = ` +
              `${q.p.toPrecision(2)})`,
          );
        return;
      }
      if (flags.groundTruth !== undefined) {
        if (dirs.length !== 1)
          throw new HusaiError(`compare --ground-truth takes exactly one SAE directory, got ${dirs.length}`);
        const gt = readNpy(flags.groundTruth);
        if (gt.shape.length !== 2)
          throw new HusaiError(
            `${flags.groundTruth}: ground truth must be 2-D [n_gt, d], found shape [${gt.shape.join('×')}]`,
          );
        const out = compareGroundTruth(
          load(dirs[0]),
          matFrom(gt.data, gt.shape[0], gt.shape[1]),
          flags.groundTruth,
          opts,
        );
        print(
          flags.json,
          out,
          [
            ['gt_mcc', out.gt_mcc, `null ${fmt(out.null_gt_mcc_mean)} ± ${fmt(out.null_gt_mcc_sd)}`],
            ['gt_mmcs', out.gt_mmcs, ''],
            ['recovered ≥ 0.9', out.gt_recovered_09, ''],
            ['recovered ≥ 0.7', out.gt_recovered_07, ''],
          ],
          `${out.n_sae} latents vs ${out.n_gt} true directions, d = ${out.d}`,
        );
        return;
      }
      if (dirs.length === 2) {
        const out = comparePair(load(dirs[0]), load(dirs[1]), opts);
        print(
          flags.json,
          out,
          [
            [
              'pwmcc',
              out.pwmcc,
              `null ${fmt(out.null_pwmcc_mean)} ± ${fmt(out.null_pwmcc_sd)}, excess ${fmt(out.pwmcc_excess)}, ratio ` +
                `${out.pwmcc_ratio.toFixed(2)}×`,
            ],
            ['pwmcc_abs', out.pwmcc_abs, ''],
            ['enc_pwmcc', out.enc_pwmcc, ''],
            ['mmcs_ab', out.mmcs_ab, `null ${fmt(out.null_mmcs_ab_mean)}`],
            ['mmcs_ba', out.mmcs_ba, ''],
            ['mean-max |cos| sym', out.mean_max_abs_sym, `null ${fmt(out.null_mean_max_abs_sym_mean)}`],
            [`shared (τ=${out.tau})`, out.shared_fraction, ''],
          ],
          `A: ${out.n_a} latents, B: ${out.n_b} latents, d = ${out.d}; null: ${out.null_draws} random dictionaries ` +
            `of the same shapes`,
        );
        return;
      }
      if (dirs.length < 2)
        throw new HusaiError('compare needs two or more SAE directories, or one with --ground-truth');
      const out = compareSeeds(dirs.map(load), opts);
      if (flags.json) {
        printJson(out);
        return;
      }
      console.log(`${out.n_seeds} SAEs; pairwise PW-MCC (decoder atoms):`);
      out.pwmcc_matrix.forEach((row, i) =>
        console.log(`  ${String(i).padStart(2)}  ${row.map((v) => v.toFixed(3)).join('  ')}`),
      );
      console.log(
        `mean ${fmt(out.pwmcc_mean)}  [${fmt(out.pwmcc_ci_lo)}, ${fmt(out.pwmcc_ci_hi)}] ` +
          `${Math.round(out.ci_level * 100)}% seed bootstrap`,
      );
      console.log(
        `null ${fmt(out.null_pwmcc_mean)} ± ${fmt(out.null_pwmcc_sd)}  excess ${fmt(out.pwmcc_excess)}  ratio ` +
          `${out.pwmcc_ratio.toFixed(2)}×`,
      );
      console.log(`present in m of ${out.n_seeds} seeds (τ = ${out.tau}):`);
      out.present_in.forEach((f, m) =>
        console.log(
          `  ${String(m + 1).padStart(2)}  ${(100 * f).toFixed(1).padStart(5)}%  ${'█'.repeat(Math.round(40 * f))}`,
        ),
      );
      console.log(
        `consensus features: ${out.n_consensus}; mean per-feature stability ${fmt(out.mean_feature_stability)}`,
      );
    });
}

function print(json: boolean | undefined, out: object, rows: Array<[string, number, string]>, header: string): void {
  if (json) {
    printJson(out);
    return;
  }
  console.log(header);
  for (const [name, v, note] of rows) console.log(`  ${name.padEnd(20)} ${fmt(v)}  ${note}`);
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toFixed(4) : String(v);
}
