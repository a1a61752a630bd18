/**
 * Causal multi-head self-attention on short fixed-length sequences, forward and hand-written
 * backward (docs/SCIENCE.md §5: the modular-arithmetic transformer, sequences [a, b, =]). The Q/K/V and
 * output projections are GEMMs done by the caller; this file owns the part between them — scores,
 * causal mask, softmax and the weighted sum of values — which for S = 3 is a few hundred flops per
 * sequence, so plain loops beat any kernel launch.
 *
 * Layout. Rows are sample-major: row n·S + s is position s of sequence n. `qkvRC` [N·S, 3·H·Dh]
 * holds each row's queries, keys and values side by side (heads contiguous inside each block).
 * Queries may be restricted to the last Sq positions (Sq = S: every position; Sq = 1: only the
 * final token, all a 1-layer model's loss needs); keys and values always cover all S positions.
 * Outputs `zRC` [N·Sq, H·Dh] and probabilities `probNHQS` [N, H, Sq, S] (masked entries 0).
 *
 * Optional indirection `rowOf` [N·S]: logical row n·S + s reads qkv row rowOf[n·S + s] (and its
 * gradient accumulates there). A first layer's Q/K/V depend only on (token, position), so the
 * caller can project a [(p+1)·S]-row table once instead of all N·S rows. With a table, the scores
 * themselves can be tabulated too (`scoreTable`: one small GEMM per head over the T table rows), so
 * the per-sequence loops only look scores up and the q/k gradients come back through two GEMMs per
 * head (`scoreTableBackward`) instead of per-sequence dot products.
 */
import type { Engine, F32 } from '../engine/types.js';

/** Scaled scores between every pair of table rows, per head: scoresHTT[h][i][j] = q_i·k_j / √Dh. */
export function scoreTable(e: Engine, qkvT3: F32, T: number, H: number, Dh: number, scoresHTT: F32): void {
  const HD = H * Dh;
  const scale = 1 / Math.sqrt(Dh);
  for (let h = 0; h < H; h++) {
    e.gemm(
      false,
      true,
      T,
      T,
      Dh,
      scale,
      qkvT3.subarray(h * Dh),
      3 * HD,
      qkvT3.subarray(HD + h * Dh),
      3 * HD,
      0,
      scoresHTT.subarray(h * T * T, (h + 1) * T * T),
      T,
    );
  }
}

/** Adds the q and k gradients implied by score gradients gScoresHTT (∂L/∂score) into gQkvT3. */
export function scoreTableBackward(
  e: Engine,
  qkvT3: F32,
  gScoresHTT: F32,
  T: number,
  H: number,
  Dh: number,
  gQkvT3: F32,
): void {
  const HD = H * Dh;
  const scale = 1 / Math.sqrt(Dh);
  for (let h = 0; h < H; h++) {
    const gS = gScoresHTT.subarray(h * T * T, (h + 1) * T * T);
    e.gemm(
      false,
      false,
      T,
      Dh,
      T,
      scale,
      gS,
      T,
      qkvT3.subarray(HD + h * Dh),
      3 * HD,
      1,
      gQkvT3.subarray(h * Dh),
      3 * HD,
    );
    e.gemm(
      true,
      false,
      T,
      Dh,
      T,
      scale,
      gS,
      T,
      qkvT3.subarray(h * Dh),
      3 * HD,
      1,
      gQkvT3.subarray(HD + h * Dh),
      3 * HD,
    );
  }
}

interface AttentionShape {
  /** Sequences. */
  N: number;
  /** Positions per sequence. */
  S: number;
  /** Query positions: the last Sq of the S (1 ≤ Sq ≤ S). */
  Sq: number;
  /** Heads. */
  H: number;
  /** Width of one head. */
  Dh: number;
}

/**
 * Scores q·k/√Dh over keys t ≤ s (looked up in scoresHTT when given), softmax, z = Σ_t p_t v_t. Writes zRC and
 * probNHQS.
 */
