/**
 * `husai synth`: synthetic activations with known ground truth (SCIENCE.md §5) written as
 * DIR/acts.npy [n, d], DIR/gt.npy [F, d] (unit rows) and DIR/meta.json (the resolved generator
 * config, enough to regenerate the data byte for byte).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { HusaiError } from '../core/errors.js';
import { HUSAI_VERSION } from '../core/version.js';
import { SYNTHETIC_KINDS, type SyntheticKind, generateSynthetic } from '../data/synthetic/index.js';
import { writeFileAtomic } from '../formats/io.js';
import { writeNpy } from '../formats/npy.js';
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
    .description('generate synthetic activations with known ground-truth features: DIR/acts.npy, DIR/gt.npy, DIR/meta.json')
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
      const data = generateSynthetic(flags.kind as SyntheticKind, opts);
      fs.mkdirSync(flags.out, { recursive: true });
      writeNpy(path.join(flags.out, 'acts.npy'), data.acts);
      writeNpy(path.join(flags.out, 'gt.npy'), data.gt);
      const meta = { source: 'husai synth', husai_version: HUSAI_VERSION, config: data.config, acts_shape: [data.acts.rows, data.acts.cols], gt_shape: [data.gt.rows, data.gt.cols] };
      writeFileAtomic(path.join(flags.out, 'meta.json'), [Buffer.from(JSON.stringify(meta, null, 2) + '\n')]);
      if (flags.json) printJson({ out: flags.out, ...meta });
      else console.log(`wrote ${flags.out}/acts.npy [${data.acts.rows}×${data.acts.cols}] and gt.npy [${data.gt.rows}×${data.gt.cols}] (${flags.kind}, seed ${flags.seed})`);
    });
}
