/**
 * `openOnnxSource`: activations of a GPT-2-family ONNX model on real text, as an ExtractionSource
 * (models/extraction.ts). Units are text tokens. The text is tokenised document by document until
 * `limit` tokens; each document is cut into context windows of `ctx` model positions, the first
 * holding `<|endoftext|>` as BOS (GPT-2 saw documents that way; its row, the position-0 attention
 * sink with an outsized norm, is not emitted), so a window carries ctx − 1 text tokens and the last
 * window of a document may be shorter. Windows run in fixed groups of `batch` (right-padded), so a
 * unit's row is bit-identical however the writer slices its calls; the last group is cached.
 *
 * Rows: one per text token; columns doc (index into tokens.json), position (in the model's window,
 * BOS = 0), offset (token index in its document), token (GPT-2 id). `sidecars()` writes tokens.json:
 * per document its title, ids and the text of each token, for feature-card contexts.
 *
 * Letters: N rows, D width, B windows, T positions.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, DataError } from '../../core/errors.js';
import type { ExtractedRows, ExtractionSource } from '../extraction.js';
import { CORPORA, loadText } from './corpus.js';
import { openModelFolder, type ModelFolder } from './folder.js';
import { indexGraph, tappableTensors, type GraphIndex, type TensorEntry } from './graph.js';
import { describeHooks, gpt2Hooks, HOOK_KINDS, type HookMap } from './hooks.js';
import { decodeModel, type ValueInfoProto } from './proto.js';
import { LmRunner } from './runner.js';
import { exposeTensors } from './surgery.js';
import { loadTokenizer } from './tokenizer.js';

interface OnnxSourceOptions {
  /** Model folder in the transformers.js layout (or an .onnx file inside one). */
  modelDir: string;
  /** A hook (`resid_post.6`, `mlp_out.3`, `resid_pre.0`, `attn_out.L`, `resid_mid.L`) or a raw tensor name. */
  layer: string;
  /** 'sotu' | 'moby-dick' | a UTF-8 text file | a folder of .txt files. */
  text: string;
  /** Number of text tokens to extract (fewer if the text runs out; `units` says how many). */
  limit: number;
  /** Window length in model positions, BOS included (default min(128, n_positions)). */
  ctx?: number;
  /** Windows per onnxruntime call (default 8). */
  batch?: number;
  /** Prepend `<|endoftext|>` to every window (default true). */
  bos?: boolean;
  /** onnxruntime intra-op threads (default: onnxruntime's choice). */
  threads?: number;
}

interface OpenedModel {
  folder: ModelFolder;
  bytes: Uint8Array;
  sha256: string;
  idx: GraphIndex;
  hooks: HookMap | null;
  /** True when initializers keep their bytes in external files. */
  external: boolean;
}

/** Reads a model folder's graph and finds its hooks. */
export function openModel(modelDir: string): OpenedModel {
  const folder = openModelFolder(modelDir);
  const bytes = fs.readFileSync(folder.modelPath);
  const model = decodeModel(bytes, folder.modelPath);
  const idx = indexGraph(model.graph ?? {});
  if (idx.nodes.some((n) => n.op_type === 'If') && idx.inputs.includes('use_cache_branch')) {
    throw new DataError(
      folder.modelPath,
      'graph',
      'a merged decoder (an If node on use_cache_branch; its layers live in subgraphs)',
      'a plain decoder graph',
      'Use onnx/decoder_model.onnx from the same export, or re-export unmerged (optimum-cli export onnx ' +
        '--no-post-process).',
    );
  }
  const external = (model.graph?.initializer ?? []).some((t) => t.data_location === 1);
  return {
    folder,
    bytes,
    sha256: crypto.createHash('sha256').update(bytes).digest('hex'),
    idx,
    hooks: gpt2Hooks(idx, folder.config.nLayer),
    external,
  };
}

interface OnnxTensorList {
  modelFile: string;
  /** How hooks were found, or null when the graph has no recognisable GPT-2 blocks. */
  hookMethod: HookMap['method'] | null;
  hooks: Array<{ hook: string; tensor: string }>;
  /** Every data tensor a node produces (what a raw `--layer` may name). */
  tensors: TensorEntry[];
}

/** The hooks and raw tensors of a model folder that `--layer` accepts. */
export function listOnnxTensors(modelDir: string): OnnxTensorList {
  const m = openModel(modelDir);
  const hooks: OnnxTensorList['hooks'] = [];
  if (m.hooks !== null) {
    for (let L = 0; L < m.hooks.nLayer; L++)
      for (const k of HOOK_KINDS) hooks.push({ hook: `${k}.${L}`, tensor: m.hooks.hooks.get(`${k}.${L}`) as string });
  }
  return { modelFile: m.folder.modelPath, hookMethod: m.hooks?.method ?? null, hooks, tensors: tappableTensors(m.idx) };
}

