/**
 * A tiny GPT-2, written as an ONNX graph with the op structure of a real Hugging Face GPT-2 export
 * (torch.onnx via optimum, as in the transformers.js `onnx/model.onnx` of Xenova/gpt2): Gather for
 * wte/wpe, decomposed LayerNorm (ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div/Mul/Add; or the
 * LayerNormalization op of opset 17 with `layerNormOp`), MatMul+Add
 * projections with Conv1D weight layout [in, out], causal attention with an additive mask (Trilu on
 * past+current length, times attention_mask) through Softmax, past_key_values inputs concatenated
 * into present.* outputs, gelu_new spelled out in tanh ops (Mul, Pow, Mul_1, Add, Mul_2, Tanh,
 * Add_1, Mul_3), residual Adds named `/transformer/h.L/Add` and `/transformer/h.L/Add_1`, and an
 * lm_head MatMul to `logits`. Node names follow the torch.onnx scopes, so hook names map as on the
 * real model (`resid_post.L` = `/transformer/h.L/Add_1_output_0`).
 *
 * Weights: seeded normals via `Rng.from(seed, 'tiny-gpt2', tensorName)`, scaled so that the hidden
 * states are O(1) (a test at 1e-4 then means something), HF state-dict names.
 *
 * Used by scripts/make-tiny-gpt2.ts (writes test/fixtures/tiny-gpt2/) and by the tests, which build
 * the variant with internal tensors declared as outputs from the start (`declareOutputs`).
 */
