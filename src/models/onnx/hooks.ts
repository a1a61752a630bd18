/**
 * Friendly hook names for GPT-2-family ONNX graphs (TransformerLens-style, per block L):
 *
 *   resid_pre.L   residual stream entering block L (resid_pre.0 = token + position embeddings)
 *   attn_out.L    attention output added to the stream in block L
 *   resid_mid.L   stream after the attention residual add
 *   mlp_out.L     MLP output added to the stream in block L
 *   resid_post.L  stream after block L (= resid_pre.(L+1))
 *
 * A GPT-2 block is `r + attn(ln_1(r))` then `r' + mlp(ln_2(r'))`: two residual Adds per block, each
 * taking the stream and a branch computed from it. Two ways to find them:
 *
 * 1. Names (`names`): torch.onnx, as driven by HF optimum for the transformers.js exports
 *    (Xenova/gpt2, distilgpt2), names nodes by module path: the residual adds of block L are
 *    `/transformer/h.L/Add` and `/transformer/h.L/Add_1`, so resid_post.6 of GPT-2 small is
 *    `/transformer/h.6/Add_1_output_0` and resid_pre.0 is `/transformer/Add_output_0` (wte + wpe).
 *    Matched by the suffix `h.L/Add`, `h.L/Add_1` under any prefix, and checked structurally.
 * 2. Walk (`walk`), when names are missing or do not check out: start at the token-embedding Gather
 *    (an initializer indexed by `input_ids`), step over an Add of a position embedding (an input
 *    that does not depend on the token embedding), then follow the stream: at each step the one Add
 *    that reads the stream and a tensor computed from it is the next residual add. 2·n_layer adds
 *    in a row → the block structure above.
 *
 * Graphs where ORT fused the adds (SkipLayerNormalization) have no residual Adds: neither method
 * finds blocks, and the user taps raw tensor names instead.
 */
import { dependsOn, type GraphIndex } from './graph.js';
import type { NodeProto } from './proto.js';

export const HOOK_KINDS = ['resid_pre', 'attn_out', 'resid_mid', 'mlp_out', 'resid_post'] as const;

export interface HookMap {
  /** How the blocks were found. */
  method: 'names' | 'walk';
  nLayer: number;
  /** `resid_post.6` → tensor name, for every kind and block. */
  hooks: Map<string, string>;
}

interface Block {
  attnAdd: NodeProto;
  mlpAdd: NodeProto;
}

/** Splits a residual Add's two inputs into [stream, branch]: the branch depends on the stream. */
function splitResidual(idx: GraphIndex, add: NodeProto): [string, string] | null {
  const ins = add.input ?? [];
  if (add.op_type !== 'Add' || ins.length !== 2 || ins[0] === ins[1]) return null;
  const [a, b] = ins;
  if (dependsOn(idx, b, a) && !dependsOn(idx, a, b)) return [a, b];
  if (dependsOn(idx, a, b) && !dependsOn(idx, b, a)) return [b, a];
  return null;
}

/** The hook map of consecutive blocks, or null when the adds do not chain as a residual stream. */
function hooksOfBlocks(idx: GraphIndex, blocks: Block[], method: HookMap['method']): HookMap | null {
  const hooks = new Map<string, string>();
  let stream: string | null = null;
  for (let L = 0; L < blocks.length; L++) {
    const a = splitResidual(idx, blocks[L].attnAdd);
    const m = splitResidual(idx, blocks[L].mlpAdd);
    const mid = blocks[L].attnAdd.output?.[0];
    const post = blocks[L].mlpAdd.output?.[0];
    if (a === null || m === null || mid === undefined || post === undefined) return null;
    if (stream !== null && a[0] !== stream) return null;
    if (m[0] !== mid) return null;
    hooks.set(`resid_pre.${L}`, a[0]);
    hooks.set(`attn_out.${L}`, a[1]);
    hooks.set(`resid_mid.${L}`, mid);
    hooks.set(`mlp_out.${L}`, m[1]);
    hooks.set(`resid_post.${L}`, post);
    stream = post;
  }
  return blocks.length > 0 ? { method, nLayer: blocks.length, hooks } : null;
}