/** Maps `--layer` to a tensor: a hook name first, then a raw tensor name. */
function resolveLayer(m: OpenedModel, layer: string): { tensor: string; hook: string | null } {
  const t = m.hooks?.hooks.get(layer);
  if (t !== undefined) return { tensor: t, hook: layer };
  if (m.idx.producer.has(layer)) return { tensor: layer, hook: null };
  const examples = tappableTensors(m.idx)
    .filter((e) => e.op === 'Add')
    .slice(0, 3)
    .map((e) => e.name);
  const isHook = /^([a-z_]+)\.(\d+)$/.exec(layer);
  const why =
    isHook !== null && (HOOK_KINDS as readonly string[]).includes(isHook[1]) && m.hooks !== null
      ? `block ${isHook[2]} does not exist (the model has ${m.hooks.nLayer} blocks, 0…${m.hooks.nLayer - 1})`
      : 'neither a hook nor a tensor in the graph';
  throw new ConfigError(
    `--layer ${JSON.stringify(layer)}: ${why} of ${m.folder.modelPath}. Hooks: ${describeHooks(m.hooks)}. ` +
      `Or name any tensor of the graph (e.g. ${examples.map((e) => JSON.stringify(e)).join(', ') || 'none found'}); ` +
      `list them all with \`husai extract --source onnx:${m.folder.dir} --list-layers\` (listOnnxTensors).`,
  );
}

interface Window {
  doc: number;
  /** Index of the window's first token in its document. */
  offset: number;
  length: number;
  /** Unit (global token index) of the window's first token. */
  firstUnit: number;
}

function positiveInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v <= 0) throw new ConfigError(`${name} must be a positive integer, got ${v}`);
  return v;
}

