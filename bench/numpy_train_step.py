#!/usr/bin/env python3
"""numpy reference for `husai bench train`: steps/s of a tuned dense float32 SAE training step.

The step is the same maths husai's trainer does (SCIENCE.md §2), written the way a careful numpy
user would: float32 throughout, preallocated buffers, `out=` everywhere, argpartition for TopK,
BLAS for every product. Dense: the decoder product and its gradients run over all m latents
(numpy has no sparse-gather GEMM) — that is exactly the gap husai's sparse kernels close.

  python3 bench/numpy_train_step.py --arch topk --batch 4096 --d 512 --width 4096 --k 32
  python3 bench/numpy_train_step.py --arch relu --batch 4096 --d 512 --width 4096
Prints one JSON object: {"arch", "batch", "d", "width", "k", "steps_per_s", "median_step_s", ...}.
"""
import argparse
import json
import time

import numpy as np


class Adam:
    def __init__(self, params, lr=1e-4, b1=0.9, b2=0.999, eps=1e-8):
        self.params, self.lr, self.b1, self.b2, self.eps = params, lr, b1, b2, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.tmp = [np.empty_like(p) for p in params]
        self.t = 0

    def step(self, grads):
        self.t += 1
        a = self.lr * np.sqrt(1 - self.b2 ** self.t) / (1 - self.b1 ** self.t)
        for p, g, m, v, tmp in zip(self.params, grads, self.m, self.v, self.tmp):
            m *= self.b1
            m += (1 - self.b1) * g
            np.multiply(g, g, out=tmp)
            tmp *= 1 - self.b2
            v *= self.b2
            v += tmp
            np.sqrt(v, out=tmp)
            tmp += self.eps
            np.divide(m, tmp, out=tmp)
            tmp *= a
            p -= tmp


def make_step(arch, B, d, m, k, l1, rng):
    f32 = np.float32
    W_dec = rng.standard_normal((m, d), dtype=f32)
    W_dec /= np.linalg.norm(W_dec, axis=1, keepdims=True)
    W_enc = np.ascontiguousarray(W_dec.T)
    b_enc = np.zeros(m, f32)
    b_dec = np.zeros(d, f32)
    params = [W_enc, b_enc, W_dec, b_dec]
    grads = [np.empty_like(p) for p in params]
    opt = Adam(params)
    xc = np.empty((B, d), f32)
    h = np.empty((B, m), f32)
    f = np.empty((B, m), f32)
    recon = np.empty((B, d), f32)
    g_recon = np.empty((B, d), f32)
    g_f = np.empty((B, m), f32)
    rows = np.arange(B)[:, None]

    def step(x):
        # In-place augmented assignments (h += …) on closure arrays need nonlocal to be legal Python.
        nonlocal h, recon, g_recon, g_f, W_dec
        gW_enc, gb_enc, gW_dec, gb_dec = grads
        np.subtract(x, b_dec, out=xc)
        np.matmul(xc, W_enc, out=h)
        h += b_enc
        if arch == "topk":
            idx = np.argpartition(h, -k, axis=1)[:, -k:]
            vals = np.maximum(np.take_along_axis(h, idx, axis=1), 0)
            f.fill(0)
            f[rows, idx] = vals
        else:
            np.maximum(h, 0, out=f)
        np.matmul(f, W_dec, out=recon)
        recon += b_dec
        np.subtract(recon, x, out=g_recon)
        g_recon *= 2.0 / B
        np.matmul(f.T, g_recon, out=gW_dec)
        np.matmul(g_recon, W_dec.T, out=g_f)
        if arch == "topk":
            mask = np.zeros((B, m), bool)
            mask[rows, idx] = vals > 0
            g_f *= mask
        else:
            g_f += l1 / B
            g_f *= h > 0
        np.matmul(xc.T, g_f, out=gW_enc)
        g_f.sum(axis=0, out=gb_enc)
        # b_dec enters the input centring (−W_enc path) and the output (+identity path).
        # d(xc)/d(b_dec) = −I, so gb_dec = Σ_b g_recon − Σ_b (g_f·W_encᵀ) = Σ g_recon − W_enc·(Σ_b g_f).
        np.subtract(g_recon.sum(axis=0), W_enc @ gb_enc, out=gb_dec)
        if arch == "topk":
            # Unit-norm decoder: project out the radial gradient, then renormalise after the step.
            dots = np.einsum("ij,ij->i", gW_dec, W_dec)
            gW_dec -= dots[:, None] * W_dec
        opt.step(grads)
        if arch == "topk":
            W_dec /= np.linalg.norm(W_dec, axis=1, keepdims=True)

    return step


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="topk", choices=["topk", "relu"])
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--d", type=int, default=512)
    ap.add_argument("--width", type=int, default=4096)
    ap.add_argument("--k", type=int, default=32)
    ap.add_argument("--l1", type=float, default=5.0)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((a.batch, a.d), dtype=np.float32)
    step = make_step(a.arch, a.batch, a.d, a.width, a.k, a.l1, rng)
    for _ in range(a.warmup):
        step(x)
    times = []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        step(x)
        times.append(time.perf_counter() - t0)
    med = float(np.median(times))
    print(json.dumps({"arch": a.arch, "batch": a.batch, "d": a.d, "width": a.width, "k": a.k if a.arch == "topk" else None,
                      "steps": a.steps, "median_step_s": med, "steps_per_s": 1.0 / med, "numpy": np.__version__}))


if __name__ == "__main__":
    main()
