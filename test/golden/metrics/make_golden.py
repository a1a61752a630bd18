#!/usr/bin/env python3
"""Golden numbers for test/metrics, from numpy/scipy (independent of the TypeScript code).

Run from the repo root:  python3 test/golden/metrics/make_golden.py
Writes assignment.json, pairwise.json, stats.json and chance.json next to this script.
Tested with numpy 2.4 and scipy 1.17. Seeds are fixed, so re-running reproduces the files.

Metric definitions follow SCIENCE.md section 3 and 4 and are written here from scratch in numpy
(no code shared with src/metrics). Atom fixtures are float32 (what the engine computes with);
references are computed in float64 from those float32 values.
"""
import json
import os

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.stats import mannwhitneyu, norm

HERE = os.path.dirname(os.path.abspath(__file__))


def dump(name, obj):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")


def flat(a):
    a = np.asarray(a)
    if a.dtype == np.float32:  # shortest decimal that rounds back to the same float32
        return [float(str(x)) for x in a.ravel()]
    return [float(x) for x in a.astype(np.float64).ravel()]


def unit(x):
    x = np.asarray(x, dtype=np.float64)
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(n, 1e-12)


# ── assignment ────────────────────────────────────────────────────────────────────────────────
def quad_matrix(rows, cols, p):
    """A deterministic pseudo-random integer matrix both languages build exactly (many ties)."""
    i = np.arange(rows, dtype=np.int64)[:, None]
    j = np.arange(cols, dtype=np.int64)[None, :]
    return ((31 * i * i + 17 * j * j + 13 * i * j + 7 * i + 3 * j + 5) % p).astype(np.float64)


def assignment_cases():
    rng = np.random.default_rng(20240601)
    cases = []

    def totals(c):
        out = {}
        for key, maximize in [("min", False), ("max", True)]:
            r, k = linear_sum_assignment(c, maximize=maximize)
            out[key] = float(c[r, k].sum())
        return out

    def add(name, c):
        c = np.asarray(c, dtype=np.float64)
        cases.append({"name": name, "rows": int(c.shape[0]), "cols": int(c.shape[1]), "data": flat(c), **totals(c)})

    def add_quad(rows, cols, p):
        c = quad_matrix(rows, cols, p)
        cases.append({"name": f"quad {rows}x{cols} mod {p}", "rows": rows, "cols": cols, "quad": p, **totals(c)})

    for shape in [(5, 5), (10, 7), (7, 10), (30, 30), (40, 25), (25, 40)]:
        add(f"uniform {shape[0]}x{shape[1]}", rng.random(shape))
    for shape in [(12, 12), (15, 9), (9, 15)]:
        add(f"integer 0..3 ties {shape[0]}x{shape[1]}", rng.integers(0, 4, size=shape))
    for shape in [(60, 60), (80, 50), (50, 80)]:
        add(f"integer 0..29 ties {shape[0]}x{shape[1]}", rng.integers(0, 30, size=shape))
    add("integer -50..49 40x40", rng.integers(-50, 50, size=(40, 40)))
    add("all equal 6x6", np.full((6, 6), 2.5))
    add("signed normal 20x33", rng.standard_normal((20, 33)))
    add("signed normal 33x20", rng.standard_normal((33, 20)))
    add("1x8", rng.random((1, 8)))
    add("8x1", rng.random((8, 1)))
    add("1x1", np.array([[-3.0]]))
    add("0x0", np.zeros((0, 0)))
    add("0x5", np.zeros((0, 5)))
    add("5x0", np.zeros((5, 0)))
    # Cosine-like: dot products of Gaussian atoms in d = 8 (many near-equal alternatives).
    a = unit(rng.standard_normal((64, 8)))
    b = unit(rng.standard_normal((48, 8)))
    add("cosines 64x48", a @ b.T)
    for rows, cols, p in [(256, 256, 1009), (300, 120, 101), (120, 300, 7), (500, 500, 100003)]:
        add_quad(rows, cols, p)
    dump("assignment.json", {"cases": cases})


# ── pairwise metrics (SCIENCE.md section 3) ───────────────────────────────────────────────────
def f32(x):
    return np.asarray(x, dtype=np.float32)


