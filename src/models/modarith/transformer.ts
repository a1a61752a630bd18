/**
 * A small decoder-only transformer with explicit forward and backward passes, on the engine's GEMMs
 * (docs/SCIENCE.md §5; the architecture of Nanda et al. 2023 in TransformerLens naming): token and
 * positional embeddings, n_layers blocks of causal multi-head attention (no biases) and a ReLU MLP
 * (with biases), each added to the residual stream, optional pre-LayerNorms, and an unembedding
 * read at the final ("=") position only — the only position the loss sees.
 *
 * Internal weight layout is GEMM-friendly; `blocks.L.attn.W_QKV` [D, 3·H·Dh] packs TransformerLens'
 * W_Q, W_K, W_V [H, D, Dh] side by side (save.ts converts). Everything else has TransformerLens
 * shapes: W_E [p+1, D], W_pos [3, D], W_O [H·Dh, D] (= [H, Dh, D]), W_in [D, M], W_out [M, D],
 * W_U [D, p].
 *
 * Rows are sample-major (row n·3 + s). When `lastOnly` is set the final block computes attention
 * queries, the MLP and the residual only at the "=" position (keys and values still at every
 * position): the logits are identical and a 1-layer training step costs about half as much.
 *
 * Letters: N sequences, S = 3 positions, R = N·S rows, D d_model, H heads, Dh d_head, M d_mlp,
 * V = p + 1 input tokens, C = p classes.
 */
import type { Engine, F32 } from '../../engine/types.js';
import { Rng } from '../../core/rng.js';
import { ShapeError } from '../../core/errors.js';
import { attentionBackward, attentionForward, scoreTable, scoreTableBackward } from '../../nn/attention.js';
import { type LayerNormCache, layerNormBackward, layerNormForward } from '../../nn/layernorm.js';
import type { TensorMap } from '../../nn/optim.js';
import type { ModelConfig } from './config.js';
import { SEQ_LEN } from './dataset.js';

const S = SEQ_LEN;

/** Parameter names of a config, in a fixed order. */
export function paramShapes(cfg: ModelConfig): Record<string, number[]> {
  const { p, d_model: D, n_heads: H, d_head: Dh, d_mlp: M } = cfg;
  const out: Record<string, number[]> = { 'embed.W_E': [p + 1, D], 'pos_embed.W_pos': [S, D] };
  for (let l = 0; l < cfg.n_layers; l++) {
    const b = `blocks.${l}`;
    if (cfg.layernorm) Object.assign(out, { [`${b}.ln1.w`]: [D], [`${b}.ln1.b`]: [D] });
    Object.assign(out, { [`${b}.attn.W_QKV`]: [D, 3 * H * Dh], [`${b}.attn.W_O`]: [H * Dh, D] });
    if (cfg.layernorm) Object.assign(out, { [`${b}.ln2.w`]: [D], [`${b}.ln2.b`]: [D] });
    Object.assign(out, {
      [`${b}.mlp.W_in`]: [D, M],
      [`${b}.mlp.b_in`]: [M],
      [`${b}.mlp.W_out`]: [M, D],
      [`${b}.mlp.b_out`]: [D],
    });
  }
  if (cfg.layernorm) Object.assign(out, { 'ln_final.w': [D], 'ln_final.b': [D] });
  out['unembed.W_U'] = [D, p];
  return out;
}

/**
 * Initial weights (Nanda et al.'s grokking code): every matrix N(0, 1/D) except W_U, N(0, 1/C);
 * biases 0; LayerNorm gains 1. Each tensor draws from its own stream, Rng.from(seed, 'modarith', name).
 */
export function initParams(cfg: ModelConfig, seed: number): TensorMap {
  const params: TensorMap = {};
  for (const [name, shape] of Object.entries(paramShapes(cfg))) {
    const t = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (name.endsWith('.w')) t.fill(1);
    else if (shape.length === 2)
      Rng.from(seed, 'modarith', name).fillNormal(t, 0, 1 / Math.sqrt(name === 'unembed.W_U' ? cfg.p : cfg.d_model));
    params[name] = t;
  }
  return params;
}

