"""Extra peak memory of a default fit, as a multiple of X's size: ``python benchmarks/memory.py``.

Fits ``GDLinearRegressor()`` once on standard normal X of n x d (1,000,000 x 100 by default) in
float64 or float32 (y float64), in a fresh process per measurement, and prints the resident
high-water mark over what the process held before the fit (``benchmarks/run.py``'s
``measure``: BLAS and C allocations included) and tracemalloc's peak (NumPy's allocations).
The README's "peak memory" figure is the first of these.
"""

from __future__ import annotations

import argparse
import gc
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np


def one(dtype: str, how: str, n: int, d: int) -> float:
    """Extra peak bytes of one default fit on fresh data, measured ``how`` ("rss" or
    "tracemalloc")."""
    sys.path.insert(0, str(Path(__file__).parent))
    import run as bench  # (benchmarks/run.py: its measure)

    from gdlinreg import GDLinearRegressor

    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    y = X @ np.linspace(-1, 1, d) + rng.standard_normal(n)
    X = X.astype(dtype)
    gc.collect()
    if how == "rss":
        _, peak, _ = bench.measure(lambda: GDLinearRegressor().fit(X, y))
        return float(peak)
    tracemalloc.start()
    GDLinearRegressor().fit(X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return float(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, default=100)
    parser.add_argument("--one", nargs=2, metavar=("DTYPE", "HOW"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(one(*args.one, args.n, args.d))
        return
    for dtype in ("float64", "float32"):
        size = args.n * args.d * np.dtype(dtype).itemsize
        for how in ("rss", "tracemalloc"):
            command = [sys.executable, __file__, "--n", str(args.n), "--d", str(args.d)]
            out = subprocess.run(
                [*command, "--one", dtype, how],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            peak = float(out.split()[-1])
            print(
                f"{dtype} X ({size / 2**20:.0f} MiB), {how:>11}: extra peak "
                f"{peak / 2**20:.1f} MiB = {peak / size:.3f} x X"
            )


if __name__ == "__main__":
    main()
