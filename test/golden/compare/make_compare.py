#!/usr/bin/env python3
"""Golden values for `husai compare` (test/compare/compare.test.ts), computed independently with
numpy + scipy from the definitions of SCIENCE.md §3, on two SAEs saved in two different layouts:
  sae_a/  SAELens v6 (topk):  W_enc [d_in, 48], b_enc, W_dec [48, d_in], b_dec, cfg.json
  sae_b/  sparsify:           encoder.weight [40, d_in] (= W_encᵀ), encoder.bias, W_dec [40, d_in], b_dec
B shares 30 latents with A (noisy copies, permuted, some sign-flipped), has 10 of its own, and
latent 5 of A is dead (all-zero decoder row and encoder column). gt.npy holds 24 true directions.
Run from the repo root:  python3 test/golden/compare/make_compare.py   (re-running gives identical bytes)
"""
import json
import os
import struct

import numpy as np
from scipy.optimize import linear_sum_assignment

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261121)
D, MA, MB, SHARED, NGT = 16, 48, 40, 30, 24


def unit_rows(x):
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return np.where(n > 0, x / np.where(n > 0, n, 1), 0.0)


def write_safetensors(path, tensors, metadata):
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name], dtype="<f4")
        raw = arr.tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


# SAE A.
dec_a = rng.standard_normal((MA, D)).astype(np.float32)
enc_a = (dec_a.T + 0.3 * rng.standard_normal((D, MA))).astype(np.float32)  # W_enc [D, MA]
dec_a[5] = 0
enc_a[:, 5] = 0
# SAE B: 30 noisy copies of A's latents 0..29 (excluding nothing: latent 5 is dead in A), permuted.
src = np.arange(SHARED)
dec_b = np.empty((MB, D), np.float32)
enc_b = np.empty((D, MB), np.float32)
noise = np.linspace(0.05, 1.2, SHARED)  # from near-identical to barely related
sign = np.where(np.arange(SHARED) % 7 == 3, -1.0, 1.0)
dec_b[:SHARED] = sign[:, None] * (dec_a[src] + noise[:, None] * rng.standard_normal((SHARED, D)))
enc_b[:, :SHARED] = sign[None, :] * (enc_a[:, src] + noise[None, :] * rng.standard_normal((D, SHARED)))
dec_b[SHARED:] = rng.standard_normal((MB - SHARED, D))
enc_b[:, SHARED:] = rng.standard_normal((D, MB - SHARED))
perm = rng.permutation(MB)
dec_b = dec_b[perm].astype(np.float32)
enc_b = enc_b[:, perm].astype(np.float32)

os.makedirs(os.path.join(HERE, "sae_a"), exist_ok=True)
write_safetensors(os.path.join(HERE, "sae_a", "sae_weights.safetensors"),
                  {"W_enc": enc_a, "b_enc": np.zeros(MA), "W_dec": dec_a, "b_dec": np.zeros(D)}, {"format": "pt"})
with open(os.path.join(HERE, "sae_a", "cfg.json"), "w") as f:
    json.dump({"architecture": "topk", "d_in": D, "d_sae": MA, "k": 4, "dtype": "float32", "device": "cpu",
               "apply_b_dec_to_input": True, "normalize_activations": "none", "rescale_acts_by_decoder_norm": False,
               "metadata": {"sae_lens_version": "6.0.0", "hook_name": "blocks.0.hook_resid_post"}}, f, indent=2, sort_keys=True)
os.makedirs(os.path.join(HERE, "sae_b"), exist_ok=True)
write_safetensors(os.path.join(HERE, "sae_b", "sae.safetensors"),
                  {"encoder.weight": enc_b.T, "encoder.bias": np.zeros(MB), "W_dec": dec_b, "b_dec": np.zeros(D)}, {"format": "pt"})
with open(os.path.join(HERE, "sae_b", "cfg.json"), "w") as f:
    json.dump({"activation": "topk", "expansion_factor": 0, "normalize_decoder": True, "num_latents": MB, "k": 4,
               "multi_topk": False, "skip_connection": False, "transcode": False, "d_in": D}, f, indent=2, sort_keys=True)
gt = unit_rows(rng.standard_normal((NGT, D))).astype(np.float32)
gt[:12] = unit_rows(dec_a[[0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12]] + 0.2 * rng.standard_normal((12, D))).astype(np.float32)
np.save(os.path.join(HERE, "gt.npy"), gt)

# Independent computation, in float64 on the float32 values as stored.
A, B = unit_rows(dec_a.astype(np.float64)), unit_rows(dec_b.astype(np.float64))
EA, EB = unit_rows(enc_a.T.astype(np.float64)), unit_rows(enc_b.T.astype(np.float64))
C, CE = A @ B.T, EA @ EB.T


def pw(c):
    r, k = linear_sum_assignment(c, maximize=True)
    return c[r, k].sum() / min(c.shape), dict(zip(r.tolist(), k.tolist()))


pwmcc, _ = pw(C)
pwmcc_abs, _ = pw(np.abs(C))
enc_pwmcc, _ = pw(CE)
_, sig_dec = pw(C)
_, sig_enc = pw(CE)
tau = 0.7
shared = sum(1 for i in range(MA) if i in sig_dec and i in sig_enc and sig_dec[i] == sig_enc[i]
             and C[i, sig_dec[i]] >= tau and CE[i, sig_enc[i]] >= tau)
G = unit_rows(gt.astype(np.float64))
CG = G @ A.T
gt_mcc, _ = pw(CG)
out = {
    "pair": {
        "mmcs_ab": C.max(axis=1).mean(), "mmcs_ba": C.max(axis=0).mean(),
        "mean_max_abs_sym": 0.5 * (np.abs(C).max(axis=1).mean() + np.abs(C).max(axis=0).mean()),
        "pwmcc": pwmcc, "pwmcc_abs": pwmcc_abs, "enc_pwmcc": enc_pwmcc, "shared_fraction": shared / MA,
        "n_a": MA, "n_b": MB, "d": D,
    },
    "ground_truth": {
        "gt_mcc": gt_mcc, "gt_mmcs": CG.max(axis=1).mean(),
        "gt_recovered_09": float((CG.max(axis=1) >= 0.9).mean()), "gt_recovered_07": float((CG.max(axis=1) >= 0.7).mean()),
        "n_gt": NGT, "n_sae": MA,
    },
}
with open(os.path.join(HERE, "expected.json"), "w") as f:
    json.dump(out, f, indent=2, sort_keys=True, default=float)
    f.write("\n")
print(json.dumps(out, indent=1, default=float))
