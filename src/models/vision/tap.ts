/**
 * Tapping a named internal layer of a vision model: for a layers model (MobileNetV2, InceptionV3), a
 * second tfjs model from the same input to that layer's output,
 * `tf.model({inputs: m.inputs, outputs: m.getLayer(name).output})` (the weights are shared, nothing
 * is copied — and never dispose it: that disposes the shared layers, as nsfwjs's own dispose() finds); for a graph
 * model (MobileNetV2Mid), `model.execute(input, [node])`, which runs only the
 * part of the graph the node needs. Tappable: every layer or node with one output of rank 2
 * ([B, C]) or rank 4 ([B, H, W, C]) — e.g. MobileNetV2's residual sums `block_N_add` and its last
 * feature map `out_relu`, InceptionV3's `mixedN`, MobileNetV2Mid's `MobilenetV2/expanded_conv_N/add`.
 *
 * Letters: B images, H, W spatial positions, C channels.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../core/errors.js';
import type { LoadedModel } from './nsfwjs.js';

export interface LayerInfo {
  /** The name --layer takes (graph nodes: without the model's long name prefix). */
  name: string;
  /** Output shape of one image: [H, W, C] or [C]. */
  shape: number[];
}

export interface Tap {
  layer: string;
  /** Output shape of one image: [H, W, C] or [C]. */
  shape: number[];
  /** The tapped activations for a preprocessed batch [B, S, S, 3]; the caller disposes the result. */
  run(xBSS3: tf.Tensor4D): tf.Tensor;
  dispose(): void;
}

const SKIP_OPS = new Set(['Const', 'Placeholder']);
const NOTABLE = /(^|\/|_)add$|^out_relu$|^mixed\d+$|(^|\/)Conv_1\/Relu6$/;

/** Every tappable layer of the model with its per-image output shape, in graph order. */
export function listLayers(m: LoadedModel): LayerInfo[] {
  if (m.kind === 'layers') {
    const out: LayerInfo[] = [];
    for (const layer of m.model.layers) {
      if (layer.getClassName() === 'InputLayer') continue;
      let shape: unknown;
      try {
        shape = layer.outputShape;
      } catch {
        continue; // a layer with several inbound nodes has no single output
      }
      if (!Array.isArray(shape) || Array.isArray(shape[0])) continue;
      const dims = (shape as Array<number | null>).slice(1);
      if ((dims.length === 1 || dims.length === 3) && dims.every((d) => typeof d === 'number'))
        out.push({ name: layer.name, shape: dims as number[] });
    }
    return out;
  }
  const nodes = graphNodes(m);
  const xs = tf.zeros([1, m.inputSize, m.inputSize, 3]) as tf.Tensor4D;
  try {
    const ys = m.model.execute(xs, nodes) as tf.Tensor[];
    const out: LayerInfo[] = [];
    nodes.forEach((node, i) => {
      const shape = ys[i].shape.slice(1);
      if (ys[i].shape.length === 2 || ys[i].shape.length === 4) out.push({ name: displayName(m, node), shape });
    });
    tf.dispose(ys);
    return out;
  } finally {
    xs.dispose();
  }
}

/** Builds the tap for `layer`; a ConfigError lists the tappable names when there is no such layer. */
export function tapLayer(m: LoadedModel, layer: string): Tap {
  if (m.kind === 'layers') {
    const layers = listLayers(m);
    const info = layers.find((l) => l.name === layer);
    if (info === undefined) throw unknownLayer(m, layer, layers);
    const tapped = tf.model({
      inputs: m.model.inputs,
      outputs: m.model.getLayer(info.name).output as tf.SymbolicTensor,
    });
    return {
      layer: info.name,
      shape: info.shape,
      run: (x) => tapped.predict(x) as tf.Tensor,
      dispose: () => undefined,
    };
  }
  // Graph model: find the node by name and run the graph up to it once for its shape (listing every
  // node's shape would keep every intermediate tensor alive at once; only an error needs that).
  const node = graphNodes(m).find((n) => n === layer || displayName(m, n) === layer);
  if (node === undefined) throw unknownLayer(m, layer, listLayers(m));
  const graph = m.model;
  const xs = tf.zeros([1, m.inputSize, m.inputSize, 3]) as tf.Tensor4D;
  const y = graph.execute(xs, node) as tf.Tensor;
  const rank = y.shape.length;
  const shape = y.shape.slice(1);
  tf.dispose([xs, y]);
  if (rank !== 2 && rank !== 4) throw unknownLayer(m, layer, listLayers(m));
  return {
    layer: displayName(m, node),
    shape,
    run: (x) => graph.execute(x, node) as tf.Tensor,
    dispose: () => undefined,
  };
}

function graphNodes(m: LoadedModel & { kind: 'graph' }): string[] {
  // The executor's node table is not in tfjs's public types; its names are what execute() takes.
  const nodes = (m.model as unknown as { executor: { graph: { nodes: Record<string, { op: string }> } } }).executor
    .graph.nodes;
  return Object.entries(nodes)
    .filter(([, n]) => !SKIP_OPS.has(n.op))
    .map(([name]) => name);
}

function displayName(m: LoadedModel, node: string): string {
  return m.graphPrefix !== '' && node.startsWith(m.graphPrefix) ? node.slice(m.graphPrefix.length) : node;
}

function unknownLayer(m: LoadedModel, layer: string, layers: LayerInfo[]): ConfigError {
  const near = layers
    .map((l) => ({ name: l.name, d: editDistance(l.name.toLowerCase(), layer.toLowerCase()) }))
    .sort((a, b) => a.d - b.d)
    .slice(0, 3)
    .map((l) => l.name);
  const notable = layers.filter((l) => NOTABLE.test(l.name)).map((l) => l.name);
  return new ConfigError(
    `--layer ${JSON.stringify(layer)}: ${m.name} has no tappable layer of that name; closest: ${near.join(', ')}; ` +
      `residual and block outputs: ${notable.join(' ')} (all ${layers.length}: husai extract --source ` +
      `nsfwjs:${m.name} --list-layers)`,
  );
}

/** Levenshtein distance (for "closest" suggestions). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur.push(Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = cur;
  }
  return prev[b.length];
}