def pw_metrics(A, B):
    C = unit(A) @ unit(B).T
    r, c = linear_sum_assignment(C, maximize=True)
    Cabs = np.abs(C)
    ra, ca = linear_sum_assignment(Cabs, maximize=True)
    col_for_row = np.full(C.shape[0], -1)
    col_for_row[r] = c
    return {
        "mmcs_ab": float(C.max(axis=1).mean()),
        "mmcs_ba": float(C.max(axis=0).mean()),
        "meanMaxAbsSym": float(0.5 * (Cabs.max(axis=1).mean() + Cabs.max(axis=0).mean())),
        "bestForA": [int(j) for j in C.argmax(axis=1)],
        "bestForB": [int(i) for i in C.argmax(axis=0)],
        "pwmcc": float(C[r, c].mean()),
        "pwmcc_colForRow": [int(j) for j in col_for_row],
        "pwmcc_abs": float(Cabs[ra, ca].mean()),
        "min_gap": float(np.min(np.abs(np.diff(np.sort(C.ravel()))))),
    }


def noisy_copies(rng, X, idx, noise, flip):
    Y = X[idx] + noise * rng.standard_normal((len(idx), X.shape[1]))
    Y *= np.where(rng.random(len(idx)) < flip, -1.0, 1.0)[:, None]
    return Y


def shared_fraction(encA, decA, encB, decB, tau, taus):
    Ce = unit(encA) @ unit(encB).T
    Cd = unit(decA) @ unit(decB).T
    re, ce = linear_sum_assignment(Ce, maximize=True)
    rd, cd = linear_sum_assignment(Cd, maximize=True)
    pe = np.full(Ce.shape[0], -1)
    pe[re] = ce
    pd = np.full(Cd.shape[0], -1)
    pd[rd] = cd
    n = Ce.shape[0]
    score = np.full(n, -np.inf)
    for i in range(n):
        if pe[i] >= 0 and pe[i] == pd[i]:
            score[i] = min(Ce[i, pe[i]], Cd[i, pd[i]])
    finite = score[np.isfinite(score)]
    return {
        "shared_fraction": float((score >= tau).mean()),
        "partnerEnc": [int(j) for j in pe],
        "partnerDec": [int(j) for j in pd],
        "curve": [float((score >= t).mean()) for t in taus],
        "min_gap_to_tau": float(np.min(np.abs(finite[:, None] - np.array(taus + [tau])[None, :]))) if len(finite) else 1.0,
    }


def gt_metrics(G, D, taus):
    C = unit(G) @ unit(D).T
    r, c = linear_sum_assignment(C, maximize=True)
    mx = C.max(axis=1)
    return {
        "gt_mcc": float(C[r, c].mean()),
        "gt_mmcs": float(mx.mean()),
        "gt_recovered": [float((mx >= t).mean()) for t in taus],
        "min_gap_to_tau": float(np.min(np.abs(mx[:, None] - np.array(taus)[None, :]))),
    }