export function attentionForward(
  sh: AttentionShape,
  qkvRC: F32,
  zRC: F32,
  probNHQS: F32,
  rowOf: Int32Array | null = null,
  scoresHTT: F32 | null = null,
): void {
  const { N, S, Sq, H, Dh } = sh;
  const HD = H * Dh;
  const W = 3 * HD;
  const q0 = S - Sq;
  const scale = 1 / Math.sqrt(Dh);
  const sc = new Float64Array(S);
  const off = new Int32Array(S);
  const T = scoresHTT && rowOf ? Math.round(Math.sqrt(scoresHTT.length / H)) : 0;
  for (let n = 0; n < N; n++) {
    for (let t = 0; t < S; t++) off[t] = (rowOf ? rowOf[n * S + t] : n * S + t) * W;
    for (let h = 0; h < H; h++) {
      for (let qi = 0; qi < Sq; qi++) {
        const s = q0 + qi;
        const qOff = off[s] + h * Dh;
        let max = -Infinity;
        for (let t = 0; t <= s; t++) {
          if (T > 0) {
            sc[t] = (scoresHTT as F32)[
              (h * T + (rowOf as Int32Array)[n * S + s]) * T + (rowOf as Int32Array)[n * S + t]
            ];
          } else {
            const kOff = off[t] + HD + h * Dh;
            let dot = 0;
            for (let j = 0; j < Dh; j++) dot += qkvRC[qOff + j] * qkvRC[kOff + j];
            sc[t] = dot * scale;
          }
          if (sc[t] > max) max = sc[t];
        }
        let sum = 0;
        for (let t = 0; t <= s; t++) {
          sc[t] = Math.exp(sc[t] - max);
          sum += sc[t];
        }
        const pOff = ((n * H + h) * Sq + qi) * S;
        const zOff = (n * Sq + qi) * HD + h * Dh;
        for (let j = 0; j < Dh; j++) zRC[zOff + j] = 0;
        for (let t = 0; t < S; t++) {
          const pr = t <= s ? sc[t] / sum : 0;
          probNHQS[pOff + t] = pr;
          if (t > s) continue;
          const vOff = off[t] + 2 * HD + h * Dh;
          for (let j = 0; j < Dh; j++) zRC[zOff + j] += pr * qkvRC[vOff + j];
        }
      }
    }
  }
}

/**
 * Gradient of attentionForward: gQkvRC (shaped like qkvRC) ← ∂L/∂qkv given gZRC [N·S_q, H·Dh]
 * (overwritten; rows of positions that were not queries get zero query gradients). With
 * gScoresHTT (table mode) the score gradients are accumulated there instead of into q and k: the
 * caller finishes with scoreTableBackward.
 */
export function attentionBackward(
  sh: AttentionShape,
  qkvRC: F32,
  probNHQS: F32,
  gZRC: F32,
  gQkvRC: F32,
  rowOf: Int32Array | null = null,
  gScoresHTT: F32 | null = null,
): void {
  const { N, S, Sq, H, Dh } = sh;
  const HD = H * Dh;
  const W = 3 * HD;
  const q0 = S - Sq;
  const scale = 1 / Math.sqrt(Dh);
  gQkvRC.fill(0);
  const T = gScoresHTT && rowOf ? Math.round(Math.sqrt(gScoresHTT.length / H)) : 0;
  if (T > 0) (gScoresHTT as F32).fill(0);
  const gP = new Float64Array(S);
  const off = new Int32Array(S);
  for (let n = 0; n < N; n++) {
    for (let t = 0; t < S; t++) off[t] = (rowOf ? rowOf[n * S + t] : n * S + t) * W;
    for (let h = 0; h < H; h++) {
      for (let qi = 0; qi < Sq; qi++) {
        const s = q0 + qi;
        const pOff = ((n * H + h) * Sq + qi) * S;
        const gzOff = (n * Sq + qi) * HD + h * Dh;
        // z = Σ_t p_t v_t: ∂p_t = gz·v_t, ∂v_t += p_t gz.
        let pg = 0;
        for (let t = 0; t <= s; t++) {
          const vOff = off[t] + 2 * HD + h * Dh;
          const pr = probNHQS[pOff + t];
          let dot = 0;
          for (let j = 0; j < Dh; j++) {
            dot += gZRC[gzOff + j] * qkvRC[vOff + j];
            gQkvRC[vOff + j] += pr * gZRC[gzOff + j];
          }
          gP[t] = dot;
          pg += pr * dot;
        }
        // softmax: ∂score_t = p_t (∂p_t − Σ p ∂p); score_t = q·k_t / √Dh.
        const qOff = off[s] + h * Dh;
        if (T > 0) {
          const base = (h * T + (rowOf as Int32Array)[n * S + s]) * T;
          for (let t = 0; t <= s; t++)
            (gScoresHTT as F32)[base + (rowOf as Int32Array)[n * S + t]] += probNHQS[pOff + t] * (gP[t] - pg);
          continue;
        }
        for (let t = 0; t <= s; t++) {
          const gs = probNHQS[pOff + t] * (gP[t] - pg) * scale;
          if (gs === 0) continue;
          const kOff = off[t] + HD + h * Dh;
          for (let j = 0; j < Dh; j++) {
            gQkvRC[qOff + j] += gs * qkvRC[kOff + j];
            gQkvRC[kOff + j] += gs * qkvRC[qOff + j];
          }
        }
      }
    }
  }
}