/**
 * Activations of one block, kept for backward and for hooks. Q-rows: the N·Sq rows whose outputs
 * the block computes (Sq = 3, or 1 for an "=-only" final block). Block 0 projects Q/K/V from a
 * table of (token, position) rows (its input depends on nothing else): `rowOf` maps each of the
 * N·S sequence rows to its table row, and attnIn/qkv hold the table.
 */
export interface BlockCache {
  Sq: number;
  /** Residual entering the block, at the Q-rows [N·Sq, D]. */
  residPreQD: F32;
  /** Attention input (after ln1): [N·S, D], or the [(p+1)·S, D] table in block 0. */
  attnIn: F32;
  ln1: LayerNormCache | null;
  /** Q/K/V [rows of attnIn, 3·H·Dh]. */
  qkv: F32;
  rowOf: Int32Array | null;
  probNHQS: F32;
  zQH: F32;
  attnOutQD: F32;
  residMidQD: F32;
  mlpInQD: F32;
  ln2: LayerNormCache | null;
  mlpPreQM: F32;
  mlpPostQM: F32;
  mlpOutQD: F32;
  residPostQD: F32;
}

interface ForwardResult {
  N: number;
  tokens: Int32Array;
  blocks: BlockCache[];
  /** Residual at "=" after the last block (before ln_final) [N, D]. */
  finalND: F32;
  lnFinal: LayerNormCache | null;
  /** Input to the unembedding [N, D]. */
  unembedInND: F32;
  logitsNC: F32;
}

const lnCache = (R: number, D: number): LayerNormCache => ({
  xhatRD: new Float32Array(R * D),
  rstdR: new Float64Array(R),
});

/** Rows of the last Sq positions of every sequence: out[n·Sq + i] = x[n·S + S − Sq + i]. */
function gatherPositions(xRD: F32, N: number, D: number, Sq: number, out: F32): void {
  for (let n = 0; n < N; n++) out.set(xRD.subarray((n * S + S - Sq) * D, (n * S + S) * D), n * Sq * D);
}

/** Adds rows of the last Sq positions back: x[n·S + S − Sq + i] += g[n·Sq + i]. */
function scatterAddPositions(gQD: F32, N: number, D: number, Sq: number, gRD: F32): void {
  for (let n = 0; n < N; n++) {
    const src = n * Sq * D;
    const dst = (n * S + S - Sq) * D;
    for (let j = 0; j < Sq * D; j++) gRD[dst + j] += gQD[src + j];
  }
}

export class Transformer {
  constructor(
    readonly cfg: ModelConfig,
    readonly params: TensorMap,
    private readonly e: Engine,
  ) {
    for (const [name, shape] of Object.entries(paramShapes(cfg))) {
      const n = shape.reduce((a, b) => a * b, 1);
      if (!params[name] || params[name].length !== n)
        throw new ShapeError(
          `modarith model: tensor ${name} should have ${n} values [${shape.join(', ')}], found ` +
            `${params[name]?.length ?? 'none'}`,
        );
    }
  }

  /** Embedding rows W_E[t] + W_pos[s] for every (token, position): table row t·S + s, [(p+1)·S, D]. */
  private embedTable(): F32 {
    const { p, d_model: D } = this.cfg;
    const wE = this.params['embed.W_E'];
    const wPos = this.params['pos_embed.W_pos'];
    const table = new Float32Array((p + 1) * S * D);
    for (let t = 0; t <= p; t++)
      for (let s = 0; s < S; s++)
        for (let j = 0; j < D; j++) table[(t * S + s) * D + j] = wE[t * D + j] + wPos[s * D + j];
    return table;
  }

