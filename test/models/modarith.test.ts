/**
 * The modular-arithmetic testbed (issue 6): the dataset never leaks its label (and the copy control
 * does, by construction), training is byte-reproducible, the model folder round-trips through
 * TransformerLens-layout safetensors, extraction returns the hook values of an independent forward
 * pass with the right (a, b) per row, and training fits its training pairs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { getEngine } from '../../src/engine/index.js';
import { readNpy } from '../../src/formats/npy.js';
import { readSafetensors } from '../../src/formats/safetensors.js';
import { resolveConfig } from '../../src/models/modarith/config.js';
import { makeModArith, selectPairs } from '../../src/models/modarith/dataset.js';
import { extractActivations, readActivationMeta, writeModArithActivations } from '../../src/models/modarith/extract.js';
import { loadModArith, saveModArith } from '../../src/models/modarith/save.js';
import { trainModArith } from '../../src/models/modarith/train.js';
import { Transformer } from '../../src/models/modarith/transformer.js';

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'husai-modarith-'));

describe('modular-arithmetic dataset', () => {
  it('never puts the target of (a + b) mod p into the input', () => {
    const p = 113;
    const d = makeModArith(p, 'add', 0.3, 0);
    expect(d.tokens.length).toBe(3 * p * p);
    // Each input is exactly [a, b, =]; no input column equals the target column.
    const sameAsTarget = [0, 0, 0];
    for (let i = 0; i < p * p; i++) {
      const a = Math.floor(i / p);
      const b = i % p;
      expect([d.tokens[3 * i], d.tokens[3 * i + 1], d.tokens[3 * i + 2]]).toEqual([a, b, p]);
      expect(d.targets[i]).toBe((a + b) % p);
      for (let s = 0; s < 3; s++) if (d.tokens[3 * i + s] === d.targets[i]) sameAsTarget[s]++;
    }
    // Position a matches the target only when b = 0 (p of p² pairs), b only when a = 0; "=" never.
    expect(sameAsTarget).toEqual([p, p, 0]);
  });

  it('has the label in the input for the copy control', () => {
    const d = makeModArith(13, 'copy', 0.3, 0);
    for (let i = 0; i < 169; i++) expect(d.targets[i]).toBe(d.tokens[3 * i]);
  });

  it('splits the pairs by seed: disjoint, complete, 30% train', () => {
    const d = makeModArith(113, 'add', 0.3, 7);
    expect(d.train.length).toBe(Math.round(0.3 * 113 * 113));
    const seen = new Uint8Array(113 * 113);
    for (const i of d.train) seen[i]++;
    for (const i of d.val) seen[i]++;
    expect(seen.every((v) => v === 1)).toBe(true);
    expect(makeModArith(113, 'add', 0.3, 7).train).toEqual(d.train);
    expect(makeModArith(113, 'add', 0.3, 8).train).not.toEqual(d.train);
  });

  it('rejects a composite modulus and a bad fraction with the field named', () => {
    expect(() => makeModArith(114, 'add', 0.3, 0)).toThrow(/p = 114 must be a prime/);
    expect(() => resolveConfig({ train_frac: 1.5 })).toThrow(/train_frac = 1.5/);
  });
});

describe('modular-arithmetic training', () => {
  const small = { p: 17, d_model: 32, n_heads: 4, d_head: 8, d_mlp: 64, steps: 40, log_every: 20 };

  it('gives byte-identical weights for the same seed, different for another', () => {
    const e = getEngine();
    const a = trainModArith(resolveConfig(small), e).params;
    const b = trainModArith(resolveConfig(small), e).params;
    const c = trainModArith(resolveConfig({ ...small, seed: 1 }), e).params;
    for (const name of Object.keys(a))
      expect(Buffer.from(a[name].buffer).equals(Buffer.from(b[name].buffer)), name).toBe(true);
    expect(Buffer.from(a['embed.W_E'].buffer).equals(Buffer.from(c['embed.W_E'].buffer))).toBe(false);
  });

  it('saves a TransformerLens-layout folder that loads back to the same logits', () => {
    const e = getEngine();
    const cfg = resolveConfig({ ...small, n_layers: 2, layernorm: true });
    const res = trainModArith(cfg, e);
    const dir = tmp();
    saveModArith(dir, cfg, res.params, res.history, { val_acc: res.final.val_acc }, { name: e.name, threads: 1 });
    const { tensors } = readSafetensors(path.join(dir, 'model.safetensors'));
    expect(tensors.get('blocks.1.attn.W_K')?.shape).toEqual([4, 32, 8]);
    expect(tensors.get('blocks.0.attn.W_O')?.shape).toEqual([4, 8, 32]);
    expect(tensors.get('unembed.W_U')?.shape).toEqual([32, 17]);
    // W_K[h, d, j] is column HD + h·Dh + j of the packed W_QKV.
    const wk = tensors.get('blocks.1.attn.W_K')!.data;
    expect(wk[(2 * 32 + 5) * 8 + 3]).toBe(res.params['blocks.1.attn.W_QKV'][5 * 96 + 32 + 2 * 8 + 3]);
    const loaded = loadModArith(dir);
    expect(loaded.cfg).toEqual(cfg);
    const data = makeModArith(17, 'add', 0.3, 0);
    const l1 = new Transformer(cfg, res.params, e).forward(data.tokens, true).logitsNC;
    const l2 = new Transformer(loaded.cfg, loaded.params, e).forward(data.tokens, true).logitsNC;
    expect(Buffer.from(l1.buffer).equals(Buffer.from(l2.buffer))).toBe(true);
    const metrics = JSON.parse(fs.readFileSync(path.join(dir, 'metrics.json'), 'utf8')) as Record<string, number>;
    expect(metrics.val_acc).toBe(res.final.val_acc);
  });

  it('refuses an unfinished folder with a message naming config.json', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'model.safetensors'), '');
    expect(() => loadModArith(dir)).toThrow(/config\.json/);
  });

  it('fits its training pairs: the optimiser descends (grokking at p = 113 is the CLI acceptance run)', () => {
    const cfg = resolveConfig({ ...small, lr: 3e-3, steps: 300, log_every: 100 });
    const res = trainModArith(cfg, getEngine());
    expect(res.history[0].train_loss).toBeGreaterThan(2.5); // ≈ ln 17 at init
    expect(res.final.train_acc).toBe(1);
    expect(res.final.train_loss).toBeLessThan(0.05);
  });
});

describe('modular-arithmetic extraction', () => {
  it('returns each hook at the requested position, rows in a-major order, with (a, b) per row', () => {
    const e = getEngine();
    const cfg = resolveConfig({ p: 11, d_model: 16, n_heads: 2, d_head: 8, d_mlp: 32, n_layers: 2, steps: 5 });
    const res = trainModArith(cfg, e);
    const dir = tmp();
    saveModArith(dir, cfg, res.params, res.history, {}, { name: e.name, threads: 1 });
    const model = loadModArith(dir);
    const ref = new Transformer(cfg, res.params, e).forward(makeModArith(11, 'add', 0.3, 0).tokens, false);
    for (const [hook, field, width] of [
      ['resid_post', 'residPostQD', 16],
      ['mlp_post', 'mlpPostQM', 32],
      ['resid_pre', 'residPreQD', 16],
    ] as const) {
      const eq = extractActivations(model, { hook, layer: 1, position: 'eq' }, e, 50);
      expect([eq.xND.rows, eq.xND.cols]).toEqual([121, width]);
      const t = ref.blocks[1][field];
      for (const i of [0, 37, 120]) {
        expect([eq.a[i], eq.b[i], eq.position[i]]).toEqual([Math.floor(i / 11), i % 11, 2]);
        // Batches of 50 against one full forward: BLAS may pick other kernels for other row counts,
        // so the same row agrees to float32 rounding, not bit for bit.
        const got = eq.xND.data.subarray(i * width, (i + 1) * width);
        const want = t.subarray((i * 3 + 2) * width, (i * 3 + 3) * width);
        for (let j = 0; j < width; j++)
          expect(Math.abs(got[j] - want[j])).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(want[j])));
      }
    }
    const all = extractActivations(model, { hook: 'attn_out', layer: 0, position: 'all' }, e);
    expect(all.xND.rows).toBe(363);
    expect(Array.from(all.position.subarray(0, 6))).toEqual([0, 1, 2, 0, 1, 2]);
    const out = path.join(dir, 'acts.npy');
    writeModArithActivations(out, model, { hook: 'attn_out', layer: 0, position: 'all' }, all);
    expect(readNpy(out).shape).toEqual([363, 16]);
    const meta = readActivationMeta(out)!;
    expect([meta.hook, meta.layer, meta.position, meta.p, meta.rows]).toEqual(['attn_out', 0, 'all', 11, 363]);
    expect(meta.b.slice(0, 6)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(() => extractActivations(model, { hook: 'resid_post', layer: 2, position: 'eq' }, e)).toThrow(
      /layers 0\.\.1/,
    );
  });

  it('first-layer table path matches a direct computation of W_E[t] + W_pos[s] at resid_pre', () => {
    const e = getEngine();
    const cfg = resolveConfig({ p: 7, d_model: 8, n_heads: 2, d_head: 4, d_mlp: 16, steps: 3 });
    const res = trainModArith(cfg, e);
    const fw = new Transformer(cfg, res.params, e).forward(
      selectPairs(makeModArith(7, 'add', 0.3, 0), Int32Array.from([10])).tokens,
      false,
    );
    // pair 10: a = 1, b = 3.
    const wE = res.params['embed.W_E'];
    const wPos = res.params['pos_embed.W_pos'];
    for (const [s, tok] of [
      [0, 1],
      [1, 3],
      [2, 7],
    ]) {
      for (let j = 0; j < 8; j++)
        expect(fw.blocks[0].residPreQD[s * 8 + j]).toBe(Math.fround(wE[tok * 8 + j] + wPos[s * 8 + j]));
    }
  });
});
