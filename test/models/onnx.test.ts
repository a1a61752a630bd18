import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { decode as gpt2Decode, encode as gpt2Encode } from 'gpt-tokenizer/encoding/gpt2';
import { ConfigError, DataError } from '../../src/core/errors.js';
import { indexGraph } from '../../src/models/onnx/graph.js';
import { gpt2Hooks } from '../../src/models/onnx/hooks.js';
import { decodeModel, encodeModel, type ModelProto } from '../../src/models/onnx/proto.js';
import { LmRunner } from '../../src/models/onnx/runner.js';
import { exposeTensors } from '../../src/models/onnx/surgery.js';
import { listOnnxTensors, loadText, openModel, openOnnxSource } from '../../src/models/onnx/index.js';
import { readLmConfig } from '../../src/models/onnx/folder.js';
import { buildTinyGpt2 } from '../../scripts/tiny-gpt2.js';

// Fixture: scripts/make-tiny-gpt2.ts (ONNX graph, seed 7) + test/fixtures/tiny-gpt2/reference.py
// (independent numpy forward pass → expected.json).
const FIXTURE = new URL('../fixtures/tiny-gpt2/', import.meta.url).pathname;
const MODEL = path.join(FIXTURE, 'onnx/model.onnx');
const expected = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'expected.json'), 'utf8')) as {
  n_embd: number;
  sequences: Array<{ ids: number[]; hooks: Record<string, number[][]>; logits_last: number[] }>;
};
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'husai-onnx-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const D = expected.n_embd;
const config = readLmConfig(path.join(FIXTURE, 'config.json'));

/** Runs `tensor` of `bytes` on the fixture sequences as one right-padded batch → rows per sequence. */
async function runTapped(bytes: Uint8Array, tensor: string, seqs: number[][]): Promise<Float32Array[]> {
  const tapped = exposeTensors(bytes, [tensor], { prune: true });
  const runner = await LmRunner.create({
    modelBytes: tapped,
    tensor,
    inputs: decodeModel(tapped).graph?.input ?? [],
    config,
    file: 'model.onnx',
  });
  const B = seqs.length;
  const T = Math.max(...seqs.map((s) => s.length));
  const ids = new Int32Array(B * T);
  seqs.forEach((s, b) => ids.set(s, b * T));
  const { xRD, d } = await runner.run(ids, Int32Array.from(seqs.map((s) => s.length)), B, T);
  await runner.close();
  return seqs.map((s, b) => xRD.slice(b * T * d, (b * T + s.length) * d));
}

