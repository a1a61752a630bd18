/**
 * The pretrained image classifiers shipped inside the npm package `nsfwjs` (MIT): MobileNetV2
 * (a Keras layers model, 224×224), MobileNetV2Mid (a TF-Hub MobileNetV2 1.4 converted to a tfjs graph
 * model, 224×224) and InceptionV3 (a Keras layers model, 299×299), all fine-tuned on nsfwjs's five
 * classes. The weights sit in `dist/models/NAME/*.min.js` bundles wrapping the model.json and the
 * base64 weight shards; they are read through nsfwjs's own exported model definitions
 * (`nsfwjs/models/NAME`: `modelJson()`, `weightBundles[i]()`), assembled into tfjs ModelArtifacts
 * exactly as nsfwjs's JSONHandler does, and handed to tfjs through an in-memory IOHandler — no
 * network, no files written. nsfwjs's own `load()` is not used: it prints to the console and keeps
 * the model behind a one-image `infer`.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { sha256File } from '../../formats/io.js';
import type { ModelDefinition } from 'nsfwjs/core';
import { InceptionV3Model } from 'nsfwjs/models/inception_v3';
import { MobileNetV2Model } from 'nsfwjs/models/mobilenet_v2';
import { MobileNetV2MidModel } from 'nsfwjs/models/mobilenet_v2_mid';
import { DataError } from '../../core/errors.js';
import { initWasmBackend } from './backend.js';
import type { VisionModelName } from './names.js';

interface ModelEntry {
  /** Subpath export of nsfwjs and folder under dist/models. */
  dir: string;
  /** nsfwjs's definition: lazy loaders of the bundles. */
  def: ModelDefinition;
  /** Square input side nsfwjs resizes to (its `size` option; 224 unless the definition says). */
  inputSize: number;
  /** Prefix stripped from graph-model node names for display (`--list-layers`). */
  graphPrefix?: string;
}

const MODELS: Record<VisionModelName, ModelEntry> = {
  MobileNetV2: { dir: 'mobilenet_v2', def: MobileNetV2Model, inputSize: 224 },
  MobileNetV2Mid: {
    dir: 'mobilenet_v2_mid',
    def: MobileNetV2MidModel,
    inputSize: 224,
    graphPrefix:
      'StatefulPartitionedCall/sequential/keras_layer/' +
      'StatefulPartitionedCall/StatefulPartitionedCall/StatefulPartitionedCall/predict/',
  },
  InceptionV3: { dir: 'inception_v3', def: InceptionV3Model, inputSize: 299 },
};

export type LoadedModel = {
  name: VisionModelName;
  inputSize: number;
  /** The bundle files read (model.min.js, then the weight shards), absolute paths. */
  files: string[];
  /** sha256 over the bundle files (each file's sha256 and name, one per line). */
  sha256: string;
  nsfwjsVersion: string;
  graphPrefix: string;
  dispose(): void;
} & ({ kind: 'layers'; model: tf.LayersModel } | { kind: 'graph'; model: tf.GraphModel });

/** Absolute paths of the bundle files of a model, model.min.js first, shards in order. */
function modelFiles(name: VisionModelName, shards: number): string[] {
  const require = createRequire(import.meta.url);
  // nsfwjs exports dist/cjs/models/NAME.js; the bundles live in dist/models/NAME/.
  const dir = path.resolve(
    path.dirname(require.resolve(`nsfwjs/models/${MODELS[name].dir}`)),
    '..',
    '..',
    'models',
    MODELS[name].dir,
  );
  const files = [path.join(dir, 'model.min.js')];
  for (let i = 1; i <= shards; i++) files.push(path.join(dir, `group1-shard${i}of${shards}.min.js`));
  for (const f of files) {
    if (!fs.existsSync(f))
      throw new DataError(f, 'file', 'nothing there', `nsfwjs's ${name} bundle`, 'reinstall dependencies: npm ci');
  }
  return files;
}

function hashFiles(files: string[]): string {
  const all = crypto.createHash('sha256');
  for (const f of files) all.update(`${sha256File(f).sha256}  ${path.basename(f)}\n`);
  return all.digest('hex');
}

function nsfwjsVersion(): string {
  const require = createRequire(import.meta.url);
  const pkg = path.resolve(
    path.dirname(require.resolve('nsfwjs/models/mobilenet_v2')),
    '..',
    '..',
    '..',
    'package.json',
  );
  return (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { version: string }).version;
}

/** Loads one of nsfwjs's models into tfjs (wasm backend), offline. */
export async function loadVisionModel(name: VisionModelName): Promise<LoadedModel> {
  await initWasmBackend();
  const entry = MODELS[name];
  const def = entry.def;
  const files = modelFiles(name, def.numOfWeightBundles);
  const json = (await def.modelJson()).default;
  const shards = await Promise.all(
    def.weightBundles.map(async (load) => Buffer.from((await load()).default, 'base64')),
  );
  const weightData = new Uint8Array(shards.reduce((a, s) => a + s.length, 0));
  let at = 0;
  for (const s of shards) {
    weightData.set(s, at);
    at += s.length;
  }
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: json.modelTopology,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData: weightData.buffer,
  };
  const handler: tf.io.IOHandler = { load: async () => artifacts };
  const common = {
    name,
    inputSize: def.options?.size ?? entry.inputSize,
    files,
    sha256: hashFiles(files),
    nsfwjsVersion: nsfwjsVersion(),
    graphPrefix: entry.graphPrefix ?? '',
  };
  if (def.options?.type === 'graph') {
    const model = await tf.loadGraphModel(handler);
    return { ...common, kind: 'graph', model, dispose: () => model.dispose() };
  }
  const model = await tf.loadLayersModel(handler);
  return { ...common, kind: 'layers', model, dispose: () => model.dispose() };
}