import { Rng } from '../src/core/rng.js';
import {
  encodeModel,
  type AttributeProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from '../src/models/onnx/proto.js';
import { AttrType, DataType } from '../src/models/onnx/schema.js';

export interface TinyGpt2Config {
  n_layer: number;
  n_head: number;
  n_embd: number;
  n_positions: number;
  vocab_size: number;
  layer_norm_epsilon: number;
}

export const TINY_GPT2: TinyGpt2Config = {
  n_layer: 2,
  n_head: 2,
  n_embd: 16,
  n_positions: 64,
  vocab_size: 300,
  layer_norm_epsilon: 1e-5,
};

export interface TinyGpt2Options {
  seed?: number;
  /** Internal tensors to declare as graph outputs (typed float [batch, seq, n_embd]) from the start. */
  declareOutputs?: readonly string[];
  /** LayerNormalization ops (opset 17, as newer torch.onnx exports write) instead of the decomposed form. */
  layerNormOp?: boolean;
  /** Other sizes (e.g. GPT-2 small's, for a throughput check); the fixture uses TINY_GPT2. */
  config?: Partial<TinyGpt2Config>;
}

export interface TinyGpt2 {
  config: TinyGpt2Config;
  /** HF GPT-2 state-dict names → tensors (lm_head is tied to wte and not listed). */
  weights: Record<string, { shape: number[]; data: Float32Array }>;
  model: ModelProto;
  bytes: Uint8Array;
}

type Dim = number | string;

function valueInfo(name: string, elem: number, dims: Dim[]): ValueInfoProto {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: elem,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

function rawF32(data: Float32Array): Uint8Array {
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

function tensorF32(name: string, dims: number[], data: Float32Array): TensorProto {
  return { name, dims, data_type: DataType.FLOAT, raw_data: rawF32(data) };
}

function tensorI64(name: string, dims: number[], values: number[]): TensorProto {
  const data = BigInt64Array.from(values.map((v) => BigInt(v)));
  return { name, dims, data_type: DataType.INT64, raw_data: new Uint8Array(data.buffer) };
}

/** Builds nodes with torch.onnx-style names: node `${scope}/${Op}[_k]`, output `${node}_output_${i}`. */
class Builder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private counts = new Map<string, number>();

  node(
    scope: string,
    op: string,
    inputs: string[],
    attrs: AttributeProto[] = [],
    nOut = 1,
    outNames?: string[],
  ): string[] {
    const key = `${scope}/${op}`;
    const k = this.counts.get(key) ?? 0;
    this.counts.set(key, k + 1);
    const name = k === 0 ? key : `${key}_${k}`;
    const output = outNames ?? Array.from({ length: nOut }, (_, i) => `${name}_output_${i}`);
    this.nodes.push({ name, op_type: op, input: inputs, output, attribute: attrs });
    return output;
  }

  one(scope: string, op: string, inputs: string[], attrs: AttributeProto[] = []): string {
    return this.node(scope, op, inputs, attrs)[0];
  }

  constF(scope: string, value: number): string {
    return this.one(
      scope,
      'Constant',
      [],
      [{ name: 'value', type: AttrType.TENSOR, t: tensorF32('', [], Float32Array.of(value)) }],
    );
  }

  constI(scope: string, values: number[], scalar = false): string {
    return this.one(
      scope,
      'Constant',
      [],
      [{ name: 'value', type: AttrType.TENSOR, t: tensorI64('', scalar ? [] : [values.length], values) }],
    );
  }

  init(name: string, dims: number[], data: Float32Array): string {
    this.initializers.push(tensorF32(name, dims, data));
    return name;
  }

  constructor(private readonly layerNormOp = false) {}

  layerNorm(scope: string, x: string, gamma: string, beta: string, eps: number): string {
    if (this.layerNormOp) {
      return this.one(
        scope,
        'LayerNormalization',
        [x, gamma, beta],
        [
          { name: 'axis', type: AttrType.INT, i: -1 },
          { name: 'epsilon', type: AttrType.FLOAT, f: eps },
        ],
      );
    }
    const axes: AttributeProto[] = [{ name: 'axes', type: AttrType.INTS, ints: [-1] }];
    const mean = this.one(scope, 'ReduceMean', [x], axes);
    const d = this.one(scope, 'Sub', [x, mean]);
    const sq = this.one(scope, 'Pow', [d, this.constF(scope, 2)]);
    const variance = this.one(scope, 'ReduceMean', [sq], axes);
    const ve = this.one(scope, 'Add', [variance, this.constF(scope, eps)]);
    const sd = this.one(scope, 'Sqrt', [ve]);
    const n = this.one(scope, 'Div', [d, sd]);
    const y = this.one(scope, 'Mul', [n, gamma]);
    return this.one(scope, 'Add', [y, beta]);
  }

  linear(scope: string, x: string, w: string, b: string): string {
    return this.one(scope, 'Add', [this.one(scope, 'MatMul', [x, w]), b]);
  }
}

/** Builds the tiny GPT-2 (deterministic for a seed: same bytes every run). */
export function buildTinyGpt2(opts: TinyGpt2Options = {}): TinyGpt2 {
  const seed = opts.seed ?? 7;
  const cfg: TinyGpt2Config = { ...TINY_GPT2, ...opts.config };
  const D = cfg.n_embd;
  const H = cfg.n_head;
  const hd = D / H;
  const V = cfg.vocab_size;
  const weights: TinyGpt2['weights'] = {};
  const b = new Builder(opts.layerNormOp === true);
  const normal = (name: string, shape: number[], sd: number, mean = 0): string => {
    const data = new Float32Array(shape.reduce((p, s) => p * s, 1));
    Rng.from(seed, 'tiny-gpt2', name).fillNormal(data, mean, sd);
    weights[name] = { shape, data };
    return b.init(name, shape, data);
  };

  const wte = normal('transformer.wte.weight', [V, D], 0.5);
  const wpe = normal('transformer.wpe.weight', [cfg.n_positions, D], 0.2);

  // Token + position embeddings.
  const tok = b.one('/transformer/wte', 'Gather', [wte, 'input_ids']);
  const pos = b.one('/transformer/wpe', 'Gather', [wpe, 'position_ids']);
  let x = b.one('/transformer', 'Add', [tok, pos]);

  // Additive attention mask [B, 1, T, S], S = past + T: key j is visible to query i iff j ≤ i + past
  // and attention_mask[b, j] = 1.
  const T = b.one(
    '/transformer',
    'Gather',
    [b.one('/transformer', 'Shape', ['input_ids']), b.constI('/transformer', [1], true)],
    [{ name: 'axis', type: AttrType.INT, i: 0 }],
  );
  const S = b.one(
    '/transformer',
    'Gather',
    [b.one('/transformer', 'Shape', ['attention_mask']), b.constI('/transformer', [1], true)],
    [{ name: 'axis', type: AttrType.INT, i: 0 }],
  );
  const past = b.one('/transformer', 'Sub', [S, T]);
  const axis0 = b.constI('/transformer', [0]);
  const shapeTS = b.one(
    '/transformer',
    'Concat',
    [b.one('/transformer', 'Unsqueeze', [T, axis0]), b.one('/transformer', 'Unsqueeze', [S, axis0])],
    [{ name: 'axis', type: AttrType.INT, i: 0 }],
  );
  const ones = b.one(
    '/transformer',
    'ConstantOfShape',
    [shapeTS],
    [{ name: 'value', type: AttrType.TENSOR, t: tensorF32('', [1], Float32Array.of(1)) }],
  );
  const causal = b.one('/transformer', 'Trilu', [ones, past], [{ name: 'upper', type: AttrType.INT, i: 0 }]);
  const am = b.one('/transformer', 'Unsqueeze', [
    b.one('/transformer', 'Cast', ['attention_mask'], [{ name: 'to', type: AttrType.INT, i: DataType.FLOAT }]),
    b.constI('/transformer', [1, 2]),
  ]);
  const allowed = b.one('/transformer', 'Mul', [causal, am]);
  const mask = b.one('/transformer', 'Mul', [
    b.one('/transformer', 'Sub', [b.constF('/transformer', 1), allowed]),
    b.constF('/transformer', -1e9),
  ]);

  const presents: string[] = [];
  for (let L = 0; L < cfg.n_layer; L++) {
    const s = `/transformer/h.${L}`;
    const w = `transformer.h.${L}`;
    const ln1 = b.layerNorm(
      `${s}/ln_1`,
      x,
      normal(`${w}.ln_1.weight`, [D], 0.1, 1),
      normal(`${w}.ln_1.bias`, [D], 0.1),
      cfg.layer_norm_epsilon,
    );
    const qkv = b.linear(
      `${s}/attn/c_attn`,
      ln1,
      normal(`${w}.attn.c_attn.weight`, [D, 3 * D], 1.5 / Math.sqrt(D)),
      normal(`${w}.attn.c_attn.bias`, [3 * D], 0.1),
    );
    const [q, k, v] = b.node(
      `${s}/attn`,
      'Split',
      [qkv, b.constI(`${s}/attn`, [D, D, D])],
      [{ name: 'axis', type: AttrType.INT, i: 2 }],
      3,
    );
    const heads = b.constI(`${s}/attn`, [0, 0, H, hd]);
    const perm = (p: number[]): AttributeProto[] => [{ name: 'perm', type: AttrType.INTS, ints: p }];
    const [qh, kh, vh] = [q, k, v].map((t) =>
      b.one(`${s}/attn`, 'Transpose', [b.one(`${s}/attn`, 'Reshape', [t, heads])], perm([0, 2, 1, 3])),
    );
    const catAxis: AttributeProto[] = [{ name: 'axis', type: AttrType.INT, i: 2 }];
    const [presentK] = b.node(`${s}/attn`, 'Concat', [`past_key_values.${L}.key`, kh], catAxis, 1, [
      `present.${L}.key`,
    ]);
    const [presentV] = b.node(`${s}/attn`, 'Concat', [`past_key_values.${L}.value`, vh], catAxis, 1, [
      `present.${L}.value`,
    ]);
    presents.push(presentK, presentV);
    const scores = b.one(`${s}/attn`, 'MatMul', [qh, b.one(`${s}/attn`, 'Transpose', [presentK], perm([0, 1, 3, 2]))]);
    const scaled = b.one(`${s}/attn`, 'Div', [scores, b.constF(`${s}/attn`, Math.sqrt(hd))]);
    const probs = b.one(
      `${s}/attn`,
      'Softmax',
      [b.one(`${s}/attn`, 'Add', [scaled, mask])],
      [{ name: 'axis', type: AttrType.INT, i: -1 }],
    );
    const ctx = b.one(`${s}/attn`, 'Transpose', [b.one(`${s}/attn`, 'MatMul', [probs, presentV])], perm([0, 2, 1, 3]));
    const merged = b.one(`${s}/attn`, 'Reshape', [ctx, b.constI(`${s}/attn`, [0, 0, D])]);
    const attnOut = b.linear(
      `${s}/attn/c_proj`,
      merged,
      normal(`${w}.attn.c_proj.weight`, [D, D], 1 / Math.sqrt(D)),
      normal(`${w}.attn.c_proj.bias`, [D], 0.1),
    );
    const mid = b.one(s, 'Add', [attnOut, x]);
    const ln2 = b.layerNorm(
      `${s}/ln_2`,
      mid,
      normal(`${w}.ln_2.weight`, [D], 0.1, 1),
      normal(`${w}.ln_2.bias`, [D], 0.1),
      cfg.layer_norm_epsilon,
    );
    const h = b.linear(
      `${s}/mlp/c_fc`,
      ln2,
      normal(`${w}.mlp.c_fc.weight`, [D, 4 * D], 1 / Math.sqrt(D)),
      normal(`${w}.mlp.c_fc.bias`, [4 * D], 0.1),
    );
    // gelu_new: 0.5·h·(1 + tanh(√(2/π)·(h + 0.044715·h³))), op by op as torch.onnx writes it.
    const a = `${s}/mlp/act`;
    const half = b.one(a, 'Mul', [h, b.constF(a, 0.5)]);
    const cube = b.one(a, 'Pow', [h, b.constF(a, 3)]);
    const inner = b.one(a, 'Add', [h, b.one(a, 'Mul', [cube, b.constF(a, 0.044715)])]);
    const th = b.one(a, 'Tanh', [b.one(a, 'Mul', [inner, b.constF(a, Math.sqrt(2 / Math.PI))])]);
    const gelu = b.one(a, 'Mul', [half, b.one(a, 'Add', [th, b.constF(a, 1)])]);
    const mlpOut = b.linear(
      `${s}/mlp/c_proj`,
      gelu,
      normal(`${w}.mlp.c_proj.weight`, [4 * D, D], 1 / Math.sqrt(4 * D)),
      normal(`${w}.mlp.c_proj.bias`, [D], 0.1),
    );
    x = b.one(s, 'Add', [mid, mlpOut]);
  }
  const lnf = b.layerNorm(
    '/transformer/ln_f',
    x,
    normal('transformer.ln_f.weight', [D], 0.1, 1),
    normal('transformer.ln_f.bias', [D], 0.1),
    cfg.layer_norm_epsilon,
  );
  // lm_head is tied to wte; torch.onnx writes the transposed copy as its own initializer.
  const wteData = weights['transformer.wte.weight'].data;
  const lmHead = new Float32Array(D * V);
  for (let t = 0; t < V; t++) for (let d = 0; d < D; d++) lmHead[d * V + t] = wteData[t * D + d];
  b.node('/lm_head', 'MatMul', [lnf, b.init('onnx::MatMul_lm_head', [D, V], lmHead)], [], 1, ['logits']);

  const batch = 'batch_size';
  const seq = 'sequence_length';
  const total = 'past_sequence_length + sequence_length';
  const inputs: ValueInfoProto[] = [
    valueInfo('input_ids', DataType.INT64, [batch, seq]),
    valueInfo('attention_mask', DataType.INT64, [batch, total]),
    valueInfo('position_ids', DataType.INT64, [batch, seq]),
  ];
  for (let L = 0; L < cfg.n_layer; L++) {
    for (const kv of ['key', 'value'])
      inputs.push(valueInfo(`past_key_values.${L}.${kv}`, DataType.FLOAT, [batch, H, 'past_sequence_length', hd]));
  }
  const outputs: ValueInfoProto[] = [
    valueInfo('logits', DataType.FLOAT, [batch, seq, V]),
    ...presents.map((p) => valueInfo(p, DataType.FLOAT, [batch, H, total, hd])),
  ];
  for (const name of opts.declareOutputs ?? []) outputs.push(valueInfo(name, DataType.FLOAT, [batch, seq, D]));

  const model: ModelProto = {
    ir_version: 8,
    opset_import: [{ domain: '', version: opts.layerNormOp === true ? 17 : 14 }],
    producer_name: 'husai scripts/tiny-gpt2.ts',
    producer_version: '1',
    graph: { name: 'tiny-gpt2', node: b.nodes, initializer: b.initializers, input: inputs, output: outputs },
  };
  return { config: cfg, weights, model, bytes: encodeModel(model) };
}