  /** Forward pass over N sequences of tokens [N·3]. */
  forward(tokens: Int32Array, lastOnly: boolean): ForwardResult {
    const { e, params: P, cfg } = this;
    const { p, d_model: D, n_heads: H, d_head: Dh, d_mlp: M } = cfg;
    const N = tokens.length / S;
    if (!Number.isInteger(N))
      throw new ShapeError(`modarith forward: ${tokens.length} tokens is not a whole number of length-${S} sequences`);
    const R = N * S;
    const HD = H * Dh;
    const rowOf = new Int32Array(R);
    for (let r = 0; r < R; r++) {
      const t = tokens[r];
      if (!(t >= 0 && t <= p)) throw new ShapeError(`modarith forward: token ${t} at row ${r} is outside [0, ${p}]`);
      rowOf[r] = t * S + (r % S);
    }
    const table = this.embedTable();
    let x: F32 = table;
    const blocks: BlockCache[] = [];
    for (let l = 0; l < cfg.n_layers; l++) {
      const b = `blocks.${l}`;
      const Sq = lastOnly && l === cfg.n_layers - 1 ? 1 : S;
      const Q = N * Sq;
      const first = l === 0;
      const rows = first ? table.length / D : R;
      let attnIn = x;
      let ln1: LayerNormCache | null = null;
      if (cfg.layernorm) {
        ln1 = lnCache(rows, D);
        attnIn = new Float32Array(rows * D);
        layerNormForward(x, rows, D, P[`${b}.ln1.w`], P[`${b}.ln1.b`], attnIn, ln1);
      }
      const qkv = new Float32Array(rows * 3 * HD);
      const wQkv = P[`${b}.attn.W_QKV`];
      if (first || Sq === S) {
        e.gemm(false, false, rows, 3 * HD, D, 1, attnIn, D, wQkv, 3 * HD, 0, qkv, 3 * HD);
      } else {
        // Keys and values at every row; queries only at the last position (rows strided by S).
        e.gemm(false, false, R, 2 * HD, D, 1, attnIn, D, wQkv.subarray(HD), 3 * HD, 0, qkv.subarray(HD), 3 * HD);
        e.gemm(
          false,
          false,
          N,
          HD,
          D,
          1,
          attnIn.subarray((S - 1) * D),
          S * D,
          wQkv,
          3 * HD,
          0,
          qkv.subarray((S - 1) * 3 * HD),
          S * 3 * HD,
        );
      }
      const prob = new Float32Array(N * H * Sq * S);
      const z = new Float32Array(Q * HD);
      const scores = first ? new Float32Array(H * rows * rows) : null;
      if (scores) scoreTable(e, qkv, rows, H, Dh, scores);
      attentionForward({ N, S, Sq, H, Dh }, qkv, z, prob, first ? rowOf : null, scores);
      const attnOut = new Float32Array(Q * D);
      e.gemm(false, false, Q, D, HD, 1, z, HD, P[`${b}.attn.W_O`], D, 0, attnOut, D);
      const residPre = new Float32Array(Q * D);
      if (first) {
        for (let n = 0; n < N; n++)
          for (let i = 0; i < Sq; i++) {
            const r = n * S + S - Sq + i;
            residPre.set(table.subarray(rowOf[r] * D, (rowOf[r] + 1) * D), (n * Sq + i) * D);
          }
      } else if (Sq === S) {
        residPre.set(x);
      } else {
        gatherPositions(x, N, D, Sq, residPre);
      }
      const residMid = residPre.slice();
      e.axpy(1, attnOut, residMid);
      let mlpIn = residMid;
      let ln2: LayerNormCache | null = null;
      if (cfg.layernorm) {
        ln2 = lnCache(Q, D);
        mlpIn = new Float32Array(Q * D);
        layerNormForward(residMid, Q, D, P[`${b}.ln2.w`], P[`${b}.ln2.b`], mlpIn, ln2);
      }
      const pre = new Float32Array(Q * M);
      e.gemm(false, false, Q, M, D, 1, mlpIn, D, P[`${b}.mlp.W_in`], M, 0, pre, M);
      e.addRowVec(pre, Q, M, P[`${b}.mlp.b_in`], 1);
      const post = new Float32Array(Q * M);
      e.relu(pre, post);
      const mlpOut = new Float32Array(Q * D);
      e.gemm(false, false, Q, D, M, 1, post, M, P[`${b}.mlp.W_out`], D, 0, mlpOut, D);
      e.addRowVec(mlpOut, Q, D, P[`${b}.mlp.b_out`], 1);
      const residPost = residMid.slice();
      e.axpy(1, mlpOut, residPost);
      blocks.push({
        Sq,
        residPreQD: residPre,
        attnIn,
        ln1,
        qkv,
        rowOf: first ? rowOf : null,
        probNHQS: prob,
        zQH: z,
        attnOutQD: attnOut,
        residMidQD: residMid,
        mlpInQD: mlpIn,
        ln2,
        mlpPreQM: pre,
        mlpPostQM: post,
        mlpOutQD: mlpOut,
        residPostQD: residPost,
      });
      x = residPost;
    }
    const last = blocks[blocks.length - 1];
    let finalND = last.residPostQD;
    if (last.Sq !== 1) {
      finalND = new Float32Array(N * D);
      gatherPositions(last.residPostQD, N, D, 1, finalND);
    }
    let unembedIn = finalND;
    let lnFinal: LayerNormCache | null = null;
    if (cfg.layernorm) {
      lnFinal = lnCache(N, D);
      unembedIn = new Float32Array(N * D);
      layerNormForward(finalND, N, D, P['ln_final.w'], P['ln_final.b'], unembedIn, lnFinal);
    }
    const logits = new Float32Array(N * p);
    e.gemm(false, false, N, p, D, 1, unembedIn, D, P['unembed.W_U'], p, 0, logits, p);
    return { N, tokens, blocks, finalND, lnFinal, unembedInND: unembedIn, logitsNC: logits };
  }

