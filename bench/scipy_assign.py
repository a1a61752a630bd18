#!/usr/bin/env python3
"""scipy reference for `husai bench assign --scipy`: times linear_sum_assignment on the very matrix
husai solved (passed as a .npy file), so both the speed and the optimum can be compared.

  python3 bench/scipy_assign.py COST.npy max|min
Prints one JSON object: {"seconds", "total", "scipy"}.
"""
import json
import sys
import time

import numpy as np
import scipy
from scipy.optimize import linear_sum_assignment


def main():
    cost = np.load(sys.argv[1]).astype(np.float64)
    maximize = sys.argv[2] == "max"
    t0 = time.perf_counter()
    r, c = linear_sum_assignment(cost, maximize=maximize)
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "total": float(cost[r, c].sum()), "scipy": scipy.__version__}))


if __name__ == "__main__":
    main()
