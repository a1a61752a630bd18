/**
 * `husai train`: train one SAE per seed on an activation file/folder and write SAELens
 * directories (DIR for one seed, DIR/seed-S for several), printing each run's final metrics —
 * and its ground-truth recovery when the data folder has gt.npy (written by `husai synth`).
 * All seeds train in one pass over the data (trainMany).
 *
 * Flags: --data, --arch, --width, --seed/--seeds, --data-seed, --tensor, --out, --json are train's
 * own; every other parameter of one run is a flag generated from the study spec's parameter table
 * (study/params.ts PARAMS: --k, --l1, --steps, --batch-size, --lr, --variant, --aux-k-coeff, …),
 * with its doc as help and its schema checking the value, so spec and CLI share one vocabulary.
 */
import path from 'node:path';
import { type Command, Option } from 'commander';
import { HusaiError } from '../core/errors.js';
import { openDataset } from '../data/dataset.js';
import { gtMetrics } from '../metrics/pairwise.js';
import { decoderAtoms } from '../sae/checkpoint/index.js';
import { archNames } from '../sae/registry.js';
import { checkSaeTarget, saeWeightsToWrite, saveSae } from '../sae/save.js';
import { type RunConfig, type TrainHyper, type TrainOptions, runMetadata, trainMany } from '../sae/train.js';
import type { ArchName, SaeConfigInput } from '../sae/types.js';
import {
  PARAMS,
  type ParamDef,
  type ParamName,
  type ParamValue,
  describeDefault,
  describeSchema,
  flagOf,
  trainFlagParams,
} from '../study/params.js';
import { parseIntArg, parseIntListArg, parseParamArg } from './args.js';
import { printJson } from './json.js';
import { ProgressLine } from './progress.js';

interface TrainFlags {
  data: string;
  arch: string;
  width: number;
  seed?: number;
  seeds?: number[];
  dataSeed: number;
  tensor?: string;
  out: string;
  json?: boolean;
  /** Generated flags, by their commander attribute names. */
  [generated: string]: unknown;
}

/** One generated flag: the parameter, and the key commander stores its value under. */
interface ParamFlag {
  name: ParamName;
  key: string;
}

/**
 * The `--name <value>` Option of a parameter: help from its doc, type, default and architectures; value parsed and
 * checked by its schema.
 */
function paramOption(name: ParamName): Option {
  const def = PARAMS[name] as ParamDef;
  const archs = def.archs ? `; ${def.archs.join(', ')}` : '';
  const dflt = describeDefault(name);
  const opt = new Option(
    `${flagOf(name)} <value>`,
    `${def.doc} [${describeSchema(def.schema)}${dflt === '—' ? '' : `; default ${dflt}`}${archs}]`,
  );
  return opt.argParser(parseParamArg(name));
}

/** The parsed generated flags as the trainer's inputs: SAE config fields, optimiser fields, run options. */
function paramInputs(
  flags: TrainFlags,
  params: ParamFlag[],
): { sae: Partial<SaeConfigInput>; hyper: Partial<TrainHyper>; opts: TrainOptions } {
  const sae: Record<string, ParamValue> = {};
  const hyper: Record<string, ParamValue> = {};
  const opts: TrainOptions = {};
  for (const { name, key } of params) {
    const v = flags[key] as ParamValue | undefined;
    if (v === undefined) continue;
    const t = (PARAMS[name] as ParamDef).target;
    if (t.to === 'sae') sae[t.field] = v;
    else if (t.to === 'hyper') hyper[t.field] = v;
    else if (t.field === 'steps') opts.steps = v as number;
    else if (t.field === 'batch_size') opts.batchSize = v as number;
    else
      throw new HusaiError(
        `${flagOf(name)}: run field ${t.field} has no husai train meaning (mark it train: 'own' or 'none' in ` +
          `study/params.ts)`,
      );
  }
  return { sae: sae as Partial<SaeConfigInput>, hyper: hyper as Partial<TrainHyper>, opts };
}

