"""Golden numbers for test/metrics/fourier.test.ts (src/metrics/fourier.ts, SCIENCE.md §5).

Independent reference: numpy.fft only (no husai code, no separable GEMMs). Run from the repo root:
    python3 test/golden/fourier/make_fourier.py
It writes test/golden/fourier/fourier.json with the INPUTS (float32-exact, so the TypeScript test
needs no random-number agreement) and the expected outputs. Made with numpy 2.

Conventions mirrored from src/metrics/fourier.ts:
- token spectrum of W [p, D]: P = |fft(W, axis=0)|² summed over D; power[0] = P[0],
  power[k] = P[k] + P[p − k] for k = 1..(p − 1)/2 (both ±k), total = Σ_u P[u] = p·‖W‖²_F;
- key frequencies: k ≥ 1 sorted by descending power (ties: smaller k first), the shortest prefix
  whose cumulative power reaches `fraction` of the non-constant total;
- grid spectrum of one latent x[a, b] (rows a·p + b of acts): P = |fft2(x − mean(x))|², full p×p;
  U = {0} ∪ {±k mod p : k ∈ keys}; keyShare = Σ P over U×U minus (0, 0), over Σ P minus (0, 0);
  per-key share of k = the same sum restricted to components with u ≡ ±k or v ≡ ±k;
  dominant = the key with the largest per-key share (ties: first key in ascending order) when
  keyShare ≥ 0.8, else −1; strongest component = argmax of P off (0, 0), folded to
  (min(u, p − u), min(v, p − v)) with sign −1 when exactly one of u, v lies above (p − 1)/2 (an
  a − b pattern) and neither is 0, share = 2·P[u, v] / total (the conjugate pair together);
  `topTie` marks latents whose two strongest classes differ by < 1e-4 of the total (the winner is
  then rounding noise, so the test checks only the share).
"""
import json
import os

import numpy as np

rng = np.random.default_rng(20250612)
OUT = os.path.join(os.path.dirname(__file__), "fourier.json")
THRESHOLD = 0.8


def f32(x):
    """Round to float32 so TypeScript's Float32Array inputs are the exact same numbers."""
    return np.asarray(x, dtype=np.float32).astype(np.float64)


# ── token spectrum and key frequencies ──────────────────────────────────────────────────────
def token_case(w, fraction):
    p = w.shape[0]
    h = (p - 1) // 2
    P = (np.abs(np.fft.fft(w, axis=0)) ** 2).sum(axis=1)
    power = np.empty(h + 1)
    power[0] = P[0]
    for k in range(1, h + 1):
        power[k] = P[k] + P[p - k]
    nonconst = power[1:].sum()
    order = sorted(range(1, h + 1), key=lambda k: (-power[k], k))
    cum, keys = 0.0, []
    for k in order:
        keys.append(k)
        cum += power[k]
        if cum >= fraction * nonconst:
            break
    keys_sorted = sorted(keys)
    return {
        "p": p, "d": w.shape[1], "w": w.ravel().tolist(), "fraction": fraction,
        "power": power.tolist(), "total": float(P.sum()),
        "keys": keys_sorted, "shares": [power[k] / nonconst for k in keys_sorted],
        "covered": float(sum(power[k] for k in keys) / nonconst),
        "top8": float(sum(power[k] for k in order[:8]) / nonconst),
    }


tok_random = token_case(f32(rng.normal(size=(13, 5))), 0.9)

p = 17
a = np.arange(p)[:, None]
w = np.zeros((p, 6))
for k, amp in [(2, 1.0), (5, 0.8), (7, 0.6)]:
    phase = rng.uniform(0, 2 * np.pi, size=6)
    w += amp * np.cos(2 * np.pi * k * a / p + phase)
w += 0.3 + 0.01 * rng.normal(size=(p, 6))
tok_three = token_case(f32(w), 0.9)


