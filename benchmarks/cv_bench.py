"""Cross-validation from one pass (issue 23): GDLinearRegressorCV against one default
GDLinearRegressor fit, GridSearchCV(Ridge()), LassoCV and ElasticNetCV, side by side in one
process on the same KFold splits and alpha grid, interleaved, medians of ``--repeats`` rounds
with 0.25 s pauses. Prints one markdown table per size.

Run: ``python benchmarks/cv_bench.py [--sizes 200000x50,1000000x100] [--repeats 3]
[--no-grid] [--dask]``. ``--no-grid`` skips GridSearchCV(Ridge()) (some 20 s a run at
n = 2e5); ``--dask`` adds a LocalCluster run of the l2 path (2 workers).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings

if os.environ.get("OPENBLAS_CORETYPE") or os.environ.get("OPENBLAS_L2_SIZE"):
    env = {
        k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    }
    os.execve(sys.executable, [sys.executable, *sys.argv], env)

import numpy as np
from sklearn.linear_model import ElasticNetCV, LassoCV, Ridge
from sklearn.model_selection import GridSearchCV, KFold
from threadpoolctl import threadpool_info

from gdlinreg import GDLinearRegressor, GDLinearRegressorCV


def data(n, d, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) @ (np.eye(d) + 0.3 * rng.standard_normal((d, d)))
    X += rng.standard_normal(d)
    w = rng.standard_normal(d) * (rng.random(d) < 0.5)
    return X, X @ w + rng.standard_normal(n)


def timed(fn):
    time.sleep(0.25)
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def run(n, d, repeats, grid, n_alphas=50, folds=5):
    X, y = data(n, d)
    cv = KFold(folds)
    probe = {
        p: GDLinearRegressorCV(penalty=p, alphas=n_alphas, cv=cv).fit(X, y)
        for p in ("l2", "l1", "elasticnet")
    }
    contenders = {
        "GDLinearRegressor() one fit": lambda: GDLinearRegressor().fit(X, y),
        "GDLinearRegressorCV l2": lambda: GDLinearRegressorCV(alphas=n_alphas, cv=cv).fit(X, y),
        "GDLinearRegressorCV l1": lambda: GDLinearRegressorCV(
            penalty="l1", alphas=n_alphas, cv=cv
        ).fit(X, y),
        "GDLinearRegressorCV elasticnet": lambda: GDLinearRegressorCV(
            penalty="elasticnet", alphas=n_alphas, cv=cv
        ).fit(X, y),
        "LassoCV": lambda: LassoCV(alphas=probe["l1"].alphas_, cv=cv).fit(X, y),
        "ElasticNetCV": lambda: ElasticNetCV(alphas=probe["elasticnet"].alphas_, cv=cv).fit(X, y),
    }
    if grid:
        # Ridge's alpha is per training fold's sum of squares: n_train = (1 - 1/folds) n rows.
        ridge_alphas = probe["l2"].alphas_ * n * (1 - 1 / folds)
        contenders["GridSearchCV(Ridge())"] = lambda: GridSearchCV(
            Ridge(), {"alpha": ridge_alphas}, cv=cv, scoring="neg_mean_squared_error"
        ).fit(X, y)
    times = {name: [] for name in contenders}
    outputs = {}
    for _ in range(repeats):
        for name, fn in contenders.items():
            elapsed, outputs[name] = timed(fn)
            times[name].append(elapsed)
    med = {name: statistics.median(t) for name, t in times.items()}
    one = med["GDLinearRegressor() one fit"]
    print(f"\n### n = {n:,}, d = {d}, {folds} folds, {n_alphas} alphas ({repeats} rounds)\n")
    print("| contender | median (s) | min | max | / one fit |")
    print("|---|---|---|---|---|")
    for name, t in times.items():
        print(f"| {name} | {med[name]:.3f} | {min(t):.3f} | {max(t):.3f} | {med[name] / one:.1f} |")
    lasso, enet = outputs["LassoCV"], outputs["ElasticNetCV"]
    print()
    print(
        f"- l1 path / LassoCV: **{med['GDLinearRegressorCV l1'] / med['LassoCV']:.2f}**; "
        f"same alpha_: {probe['l1'].alpha_ == lasso.alpha_}; largest relative difference "
        f"of mse_path_: {np.max(np.abs(probe['l1'].mse_path_ / lasso.mse_path_ - 1)):.1e}"
    )
    print(
        f"- elastic-net path / ElasticNetCV: "
        f"**{med['GDLinearRegressorCV elasticnet'] / med['ElasticNetCV']:.2f}**; same alpha_: "
        f"{np.isclose(probe['elasticnet'].alpha_, enet.alpha_, rtol=1e-12)}; largest relative "
        f"difference of mse_path_: "
        f"{np.max(np.abs(probe['elasticnet'].mse_path_ / enet.mse_path_ - 1)):.1e}"
    )
    print(f"- l2 path / one fit: **{med['GDLinearRegressorCV l2'] / one:.2f}**")
    if grid:
        search = outputs["GridSearchCV(Ridge())"]
        best = search.best_params_["alpha"] / (n * (1 - 1 / folds))
        print(
            f"- l2 path / GridSearchCV(Ridge()): "
            f"**{med['GDLinearRegressorCV l2'] / med['GridSearchCV(Ridge())']:.3f}**; same "
            f"alpha: {np.isclose(best, probe['l2'].alpha_, rtol=1e-9)}"
        )


def dask_run(n, d):
    import dask.array as da
    from dask.distributed import Client, LocalCluster

    X, y = data(n, d)
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster,
        Client(cluster),
    ):
        dX = da.from_array(X, chunks=(n // 8, d)).persist()
        dy = da.from_array(y, chunks=n // 8).persist()
        t, model = timed(lambda: GDLinearRegressorCV(alphas=50).fit(dX, dy))
        here = GDLinearRegressorCV(alphas=50).fit(X, y)
        print(
            f"\n- Dask LocalCluster (2 workers, 8 chunks), n = {n:,}, d = {d}: l2 path "
            f"{t:.2f} s; same alpha_ as in memory: {np.isclose(model.alpha_, here.alpha_)}"
        )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="200000x50")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-grid", action="store_true")
    parser.add_argument("--dask", action="store_true")
    args = parser.parse_args()
    kernels = sorted(
        {i.get("architecture") for i in threadpool_info() if i.get("internal_api") == "openblas"}
    )
    print(f"OpenBLAS kernels: {kernels}")
    warnings.simplefilter("ignore")
    for size in args.sizes.split(","):
        n, d = (int(v) for v in size.split("x"))
        run(n, d, args.repeats, not args.no_grid)
        if args.dask:
            dask_run(n, d)


if __name__ == "__main__":
    main()
