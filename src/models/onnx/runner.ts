/**
 * Runs a (surgically tapped) GPT-2-family decoder with onnxruntime-node on a batch of token windows
 * and returns the tapped tensor as rows, one per (window, position). Feeds what the graph asks for:
 * `input_ids`, `attention_mask` (1 on real tokens, 0 on right padding), `position_ids` (0…T-1),
 * `token_type_ids` (zeros), and `past_key_values.*` as empty tensors [B, heads, 0, head_dim]
 * (heads and head_dim from the input's declared shape, else config.json) — the transformers.js
 * `model.onnx` of a GPT-2 is the with-past decoder, which computes a fresh sequence when the past is
 * empty. Right padding is exact for a causal model: no real position attends to a later one.
 *
 * Models whose weights live in external files (`.onnx_data`, models over 2 GB) cannot be created
 * from bytes: onnxruntime resolves those files relative to the model's path and refuses paths that
 * leave its folder (symlinks included). The tapped model is then written beside the original as
 * `.husai-tapped-<pid>-<random>.onnx`, loaded, and deleted at once (the folder must be writable).
 *
 * Letters: B windows, T positions, D row width.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { DataError } from '../../core/errors.js';
import { f16ArrayToF32 } from '../../formats/float16.js';
import type { LmConfig } from './folder.js';
import { valueDims, valueElemType, type ValueInfoProto } from './proto.js';
import { DataType } from './schema.js';

interface RunnerSpec {
  /** The model to run (already tapped: `tensor` is a graph output). */
  modelBytes: Uint8Array;
  /** The tensor to return. */
  tensor: string;
  /** The graph's inputs (non-initializer ValueInfos), to decide what to feed. */
  inputs: ValueInfoProto[];
  config: LmConfig;
  /** Names the model in errors. */
  file: string;
  /** Folder holding the model's external-data files, when it has any. */
  externalDataDir?: string;
  /** onnxruntime intra-op threads (default: onnxruntime's choice). */
  threads?: number;
}

interface RunResult {
  /** Rows [B·T, D], row b·T + t = window b, position t. */
  xRD: Float32Array;
  d: number;
}

type Feed = (B: number, T: number, idsBT: Int32Array, lengths: Int32Array) => ort.Tensor;

const PAST = /^past_key_values\./;

function intTensor(
  elem: number,
  values: (i: number) => number,
  dims: number[],
  file: string,
  name: string,
): ort.Tensor {
  const n = dims.reduce((p, s) => p * s, 1);
  if (elem === DataType.INT64 || elem === 0) {
    const a = new BigInt64Array(n);
    for (let i = 0; i < n; i++) a[i] = BigInt(values(i));
    return new ort.Tensor('int64', a, dims);
  }
  if (elem === DataType.INT32) {
    const a = new Int32Array(n);
    for (let i = 0; i < n; i++) a[i] = values(i);
    return new ort.Tensor('int32', a, dims);
  }
  throw new DataError(file, `input ${name}`, `element type ${elem}`, 'int64 or int32');
}

function feedFor(v: ValueInfoProto, spec: RunnerSpec): Feed {
  const name = v.name ?? '';
  const elem = valueElemType(v);
  const file = spec.file;
  switch (name) {
    case 'input_ids':
      return (B, T, ids) => intTensor(elem, (i) => ids[i], [B, T], file, name);
    case 'attention_mask':
      return (B, T, _ids, lengths) =>
        intTensor(elem, (i) => (i % T < lengths[Math.floor(i / T)] ? 1 : 0), [B, T], file, name);
    case 'position_ids':
      return (B, T) => intTensor(elem, (i) => i % T, [B, T], file, name);
    case 'token_type_ids':
      return (B, T) => intTensor(elem, () => 0, [B, T], file, name);
  }
  if (PAST.test(name)) {
    const dims = valueDims(v);
    const heads = typeof dims?.[1] === 'number' ? dims[1] : spec.config.nHead;
    const headDim = typeof dims?.[3] === 'number' ? dims[3] : spec.config.nEmbd / spec.config.nHead;
    if (elem === DataType.FLOAT || elem === 0)
      return (B) => new ort.Tensor('float32', new Float32Array(0), [B, heads, 0, headDim]);
    if (elem === DataType.FLOAT16) return (B) => new ort.Tensor('float16', new Uint16Array(0), [B, heads, 0, headDim]);
    throw new DataError(file, `input ${name}`, `element type ${elem}`, 'float32 or float16');
  }
  const hint =
    name === 'use_cache_branch'
      ? 'This is a merged decoder (an If node picks the with-past branch): use onnx/decoder_model.onnx or a ' +
        'model.onnx exported without merging.'
      : 'husai feeds GPT-2-family decoders only.';
  throw new DataError(
    file,
    'graph input',
    JSON.stringify(name),
    'one of input_ids, attention_mask, position_ids, token_type_ids, past_key_values.*',
    hint,
  );
}