def pairwise_cases():
    rng = np.random.default_rng(7)
    d = 12
    cases = []
    for name, nA, nB in [("24x16", 24, 16), ("16x24", 16, 24), ("20x20", 20, 20)]:
        A = f32(rng.standard_normal((nA, d)) * rng.uniform(0.5, 2.0, (nA, 1)))  # not unit: tests normalisation
        k = min(nA, nB) // 2
        src = rng.choice(nA, size=k, replace=False)
        B = np.vstack([noisy_copies(rng, A.astype(np.float64), src, 0.3, 0.3), rng.standard_normal((nB - k, d))])
        B = f32(B[rng.permutation(nB)])
        cases.append({"name": name, "d": d, "nA": nA, "nB": nB, "A": flat(A), "B": flat(B), **pw_metrics(A, B)})

    taus = [0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]
    shared = []
    for name, m, mB in [("shared 30x30", 30, 30), ("shared 30x22", 30, 22), ("shared 22x30", 22, 30)]:
        for attempt in range(100):
            decA = rng.standard_normal((m, d))
            encA = decA + 0.6 * rng.standard_normal((m, d))
            k = min(m, mB) * 2 // 3
            src = rng.choice(m, size=k, replace=False)
            noise = rng.uniform(0.05, 0.6, size=(k, 1))
            decB = np.vstack([decA[src] + noise * rng.standard_normal((k, d)), rng.standard_normal((mB - k, d))])
            encB = np.vstack([encA[src] + noise * rng.standard_normal((k, d)), rng.standard_normal((mB - k, d))])
            perm = rng.permutation(mB)
            decA, encA, decB, encB = f32(decA), f32(encA), f32(decB[perm]), f32(encB[perm])
            res = shared_fraction(encA, decA, encB, decB, 0.7, taus)
            if res["min_gap_to_tau"] > 1e-4:
                break
        shared.append({"name": name, "d": d, "nA": m, "nB": mB, "encA": flat(encA), "decA": flat(decA),
                       "encB": flat(encB), "decB": flat(decB), "tau": 0.7, "taus": taus, **res})

    gts = []
    for name, ng, m in [("gt matched 16x16", 16, 16), ("gt redundant 16x40", 16, 40), ("gt compressive 24x12", 24, 12)]:
        for attempt in range(100):
            G = rng.standard_normal((ng, d))
            k = min(ng, m)
            noise = rng.uniform(0.0, 0.8, size=(k, 1))
            D = np.vstack([G[rng.choice(ng, size=k, replace=False)] + noise * rng.standard_normal((k, d)),
                           rng.standard_normal((m - k, d))])
            D *= np.where(rng.random(m) < 0.2, -1.0, 1.0)[:, None]
            G, D = f32(G), f32(D[rng.permutation(m)])
            res = gt_metrics(G, D, [0.9, 0.7])
            if res["min_gap_to_tau"] > 1e-4:
                break
        gts.append({"name": name, "d": d, "nG": ng, "nA": m, "G": flat(G), "D": flat(D), **res})
    dump("pairwise.json", {"pairs": cases, "shared": shared, "gt": gts})


# ── statistics (SCIENCE.md section 4) ─────────────────────────────────────────────────────────
def holm_direct(p):
    p = np.asarray(p, dtype=np.float64)
    m = len(p)
    order = np.argsort(p, kind="stable")
    out = np.empty(m)
    for k in range(m):
        # adjusted p_(k) = max over j <= k of min(1, (m - j) p_(j)) (0-based j)
        out[order[k]] = max(min(1.0, (m - j) * p[order[j]]) for j in range(k + 1))
    return out


def bh_direct(p):
    p = np.asarray(p, dtype=np.float64)
    m = len(p)
    order = np.argsort(p, kind="stable")
    out = np.empty(m)
    for k in range(m):
        out[order[k]] = min(min(1.0, m / (j + 1) * p[order[j]]) for j in range(k, m))
    return out


