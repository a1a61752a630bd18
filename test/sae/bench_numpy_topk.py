"""Dense numpy TopK SAE step at B=4096, d=512, m=4096, k=32 — the baseline husai's sparse step is
compared with (test/sae/bench-step.ts). Same step: forward, backward, decoder projection, clip,
Adam, renormalise. Usage: OPENBLAS_NUM_THREADS=2 python3 test/sae/bench_numpy_topk.py [relu]"""
import sys, time
import numpy as np

B, D, M, K = 4096, 512, 4096, 32
arch = sys.argv[1] if len(sys.argv) > 1 else "topk"
rng = np.random.default_rng(0)
x = rng.standard_normal((B, D), dtype=np.float32)
W_dec = rng.standard_normal((M, D), dtype=np.float32)
W_dec /= np.linalg.norm(W_dec, axis=1, keepdims=True)
W_enc = np.ascontiguousarray(W_dec.T)
b_enc = np.zeros(M, np.float32)
b_dec = np.zeros(D, np.float32)
params = [W_enc, b_enc, W_dec, b_dec]
ms = [np.zeros_like(p) for p in params]
vs = [np.zeros_like(p) for p in params]

def step(t):
    xc = x - b_dec
    h = xc @ W_enc
    h += b_enc
    if arch == "topk":
        idx = np.argpartition(h, M - K, axis=1)[:, M - K:]
        vals = np.maximum(np.take_along_axis(h, idx, 1), 0)
        f = np.zeros_like(h)
        np.put_along_axis(f, idx, vals, 1)
    else:
        f = np.maximum(h, 0)
    recon = f @ W_dec
    recon += b_dec
    g = (recon - x) * (2.0 / B)
    gW_dec = f.T @ g
    gf = g @ W_dec.T
    gf *= f > 0
    if arch != "topk":
        gf += (f > 0) * (1.0 / B)
    gW_enc = xc.T @ gf
    gb_enc = gf.sum(0)
    gb_dec = g.sum(0) - W_enc @ gb_enc
    gW_dec -= (gW_dec * W_dec).sum(1, keepdims=True) * W_dec
    grads = [gW_enc, gb_enc, gW_dec, gb_dec]
    norm = np.sqrt(sum(float((q * q).sum()) for q in grads))
    if norm > 1:
        for q in grads:
            q *= 1 / norm
    lr, b1, b2, eps = 1e-4, 0.9, 0.999, 1e-8
    for p, q, m, v in zip(params, grads, ms, vs):
        m *= b1; m += (1 - b1) * q
        v *= b2; v += (1 - b2) * q * q
        p -= lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
    params[2] /= np.linalg.norm(params[2], axis=1, keepdims=True)

step(1)
times = []
for t in range(2, 12):
    s = time.perf_counter(); step(t); times.append(time.perf_counter() - s)
times.sort()
med = times[len(times) // 2]
print({"numpy": np.__version__, "arch": arch, "medianMs": round(med * 1000, 1), "minMs": round(times[0] * 1000, 1), "stepsPerS": round(1 / med, 2)})