/** Runs a whole model (no pruning) on one sequence and returns the named outputs. */
async function runFull(bytes: Uint8Array, ids: number[], names: string[]): Promise<Record<string, Float32Array>> {
  const T = ids.length;
  const i64 = (f: (i: number) => number): ort.Tensor =>
    new ort.Tensor(
      'int64',
      BigInt64Array.from({ length: T }, (_, i) => BigInt(f(i))),
      [1, T],
    );
  const feeds: Record<string, ort.Tensor> = {
    input_ids: i64((i) => ids[i]),
    attention_mask: i64(() => 1),
    position_ids: i64((i) => i),
  };
  for (let L = 0; L < config.nLayer; L++) {
    for (const kv of ['key', 'value'])
      feeds[`past_key_values.${L}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [
        1,
        config.nHead,
        0,
        D / config.nHead,
      ]);
  }
  const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  const out = await session.run(feeds, names);
  await session.release();
  return Object.fromEntries(names.map((n) => [n, out[n].data as Float32Array]));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function catchError<E extends Error>(cls: new (...args: never[]) => E, fn: () => unknown): E {
  try {
    fn();
  } catch (e) {
    if (e instanceof cls) return e;
    throw e;
  }
  throw new Error(`expected a ${cls.name}`);
}

async function catchAsync<E extends Error>(cls: new (...args: never[]) => E, p: Promise<unknown>): Promise<E> {
  try {
    await p;
  } catch (e) {
    if (e instanceof cls) return e;
    throw e;
  }
  throw new Error(`expected a ${cls.name}`);
}

/** A copy of the fixture folder with `edit` applied (files written relative to the folder). */
function fixtureCopy(name: string, edit: (dir: string) => void): string {
  const dir = path.join(tmp, name);
  fs.cpSync(FIXTURE, dir, { recursive: true });
  edit(dir);
  return dir;
}

describe('ONNX protobuf', () => {
  const bytes = fs.readFileSync(MODEL);

  it('buildTinyGpt2({seed: 7}) reproduces the committed onnx/model.onnx byte for byte', () => {
    expect(Buffer.from(buildTinyGpt2({ seed: 7 }).bytes).equals(bytes)).toBe(true);
  });

  it('decodeModel → encodeModel → decodeModel keeps the graph (nodes, initializer bytes, inputs, outputs)', () => {
    const a = decodeModel(bytes);
    const re = encodeModel(a);
    const b = decodeModel(re);
    expect(b).toEqual(a);
    expect(a.graph?.node?.length).toBe(168);
    expect(a.opset_import).toEqual([{ domain: '', version: 14 }]);
    const wte = a.graph?.initializer?.find((t) => t.name === 'transformer.wte.weight');
    expect(wte?.dims).toEqual([300, 16]);
    expect(wte?.raw_data?.length).toBe(300 * 16 * 4);
    expect(Buffer.from(re).equals(bytes)).toBe(true);
  });

  it('decodeModel(not a model) is a DataError naming the file', () => {
    const e = catchError(DataError, () => decodeModel(Uint8Array.of(0x0a, 0xff, 0xff), 'junk.onnx'));
    expect(e.file).toBe('junk.onnx');
  });
});

describe('exposeTensors', () => {
  const bytes = fs.readFileSync(MODEL);
  const names = [
    '/transformer/h.0/Add_1_output_0',
    '/transformer/h.1/mlp/c_proj/Add_output_0',
    '/transformer/h.1/Add_1_output_0',
  ];

  it('exposeTensors(model, names) appends untyped ValueInfo outputs and keeps everything else', () => {
    const out = decodeModel(exposeTensors(bytes, names));
    const orig = decodeModel(new Uint8Array(bytes)); // a Uint8Array, as exposeTensors returns (not a Buffer)
    expect(out.graph?.output?.map((o) => o.name)).toEqual([...(orig.graph?.output ?? []).map((o) => o.name), ...names]);
    expect(out.graph?.output?.at(-1)).toEqual({ name: names[2] });
    expect(out.graph?.node).toEqual(orig.graph?.node);
    expect(out.graph?.initializer).toEqual(orig.graph?.initializer);
  });

  it('exposeTensors(model, names, {prune}) keeps only what the names need (no later block, no logits)', () => {
    const g = decodeModel(exposeTensors(bytes, ['/transformer/h.0/Add_1_output_0'], { prune: true })).graph ?? {};
    expect(g.output?.map((o) => o.name)).toEqual(['/transformer/h.0/Add_1_output_0']);
    expect(g.node?.some((n) => n.name?.startsWith('/transformer/h.1/'))).toBe(false);
    expect(g.initializer?.map((t) => t.name)).not.toContain('onnx::MatMul_lm_head');
    expect(g.input?.map((v) => v.name)).toEqual([
      'input_ids',
      'attention_mask',
      'position_ids',
      'past_key_values.0.key',
      'past_key_values.0.value',
    ]);
  });

  it('tapping by surgery returns the same values as a model exported with the tensors declared as outputs', async () => {
    const declared = buildTinyGpt2({ seed: 7, declareOutputs: names }).bytes;
    const ids = expected.sequences[0].ids;
    const want = await runFull(declared, ids, names);
    const got = await runFull(exposeTensors(bytes, names), ids, names);
    for (const n of names) expect(got[n], n).toEqual(want[n]);
    // The pruned path (what openOnnxSource runs) agrees too.
    for (const n of names) {
      const [rows] = await runTapped(bytes, n, [ids]);
      expect(maxAbsDiff(rows, want[n]), n).toBeLessThan(1e-6);
    }
  });

  it('exposeTensors(model with value_info for the tensor) moves its declared type to the output', async () => {
    const model = decodeModel(bytes);
    const typed = {
      name: names[0],
      type: {
        tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: 'b' }, { dim_param: 't' }, { dim_value: 16 }] } },
      },
    };
    (model.graph as { value_info?: unknown[] }).value_info = [typed];
    const out = decodeModel(exposeTensors(encodeModel(model), [names[0]], { prune: true }));
    expect(out.graph?.output).toEqual([typed]);
    expect(out.graph?.value_info).toBeUndefined();
    const [rows] = await runTapped(encodeModel(model), names[0], [expected.sequences[1].ids]);
    expect(maxAbsDiff(rows, expected.sequences[1].hooks['resid_post.0'].flat())).toBeLessThan(1e-4);
  });

  it('exposeTensors(model, ["nope"]) is a ConfigError naming the tensor', () => {
    expect(() => exposeTensors(bytes, ['nope'])).toThrow(/no tensor named "nope"/);
  });
});

describe('hooks', () => {
  const bytes = fs.readFileSync(MODEL);
  const idx = indexGraph(decodeModel(bytes).graph ?? {});

  it('gpt2Hooks(graph) maps hooks to the torch.onnx tensor names', () => {
    const h = gpt2Hooks(idx, 2);
    expect(h?.method).toBe('names');
    expect(h?.hooks.get('resid_pre.0')).toBe('/transformer/Add_output_0');
    expect(h?.hooks.get('attn_out.0')).toBe('/transformer/h.0/attn/c_proj/Add_output_0');
    expect(h?.hooks.get('resid_mid.1')).toBe('/transformer/h.1/Add_output_0');
    expect(h?.hooks.get('mlp_out.1')).toBe('/transformer/h.1/mlp/c_proj/Add_output_0');
    expect(h?.hooks.get('resid_post.1')).toBe('/transformer/h.1/Add_1_output_0');
    expect(h?.hooks.get('resid_pre.1')).toBe('/transformer/h.0/Add_1_output_0');
  });

  it('gpt2Hooks(anonymous graph) falls back to walking the residual adds and finds the same tensors', () => {
    const model = decodeModel(bytes);
    const g = model.graph ?? {};
    const keep = new Set((g.output ?? []).map((o) => o.name));
    const rename = new Map<string, string>();
    (g.node ?? []).forEach((n, i) => {
      delete n.name;
      n.output = (n.output ?? []).map((o, j) => {
        if (keep.has(o)) return o;
        rename.set(o, `t${i}_${j}`);
        return `t${i}_${j}`;
      });
    });
    for (const n of g.node ?? []) n.input = (n.input ?? []).map((x) => rename.get(x) ?? x);
    const anon = indexGraph(decodeModel(encodeModel(model as ModelProto)).graph ?? {});
    const walked = gpt2Hooks(anon, 2);
    const named = gpt2Hooks(idx, 2);
    expect(walked?.method).toBe('walk');
    expect(walked?.hooks.size).toBe(10);
    for (const [hook, tensor] of named?.hooks ?? []) expect(walked?.hooks.get(hook), hook).toBe(rename.get(tensor));
  });

  it('gpt2Hooks(graph, wrong n_layer) is null', () => {
    expect(gpt2Hooks(idx, 3)).toBeNull();
  });

  it('listOnnxTensors(fixture) lists 10 hooks and the data tensors, not constants or shapes', () => {
    const list = listOnnxTensors(FIXTURE);
    expect(list.hookMethod).toBe('names');
    expect(list.hooks).toHaveLength(10);
    expect(list.hooks[0]).toEqual({ hook: 'resid_pre.0', tensor: '/transformer/Add_output_0' });
    const names = list.tensors.map((t) => t.name);
    expect(names).toContain('/transformer/h.1/mlp/act/Mul_3_output_0');
    expect(names).toContain('logits');
    expect(list.tensors.some((t) => t.op === 'Constant' || t.op === 'Shape')).toBe(false);
    expect(names).not.toContain('/transformer/Sub_output_0'); // past length: a shape computation
  });
});

describe('hidden states vs the numpy reference (expected.json)', () => {
  const bytes = fs.readFileSync(MODEL);
  const hooks = gpt2Hooks(indexGraph(decodeModel(bytes).graph ?? {}), 2);
  const seqs = expected.sequences.map((s) => s.ids);

  for (const hook of [
    'resid_pre.0',
    'attn_out.0',
    'resid_mid.0',
    'mlp_out.0',
    'resid_post.0',
    'attn_out.1',
    'resid_mid.1',
    'mlp_out.1',
    'resid_post.1',
  ]) {
    it(`${hook} at every position of both sequences (one right-padded batch) within 1e-4`, async () => {
      const rows = await runTapped(bytes, hooks?.hooks.get(hook) as string, seqs);
      expected.sequences.forEach((s, b) => {
        const want = s.hooks[hook].flat();
        expect(rows[b].length).toBe(s.ids.length * D);
        expect(maxAbsDiff(rows[b], want), `${hook} seq ${b}`).toBeLessThan(1e-4);
      });
    });
  }

  it('the LayerNormalization-op variant (opset 17) gives the same hooks by name, and the same values', async () => {
    const fused = buildTinyGpt2({ seed: 7, layerNormOp: true }).bytes;
    const h = gpt2Hooks(indexGraph(decodeModel(fused).graph ?? {}), 2);
    expect(h?.method).toBe('names');
    for (const hook of ['resid_post.0', 'mlp_out.1', 'resid_post.1']) {
      const rows = await runTapped(fused, h?.hooks.get(hook) as string, seqs);
      expected.sequences.forEach((s, b) =>
        expect(maxAbsDiff(rows[b], s.hooks[hook].flat()), `${hook} seq ${b}`).toBeLessThan(1e-4),
      );
    }
  });

  it('logits at the last position within 1e-4', async () => {
    const s = expected.sequences[0];
    const rows = await runTapped(bytes, 'logits', [s.ids]);
    expect(maxAbsDiff(rows[0].subarray((s.ids.length - 1) * 300), s.logits_last)).toBeLessThan(1e-4);
  });
});

describe('model folder errors', () => {
  it('openModel(folder without config.json) is a DataError naming config.json', () => {
    const dir = fixtureCopy('no-config', (d) => fs.rmSync(path.join(d, 'config.json')));
    const e = catchError(DataError, () => openModel(dir));
    expect(e.file).toBe(path.join(dir, 'config.json'));
    expect(e.found).toBe('missing');
  });

  it('openModel(folder without onnx/model.onnx) is a DataError listing the model files it looked for', () => {
    const dir = fixtureCopy('no-model', (d) => fs.rmSync(path.join(d, 'onnx'), { recursive: true }));
    const e = catchError(DataError, () => openModel(dir));
    expect(e.file).toBe(path.join(dir, 'onnx/model.onnx'));
    expect(e.found).toMatch(/onnx\/decoder_model\.onnx/);
  });

  it('openModel(folder with onnx/model_quantized.onnx only) takes that file', () => {
    const dir = fixtureCopy('quantized-name', (d) =>
      fs.renameSync(path.join(d, 'onnx/model.onnx'), path.join(d, 'onnx/model_quantized.onnx')),
    );
    expect(openModel(dir).folder.modelRel).toBe('onnx/model_quantized.onnx');
  });

  it('openModel(folder without tokenizer files) is a DataError naming tokenizer.json', () => {
    const dir = fixtureCopy('no-tokenizer', (d) => fs.rmSync(path.join(d, 'husai_tokenizer.json')));
    const e = catchError(DataError, () => openModel(dir));
    expect(e.file).toBe(path.join(dir, 'tokenizer.json'));
  });

  it('openModel(folder whose tokenizer.json is not GPT-2) is a DataError saying what was found', () => {
    const dir = fixtureCopy('bad-tokenizer', (d) => {
      fs.rmSync(path.join(d, 'husai_tokenizer.json'));
      fs.writeFileSync(
        path.join(d, 'tokenizer.json'),
        JSON.stringify({ model: { type: 'BPE', vocab: { a: 0, Ġthe: 1 } } }),
      );
    });
    const e = catchError(DataError, () => openModel(dir));
    expect(e.field).toBe('vocab');
    expect(e.found).toMatch(/2 tokens/);
  });

  it('openModel(config.json without n_head) is a DataError naming the field', () => {
    const dir = fixtureCopy('no-n-head', (d) => {
      const cfg = JSON.parse(fs.readFileSync(path.join(d, 'config.json'), 'utf8'));
      delete cfg.n_head;
      fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify(cfg));
    });
    const e = catchError(DataError, () => openModel(dir));
    expect(e.field).toBe('n_head');
  });
});

describe('openOnnxSource', () => {
  it('openOnnxSource({layer: "resid_post.7"}) is a ConfigError listing the hooks and how to list raw tensors', async () => {
    const e = await catchAsync(
      ConfigError,
      openOnnxSource({ modelDir: FIXTURE, layer: 'resid_post.7', text: 'moby-dick', limit: 10 }),
    );
    expect(e.message).toMatch(/block 7 does not exist/);
    expect(e.message).toMatch(/resid_post\.0…1/);
    expect(e.message).toMatch(/--list-layers/);
  });

  it('openOnnxSource({layer: "blocks.3.hook"}) is a ConfigError listing the hooks', async () => {
    const e = await catchAsync(
      ConfigError,
      openOnnxSource({ modelDir: FIXTURE, layer: 'blocks.3.hook', text: 'moby-dick', limit: 10 }),
    );
    expect(e.message).toMatch(/resid_pre\.0…1, attn_out\.0…1, resid_mid\.0…1, mlp_out\.0…1, resid_post\.0…1/);
  });

  it('openOnnxSource({ctx: 65}) exceeds n_positions 64: ConfigError', async () => {
    await expect(
      openOnnxSource({ modelDir: FIXTURE, layer: 'resid_post.0', text: 'sotu', limit: 10, ctx: 65 }),
    ).rejects.toThrow(/n_positions 64/);
  });

  it('openOnnxSource({text: missing path}) is a ConfigError; a non-UTF-8 file is a DataError', async () => {
    await expect(
      openOnnxSource({ modelDir: FIXTURE, layer: 'resid_post.0', text: path.join(tmp, 'nope.txt'), limit: 10 }),
    ).rejects.toThrow(ConfigError);
    const bad = path.join(tmp, 'latin1.txt');
    fs.writeFileSync(bad, Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x6e, 0x6f, 0x69, 0x72]));
    const e = await catchAsync(
      DataError,
      openOnnxSource({ modelDir: FIXTURE, layer: 'resid_post.0', text: bad, limit: 10 }),
    );
    expect(e.file).toBe(bad);
    expect(e.field).toBe('encoding');
  });

  it('openOnnxSource(fixture, moby-dick, limit 300) gives 300 rows of width 16 with token metadata', async () => {
    const src = await openOnnxSource({
      modelDir: FIXTURE,
      layer: 'resid_post.1',
      text: 'moby-dick',
      limit: 300,
      ctx: 32,
      batch: 4,
    });
    expect(src.units).toBe(300);
    expect(src.d).toBe(16);
    expect(src.chunkUnits).toBe(4 * 31);
    expect(src.config).toMatchObject({
      source: 'onnx',
      model_file: 'onnx/model.onnx',
      layer: 'resid_post.1',
      hook: 'resid_post.1',
      tensor: '/transformer/h.1/Add_1_output_0',
      text: 'moby-dick',
      tokenizer: 'gpt2-mod-300',
      limit: 300,
      tokens: 300,
      ctx: 32,
    });
    expect(src.config.model_sha256).toMatch(/^[0-9a-f]{64}$/);
    const all = await src.extract(0, 300);
    expect(all.xND.rows).toBe(300);
    expect(all.xND.cols).toBe(16);
    expect(all.xND.data.every(Number.isFinite)).toBe(true);
    for (const col of ['doc', 'position', 'offset', 'token']) expect(all.rows[col]).toHaveLength(300);
    expect(Math.min(...all.rows.position)).toBe(1);
    expect(Math.max(...all.rows.position)).toBe(31);

    // Tokens are GPT-2 BPE of the book, document by document; sidecar pieces spell the text.
    const side = JSON.parse(new TextDecoder().decode((await src.sidecars?.())?.['tokens.json'])) as {
      docs: Array<{ doc: number; title: string; ids: number[]; pieces: string[] }>;
    };
    const ids = side.docs.flatMap((d) => d.ids);
    expect(ids).toEqual(Array.from(all.rows.token));
    const book = loadText('moby-dick').docs;
    side.docs.forEach((d, i) => {
      expect(d.title).toBe(book[i].title);
      expect(d.ids).toEqual(gpt2Encode(book[i].text, { disallowedSpecial: new Set() }).slice(0, d.ids.length));
      expect(d.pieces.join('')).toBe(gpt2Decode(d.ids));
    });
    expect(side.docs[0].title).toBe('Contents');

    // Any split of the unit range gives the same rows, bit for bit.
    const a = await src.extract(0, 77);
    const b = await src.extract(77, 300);
    expect(
      Buffer.from(new Float32Array([...a.xND.data, ...b.xND.data]).buffer).equals(Buffer.from(all.xND.data.buffer)),
    ).toBe(true);
    expect([...a.rows.offset, ...b.rows.offset]).toEqual([...all.rows.offset]);

    // Row r is the model run on its window: BOS, then the window's tokens (mod 300).
    const r = 40;
    const doc = all.rows.doc[r];
    const start = all.rows.offset[r] - (all.rows.position[r] - 1);
    const window = [50256, ...side.docs[doc].ids.slice(start, all.rows.offset[r] + 1)].map((t) => t % 300);
    const [direct] = await runTapped(fs.readFileSync(MODEL), '/transformer/h.1/Add_1_output_0', [window]);
    expect(
      maxAbsDiff(all.xND.data.subarray(r * 16, (r + 1) * 16), direct.subarray((window.length - 1) * 16)),
    ).toBeLessThan(1e-5);
    await src.close();
  });

  it('openOnnxSource(raw tensor name) taps that tensor (the 64-wide GELU output)', async () => {
    const src = await openOnnxSource({
      modelDir: FIXTURE,
      layer: '/transformer/h.0/mlp/act/Mul_3_output_0',
      text: 'sotu',
      limit: 50,
    });
    expect(src.d).toBe(64);
    expect(src.config.hook).toBeNull();
    const rows = await src.extract(10, 50);
    expect(rows.xND.rows).toBe(40);
    await src.close();
  });

  it('openOnnxSource(model with external data) matches the same model with embedded weights', async () => {
    const model = decodeModel(fs.readFileSync(MODEL));
    const chunks: Buffer[] = [];
    let offset = 0;
    for (const t of model.graph?.initializer ?? []) {
      const raw = Buffer.from(t.raw_data ?? new Uint8Array(0));
      delete t.raw_data;
      t.data_location = 1;
      t.external_data = [
        { key: 'location', value: 'model.onnx_data' },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(raw.length) },
      ];
      chunks.push(raw);
      offset += raw.length;
    }
    const dir = fixtureCopy('external', (d) => {
      fs.writeFileSync(path.join(d, 'onnx/model.onnx'), encodeModel(model));
      fs.writeFileSync(path.join(d, 'onnx/model.onnx_data'), Buffer.concat(chunks));
    });
    const opts = { layer: 'mlp_out.0', text: 'sotu', limit: 40 };
    const ext = await openOnnxSource({ modelDir: dir, ...opts });
    const plain = await openOnnxSource({ modelDir: FIXTURE, ...opts });
    expect((await ext.extract(0, 40)).xND.data).toEqual((await plain.extract(0, 40)).xND.data);
    await ext.close();
    await plain.close();
  });
});
