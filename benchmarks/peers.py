"""The default fit against scikit-learn-intelex side by side (issue 24), with the floors.

For each n (d = 100), design ("well": standard normal columns; "chain": the correlated,
badly scaled, offset design of ``tests/test_side_paths.py``) and dtype (float64, float32):

* the wall time of ``GDLinearRegressor().fit`` and of ``sklearnex.linear_model.
  LinearRegression().fit`` (and, with ``--sklearn``, stock ``LinearRegression``), interleaved,
  a warm-up fit each first, medians of ``--repeats`` rounds with a 0.25 s pause before every
  run;
* the relative coefficient error of each, ``max|coef - ref| / max|ref|``, against a centred
  least-squares reference computed blockwise by Householder QR in float64 (TSQR: the R
  factors of row blocks of the centred, column-scaled ``[X | y]`` stacked and factored again;
  backward stable, and it never holds more than a block besides X);
* the floors: ``n d^2`` flops at the rate of a 3000^3 matrix product (forming X'X), and one
  read of X (``X @ v``), both measured here, as ratios of gdlinreg's time;
* gdlinreg's extra peak memory during the fit over the size of X (tracemalloc, which NumPy
  reports its buffers to), for each dtype.

``--profile`` adds, for the gdlinreg fit of each row, the time spent in each stage of a fit
(validation, the statistics pass, the conditioning estimates, the iterations, the verdict
and refinement, the result), timed by wrapping those functions, the rest being glue.

Run: ``python benchmarks/peers.py [--sizes 1e4,5e4,4e5,1e6,1e7] [--designs well,chain]
[--dtypes float64,float32] [--repeats 5] [--profile] [--memory] [--sklearn]``, after
``pip install -e ".[bench]"`` (scikit-learn-intelex). OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE are unset for the run (the script runs itself again without them), and the
kernel threadpoolctl names is printed.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
import tracemalloc
import warnings
from collections import defaultdict
from contextlib import contextmanager

if os.environ.get("OPENBLAS_CORETYPE") or os.environ.get("OPENBLAS_L2_SIZE"):
    env = {
        k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    }
    os.execve(sys.executable, [sys.executable, *sys.argv], env)

import numpy as np
from threadpoolctl import threadpool_info

from gdlinreg import GDLinearRegressor

D = 100


def design(name, n, seed=0):
    """``(X, y)`` of the issue's designs, float64, built in row blocks (n = 1e7 fits)."""
    rng = np.random.default_rng(seed)
    if name == "well":
        X = rng.standard_normal((n, D))
        w = rng.standard_normal(D)
        return X, X @ w + 3.0 + rng.standard_normal(n)
    # "chain": AR(0.9) columns, scales 1e-3..1e3 in random order, offsets of their order.
    scale = np.logspace(-3, 3, D)[rng.permutation(D)]
    offset = rng.uniform(-2, 2, D) * scale
    w = rng.standard_normal(D) / scale
    X = np.empty((n, D))
    y = np.empty(n)
    for a in range(0, n, 1_000_000):
        b = min(a + 1_000_000, n)
        block = rng.standard_normal((b - a, D))
        for j in range(1, D):
            block[:, j] = np.sqrt(0.19) * block[:, j] + 0.9 * block[:, j - 1]
        X[a:b] = block * scale + offset
        y[a:b] = X[a:b] @ w + 3.0 + rng.standard_normal(b - a)
    return X, y