def stats_cases():
    rng = np.random.default_rng(11)
    mw = []

    def add_mw(name, x, y, method):
        r = mannwhitneyu(x, y, alternative="greater", method=method, use_continuity=True)
        mw.append({"name": name, "x": flat(x), "y": flat(y), "method": method,
                   "U": float(r.statistic), "p": float(r.pvalue)})

    add_mw("normal 30 vs 25 shifted", rng.normal(0.5, 1, 30), rng.normal(0, 1, 25), "asymptotic")
    add_mw("normal 12 vs 40 no shift", rng.normal(0, 1, 12), rng.normal(0, 1, 40), "asymptotic")
    add_mw("ties integers 20 vs 18", rng.integers(0, 5, 20).astype(float), rng.integers(0, 4, 18).astype(float), "asymptotic")
    add_mw("heavy ties 15 vs 15", rng.integers(0, 2, 15).astype(float), rng.integers(0, 2, 15).astype(float), "asymptotic")
    add_mw("x below y", rng.normal(-1, 1, 10), rng.normal(1, 1, 10), "asymptotic")
    add_mw("exact 5 vs 4", rng.normal(1, 1, 5), rng.normal(0, 1, 4), "exact")
    add_mw("exact 7 vs 9", rng.normal(0.3, 1, 7), rng.normal(0, 1, 9), "exact")
    add_mw("exact 10 vs 3", rng.normal(0, 1, 10), rng.normal(0, 1, 3), "exact")
    add_mw("exact 12 vs 14", rng.normal(0.8, 1, 12), rng.normal(0, 1, 14), "exact")
    add_mw("trained vs null pair values", 0.30 + 0.002 * rng.standard_normal(10), 0.2988 + 0.002 * rng.standard_normal(45), "asymptotic")

    zs = [-6.0, -2.5, -1.0, -0.1, 0.0, 0.3, 1.0, 1.5, 1.96, 2.0, 2.5, 3.0, 4.0, 5.0, 6.5, 8.0, 10.0, 20.0]
    sf = [{"z": z, "sf": float(norm.sf(z))} for z in zs]

    pv_sets = [
        [0.01, 0.04, 0.03, 0.005, 0.2, 0.04, 0.5, 0.9],
        list(rng.random(12) ** 3),
        [0.001, 0.001, 0.002, 0.5, 0.5, 1.0],
        [0.3],
        [],
    ]
    mt = [{"p": [float(v) for v in ps], "holm": flat(holm_direct(ps)) if ps else [],
           "bh": flat(bh_direct(ps)) if ps else []} for ps in pv_sets]

    cd = []
    for _ in range(3):
        x = rng.normal(0.4, 1.2, int(rng.integers(5, 20)))
        y = rng.normal(0.0, 0.8, int(rng.integers(5, 20)))
        n1, n2 = len(x), len(y)
        sp = np.sqrt(((n1 - 1) * x.var(ddof=1) + (n2 - 1) * y.var(ddof=1)) / (n1 + n2 - 2))
        cd.append({"x": flat(x), "y": flat(y), "d": float((x.mean() - y.mean()) / sp)})

    q = rng.random(37)
    quant = {"values": flat(np.sort(q)), "qs": [0.0, 0.025, 0.5, 0.975, 1.0],
             "quantiles": [float(np.quantile(q, t)) for t in [0.0, 0.025, 0.5, 0.975, 1.0]]}

    S = 6
    M = rng.uniform(0.4, 0.6, (S, S))
    M = (M + M.T) / 2
    np.fill_diagonal(M, np.nan)
    pair_mean = float(np.nanmean(M))
    dump("stats.json", {"mannwhitney": mw, "normal_sf": sf, "multitest": mt, "cohens_d": cd, "quantile": quant,
                        "pairs": {"S": S, "M": [[None if np.isnan(v) else float(v) for v in row] for row in M],
                                  "mean": pair_mean}})


# ── chance levels (SCIENCE.md section 4) ──────────────────────────────────────────────────────
def chance():
    rng = np.random.default_rng(3)

    def atoms(n, d):
        return unit(rng.standard_normal((n, d)))

    def summarize(vals):
        return {"mean": float(np.mean(vals)), "sd": float(np.std(vals, ddof=1)), "draws": len(vals)}

    out = {}
    # "mean-max |cos| symmetric, Gaussian 128 x 1024: 0.2985": 1024 atoms in d = 128 gives 0.2986;
    # 128 atoms in d = 1024 gives 0.088 — so 128 is d and 1024 the atom count.
    for key, n, d, draws in [("meanMaxAbsSym n1024 d128", 1024, 128, 20), ("meanMaxAbsSym n128 d1024", 128, 1024, 20)]:
        v = []
        for _ in range(draws):
            C = np.abs(atoms(n, d) @ atoms(n, d).T)
            v.append(0.5 * (C.max(1).mean() + C.max(0).mean()))
        out[key] = summarize(v)
    for key, n, d, draws in [("pwmcc n32 d16", 32, 16, 400), ("pwmcc n256 d64", 256, 64, 100)]:
        v, va = [], []
        for _ in range(draws):
            C = atoms(n, d) @ atoms(n, d).T
            r, c = linear_sum_assignment(C, maximize=True)
            v.append(C[r, c].mean())
            r, c = linear_sum_assignment(np.abs(C), maximize=True)
            va.append(np.abs(C)[r, c].mean())
        out[key] = summarize(v)
        out[key.replace("pwmcc", "pwmcc_abs")] = summarize(va)
    for key, n, d, draws in [("mmcs_ab n2048 d512", 2048, 512, 10)]:
        v = []
        for _ in range(draws):
            C = atoms(n, d) @ atoms(n, d).T
            v.append(C.max(1).mean())
        out[key] = summarize(v)
    for key, n, d, draws in [("pwmcc n2048 d768", 2048, 768, 3)]:
        v = []
        for _ in range(draws):
            C = atoms(n, d) @ atoms(n, d).T
            r, c = linear_sum_assignment(C, maximize=True)
            v.append(C[r, c].mean())
        out[key] = summarize(v)
    dump("chance.json", out)


if __name__ == "__main__":
    assignment_cases()
    pairwise_cases()
    stats_cases()
    chance()
