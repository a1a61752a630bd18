/**
 * `husai modarith train | extract | fourier`: the modular-arithmetic transformer (docs/SCIENCE.md §5,
 * issue 6). `train` runs the published grokking recipe and saves the model folder (models/modarith/
 * save.ts); `extract` writes a hook's activations over all p² inputs for `husai train` / `husai
 * study`; `fourier` reports the key frequencies of the embedding (and of any extracted activation).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../core/errors.js';
import { getEngine } from '../engine/index.js';
import { type ModArithConfig, resolveConfig } from '../models/modarith/config.js';
import { TASKS, type Task } from '../models/modarith/dataset.js';
import {
  HOOKS,
  type HookName,
  type PositionChoice,
  extractActivations,
  writeModArithActivations,
} from '../models/modarith/extract.js';
import { loadModArith } from '../models/modarith/save.js';
import { embeddingKeys } from '../inspect/fourier-context.js';
import { trainAndSave } from '../study/modarith-data.js';
import { parseFloatArg, parseIntArg, parsePositiveIntArg } from './args.js';
import { printJson } from './json.js';
import { ProgressLine, fmtTime } from './progress.js';

export function registerModArith(program: Command): void {
  const cmd = program
    .command('modarith')
    .description('the modular-arithmetic transformer: train to grokking, extract activations, Fourier analysis');

  cmd
    .command('train')
    .description(
      'train a transformer on (a + b) mod p (or the copy control) with the grokking recipe; writes ' +
        'DIR/model.safetensors, config.json, metrics.json, history.json',
    )
    .option('--p <p>', 'modulus (prime)', parsePositiveIntArg, 113)
    .option('--task <task>', `task: ${TASKS.join(' | ')} (copy: target = a, the label-in-input control)`, 'add')
    .option('--layers <n>', 'transformer blocks', parsePositiveIntArg, 1)
    .option('--steps <n>', 'training steps (full-batch AdamW)', parsePositiveIntArg)
    .option('--seed <s>', 'weight-initialisation seed', parseIntArg, 0)
    .option('--data-seed <s>', 'train/validation split seed', parseIntArg, 0)
    .option('--train-frac <f>', 'fraction of the p² pairs used for training', parseFloatArg, 0.3)
    .option('--lr <lr>', 'AdamW learning rate', parseFloatArg)
    .option('--weight-decay <wd>', 'AdamW decoupled weight decay', parseFloatArg)
    .option('--batch-size <n>', 'pairs per step (0 = full batch, the recipe)', parseIntArg)
    .option('--layernorm', 'pre-LayerNorm before attention, MLP and unembedding (off in the recipe)')
    .option(
      '--stop-val-acc <f>',
      'stop once validation accuracy stays at or above this for --stop-patience logs (1: run all steps)',
      parseFloatArg,
    )
    .option('--stop-patience <n>', 'consecutive logs for --stop-val-acc', parsePositiveIntArg)
    .option('--log-every <n>', 'evaluate every n steps', parsePositiveIntArg)
    .requiredOption('--out <dir>', 'model folder to write')
    .option('--json', 'print metrics.json')
    .action((f: Record<string, unknown>) => {
      if (!TASKS.includes(f.task as Task))
        throw new ConfigError(`--task ${String(f.task)}: expected one of ${TASKS.join(', ')}`);
      const cfg: ModArithConfig = resolveConfig({
        p: f.p as number,
        task: f.task as Task,
        n_layers: f.layers as number,
        steps: f.steps as number | undefined,
        seed: f.seed as number,
        data_seed: f.dataSeed as number,
        train_frac: f.trainFrac as number,
        lr: f.lr as number | undefined,
        weight_decay: f.weightDecay as number | undefined,
        batch_size: f.batchSize as number | undefined,
        layernorm: f.layernorm === true,
        stop_val_acc: f.stopValAcc as number | undefined,
        stop_patience: f.stopPatience as number | undefined,
        log_every: f.logEvery as number | undefined,
      });
      const e = getEngine();
      const bar = new ProgressLine(`modarith ${cfg.task} p=${cfg.p}`);
      const t0 = performance.now();
      const saved = trainAndSave(f.out as string, cfg, e, {
        onLog: (l, total) =>
          bar.update(
            l.step,
            total,
            `step ${l.step}  train ${(100 * l.train_acc).toFixed(1)}% (loss ${l.train_loss.toExponential(2)})  val ` +
              `${(100 * l.val_acc).toFixed(1)}% (loss ${l.val_loss.toExponential(2)})`,
          ),
      });
      bar.done();
      const metrics = JSON.parse(fs.readFileSync(path.join(saved.dir, 'metrics.json'), 'utf8')) as {
        train_acc: number;
        val_acc: number;
        train_loss: number;
        val_loss: number;
        steps: number;
        grokked_step: number | null;
        embedding_key_frequencies: number[];
        embedding_key_share: number;
        embedding_top8_share: number;
      };
      if (f.json) {
        printJson(metrics);
        return;
      }
      console.log(
        `${cfg.task} p=${cfg.p}: ${metrics.steps} steps in ${fmtTime((performance.now() - t0) / 1000)}; train acc ` +
          `${(100 * metrics.train_acc).toFixed(2)}% (loss ${metrics.train_loss.toExponential(2)}), val acc ` +
          `${(100 * metrics.val_acc).toFixed(2)}% (loss ${metrics.val_loss.toExponential(2)})`,
      );
      console.log(
        metrics.grokked_step === null
          ? 'validation accuracy never reached 99%: not grokked (more --steps?)'
          : `grokked: validation accuracy ≥ 99% from step ${metrics.grokked_step}`,
      );
      console.log(
        `embedding key frequencies (90% of Fourier power): ${metrics.embedding_key_frequencies.join(', ')} carry ` +
          `${(100 * metrics.embedding_key_share).toFixed(1)}%; the top 8 carry ` +
          `${(100 * metrics.embedding_top8_share).toFixed(1)}%`,
      );
      console.log(`wrote ${path.join(f.out as string, 'model.safetensors')}, config.json, metrics.json, history.json`);
    });

  cmd
    .command('extract')
    .description(
      'activations of a trained model over all p² inputs at one hook, layer and position, as .npy or .safetensors ' +
        '(+ FILE.meta.json with (a, b) per row)',
    )
    .requiredOption('--model <dir>', 'model folder from `husai modarith train`')
    .option('--hook <hook>', HOOKS.join(' | '), 'resid_post')
    .option('--layer <l>', 'block index', parseIntArg, 0)
    .option('--position <pos>', 'a | b | eq | all', 'eq')
    .requiredOption('--out <file>', 'FILE.npy or FILE.safetensors')
    .option('--json', 'print one JSON object: the files written, the shape and the hook, layer and position')
    .action((f: { model: string; hook: string; layer: number; position: string; out: string; json?: boolean }) => {
      const model = loadModArith(f.model);
      const opts = { hook: f.hook as HookName, layer: f.layer, position: f.position as PositionChoice };
      const acts = extractActivations(model, opts, getEngine());
      writeModArithActivations(f.out, model, opts, acts);
      if (f.json) {
        printJson({ out: f.out, meta: `${f.out}.meta.json`, rows: acts.xND.rows, d: acts.xND.cols, ...opts });
        return;
      }
      console.log(
        `wrote ${f.out} [${acts.xND.rows}×${acts.xND.cols}] (${opts.hook}, layer ${opts.layer}, position ` +
          `${opts.position}) and ${f.out}.meta.json`,
      );
    });

  cmd
    .command('fourier')
    .description("key Fourier frequencies of a trained model's token embedding")
    .requiredOption('--model <dir>', 'model folder from `husai modarith train`')
    .option('--json', 'print one JSON object: key frequencies, their power shares and the whole power spectrum')
    .action((f: { model: string; json?: boolean }) => {
      const model = loadModArith(f.model);
      const k = embeddingKeys(model);
      if (f.json) {
        printJson({ keys: k.keys, shares: k.shares, covered: k.covered, top8_share: k.top8, power: [...k.power] });
        return;
      }
      console.log(
        `embedding of ${f.model} (p = ${model.cfg.p}): ${k.keys.length} key frequencies carry ` +
          `${(100 * k.covered).toFixed(1)}% of the non-constant Fourier power`,
      );
      for (let i = 0; i < k.keys.length; i++)
        console.log(`  k = ${String(k.keys[i]).padStart(3)}  ${(100 * k.shares[i]).toFixed(1)}%`);
    });
}