  /** Gradients of every parameter (overwritten in `grads`) given ∂loss/∂logits [N, C]. */
  backward(fw: ForwardResult, gLogitsNC: F32, grads: TensorMap): void {
    const { e, params: P, cfg } = this;
    const { p, d_model: D, n_heads: H, d_head: Dh, d_mlp: M } = cfg;
    const { N } = fw;
    const HD = H * Dh;
    for (const g of Object.values(grads)) g.fill(0);
    e.gemm(true, false, D, p, N, 1, fw.unembedInND, D, gLogitsNC, p, 0, grads['unembed.W_U'], p);
    let gFinal = new Float32Array(N * D);
    e.gemm(false, true, N, D, p, 1, gLogitsNC, p, P['unembed.W_U'], p, 0, gFinal, D);
    if (fw.lnFinal) {
      const gIn = new Float32Array(N * D);
      layerNormBackward(gFinal, N, D, P['ln_final.w'], fw.lnFinal, gIn, grads['ln_final.w'], grads['ln_final.b']);
      gFinal = gIn;
    }
    const last = fw.blocks[fw.blocks.length - 1];
    let gOut = gFinal;
    if (last.Sq !== 1) {
      gOut = new Float32Array(N * S * D);
      scatterAddPositions(gFinal, N, D, 1, gOut);
    }
    for (let l = cfg.n_layers - 1; l >= 0; l--) {
      const b = `blocks.${l}`;
      const c = fw.blocks[l];
      const Q = N * c.Sq;
      // MLP: residPost = residMid + W_out·relu(W_in·mlpIn + b_in) + b_out.
      const gResidMid = gOut.slice();
      e.gemm(true, false, M, D, Q, 1, c.mlpPostQM, M, gOut, D, 0, grads[`${b}.mlp.W_out`], D);
      e.colSum(gOut, Q, D, grads[`${b}.mlp.b_out`], 1, 0);
      const gPre = new Float32Array(Q * M);
      e.gemm(false, true, Q, M, D, 1, gOut, D, P[`${b}.mlp.W_out`], D, 0, gPre, M);
      e.reluBackward(c.mlpPreQM, gPre, gPre, Q, M, null);
      e.gemm(true, false, D, M, Q, 1, c.mlpInQD, D, gPre, M, 0, grads[`${b}.mlp.W_in`], M);
      e.colSum(gPre, Q, M, grads[`${b}.mlp.b_in`], 1, 0);
      if (c.ln2) {
        const gMlpIn = new Float32Array(Q * D);
        e.gemm(false, true, Q, D, M, 1, gPre, M, P[`${b}.mlp.W_in`], M, 0, gMlpIn, D);
        layerNormBackward(gMlpIn, Q, D, P[`${b}.ln2.w`], c.ln2, gResidMid, grads[`${b}.ln2.w`], grads[`${b}.ln2.b`]);
      } else {
        e.gemm(false, true, Q, D, M, 1, gPre, M, P[`${b}.mlp.W_in`], M, 1, gResidMid, D);
      }
      // Attention: residMid = residPre + W_O·attn(W_QKV·attnIn).
      e.gemm(true, false, HD, D, Q, 1, c.zQH, HD, gResidMid, D, 0, grads[`${b}.attn.W_O`], D);
      const gZ = new Float32Array(Q * HD);
      e.gemm(false, true, Q, HD, D, 1, gResidMid, D, P[`${b}.attn.W_O`], D, 0, gZ, HD);
      const rows = c.attnIn.length / D;
      const gQkv = new Float32Array(rows * 3 * HD);
      const gScores = c.rowOf ? new Float32Array(H * rows * rows) : null;
      attentionBackward({ N, S, Sq: c.Sq, H, Dh }, c.qkv, c.probNHQS, gZ, gQkv, c.rowOf, gScores);
      if (gScores) scoreTableBackward(e, c.qkv, gScores, rows, H, Dh, gQkv);
      // ∂ of the block's input x (rows of attnIn: the table in block 0, else the N·S rows).
      const gX = new Float32Array(rows * D);
      const gAttnIn = c.ln1 ? new Float32Array(rows * D) : gX;
      this.qkvBackward(b, c, N, gQkv, gAttnIn, grads);
      if (c.ln1)
        layerNormBackward(gAttnIn, rows, D, P[`${b}.ln1.w`], c.ln1, gX, grads[`${b}.ln1.w`], grads[`${b}.ln1.b`]);
      if (l > 0) {
        scatterAddPositions(gResidMid, N, D, c.Sq, gX);
        gOut = gX;
        continue;
      }
      // Block 0: x is the embedding table (Q/K/V path) plus the residual at the Q-rows.
      const gTable = gX;
      for (let n = 0; n < N; n++)
        for (let i = 0; i < c.Sq; i++) {
          const src = (n * c.Sq + i) * D;
          const dst = (c.rowOf as Int32Array)[n * S + S - c.Sq + i] * D;
          for (let j = 0; j < D; j++) gTable[dst + j] += gResidMid[src + j];
        }
      const gE = grads['embed.W_E'];
      const gPos = grads['pos_embed.W_pos'];
      for (let t = 0; t <= p; t++)
        for (let s = 0; s < S; s++)
          for (let j = 0; j < D; j++) {
            const g = gTable[(t * S + s) * D + j];
            gE[t * D + j] += g;
            gPos[s * D + j] += g;
          }
    }
  }

