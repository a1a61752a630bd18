/**
 * Reading an ONNX graph as a data-flow graph: who produces and who consumes each tensor, which
 * tensors carry data (as opposed to shapes and constants), and whether one tensor depends on another.
 * hooks.ts builds the GPT-2 hook map on these queries; `tappableTensors` is the list a user picks a
 * raw `--layer` name from.
 *
 * "Data" tensors: everything computed from a graph input's values. Shape/Size cut that dependence
 * (their output depends on a tensor's shape, not its values), and tensors computed only from
 * initializers and constants are weights, not activations.
 */
import type { GraphProto, NodeProto } from './proto.js';

export interface GraphIndex {
  graph: GraphProto;
  nodes: NodeProto[];
  /** Tensor name → the node that produces it. */
  producer: Map<string, NodeProto>;
  /** Tensor name → nodes that read it (in node order; a node reading a tensor twice appears once). */
  consumers: Map<string, NodeProto[]>;
  initializers: Set<string>;
  /** Graph inputs that are not initializers (what a caller feeds). */
  inputs: string[];
  outputs: string[];
  /** Tensors whose values derive from a graph input's values. */
  data: Set<string>;
}

/** Ops whose output depends on their input's shape only. */
const SHAPE_OPS = new Set(['Shape', 'Size']);

/** Indexes a graph (the main graph of a model; subgraphs of If/Loop nodes are not entered). */
export function indexGraph(graph: GraphProto): GraphIndex {
  const nodes = graph.node ?? [];
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  const inputs = (graph.input ?? []).map((v) => v.name ?? '').filter((n) => n !== '' && !initializers.has(n));
  const outputs = (graph.output ?? []).map((v) => v.name ?? '');
  const producer = new Map<string, NodeProto>();
  const consumers = new Map<string, NodeProto[]>();
  for (const node of nodes) {
    for (const o of node.output ?? []) if (o !== '') producer.set(o, node);
    for (const i of new Set(node.input ?? [])) {
      if (i === '') continue;
      const list = consumers.get(i);
      if (list === undefined) consumers.set(i, [node]);
      else list.push(node);
    }
  }
  const data = new Set<string>(inputs);
  for (const node of nodes) {
    if (SHAPE_OPS.has(node.op_type ?? '')) continue;
    if ((node.input ?? []).some((i) => data.has(i))) for (const o of node.output ?? []) if (o !== '') data.add(o);
  }
  return { graph, nodes, producer, consumers, initializers, inputs, outputs, data };
}

/**
 * True when the values of `tensor` depend on the values of `on` (a path of data edges from `on` to
 * `tensor`, not through Shape/Size). A tensor depends on itself.
 */
export function dependsOn(idx: GraphIndex, tensor: string, on: string): boolean {
  const seen = new Set<string>();
  const stack = [tensor];
  while (stack.length > 0) {
    const t = stack.pop() as string;
    if (t === on) return true;
    if (seen.has(t)) continue;
    seen.add(t);
    const node = idx.producer.get(t);
    if (node === undefined || SHAPE_OPS.has(node.op_type ?? '')) continue;
    for (const i of node.input ?? []) if (i !== '' && !seen.has(i)) stack.push(i);
  }
  return false;
}

export interface TensorEntry {
  /** Tensor name, as `--layer` accepts it. */
  name: string;
  /** op_type of the node producing it. */
  op: string;
  /** Name of that node ('' when unnamed). */
  node: string;
}

/** Every data tensor a node produces, in graph order: the raw names `--layer` accepts. */
export function tappableTensors(idx: GraphIndex): TensorEntry[] {
  const out: TensorEntry[] = [];
  for (const node of idx.nodes) {
    for (const o of node.output ?? []) {
      if (o !== '' && idx.data.has(o)) out.push({ name: o, op: node.op_type ?? '', node: node.name ?? '' });
    }
  }
  return out;
}
