"""Golden numbers for test/metrics/{linalg,activations,subspace}.test.ts.

Independent reference: numpy.linalg / scipy only (no husai code). Run from the repo root:
    python3 test/golden/metrics2/make_golden.py
It writes test/golden/metrics2/golden.json (inputs and expected outputs). Made with numpy 2.4,
scipy 1.17. Conventions mirrored from src/metrics: values sorted descending; every vector
sign-fixed so its largest-magnitude entry is positive; dead latents (never non-zero) excluded.
"""
import json
import os

import numpy as np
import scipy.linalg
import scipy.stats

rng = np.random.default_rng(20250611)
OUT = os.path.join(os.path.dirname(__file__), "golden.json")


def fix_sign_cols(m):
    m = m.copy()
    for j in range(m.shape[1]):
        i = np.argmax(np.abs(m[:, j]))
        if m[i, j] < 0:
            m[:, j] = -m[:, j]
    return m


def f32(x):
    """Round to float32 so TypeScript's Float32Array inputs are the exact same numbers."""
    return np.asarray(x, dtype=np.float32).astype(np.float64)


def orth_q(n):
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    return q


# ── linalg ────────────────────────────────────────────────────────────────────────────────
def eig_case(a):
    w, v = np.linalg.eigh(a)
    order = np.argsort(-w, kind="stable")
    return {"n": a.shape[0], "a": a.ravel().tolist(), "values": w[order].tolist(),
            "vectorsCols": fix_sign_cols(v[:, order]).ravel().tolist()}


x = rng.normal(size=(12, 12))
eig_random = eig_case((x + x.T) / 2)
q = orth_q(10)
eig_ill = eig_case(q @ np.diag(np.logspace(0, -12, 10) * np.array([1, -1] * 5)) @ q.T)
q = orth_q(6)
eig_repeated = eig_case(q @ np.diag([3.0, 3.0, 1.0, 1.0, 1.0, -2.0]) @ q.T)


def svd_case(a):
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    u = u.copy()
    v = vt.T.copy()
    for j in range(len(s)):
        i = np.argmax(np.abs(u[:, j]))
        if u[i, j] < 0:
            u[:, j] = -u[:, j]
            v[:, j] = -v[:, j]
    return {"rows": a.shape[0], "cols": a.shape[1], "a": a.ravel().tolist(), "s": s.tolist(),
            "u": u.ravel().tolist(), "v": v.ravel().tolist()}


svd_tall = svd_case(rng.normal(size=(9, 5)))
svd_wide = svd_case(rng.normal(size=(5, 9)))
svd_ill = svd_case(orth_q(20)[:, :8] @ np.diag(np.logspace(0, -10, 8)) @ orth_q(8).T)
svd_rank2 = svd_case(rng.normal(size=(6, 2)) @ rng.normal(size=(2, 4)))

# ── activations ───────────────────────────────────────────────────────────────────────────
T = 40
F = (rng.random((T, 4)) < 0.35) * rng.uniform(0.5, 2.0, (T, 4))
actsA = f32(np.maximum(F @ rng.normal(size=(4, 6)) + 0.2 * rng.normal(size=(T, 6)) - 0.4, 0))
actsB = f32(np.maximum(F @ rng.normal(size=(4, 5)) + 0.2 * rng.normal(size=(T, 5)) - 0.4, 0))
actsA[:, 2] = 0.0  # dead
actsB[:, 4] = 0.0  # dead
liveA = np.flatnonzero((actsA != 0).any(0))
liveB = np.flatnonzero((actsB != 0).any(0))


def pearson(x, y):
    x = x - x.mean()
    y = y - y.mean()
    den = np.sqrt((x @ x) * (y @ y))
    return 0.0 if den == 0 else float(x @ y / den)


def masked(x, y):
    m = (x != 0) | (y != 0)
    return 0.0 if m.sum() < 2 else pearson(x[m], y[m])


def jaccard(x, y):
    u = ((x != 0) | (y != 0)).sum()
    return 0.0 if u == 0 else float(((x != 0) & (y != 0)).sum() / u)


def per_latent_max(X, Y, liveX, liveY, fn):
    vals, parts = [], []
    for i in range(X.shape[1]):
        if i not in liveX:
            vals.append(None)
            parts.append(-1)
            continue
        sc = [fn(X[:, i], Y[:, j]) for j in liveY]
        k = int(np.argmax(sc))
        vals.append(sc[k])
        parts.append(int(liveY[k]))
    live_vals = [v for v in vals if v is not None]
    return {"value": vals, "partner": parts, "mean": float(np.mean(live_vals))}


ZA = actsA - actsA.mean(0)
ZB = actsB - actsB.mean(0)
cka = np.linalg.norm(ZA.T @ ZB) ** 2 / (np.linalg.norm(ZA.T @ ZA) * np.linalg.norm(ZB.T @ ZB))


def erank(Z):
    s = np.linalg.svd(Z, compute_uv=False)
    p = s / s.sum()
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))


