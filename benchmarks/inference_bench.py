"""Time of ``GDLinearRegressor.inference()`` and ``inference(X, y, cov_type="HC3")`` against
statsmodels' ``OLS(y, add_constant(X)).fit()`` (and its HC3 covariance), interleaved.

    python benchmarks/inference_bench.py [--n 1000000] [--d 100] [--repeats 3]

Each round runs every method once, in turn, after a 0.25 s pause (BLAS-heavy runs heat the
cores and fill the caches of the next); the table gives medians over the rounds and each
median over gdlinreg's classical inference. The fit itself (one pass building the statistics,
then the d x d solve) is timed once per round too, since statsmodels' fit is its inference:
``fit + inference()`` is the like-for-like comparison with ``OLS.fit()``. Agreement of the
standard errors with statsmodels' is printed as a check.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

if os.environ.get("OPENBLAS_CORETYPE") or os.environ.get("OPENBLAS_L2_SIZE"):
    env = {
        k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    }
    os.execve(sys.executable, [sys.executable, *sys.argv], env)

import numpy as np
import statsmodels.api as sm

from gdlinreg import GDLinearRegressor


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.n, args.d))
    y = (
        X @ rng.standard_normal(args.d)
        + 3.0
        + (0.5 + np.abs(X[:, 0])) * rng.standard_normal(args.n)
    )
    model = GDLinearRegressor().fit(X, y)
    A = sm.add_constant(X)  # statsmodels needs the ones column in X (a copy, not timed)

    def sm_fit():
        return sm.OLS(y, A).fit()

    def sm_hc3():
        return sm.OLS(y, A).fit(cov_type="HC3")

    methods = {
        "gdlinreg fit": lambda: GDLinearRegressor().fit(X, y),
        "gdlinreg inference()": model.inference,
        "gdlinreg inference(X, y, HC3)": lambda: model.inference(X, y, cov_type="HC3"),
        "statsmodels OLS.fit()": sm_fit,
        "statsmodels OLS.fit(HC3)": lambda: sm_hc3().bse,
    }
    times: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(args.repeats):
        for name, run in methods.items():
            time.sleep(0.25)
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["gdlinreg inference()"])
    fit = statistics.median(times["gdlinreg fit"])
    print(f"n = {args.n}, d = {args.d}, {args.repeats} rounds, medians")
    print(f"{'method':34s} {'median s':>10s} {'min-max s':>17s} {'x inference()':>14s}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:34s} {med:10.4f} {min(ts):8.4f}-{max(ts):<8.4f} {med / base:14.1f}")
    ols = statistics.median(times["statsmodels OLS.fit()"])
    print(f"fit + inference() over OLS.fit(): {(fit + base) / ols:.3f}")
    hc3 = statistics.median(times["gdlinreg inference(X, y, HC3)"])
    sm3 = statistics.median(times["statsmodels OLS.fit(HC3)"])
    print(f"fit + inference(HC3) over OLS.fit(HC3): {(fit + hc3) / sm3:.3f}")
    ref, ref3 = sm_fit(), sm_hc3()
    ours, ours3 = model.inference(), model.inference(X, y, cov_type="HC3")
    print(
        "max rel. diff of std_err vs statsmodels:",
        float(np.max(np.abs(ours.std_err / ref.bse - 1))),
    )
    print(
        "max rel. diff of HC3 std_err vs statsmodels:",
        float(np.max(np.abs(ours3.std_err / ref3.bse - 1))),
    )


if __name__ == "__main__":
    main()