def reference(X, y, block=500_000):
    """Centred least-squares coefficients in float64 by TSQR (see the module doc)."""
    mean = np.zeros(D)
    y_mean = 0.0
    for a in range(0, len(y), block):  # (float64 sums of blocks: the offsets are exact enough)
        mean += X[a : a + block].astype(np.float64).sum(axis=0)
        y_mean += float(y[a : a + block].astype(np.float64).sum())
    mean /= len(y)
    y_mean /= len(y)
    sq = np.zeros(D)
    for a in range(0, len(y), block):
        sq += ((X[a : a + block].astype(np.float64) - mean) ** 2).sum(axis=0)
    spread = np.sqrt(sq / len(y))
    spread[spread == 0] = 1.0
    rs = []
    for a in range(0, len(y), block):
        z = np.empty((min(block, len(y) - a), D + 1))
        z[:, :D] = (X[a : a + block].astype(np.float64) - mean) / spread
        z[:, D] = y[a : a + block] - y_mean
        rs.append(np.linalg.qr(z, mode="r"))
    r = np.linalg.qr(np.vstack(rs), mode="r")
    coef = np.linalg.solve(np.triu(r[:D, :D]), r[:D, D]) / spread
    return coef


def rel(a, b):
    a, b = np.ravel(a).astype(np.float64), np.ravel(b)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def median_time(fn, rounds=3):
    """The median wall time of ``fn()``, 0.25 s pause before each round."""
    times = []
    for _ in range(rounds):
        time.sleep(0.25)
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def matmul_rate():
    a = np.random.default_rng(1).standard_normal((3000, 3000))
    return 2 * 3000**3 / median_time(lambda: a @ a)


def read_time(X):
    v = np.ones(X.shape[1], dtype=X.dtype)
    return median_time(lambda: X @ v)


def extra_peak(X, y):
    """gdlinreg's peak allocation during a fit over X's size (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    GDLinearRegressor().fit(X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - base) / X.nbytes


# The stages of a fit, as (module, attribute) of the functions that perform them.
STAGES = {
    "validation": [("gdlinreg._estimator", "validate_data")],
    "statistics pass": [("gdlinreg._data.arrays", "moments")],
    "finite/magnitude checks": [("gdlinreg._data.arrays", "confirm_magnitudes")],
    "step bound (eigenvalues)": [("gdlinreg._loop.solve", "_prepare_run")],
    "iterations": [("gdlinreg._loop.solve", "drive")],
    "verdict and refinement": [("gdlinreg._loop.solve", "decide")],
    "result (condition_number_)": [("gdlinreg._loop.solve", "_result")],
    "solve": [("gdlinreg._shell.fit", "solve")],
}


@contextmanager
def staged(spent):
    """Wrap each stage's function to add its time to ``spent`` (outermost calls only)."""
    import importlib

    saved = []
    depth = defaultdict(int)
    for stage, targets in STAGES.items():
        for module_name, attr in targets:
            module = importlib.import_module(module_name)
            if not hasattr(module, attr):
                continue
            original = getattr(module, attr)

            def wrapper(*a, _f=original, _s=stage, **k):
                depth[_s] += 1
                t = time.perf_counter()
                try:
                    return _f(*a, **k)
                finally:
                    depth[_s] -= 1
                    if not depth[_s]:
                        spent[_s] += time.perf_counter() - t

            saved.append((module, attr, original))
            setattr(module, attr, wrapper)
    try:
        yield
    finally:
        for module, attr, original in saved:
            setattr(module, attr, original)


def profile(X, y, repeats):
    rounds = []
    for _ in range(repeats):
        spent = defaultdict(float)
        time.sleep(0.25)
        with staged(spent):
            t = time.perf_counter()
            GDLinearRegressor().fit(X, y)
            spent["total"] = time.perf_counter() - t
        rounds.append(spent)
    keys = [*STAGES, "total"]
    return {k: statistics.median(r.get(k, 0.0) for r in rounds) for k in keys}