export function registerTrain(program: Command): void {
  const cmd = program
    .command('train')
    .description('train SAEs (one per seed, all in one pass over the data) and write SAELens directories')
    .requiredOption('--data <path>', 'activations: .npy, .safetensors, a folder of shards, or a `husai synth` folder')
    .requiredOption('--arch <arch>', `architecture: ${archNames().join(' | ')}`)
    .requiredOption('--width <m>', 'number of latents d_sae', parseIntArg);
  const params: ParamFlag[] = trainFlagParams().map((name) => {
    const opt = paramOption(name);
    cmd.addOption(opt);
    return { name, key: opt.attributeName() };
  });
  cmd
    .option('--seed <s>', 'init seed (one run)', parseIntArg)
    .option('--seeds <list>', 'init seeds, comma-separated (one run each, written to DIR/seed-S)', parseIntListArg)
    .option('--data-seed <s>', 'data-order seed (shared by all runs)', parseIntArg, 0)
    .option('--tensor <name>', 'safetensors input: the tensor to read')
    .requiredOption('--out <dir>', 'output directory')
    .option('--json', 'print one JSON object with every run')
    .action(async (flags: TrainFlags) => {
      if (flags.seed !== undefined && flags.seeds !== undefined)
        throw new HusaiError('give --seed or --seeds, not both');
      const seeds = flags.seeds ?? [flags.seed ?? 0];
      const dirOf = (seed: number): string => (seeds.length === 1 ? flags.out : path.join(flags.out, `seed-${seed}`));
      for (const seed of seeds) checkSaeTarget(dirOf(seed)); // refuse a user's folder before training, not after
      const ds = openDataset(flags.data, flags.tensor !== undefined ? { tensor: flags.tensor } : {});
      for (const w of ds.source.warnings) console.error(`warning: ${w}`);
      const given = paramInputs(flags, params);
      const runs: RunConfig[] = seeds.map((seed) => ({
        id: `seed-${seed}`,
        sae: { ...given.sae, arch: flags.arch as ArchName, dSae: flags.width },
        seed,
        dataSeed: flags.dataSeed,
        hyper: given.hyper,
      }));
      const bar = new ProgressLine(
        `train ${flags.arch} m=${flags.width} × ${seeds.length} seed${seeds.length > 1 ? 's' : ''}`,
      );
      const t0 = Date.now();
      const results = await trainMany(ds.source, runs, {
        ...given.opts,
        onProgress: (p) => {
          if (p.runIndex === runs.length - 1)
            bar.update(
              p.step,
              p.totalSteps,
              p.metrics ? `L0 ${p.metrics.l0.toFixed(1)}  EV ${p.metrics.explainedVariance.toFixed(3)}` : '',
            );
        },
      });
      bar.done();
      const seconds = (Date.now() - t0) / 1000;
      const rows = results.map((r) => {
        if (r.error || !r.final)
          throw new HusaiError(`run seed ${r.seed} failed: ${r.error?.message ?? 'no final metrics'}`);
        const dir = dirOf(r.seed);
        saveSae(dir, r.sae, { ...runMetadata(r), data: ds.source.name });
        const gt = ds.groundTruth
          ? gtMetrics(
              ds.groundTruth,
              decoderAtoms({ dIn: r.cfg.dIn, dSae: r.cfg.dSae, tensors: saeWeightsToWrite(r.sae).tensors }),
            )
          : null;
        return {
          seed: r.seed,
          data_seed: r.dataSeed,
          dir,
          ...r.final,
          ...(gt ? { gt_mcc: gt.gt_mcc, gt_mmcs: gt.gt_mmcs, gt_recovered_09: gt.gt_recovered[0].fraction } : {}),
        };
      });
      if (flags.json) {
        printJson({ arch: flags.arch, width: flags.width, seconds, runs: rows });
        return;
      }
      console.log(`trained ${rows.length} SAE${rows.length > 1 ? 's' : ''} in ${seconds.toFixed(1)} s`);
      const head = ['seed', 'L0', 'EV', 'MSE', 'dead', ...(ds.groundTruth ? ['gt_mcc', 'gt≥0.9'] : []), 'dir'];
      console.log(head.join('\t'));
      for (const r of rows) {
        const gtCols = 'gt_mcc' in r ? [(r.gt_mcc as number).toFixed(4), (r.gt_recovered_09 as number).toFixed(3)] : [];
        console.log(
          [
            r.seed,
            r.l0.toFixed(2),
            r.explained_variance.toFixed(4),
            r.mse.toExponential(3),
            r.n_dead,
            ...gtCols,
            r.dir,
          ].join('\t'),
        );
      }
    });
}