export class LmRunner {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly feeds: Array<[string, Feed]>,
    private readonly spec: RunnerSpec,
  ) {}

  static async create(spec: RunnerSpec): Promise<LmRunner> {
    const feeds = spec.inputs.map((v): [string, Feed] => [v.name ?? '', feedFor(v, spec)]);
    const options: ort.InferenceSession.SessionOptions = { logSeverityLevel: 3, graphOptimizationLevel: 'all' };
    if (spec.threads !== undefined) options.intraOpNumThreads = spec.threads;
    let session: ort.InferenceSession;
    let tapped: string | null = null;
    try {
      if (spec.externalDataDir !== undefined) {
        tapped = path.join(
          spec.externalDataDir,
          `.husai-tapped-${process.pid}-${crypto.randomBytes(4).toString('hex')}.onnx`,
        );
        try {
          fs.writeFileSync(tapped, spec.modelBytes);
        } catch (err) {
          throw new DataError(
            spec.externalDataDir,
            'folder',
            `not writable (${(err as Error).message})`,
            'a writable model folder',
            'A model with external data is tapped through a temporary copy beside its data files.',
          );
        }
        session = await ort.InferenceSession.create(tapped, options);
      } else {
        session = await ort.InferenceSession.create(spec.modelBytes, options);
      }
    } catch (err) {
      if (err instanceof DataError) throw err;
      throw new DataError(
        spec.file,
        'model',
        `a graph onnxruntime cannot load (${(err as Error).message.split('\n')[0]})`,
        'an ONNX model onnxruntime-node runs on CPU',
      );
    } finally {
      if (tapped !== null) fs.rmSync(tapped, { force: true });
    }
    return new LmRunner(session, feeds, spec);
  }

  /** Runs B windows of length ≤ T (ids [B·T] row-major, right-padded; lengths[b] real tokens). */
  async run(idsBT: Int32Array, lengths: Int32Array, B: number, T: number): Promise<RunResult> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, feed] of this.feeds) feeds[name] = feed(B, T, idsBT, lengths);
    const out = (await this.session.run(feeds, [this.spec.tensor]))[this.spec.tensor];
    const dims = out.dims.map(Number);
    let d: number;
    if (dims.length >= 3 && dims[0] === B && dims[1] === T) d = dims.slice(2).reduce((p, s) => p * s, 1);
    else if (dims.length === 2 && dims[0] === B * T) d = dims[1];
    else {
      throw new DataError(
        this.spec.file,
        `tensor ${this.spec.tensor}`,
        `shape [${dims.join('×')}] for ${B} windows of ${T} tokens`,
        `[${B}×${T}×…] or [${B * T}×D] (one row per token)`,
        'Tap a tensor laid out per token (batch, sequence, features…); attention scores and per-head tensors ' +
          'transposed to [B, heads, T, …] are not.',
      );
    }
    let xRD: Float32Array;
    if (out.type === 'float32') xRD = out.data as Float32Array;
    else if (out.type === 'float16') {
      xRD = new Float32Array(out.size);
      f16ArrayToF32(out.data as Uint16Array, xRD);
    } else if (out.type === 'float64') xRD = Float32Array.from(out.data as Float64Array);
    else
      throw new DataError(
        this.spec.file,
        `tensor ${this.spec.tensor}`,
        `type ${out.type}`,
        'float32, float16 or float64 activations',
      );
    return { xRD, d };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