def run_row(n, name, dtype, repeats, rate, args):
    X, y = design(name, n)
    ref = reference(X, y)
    if dtype == "float32":
        X, y = X.astype(np.float32), y.astype(np.float32)
        ref = reference(X, y)  # (the least-squares answer of the data as given)
    from sklearnex.linear_model import LinearRegression as Intelex

    contenders = {
        "gdlinreg": lambda: GDLinearRegressor().fit(X, y),
        "sklearnex": lambda: Intelex().fit(X, y),
    }
    if args.sklearn:
        from sklearn.linear_model import LinearRegression

        contenders["sklearn"] = lambda: LinearRegression().fit(X, y)
    times = {k: [] for k in contenders}
    models = {k: f() for k, f in contenders.items()}  # (warm-up)
    for _ in range(repeats):
        for k, f in contenders.items():
            time.sleep(0.25)
            t = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    err = {k: rel(m.coef_, ref) for k, m in models.items()}
    gram_floor = n * D * D / rate
    read = read_time(X)
    row = {
        "n": n,
        "design": name,
        "dtype": dtype,
        **{f"t_{k}": v for k, v in med.items()},
        **{f"e_{k}": v for k, v in err.items()},
        "ratio": med["gdlinreg"] / med["sklearnex"],
        "err_ratio": err["gdlinreg"] / max(err["sklearnex"], 1e-300),
        "gram_floor": med["gdlinreg"] / gram_floor,
        "read_floor": med["gdlinreg"] / read,
        "stop": models["gdlinreg"].stop_reason_,
    }
    if args.profile:
        row["profile"] = profile(X, y, repeats)
    if args.memory:
        row["memory"] = extra_peak(X, y)
    return row


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1e4,5e4,4e5,1e6")
    parser.add_argument("--designs", default="well,chain")
    parser.add_argument("--dtypes", default="float64,float32")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--sklearn", action="store_true")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    import sklearnex

    kernels = sorted(
        {i.get("architecture") for i in threadpool_info() if i.get("internal_api") == "openblas"}
    )
    rate = matmul_rate()
    print(
        f"OpenBLAS kernels: {kernels}; sklearnex {sklearnex.__version__}; matrix-product rate "
        f"{rate / 1e9:.0f} GFLOP/s; {os.cpu_count()} cores\n"
    )
    print(
        "| n | design | dtype | gdlinreg (ms) | sklearnex (ms) | time ratio | error gdlinreg "
        "/ sklearnex | error ratio | / Gram floor | / read of X | stop |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for size in args.sizes.split(","):
        n = int(float(size))
        for name in args.designs.split(","):
            for dtype in args.dtypes.split(","):
                r = run_row(n, name, dtype, args.repeats, rate, args)
                rows.append(r)
                print(
                    f"| {n:.0e} | {name} | {dtype} | {1e3 * r['t_gdlinreg']:.1f} | "
                    f"{1e3 * r['t_sklearnex']:.1f} | **{r['ratio']:.2f}** | "
                    f"{r['e_gdlinreg']:.1e} / {r['e_sklearnex']:.1e} | {r['err_ratio']:.2f} | "
                    f"{r['gram_floor']:.1f} | {r['read_floor']:.1f} | {r['stop']} |",
                    flush=True,
                )
    if args.sklearn:
        print("\nstock scikit-learn LinearRegression (ms):")
        for r in rows:
            print(f"- {r['n']:.0e} {r['design']} {r['dtype']}: {1e3 * r['t_sklearn']:.1f}")
    if args.memory:
        print("\nextra peak memory of a gdlinreg fit / X (tracemalloc):")
        for r in rows:
            print(f"- {r['n']:.0e} {r['design']} {r['dtype']}: {r['memory']:.3f}")
    if args.profile:
        print("\nprofile of the gdlinreg fit (ms, medians):\n")
        keys = [*STAGES, "total"]
        print("| row | " + " | ".join(keys) + " |")
        print("|---|" + "---|" * len(keys))
        for r in rows:
            p = r["profile"]
            label = f"{r['n']:.0e} {r['design']} {r['dtype']}"
            print(f"| {label} | " + " | ".join(f"{1e3 * p[k]:.2f}" for k in keys) + " |")


if __name__ == "__main__":
    main()
