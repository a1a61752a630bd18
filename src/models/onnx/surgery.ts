/**
 * Graph surgery on ONNX model bytes: make internal tensors graph outputs, so onnxruntime returns
 * them. `exposeTensors(model, names)` adds a ValueInfo output per name (its type copied from the
 * graph's value_info when declared there, else left unset: onnxruntime infers it — checked by
 * test/models/onnx.test.ts). With `prune`, the named tensors become the *only* outputs and every
 * node, initializer, input and value_info they do not need is dropped: tapping layer 6 of GPT-2 no
 * longer computes layers 7–11 and the 50257-wide logits, and the past_key_values inputs of later
 * layers disappear from the inputs.
 *
 * Works on the wire bytes (wire.ts): ModelProto field 7 (graph) is split into its fields; nodes
 * (GraphProto field 1), initializers (5), sparse initializers (15), inputs (11), outputs (12) and
 * value_info (13) are kept or dropped whole, their bytes copied verbatim; only the graph's length
 * prefix is rewritten. Nothing the schema does not know is lost, and nodes are decoded one at a time
 * (small) while initializers are only read for their name.
 */
import { ConfigError, DataError } from '../../core/errors.js';
import {
  decodeMessage,
  encodeMessage,
  type AttributeProto,
  type GraphProto,
  type NodeProto,
  type ValueInfoProto,
} from './proto.js';
import { concatBytes, lenPrefix, wireFields, wireString, WIRE_LEN, type WireField } from './wire.js';

interface ExposeOptions {
  /** Keep only the named tensors as outputs and drop what they do not depend on (default false). */
  prune?: boolean;
  /** Names the model in errors (default 'model.onnx'). */
  file?: string;
}

const F_GRAPH = 7;
const G_NODE = 1;
const G_INITIALIZER = 5;
const G_INPUT = 11;
const G_OUTPUT = 12;
const G_VALUE_INFO = 13;
const G_SPARSE_INITIALIZER = 15;

/** Every tensor name read inside a node's subgraphs (If/Loop/Scan bodies may read outer tensors). */
function subgraphReads(node: NodeProto): string[] {
  const out: string[] = [];
  const visitGraph = (g: GraphProto | undefined): void => {
    for (const n of g?.node ?? []) {
      out.push(...(n.input ?? []));
      visitAttrs(n.attribute);
    }
  };
  const visitAttrs = (attrs: AttributeProto[] | undefined): void => {
    for (const a of attrs ?? []) {
      visitGraph(a.g);
      for (const g of a.graphs ?? []) visitGraph(g);
    }
  };
  visitAttrs(node.attribute);
  return out;
}

/** Returns new model bytes in which `names` are graph outputs (see the file header). */
export function exposeTensors(modelBytes: Uint8Array, names: readonly string[], opts: ExposeOptions = {}): Uint8Array {
  const file = opts.file ?? 'model.onnx';
  const top = wireFields(modelBytes, file);
  const graphFields = top.filter((f) => f.no === F_GRAPH && f.wire === WIRE_LEN);
  if (graphFields.length !== 1) {
    throw new DataError(file, 'ModelProto.graph', `${graphFields.length} graph fields`, 'exactly one graph');
  }
  const gField = graphFields[0];
  const fields = wireFields(modelBytes, file, gField.valueStart, gField.end);
  const slice = (f: WireField): Uint8Array => modelBytes.subarray(f.valueStart, f.end);

  const nodes: Array<{ field: WireField; node: NodeProto }> = [];
  const produced = new Map<string, number>(); // tensor → index in nodes
  const declared = new Set<string>(); // graph inputs and initializers
  const valueInfo = new Map<string, ValueInfoProto>();
  const outputs = new Set<string>();
  for (const f of fields) {
    if (f.wire !== WIRE_LEN) continue;
    if (f.no === G_NODE) {
      const node = decodeMessage<NodeProto>(slice(f), 'NodeProto', file);
      for (const o of node.output ?? []) if (o !== '') produced.set(o, nodes.length);
      nodes.push({ field: f, node });
    } else if (f.no === G_INITIALIZER) {
      declared.add(wireString(modelBytes, f, 8, file) ?? '');
    } else if (f.no === G_INPUT || f.no === G_VALUE_INFO || f.no === G_OUTPUT) {
      const name = wireString(modelBytes, f, 1, file) ?? '';
      if (f.no === G_INPUT) declared.add(name);
      if (f.no === G_OUTPUT) outputs.add(name);
      if (f.no === G_VALUE_INFO) valueInfo.set(name, decodeMessage<ValueInfoProto>(slice(f), 'ValueInfoProto', file));
    }
  }
  for (const name of names) {
    if (!produced.has(name) && !declared.has(name)) {
      throw new ConfigError(
        `exposeTensors ${file}: no tensor named "${name}" in the graph (it is neither a node output nor a graph input)`,
      );
    }
  }

  // With prune: the tensors the named ones need, walking producers backwards.
  let needed: Set<string> | null = null;
  let keepNode: boolean[] | null = null;
  if (opts.prune === true) {
    needed = new Set<string>();
    keepNode = new Array<boolean>(nodes.length).fill(false);
    const stack = [...names];
    while (stack.length > 0) {
      const t = stack.pop() as string;
      if (t === '' || needed.has(t)) continue;
      needed.add(t);
      const i = produced.get(t);
      if (i === undefined || keepNode[i]) continue;
      keepNode[i] = true;
      const node = nodes[i].node;
      for (const o of node.output ?? []) needed.add(o);
      stack.push(...(node.input ?? []), ...subgraphReads(node));
    }
  }

  const parts: Uint8Array[] = [];
  const exposed = new Set(names);
  let nodeIndex = 0;
  for (const f of fields) {
    const whole = modelBytes.subarray(f.start, f.end);
    // A value_info entry of an exposed tensor moves (with its type) to the outputs.
    if (f.no === G_VALUE_INFO && f.wire === WIRE_LEN && exposed.has(wireString(modelBytes, f, 1, file) ?? '')) continue;
    if (needed === null || keepNode === null || f.wire !== WIRE_LEN) {
      parts.push(whole);
      continue;
    }
    switch (f.no) {
      case G_NODE:
        if (keepNode[nodeIndex++]) parts.push(whole);
        break;
      case G_OUTPUT:
        break;
      case G_INITIALIZER:
      case G_INPUT:
      case G_VALUE_INFO:
        if (needed.has(wireString(modelBytes, f, f.no === G_INITIALIZER ? 8 : 1, file) ?? '')) parts.push(whole);
        break;
      case G_SPARSE_INITIALIZER: {
        const values = wireFields(modelBytes, file, f.valueStart, f.end).find((s) => s.no === 1 && s.wire === WIRE_LEN);
        if (values === undefined || needed.has(wireString(modelBytes, values, 8, file) ?? '')) parts.push(whole);
        break;
      }
      default:
        parts.push(whole);
    }
  }
  const added = new Set<string>();
  for (const name of names) {
    if (added.has(name) || (needed === null && outputs.has(name))) continue;
    added.add(name);
    const vi: ValueInfoProto = { name };
    const known = valueInfo.get(name)?.type;
    if (known !== undefined) vi.type = known;
    const bytes = encodeMessage(vi, 'ValueInfoProto');
    parts.push(lenPrefix(G_OUTPUT, bytes.length), bytes);
  }
  const graphLength = parts.reduce((s, p) => s + p.length, 0);
  return concatBytes([
    modelBytes.subarray(0, gField.start),
    lenPrefix(F_GRAPH, graphLength),
    ...parts,
    modelBytes.subarray(gField.end),
  ]);
}