/** Opens a GPT-2-family ONNX model as an activation source (see the file header). */
export async function openOnnxSource(opts: OnnxSourceOptions): Promise<ExtractionSource> {
  if (typeof opts.text !== 'string' || opts.text === '')
    throw new ConfigError(`--text is required for onnx sources: ${CORPORA.join(', ')} or a UTF-8 FILE`);
  if (opts.limit === undefined)
    throw new ConfigError('--limit is required for onnx sources (number of text tokens to extract)');
  const limit = positiveInt('limit', opts.limit);
  const batch = positiveInt('batch', opts.batch ?? 8);
  const m = openModel(opts.modelDir);
  const cfg = m.folder.config;
  const ctx = positiveInt('ctx', opts.ctx ?? Math.min(128, cfg.nPositions));
  const bos = opts.bos ?? true;
  const lead = bos ? 1 : 0;
  if (ctx > cfg.nPositions)
    throw new ConfigError(
      `ctx ${ctx} exceeds the model's n_positions ${cfg.nPositions} (config.json); use ctx ≤ ${cfg.nPositions}`,
    );
  if (ctx <= lead) throw new ConfigError(`ctx ${ctx} leaves no room for text after the BOS token; use ctx ≥ 2`);
  const { tensor, hook } = resolveLayer(m, opts.layer);

  // Text → tokens (GPT-2 ids), document by document, until `limit`.
  const text = loadText(opts.text);
  const tok = await loadTokenizer(m.folder.tokenizer);
  const docs: Array<{ title: string; ids: number[] }> = [];
  let units = 0;
  for (const d of text.docs) {
    if (units >= limit) break;
    const ids = tok.encode(d.text).slice(0, limit - units);
    if (ids.length === 0) continue;
    docs.push({ title: d.title, ids });
    units += ids.length;
  }
  if (units === 0) throw new ConfigError(`--text ${opts.text}: no tokens to extract`);
  const span = ctx - lead;
  const windows: Window[] = [];
  let u = 0;
  docs.forEach((d, doc) => {
    for (let offset = 0; offset < d.ids.length; offset += span) {
      const length = Math.min(span, d.ids.length - offset);
      windows.push({ doc, offset, length, firstUnit: u });
      u += length;
    }
  });

  // The tapped, pruned model.
  const tapped = exposeTensors(m.bytes, [tensor], { prune: true, file: m.folder.modelPath });
  const tappedGraph = decodeModel(tapped, m.folder.modelPath).graph ?? {};
  const inits = new Set((tappedGraph.initializer ?? []).map((t) => t.name));
  const inputs: ValueInfoProto[] = (tappedGraph.input ?? []).filter((v) => !inits.has(v.name));
  const runner = await LmRunner.create({
    modelBytes: tapped,
    tensor,
    inputs,
    config: cfg,
    file: m.folder.modelPath,
    externalDataDir: m.external ? path.dirname(m.folder.modelPath) : undefined,
    threads: opts.threads,
  });

  /** Rows of group g, in unit order. */
  const runGroup = async (g: number): Promise<{ xND: Float32Array; d: number }> => {
    const ws = windows.slice(g * batch, (g + 1) * batch);
    const B = ws.length;
    const T = lead + Math.max(...ws.map((w) => w.length));
    const ids = new Int32Array(B * T);
    const lengths = new Int32Array(B);
    ws.forEach((w, b) => {
      lengths[b] = lead + w.length;
      ids.fill(tok.toModel(tok.eot), b * T, (b + 1) * T); // BOS, and padding (masked out)
      const src = docs[w.doc].ids;
      for (let i = 0; i < w.length; i++) ids[b * T + lead + i] = tok.toModel(src[w.offset + i]);
    });
    const { xRD, d } = await runner.run(ids, lengths, B, T);
    const n = ws.reduce((s, w) => s + w.length, 0);
    const xND = new Float32Array(n * d);
    let r = 0;
    ws.forEach((w, b) => {
      xND.set(xRD.subarray((b * T + lead) * d, (b * T + lead + w.length) * d), r * d);
      r += w.length;
    });
    return { xND, d };
  };
  let cache: { g: number; xND: Float32Array } | null = null;
  const group = async (g: number): Promise<Float32Array> => {
    if (cache !== null && cache.g === g) return cache.xND;
    const { xND } = await runGroup(g);
    cache = { g, xND };
    return xND;
  };
  const first = await runGroup(0);
  const d = first.d;
  cache = { g: 0, xND: first.xND };

  const config: Record<string, unknown> = {
    source: 'onnx',
    model_file: m.folder.modelRel,
    model_sha256: m.sha256,
    model_type: cfg.modelType,
    n_layer: cfg.nLayer,
    layer: opts.layer,
    hook,
    tensor,
    hook_method: hook === null ? null : (m.hooks?.method ?? null),
    text: text.name,
    ...(text.sha256 !== undefined ? { text_sha256: text.sha256 } : {}),
    tokenizer: tok.name,
    bos,
    limit,
    tokens: units,
    ctx,
    d,
  };

  return {
    config,
    d,
    units,
    chunkUnits: batch * span,
    async extract(start: number, end: number): Promise<ExtractedRows> {
      if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end > units || start > end) {
        throw new ConfigError(`extract(${start}, ${end}): range outside [0, ${units}]`);
      }
      const n = end - start;
      const xND = new Float32Array(n * d);
      const cols = {
        doc: new Int32Array(n),
        position: new Int32Array(n),
        offset: new Int32Array(n),
        token: new Int32Array(n),
      };
      // First window containing `start` (binary search on firstUnit).
      let lo = 0;
      let hi = windows.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (windows[mid].firstUnit <= start) lo = mid;
        else hi = mid - 1;
      }
      for (let w = lo, r = 0; r < n; w++) {
        const win = windows[w];
        const g = Math.floor(w / batch);
        const rows = await group(g);
        const groupFirst = windows[g * batch].firstUnit;
        const from = Math.max(start, win.firstUnit);
        const to = Math.min(end, win.firstUnit + win.length);
        xND.set(rows.subarray((from - groupFirst) * d, (to - groupFirst) * d), r * d);
        for (let unit = from; unit < to; unit++, r++) {
          const i = unit - win.firstUnit;
          cols.doc[r] = win.doc;
          cols.position[r] = lead + i;
          cols.offset[r] = win.offset + i;
          cols.token[r] = docs[win.doc].ids[win.offset + i];
        }
      }
      return { xND: { data: xND, rows: n, cols: d }, rows: cols };
    },
    async sidecars(): Promise<Record<string, Uint8Array>> {
      const json = {
        format: 'husai-tokens/1',
        tokenizer: tok.name,
        text: text.name,
        bos,
        bos_id: bos ? tok.eot : null,
        docs: docs.map((doc, i) => ({ doc: i, title: doc.title, ids: doc.ids, pieces: tok.pieces(doc.ids) })),
      };
      return { 'tokens.json': new TextEncoder().encode(JSON.stringify(json)) };
    },
    async close(): Promise<void> {
      await runner.close();
    },
  };
}