# ── grid spectra of latents ─────────────────────────────────────────────────────────────────
def grid_case(p, acts, keys):
    n, L = acts.shape
    assert n == p * p
    h = (p - 1) // 2
    inU = np.zeros(p, bool)
    inU[0] = True
    for k in keys:
        inU[k] = inU[p - k] = True
    is_k = {k: np.isin(np.arange(p), [k, p - k]) for k in keys}
    out = {"p": p, "l": L, "keys": keys, "acts": acts.ravel().tolist(),
           "power": [], "total": [], "keyShare": [], "perKeyShare": [], "dead": [], "dominant": [],
           "topU": [], "topV": [], "topSign": [], "topShare": [], "topTie": []}
    for l in range(L):
        x = acts[:, l].reshape(p, p)  # x[a, b]
        P = np.abs(np.fft.fft2(x - x.mean())) ** 2
        P[0, 0] = 0.0
        total = P.sum()
        dead = bool(x.max() == x.min())
        out["power"].extend(P.ravel().tolist())
        out["total"].append(float(total))
        out["dead"].append(dead)
        if dead:
            out["keyShare"].append(0.0)
            out["perKeyShare"].extend([0.0] * len(keys))
            out["dominant"].append(-1)
            out["topU"].append(0), out["topV"].append(0), out["topSign"].append(1), out["topShare"].append(0.0)
            out["topTie"].append(False)
            continue
        UU = inU[:, None] & inU[None, :]
        ks = P[UU].sum() / total
        per = [P[UU & (is_k[k][:, None] | is_k[k][None, :])].sum() / total for k in keys]
        out["keyShare"].append(float(ks))
        out["perKeyShare"].extend(float(v) for v in per)
        out["dominant"].append(int(keys[int(np.argmax(per))]) if ks >= THRESHOLD and keys else -1)
        u, v = np.unravel_index(int(np.argmax(P)), P.shape)
        sign = -1 if (u != 0 and v != 0 and (u > h) != (v > h)) else 1
        out["topU"].append(int(min(u, p - u)))
        out["topV"].append(int(min(v, p - v)))
        out["topSign"].append(sign)
        out["topShare"].append(float(2 * P[u, v] / total))
        # Which component wins is float noise when two conjugate classes carry (almost) equal power.
        cls = sorted((P[i, j] + P[-i % p, -j % p]) / total
                     for i in range(p) for j in range(p) if (i, j) < (-i % p, -j % p))[::-1]
        out["topTie"].append(bool(cls[0] - cls[1] < 1e-4))
    return out


def grid_acts(p, columns):
    a = np.repeat(np.arange(p), p).astype(np.float64)  # row a·p + b
    b = np.tile(np.arange(p), p).astype(np.float64)
    return f32(np.stack([c(a, b) for c in columns], axis=1))


def cos_ab(p, k, s=1):
    return lambda a, b: np.cos(2 * np.pi * k * (a + s * b) / p)


def noise(scale):
    return lambda a, b: scale * rng.normal(size=a.shape)


def add(*fs):
    return lambda a, b: sum(f(a, b) for f in fs)


p = 7
grid7 = grid_case(p, grid_acts(p, [
    add(cos_ab(p, 3), noise(0.1)),                                          # a + b, k = 3
    noise(1.0),                                                            # white noise
    add(lambda a, b: np.sin(2 * np.pi * 2 * a / p) * np.cos(2 * np.pi * b / p), noise(0.05)),
    lambda a, b: np.full(a.shape, 0.75),                                   # constant: dead
    add(lambda a, b: np.maximum(np.cos(2 * np.pi * 3 * (a - b) / p), 0), noise(0.02)),  # ReLU'd a − b
]), [1, 3])

p = 11
grid11 = grid_case(p, grid_acts(p, [
    add(cos_ab(p, 4, -1), noise(0.2)),
    add(lambda a, b: 2 * np.cos(2 * np.pi * a / p) + np.sin(2 * np.pi * 4 * b / p), noise(0.1)),
    # active on part of the grid only: zero where the wave is negative
    lambda a, b: np.maximum(np.cos(2 * np.pi * 4 * (a + b) / p) + 0.1 * rng.normal(size=a.shape), 0),
    noise(0.5),
]), [1, 4])

p = 13
grid13 = grid_case(p, grid_acts(p, [
    add(cos_ab(p, 2), lambda a, b: 0.7 * np.sin(2 * np.pi * 5 * (a + b) / p), noise(0.3)),
    add(cos_ab(p, 6), noise(0.05)),
    lambda a, b: (a == 3) * (b == 8) * 1.0,                                 # one grid point only
    add(cos_ab(p, 1), noise(0.1)),                                          # k = 1 not a key
]), [2, 5, 6])

with open(OUT, "w") as f:
    json.dump({"token": {"random13": tok_random, "three17": tok_three},
               "grid": {"p7": grid7, "p11": grid11, "p13": grid13},
               "threshold": THRESHOLD}, f)
    f.write("\n")
print(f"wrote {OUT}")
