"""gdlinreg on Dask against dask-ml, on a 2-worker LocalCluster: time and accuracy.

The data are generated chunk by chunk from a seed (``dask.array.random``) and a known
coefficient vector, never in memory as a whole; unless ``--persist``, every pass over the data
generates its chunks again, as reading them from disk would. The reference is Dask's own
least squares, computed by code independent of gdlinreg: ``dask.array.linalg.lstsq`` (a
tall-skinny QR, ``--reference tsqr``) or, cheaper (one pass), ``numpy.linalg.lstsq`` on the
normal equations ``A'A x = A'y`` formed by Dask's own matmul reduction (``--reference
normal``, the default; the generated columns are independent standard normals, so ``A'A``
is well conditioned and this is accurate to about 1e-14). Relative error:
``||[w, b] - [w*, b*]|| / ||[w*, b*]||``.

    python benchmarks/dask_bench.py --n 10_000_000 --d 100
    python benchmarks/dask_bench.py --n 1_000_000 --d 100 --persist --methods all

Needs ``pip install -e '.[dask]'``. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import dask
import dask.array as da
import numpy as np
from distributed import Client, LocalCluster

from gdlinreg import GDLinearRegressor

METHODS = ("gdlinreg", "dask-ml lbfgs", "dask-ml gradient_descent", "Incremental(SGDRegressor)")


def make_data(n, d, chunk, seed=0):
    rng = da.random.default_rng(seed)
    X = rng.normal(size=(n, d), chunks=(chunk, d))
    coef = np.linspace(-1.0, 1.0, d)
    y = X @ coef + 1.5 + rng.normal(scale=0.5, size=n, chunks=chunk)
    return X, y


def reference(X, y, kind):
    A = da.hstack([X, da.ones((X.shape[0], 1), chunks=(X.chunks[0], 1))]).rechunk({1: -1})
    if kind == "tsqr":
        solution = da.linalg.lstsq(A, y)[0].compute()
    else:
        gram, moment = dask.compute(A.T @ A, A.T @ y)
        solution = np.linalg.lstsq(gram, moment, rcond=None)[0]
    return solution[:-1], solution[-1]


def fit(method, X, y, max_iter):
    if method == "gdlinreg":
        model = GDLinearRegressor().fit(X, y)
        return model.coef_, model.intercept_
    if method == "Incremental(SGDRegressor)":
        from dask_ml.wrappers import Incremental
        from sklearn.linear_model import SGDRegressor

        # One pass over the chunks, each chunk one partial_fit; no penalty, as the others.
        model = Incremental(SGDRegressor(penalty=None, random_state=0)).fit(X, y)
        return model.estimator_.coef_, float(model.estimator_.intercept_[0])
    from dask_ml.linear_model import LinearRegression

    solver = method.split()[-1]
    # penalty=None: the default l2 penalty (C=1) would solve a different problem.
    model = LinearRegression(penalty=None, solver=solver, max_iter=max_iter)
    with warnings.catch_warnings():
        # dask-ml 2025.1 against newer dask / SciPy: deprecation notices, not results.
        warnings.filterwarnings("ignore", "Dask configuration key 'fuse_ave_width'")
        warnings.filterwarnings("ignore", "scipy.optimize: The `disp` and `iprint`")
        model.fit(X, y)
    return model.coef_, model.intercept_


def machine():
    with open("/proc/cpuinfo") as info:
        names = [line.split(":", 1)[1].strip() for line in info if "model name" in line]
    cpu = names[0] if names else platform.processor()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB, {platform.platform()}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--d", type=int, default=100)
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--persist", action="store_true", help="hold X, y in worker memory")
    parser.add_argument("--reference", choices=("normal", "tsqr"), default="normal")
    parser.add_argument("--max-iter", type=int, default=100, help="dask-ml's iteration cap")
    parser.add_argument("--methods", default="gdlinreg", help=f"comma list of {METHODS}, or all")
    parser.add_argument("--repeats", type=int, default=1, help="rounds, methods interleaved")
    args = parser.parse_args()
    methods = METHODS if args.methods == "all" else args.methods.split(",")

    print(f"machine: {machine()}")
    print(f"load average at start: {os.getloadavg()}")
    with (
        LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=":0",
        ) as cluster,
        Client(cluster),
    ):
        X, y = make_data(args.n, args.d, args.chunk)
        # The reference first, on the lazily generated data (the same values as persisted):
        # its temporaries would otherwise push persisted chunks out of the workers' memory to
        # disk, and slow every method after it.
        start = time.perf_counter()
        coef_ref, intercept_ref = reference(X, y, args.reference)
        t_ref = time.perf_counter() - start
        if args.persist:
            X, y = dask.persist(X, y)
            dask.compute(X.sum(), y.sum())
        ref = np.append(coef_ref, intercept_ref)
        times = {method: [] for method in methods}
        errors = {}
        # One run of every method per round, so that a noisy spell hits them all alike.
        for _ in range(args.repeats):
            for method in methods:
                start = time.perf_counter()
                coef, intercept = fit(method, X, y, args.max_iter)
                times[method].append(time.perf_counter() - start)
                errors[method] = np.linalg.norm(np.append(coef, intercept) - ref) / np.linalg.norm(
                    ref
                )
                print(f"  {method}: {times[method][-1]:.1f} s", flush=True)
    print(
        f"n={args.n:,} d={args.d} chunk={args.chunk:,} workers={args.workers} "
        f"persist={args.persist} repeats={args.repeats}"
    )
    print(f"load average at end: {os.getloadavg()}")
    print("| method | median s | min-max s | runs | relative error vs lstsq |")
    print("|---|---:|---:|---:|---:|")
    print(f"| lstsq reference ({args.reference}) | {t_ref:.1f} | | 1 | 0 |")
    for method in methods:
        t = times[method]
        print(
            f"| {method} | {np.median(t):.1f} | {min(t):.1f}-{max(t):.1f} | {len(t)} "
            f"| {errors[method]:.1e} |"
        )


if __name__ == "__main__":
    main()