/** Method 1: residual adds named `…h.L/Add` and `…h.L/Add_1`. */
function blocksByName(idx: GraphIndex): Block[] | null {
  const found = new Map<number, Partial<Block>>();
  for (const node of idx.nodes) {
    const m = /(?:^|\/)h\.(\d+)\/Add(_1)?$/.exec(node.name ?? '');
    if (m === null || node.op_type !== 'Add') continue;
    const L = Number(m[1]);
    const entry = found.get(L) ?? {};
    if (m[2] === undefined) entry.attnAdd = node;
    else entry.mlpAdd = node;
    found.set(L, entry);
  }
  const blocks: Block[] = [];
  for (let L = 0; L < found.size; L++) {
    const e = found.get(L);
    if (e?.attnAdd === undefined || e.mlpAdd === undefined) return null;
    blocks.push({ attnAdd: e.attnAdd, mlpAdd: e.mlpAdd });
  }
  return blocks;
}

/** Method 2: follow the residual stream from the token embedding. */
function blocksByWalk(idx: GraphIndex): Block[] | null {
  const ids = idx.inputs.find((n) => n === 'input_ids') ?? null;
  if (ids === null) return null;
  const wte = idx.nodes.find(
    (n) =>
      n.op_type === 'Gather' && idx.initializers.has(n.input?.[0] ?? '') && dependsOn(idx, n.input?.[1] ?? '', ids),
  );
  let stream = wte?.output?.[0];
  if (stream === undefined) return null;
  // Step over the position-embedding add, whose other input does not depend on the tokens.
  const embAdd = (idx.consumers.get(stream) ?? []).filter((n) => {
    if (n.op_type !== 'Add' || (n.input ?? []).length !== 2) return false;
    const other = n.input?.[0] === stream ? n.input?.[1] : n.input?.[0];
    return other !== undefined && !dependsOn(idx, other, stream as string);
  });
  if (embAdd.length === 1) stream = embAdd[0].output?.[0] ?? stream;
  const adds: NodeProto[] = [];
  for (;;) {
    const cur: string = stream;
    const next = (idx.consumers.get(cur) ?? []).filter((n) => {
      const split = splitResidual(idx, n);
      return split !== null && split[0] === cur;
    });
    if (next.length !== 1) break;
    adds.push(next[0]);
    const out = next[0].output?.[0];
    if (out === undefined) break;
    stream = out;
  }
  if (adds.length === 0 || adds.length % 2 !== 0) return null;
  const blocks: Block[] = [];
  for (let i = 0; i < adds.length; i += 2) blocks.push({ attnAdd: adds[i], mlpAdd: adds[i + 1] });
  return blocks;
}

/**
 * The hook map of a GPT-2-family graph, by node names if they check out, else by walking the
 * residual stream; null when neither finds blocks (or, given `nLayer` from config.json, when the
 * number of blocks found differs from it).
 */
export function gpt2Hooks(idx: GraphIndex, nLayer?: number): HookMap | null {
  const fits = (h: HookMap | null): h is HookMap => h !== null && (nLayer === undefined || h.nLayer === nLayer);
  const byName = blocksByName(idx);
  const named = byName === null ? null : hooksOfBlocks(idx, byName, 'names');
  if (fits(named)) return named;
  const byWalk = blocksByWalk(idx);
  const walked = byWalk === null ? null : hooksOfBlocks(idx, byWalk, 'walk');
  return fits(walked) ? walked : null;
}

/** A short human list of the hooks, e.g. `resid_pre.0…11, attn_out.0…11, …`. */
export function describeHooks(map: HookMap | null): string {
  if (map === null) return '(none: no GPT-2 residual blocks found in this graph)';
  const range = map.nLayer === 1 ? '0' : `0…${map.nLayer - 1}`;
  return HOOK_KINDS.map((k) => `${k}.${range}`).join(', ');
}