def svcca_data(X, Y, keep=0.99):
    """Raghu et al. 2017: centre, SVD to `keep` of the variance (s²), then CCA via QR."""
    out = []
    ks = []
    for Z in (X, Y):
        Z = Z - Z.mean(0)
        u, s, vt = np.linalg.svd(Z, full_matrices=False)
        lam = s ** 2
        k = int(np.searchsorted(np.cumsum(lam) / lam.sum(), keep) + 1)
        out.append(u[:, :k] * s[:k])
        ks.append(k)
    qa, _ = np.linalg.qr(out[0])
    qb, _ = np.linalg.qr(out[1])
    rho = np.clip(np.linalg.svd(qa.T @ qb, compute_uv=False), 0, 1)
    return {"mean": float(rho.mean()), "correlations": rho.tolist(), "keptA": ks[0], "keptB": ks[1]}


activations = {
    "T": T, "mA": 6, "mB": 5, "actsA": actsA.ravel().tolist(), "actsB": actsB.ravel().tolist(),
    "deadA": 1, "deadB": 1,
    "pearsonAB": per_latent_max(actsA, actsB, liveA, liveB, pearson),
    "pearsonBA": per_latent_max(actsB, actsA, liveB, liveA, pearson),
    "maskedAB": per_latent_max(actsA, actsB, liveA, liveB, masked),
    "maskedBA": per_latent_max(actsB, actsA, liveB, liveA, masked),
    "jaccardAB": per_latent_max(actsA, actsB, liveA, liveB, jaccard),
    "jaccardBA": per_latent_max(actsB, actsA, liveB, liveA, jaccard),
    "pearsonMatrix": [[pearson(actsA[:, i], actsB[:, j]) for j in range(5)] for i in range(6)],
    "maskedMatrix": [[masked(actsA[:, i], actsB[:, j]) for j in range(5)] for i in range(6)],
    "cka": float(cka), "effectiveRankA": erank(ZA), "effectiveRankB": erank(ZB),
    "svcca": svcca_data(actsA[:, liveA], actsB[:, liveB]),
}

# ── subspace ──────────────────────────────────────────────────────────────────────────────
pa = rng.normal(size=(10, 3))
pb = rng.normal(size=(10, 4))
pc = pa + 1e-9 * rng.normal(size=(10, 3))
angles = {
    "d": 10, "a": pa.ravel().tolist(), "ka": 3, "b": pb.ravel().tolist(), "kb": 4, "c": pc.ravel().tolist(),
    "anglesAB": np.sort(scipy.linalg.subspace_angles(pa, pb)).tolist(),
    "anglesAC": np.sort(scipy.linalg.subspace_angles(pa, pc)).tolist(),
}

N = 50
latent = rng.normal(size=(N, 3))
xa = latent @ rng.normal(size=(3, 6)) + 0.3 * rng.normal(size=(N, 6))
xb = np.column_stack([latent[:, :2] @ rng.normal(size=(2, 7)), np.zeros((N, 0))]) + 0.5 * rng.normal(size=(N, 7))
svcca_generic = {"n": N, "p": 6, "q": 7, "xa": xa.ravel().tolist(), "xb": xb.ravel().tolist(),
                 "keep": 0.99, **svcca_data(xa, xb, 0.99), "keep90": svcca_data(xa, xb, 0.9)}

sx = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9], dtype=float)
sy = np.array([2, 7, 1, 8, 2, 8, 1, 8, 2, 8, 4, 5, 9, 0, 4], dtype=float)
spearman = {"x": sx.tolist(), "y": sy.tolist(), "rho": float(scipy.stats.spearmanr(sx, sy).statistic),
            "ranksX": scipy.stats.rankdata(sx).tolist()}


def unit_rows(m):
    return m / np.linalg.norm(m, axis=1, keepdims=True)


atA = unit_rows(rng.normal(size=(9, 6)))
atB = unit_rows(atA[[3, 0, 8, 1, 5, 2, 7, 4, 6]] + 0.6 * rng.normal(size=(9, 6)))
pairsA = [0, 1, 2, 3, 4, 5, 6, 7]
pairsB = [1, 3, 5, 0, 7, 4, 8, 6]  # atA[i] ~ atB[pairsB[i]]
GA = atA[pairsA] @ atA[pairsA].T
GB = atB[pairsB] @ atB[pairsB].T
iu = np.triu_indices(len(pairsA), 1)
rsa = {"d": 6, "atomsA": atA.ravel().tolist(), "atomsB": atB.ravel().tolist(), "nA": 9, "nB": 9,
       "pairsA": pairsA, "pairsB": pairsB, "rho": float(scipy.stats.spearmanr(GA[iu], GB[iu]).statistic)}

with open(OUT, "w") as fh:
    json.dump({
        "eig": {"random": eig_random, "ill": eig_ill, "repeated": eig_repeated},
        "svd": {"tall": svd_tall, "wide": svd_wide, "ill": svd_ill, "rank2": svd_rank2},
        "activations": activations,
        "angles": angles, "svcca": svcca_generic, "spearman": spearman, "rsa": rsa,
    }, fh, indent=1)
print("wrote", OUT)
