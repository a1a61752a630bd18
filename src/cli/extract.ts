/**
 * `husai extract`: activations of a real model written as a resumable shard folder
 * (models/extract-writer.ts) that `husai train` and study specs (`data: {kind: file, path: DIR}`)
 * read directly. Sources: nsfwjs's pretrained vision models on MNIST / Fashion-MNIST
 * (models/vision), and ONNX language models from a local folder on text (models/onnx).
 * Rerunning the same command continues after the last complete shard; `--list-layers` prints what
 * `--layer` accepts.
 */
import type { Command } from 'commander';
import { ConfigError, HusaiError } from '../core/errors.js';
import type { ExtractionSource } from '../models/extraction.js';
import { runExtraction } from '../models/extract-writer.js';
import { VISION_MODELS, type VisionModelName, checkVisionModel } from '../models/vision/names.js';
import type { Pool } from '../models/vision/index.js';
import { BUILTIN_IMAGE_SETS, type Split } from '../models/images/index.js';
import { limitHelp, parsePositiveIntArg } from './args.js';
import { printJson } from './json.js';
import { ProgressLine } from './progress.js';

interface ExtractFlags {
  source: string;
  layer?: string;
  images?: string;
  split?: string;
  pool?: string;
  text?: string;
  limit?: number;
  shardUnits?: number;
  out?: string;
  listLayers?: boolean;
  json?: boolean;
}

type SourceSpec = { kind: 'nsfwjs'; model: string } | { kind: 'onnx'; modelDir: string };

export function registerExtract(program: Command): void {
  program
    .command('extract')
    .description(
      'extract activations of a pretrained model into a resumable shard folder (rerun the same command to continue)',
    )
    .requiredOption(
      '--source <source>',
      `model: ${VISION_MODELS.map((m) => `nsfwjs:${m}`).join(' | ')} | onnx:PATH (a transformers.js-layout folder)`,
    )
    .option('--layer <name>', 'layer to tap (see --list-layers), e.g. out_relu, block_12_add, mixed5')
    .option('--images <set>', `vision: ${BUILTIN_IMAGE_SETS.join(' | ')} (default mnist)`)
    .option('--split <split>', 'vision: train | test (default train)')
    .option('--pool <pool>', 'vision: mean (one row per image) | tokens (one row per spatial position) (default mean)')
    .option('--text <text>', 'onnx: sotu | moby-dick | FILE')
    .option(
      '--limit <n>',
      limitHelp('images (vision) or tokens (text)', 'vision: the whole split; text: required'),
      parsePositiveIntArg,
    )
    .option(
      '--shard-units <n>',
      'images or tokens per shard (default: about 64 MiB of activations)',
      parsePositiveIntArg,
    )
    .option('--out <dir>', 'output folder (created; a rerun resumes it)')
    .option('--list-layers', 'print the tappable layers of --source and exit')
    .option(
      '--json',
      'print one JSON object: the folder written (rows, d, shards, config), or with --list-layers the layers',
    )
    .action(async (flags: ExtractFlags) => {
      const spec = parseSource(flags.source);
      if (flags.listLayers) {
        await printLayers(spec, flags.json === true);
        return;
      }
      if (flags.layer === undefined) throw new HusaiError('--layer NAME is required (see --list-layers)');
      if (flags.out === undefined) throw new HusaiError('--out DIR is required');
      const source =
        spec.kind === 'nsfwjs' ? await openVision(spec.model, flags) : await openOnnx(spec.modelDir, flags);
      const bar = new ProgressLine(`extract ${flags.source} ${flags.layer}`);
      const t0 = Date.now();
      try {
        const res = await runExtraction(source, flags.out, {
          ...(flags.shardUnits !== undefined ? { shardUnits: flags.shardUnits } : {}),
          onProgress: (done, total) => bar.update(done, total, `${done}/${total} units`),
        });
        bar.done();
        const seconds = (Date.now() - t0) / 1000;
        const m = res.meta;
        if (flags.json) {
          printJson({
            out: flags.out,
            rows: m.rows,
            d: m.d,
            units: m.units,
            shards: m.shards.length,
            resumedFrom: res.resumedFrom,
            seconds,
            config: m.config,
          });
          return;
        }
        const what = `${m.rows} rows × d = ${m.d} in ${m.shards.length} shard${m.shards.length === 1 ? '' : 's'}`;
        if (res.shardsWritten === 0) {
          console.log(`${flags.out} is already complete: ${what} (${m.units} units); nothing to do`);
          return;
        }
        const resumed = res.resumedFrom > 0 ? `, resumed at unit ${res.resumedFrom}` : '';
        console.log(`wrote ${flags.out}: ${what} (${m.units} units${resumed}) in ${seconds.toFixed(1)} s`);
      } finally {
        await source.close();
      }
    });
}

function parseSource(s: string): SourceSpec {
  const colon = s.indexOf(':');
  const kind = colon < 0 ? s : s.slice(0, colon);
  const rest = colon < 0 ? '' : s.slice(colon + 1);
  if (kind === 'nsfwjs') return { kind, model: checkVisionModel(rest) };
  if (kind === 'onnx' && rest !== '') return { kind, modelDir: rest };
  throw new ConfigError(
    `--source ${JSON.stringify(s)}: expected ${VISION_MODELS.map((m) => `nsfwjs:${m}`).join(', ')} or onnx:PATH`,
  );
}

async function printLayers(spec: SourceSpec, json: boolean): Promise<void> {
  if (spec.kind === 'onnx') {
    const { listOnnxTensors } = await import('../models/onnx/index.js');
    const list = listOnnxTensors(spec.modelDir);
    if (json) {
      printJson(list);
      return;
    }
    console.log(`# ${list.modelFile}: hooks (${list.hookMethod ?? 'none found'})`);
    for (const h of list.hooks) console.log(`${h.hook}\t${h.tensor}`);
    console.log(`# raw tensors (${list.tensors.length})`);
    for (const t of list.tensors) console.log(`${t.name}\t${t.op}`);
    return;
  }
  const { listVisionLayers } = await import('../models/vision/index.js'); // tfjs loads only when needed
  const layers = await listVisionLayers(spec.model);
  if (json) {
    printJson(layers);
    return;
  }
  for (const l of layers) console.log(`${l.name}\t[${l.shape.join('×')}]`);
}

async function openVision(model: string, flags: ExtractFlags): Promise<ExtractionSource> {
  if (flags.text !== undefined) throw new HusaiError(`--text is for onnx sources; nsfwjs:${model} reads --images`);
  const { openVisionSource } = await import('../models/vision/index.js'); // tfjs loads only when needed
  // The source checks model, split, pool and limit (default: the whole split) and names the flag.
  return openVisionSource({
    model: model as VisionModelName,
    layer: flags.layer as string,
    images: flags.images ?? 'mnist',
    split: (flags.split ?? 'train') as Split,
    limit: flags.limit,
    pool: (flags.pool ?? 'mean') as Pool,
  });
}

async function openOnnx(modelDir: string, flags: ExtractFlags): Promise<ExtractionSource> {
  for (const f of ['images', 'split', 'pool'] as const) {
    if (flags[f] !== undefined)
      throw new HusaiError(`--${f} is for nsfwjs vision sources; onnx:${modelDir} reads --text`);
  }
  const { openOnnxSource } = await import('../models/onnx/index.js'); // onnxruntime loads only when needed
  // --text and --limit are required for text; openOnnxSource names them when missing.
  return openOnnxSource({
    modelDir,
    layer: flags.layer as string,
    text: flags.text as string,
    limit: flags.limit as number,
  });
}