  /** ∂W_QKV (into grads) and ∂attnIn (overwritten) from ∂qkv; with Sq < S only query rows carry ∂Q. */
  private qkvBackward(b: string, c: BlockCache, N: number, gQkv: F32, gAttnIn: F32, grads: TensorMap): void {
    const { e, params: P } = this;
    const { d_model: D, n_heads: H, d_head: Dh } = this.cfg;
    const rows = c.attnIn.length / D;
    const HD = H * Dh;
    const wQkv = P[`${b}.attn.W_QKV`];
    const gW = grads[`${b}.attn.W_QKV`];
    if (c.rowOf || c.Sq === S) {
      e.gemm(true, false, D, 3 * HD, rows, 1, c.attnIn, D, gQkv, 3 * HD, 0, gW, 3 * HD);
      e.gemm(false, true, rows, D, 3 * HD, 1, gQkv, 3 * HD, wQkv, 3 * HD, 0, gAttnIn, D);
      return;
    }
    const R = N * S;
    const qRowsIn = c.attnIn.subarray((S - 1) * D);
    const qRowsG = gQkv.subarray((S - 1) * 3 * HD);
    e.gemm(true, false, D, 2 * HD, R, 1, c.attnIn, D, gQkv.subarray(HD), 3 * HD, 0, gW.subarray(HD), 3 * HD);
    e.gemm(true, false, D, HD, N, 1, qRowsIn, S * D, qRowsG, S * 3 * HD, 0, gW, 3 * HD);
    e.gemm(false, true, R, D, 2 * HD, 1, gQkv.subarray(HD), 3 * HD, wQkv.subarray(HD), 3 * HD, 0, gAttnIn, D);
    e.gemm(false, true, N, D, HD, 1, qRowsG, S * 3 * HD, wQkv, 3 * HD, 1, gAttnIn.subarray((S - 1) * D), S * D);
  }
}
