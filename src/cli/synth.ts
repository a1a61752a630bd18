/**
 * `husai synth`: synthetic activations with known ground truth (docs/SCIENCE.md §5) written as
 * DIR/acts.npy [n, d], DIR/gt.npy [F, d] (unit rows) and DIR/meta.json (the resolved generator
 * config, enough to regenerate the data byte for byte, and the sha256 of both files). The folder is
 * written atomically as a whole and only over an earlier `husai synth` folder (data/synth-folder.ts).
 */
import type { Command } from 'commander';
import { HusaiError } from '../core/errors.js';
import { SYNTHETIC_KINDS, type SyntheticKind, generateSynthetic } from '../data/synthetic/index.js';
import { checkSynthTarget, writeSynthFolder } from '../data/synth-folder.js';
import { parseIntArg, parsePositiveIntArg } from './args.js';
import { printJson } from './json.js';

interface SynthFlags {
  kind: string;
  samples: number;
  d?: number;
  features?: number;
  k?: number;
  seed: number;
  out: string;
  json?: boolean;
}

export function registerSynth(program: Command): void {
  program
    .command('synth')
    .description(
      'generate synthetic activations with known ground-truth features: DIR/acts.npy, DIR/gt.npy, DIR/meta.json',
    )
    .option('--kind <kind>', `generator: ${SYNTHETIC_KINDS.join(' | ')}`, 'exact-k')
    .option('--samples <n>', 'samples (rows of acts.npy)', parsePositiveIntArg, 50_000)
    .option('--d <d>', 'activation width', parsePositiveIntArg)
    .option('--features <f>', 'ground-truth features F', parsePositiveIntArg)
    .option('--k <k>', 'active features per sample (exact for exact-k, mean for the others)', parsePositiveIntArg)
    .option('--seed <s>', 'data seed', parseIntArg, 0)
    .requiredOption('--out <dir>', 'output directory')
    .option('--json', 'print one JSON object: the written folder and meta.json (resolved config, shapes)')
    .action((flags: SynthFlags) => {
      if (!(SYNTHETIC_KINDS as string[]).includes(flags.kind)) {
        throw new HusaiError(`--kind ${flags.kind}: expected one of ${SYNTHETIC_KINDS.join(', ')}`);
      }
      const opts = {
        n: flags.samples,
        seed: flags.seed,
        ...(flags.d !== undefined ? { d: flags.d } : {}),
        ...(flags.features !== undefined ? { features: flags.features } : {}),
        ...(flags.k !== undefined ? { k: flags.k } : {}),
      };
      checkSynthTarget(flags.out); // refuse a foreign folder before generating anything
      const data = generateSynthetic(flags.kind as SyntheticKind, opts);
      const meta = writeSynthFolder(flags.out, data.acts, data.gt, data.config);
      if (flags.json) printJson({ out: flags.out, ...meta });
      else
        console.log(
          `wrote ${flags.out}/acts.npy [${data.acts.rows}×${data.acts.cols}] and gt.npy ` +
            `[${data.gt.rows}×${data.gt.cols}] (${flags.kind}, seed ${flags.seed})`,
        );
    });
}
