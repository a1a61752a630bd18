#!/usr/bin/env python3
"""numpy reference for `husai bench gemm`: float32 matmul GFLOP/s, median of REPS after warm-up.

Run by `husai bench gemm --numpy` in the same environment as husai (same OPENBLAS_CORETYPE, same
threads), or by hand:  python3 bench/numpy_gemm.py 4096x512x4096 4096x4096x512
Each argument is MxKxN for [M×K]·[K×N]. Prints one JSON object.
"""
import json
import sys
import time

import numpy as np


def corename():
    """The OpenBLAS core numpy's bundled BLAS picked, read through ctypes from the loaded library."""
    import ctypes
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "openblas" in line.lower() and line.strip().endswith(".so") or ".so." in line and "openblas" in line.lower()}
    except OSError:
        return ""
    for path in sorted(libs):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for sym in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename", "openblas_get_corename64_", "openblas_get_corename"):
            fn = getattr(lib, sym, None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                return fn().decode()
    return ""


def bench(m, k, n, reps=7, warmup=2):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    c = np.empty((m, n), dtype=np.float32)
    for _ in range(warmup):
        np.matmul(a, b, out=c)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        np.matmul(a, b, out=c)
        times.append(time.perf_counter() - t0)
    med = float(np.median(times))
    return {"m": m, "n": n, "k": k, "reps": reps, "medianSeconds": med, "gflops": 2 * m * n * k / med / 1e9}


def main():
    shapes = sys.argv[1:] or ["4096x512x4096", "4096x4096x512"]
    out = {"numpy": np.__version__, "blasCore": corename(), "results": []}
    for s in shapes:
        m, k, n = (int(v) for v in s.split("x"))
        out["results"].append(bench(m, k, n))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
