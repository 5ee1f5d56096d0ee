"""gdlinreg against scikit-learn and a NumPy loop, side by side: ``python benchmarks/run.py``.

Builds its data, runs every method in this process, interleaved, repeated, and prints per case
the median time, min-max, peak memory (over what the process held before the call, as a
multiple of X's size), the relative coefficient error against a least-squares reference, and
each time as a ratio to gdlinreg's. The machine's floors are measured in the same run: one
streaming read of X, and X'X at the measured matrix-multiply rate. ``--quick`` shrinks n for a
smoke run. See benchmarks/README.md for what each case and column means.
"""

from __future__ import annotations

import os
import sys

# BLAS tuning variables from the environment would skew the comparison: drop them, for this
# process only, before NumPy loads OpenBLAS.
_BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if __name__ == "__main__" and any(name in os.environ for name in _BLAS_ENV):
    env = {k: v for k, v in os.environ.items() if k not in _BLAS_ENV}
    os.execve(sys.executable, [sys.executable, *sys.argv], env)

import argparse  # noqa: E402
import gc  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
import sklearn  # noqa: E402
from sklearn.linear_model import LinearRegression, Ridge, SGDRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from threadpoolctl import threadpool_info  # noqa: E402

import gdlinreg  # noqa: E402
from gdlinreg import GDLinearRegressor  # noqa: E402
from gdlinreg._problem.coordinates import Coordinates  # noqa: E402
from gdlinreg._problem.data import DataObjective  # noqa: E402
from gdlinreg._problem.statistics import moments  # noqa: E402
from gdlinreg.datasets import load_seed_example  # noqa: E402
from gdlinreg.losses import get_loss  # noqa: E402

PAUSE = 0.25  # seconds between BLAS-heavy runs, so that one run's heat does not slow the next
SLOW = 5.0  # a method slower than this runs once only (its single time is its median)


# ---------------------------------------------------------------- measuring


def _status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def _can_reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        _status("VmHWM")
        return True
    except OSError:
        return False


RESET_PEAK = _can_reset_peak()


def measure(fn):
    """(seconds, peak extra bytes, result) of one call.

    Peak memory is the process's resident high-water mark (reset through /proc/self/clear_refs)
    minus what was resident before: it sees BLAS and C allocations too. Where that is not
    available, tracemalloc's peak (NumPy allocations only).
    """
    gc.collect()
    time.sleep(PAUSE)
    if RESET_PEAK:
        before = _status("VmRSS")
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    else:
        tracemalloc.start()
    start = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - start
    if RESET_PEAK:
        peak = max(_status("VmHWM") - before, 0)
    else:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return seconds, peak, out


def floors(X):
    """Time of one streaming read of X, and the matrix-multiply rate (flop/s) in X's dtype."""
    dense = X.data if sp.issparse(X) else X
    # Two readers: NumPy's sum (one thread) and BLAS's matrix-vector product over the same
    # bytes viewed as rows of 128 (all cores: on 2 cores it reads about 1.7x faster).
    flat = dense.reshape(-1)
    rows = flat[: flat.size // 128 * 128].reshape(-1, 128)
    ones = np.ones(128, dtype=dense.dtype)
    reads = []
    for _ in range(5):
        start = time.perf_counter()
        np.add.reduce(dense, axis=None)
        reads.append(time.perf_counter() - start)
        start = time.perf_counter()
        rows @ ones
        reads.append((time.perf_counter() - start) * flat.size / rows.size)
    if sp.issparse(X):  # the indices are read too: scale the measured bandwidth to all bytes
        total = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
        reads = [r * total / X.data.nbytes for r in reads]
    a = np.random.default_rng(0).standard_normal((2000, 2000)).astype(dense.dtype)
    rates = []
    for _ in range(3):
        time.sleep(PAUSE)
        start = time.perf_counter()
        a @ a
        rates.append(2 * 2000**3 / (time.perf_counter() - start))
    return min(reads), max(rates)


# ---------------------------------------------------------------- data


def dense_case(kind, n, d, seed=0):
    """(a) "well": standard normal columns; (b) "ill": column scales 1e-3..1e3, pairwise
    correlation 0.9 (standardised condition number ~900), offsets 1e4 times the spread."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    coef = rng.standard_normal(d)
    if kind == "ill":
        common = rng.standard_normal(n)
        X *= np.sqrt(0.1)
        X += np.sqrt(0.9) * common[:, None]
        scale = np.logspace(-3, 3, d)
        rng.shuffle(scale)
        X *= scale
        X += 1e4 * scale * rng.choice([-1.0, 1.0], d)
        coef /= scale
    y = X @ coef + 3.0 + rng.standard_normal(n)
    return X, y


def sparse_case(n, d, density, seed=0):
    """CSR with exactly density*d nonzeros per row; y noise-free, so the planted coefficients
    are the exact least-squares solution (a dense lstsq would need n*d*8 bytes)."""
    rng = np.random.default_rng(seed)
    per_row = max(1, round(density * d))
    # One column drawn from each of per_row equal strata: distinct, sorted, uniform columns,
    # without materialising an n x d array of keys.
    width = d // per_row
    indices = np.arange(per_row, dtype=np.int32) * width + rng.integers(
        0, width, (n, per_row), dtype=np.int32
    )
    data = rng.standard_normal(n * per_row) + 1.0
    indptr = np.arange(0, n * per_row + 1, per_row, dtype=np.int64)
    X = sp.csr_matrix((data, indices.ravel(), indptr), shape=(n, d))
    coef = rng.standard_normal(d)
    return X, X @ coef + 3.0, coef


def reference(X, y):
    """numpy.linalg.lstsq on the centred, standardised data: the reference keeps its digits
    even where X's offsets would cost a solver on raw X most of them."""
    Z = np.asarray(X, dtype=np.float64)
    mean = Z.mean(axis=0)
    Z = Z - mean
    std = np.sqrt(np.einsum("ij,ij->j", Z, Z) / len(Z))
    Z /= std
    sol = np.linalg.lstsq(Z, y - y.mean(), rcond=None)[0]
    return sol / std, std


def rel_error(coef, ref, std):
    """Relative error of the coefficients in units of y (each times its column's spread)."""
    return float(np.linalg.norm((coef - ref) * std) / np.linalg.norm(ref * std))


# ---------------------------------------------------------------- methods


def numpy_gd(X, y, n_iter):
    """Full-batch GD as a learner writes it: ones column appended, fixed step 1/L, no scaling."""
    Xb = np.hstack([X, np.ones((len(y), 1), dtype=X.dtype)])
    step = 1.0 / np.linalg.eigvalsh(Xb.T @ Xb / len(y))[-1]
    w = np.zeros(Xb.shape[1])
    for _ in range(n_iter):
        w -= step * (Xb.T @ (Xb @ w - y)) / len(y)
    return w[:-1]


def sgd(sparse):
    scaler = StandardScaler(with_mean=not sparse)
    # Averaged SGD, the variant with an O(1/n) rate, on standardised columns.
    model = SGDRegressor(
        penalty=None, average=True, eta0=0.002, max_iter=5, tol=1e-8, random_state=0
    )
    pipe = make_pipeline(scaler, model)

    def fit(X, y):
        pipe.fit(X, y)
        return model.coef_ / scaler.scale_

    return fit


def methods(sparse, small=False):
    def gd(**kw):
        return lambda X, y: GDLinearRegressor(**kw).fit(X, y).coef_

    def sk(est):
        return lambda X, y: est.fit(X, y).coef_

    out = {"gdlinreg": gd()}
    if sparse:
        # At LinearRegression's default accuracy (its lsqr stops at about 1e-6 here).
        out["gdlinreg(tol=1e-6)"] = gd(tol=1e-6)
        # ... and at LinearRegression(tol=1e-10)'s.
        out["gdlinreg(tol=1e-11)"] = gd(tol=1e-11)
    out["LinearRegression"] = sk(LinearRegression())
    out["LinearRegression(tol=1e-10)"] = sk(LinearRegression(tol=1e-10))
    solvers = ["lsqr", "sparse_cg", "sag"] if sparse else ["cholesky", "lsqr", "sparse_cg", "sag"]
    for solver in solvers:
        # sag's default of 1000 epochs would take most of an hour here: capped at 10.
        kw = {"max_iter": 10, "tol": 1e-8} if solver == "sag" else {"tol": 1e-10}
        out[f"Ridge({solver})"] = sk(Ridge(alpha=1e-10, solver=solver, random_state=0, **kw))
    out["SGDRegressor(scaled, averaged)"] = sgd(sparse)
    if not sparse:
        out["NumPy GD loop"] = lambda X, y: numpy_gd(X, y, 200 if small else 20)
    return out


# ---------------------------------------------------------------- running


def run_case(name, X, y, ref, std, repeats, small=False):
    sparse = sp.issparse(X)
    read, rate = floors(X)
    d = X.shape[1]
    xtx = X.shape[0] * d * (d + 1) / rate  # syrk's flop count: X'X is symmetric
    nbytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes if sparse else X.nbytes
    table = {}
    todo = methods(sparse, small)
    if not sparse:
        ones = np.ones(X.shape[0])
        Y = y[:, None]
        todo["  gdlinreg Gram build"] = lambda X, y: moments(X, Y, ones)
        coords = Coordinates(np.zeros(d), np.ones(d), np.zeros(1), False)
        obj = DataObjective(X, Y, ones / X.shape[0], coords, get_loss("half_mse"))
        theta = np.zeros((d, 1))
        todo["  gdlinreg data-form gradient"] = lambda X, y: obj.value_and_gradient(theta)
    runs = {k: [] for k in todo}
    for rep in range(repeats):
        for key, fn in todo.items():
            if rep and runs[key] and runs[key][0][0] > SLOW:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                runs[key].append(measure(lambda fn=fn: fn(X, y)))
    for key, rs in runs.items():
        times = [r[0] for r in rs]
        coef = rs[-1][2]
        err = rel_error(np.ravel(coef), ref, std) if not key.startswith("  ") else None
        floor = None
        if key == "gdlinreg" or "Gram" in key:
            floor = xtx if not sparse else read
        elif "gradient" in key:
            floor = read
        table[key] = {
            "median": float(np.median(times)),
            "min": min(times),
            "max": max(times),
            "runs": len(times),
            "peak": max(r[1] for r in rs) / nbytes,
            "err": err,
            "floor": floor,
        }
    return table, read, xtx


def run_small(n, d, fits, seed=0):
    """(e): many small fits, as in a grid search: time per fit, over `fits` data sets."""
    rng = np.random.default_rng(seed)
    problems = []
    for _ in range(fits):
        X = rng.standard_normal((n, d)) * rng.uniform(0.5, 2, d) + rng.uniform(-5, 5, d)
        y = X @ rng.standard_normal(d) + 1.0 + rng.standard_normal(n)
        problems.append((X, y, *reference(X, y)))
    table = {}
    todo = methods(False, small=True)
    per = {k: [] for k in todo}
    errs = {k: [] for k in todo}
    for X, y, ref, std in problems:
        for key, fn in todo.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                start = time.perf_counter()
                coef = fn(X, y)
                per[key].append(time.perf_counter() - start)
            errs[key].append(rel_error(np.ravel(coef), ref, std))
    for key in todo:
        t = per[key]
        table[key] = {
            "median": float(np.median(t)),
            "min": min(t),
            "max": max(t),
            "runs": len(t),
            "peak": None,
            "err": float(np.median(errs[key])),
            "floor": None,
        }
    return table


def print_table(title, table, read=None, xtx=None):
    print(f"\n### {title}\n")
    if read is not None:
        print(
            f"floors: one streaming read of X {read:.3f} s; X'X at the measured rate {xtx:.3f} s\n"
        )
    print("| method | median s | min-max s | runs | peak / X | rel. error | x gdlinreg | x floor |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    base = table["gdlinreg"]["median"]
    for key, r in table.items():
        peak = "" if r["peak"] is None else f"{r['peak']:.2f}"
        err = "" if r["err"] is None else f"{r['err']:.1e}"
        ratio = "" if key.startswith("  ") else f"{r['median'] / base:.2f}"
        floor = "" if r["floor"] is None else f"{r['median'] / r['floor']:.2f}"
        print(
            f"| {key.strip()} | {r['median']:.4g} | {r['min']:.3g}-{r['max']:.3g} | {r['runs']} "
            f"| {peak} | {err} | {ratio} | {floor} |"
        )
    sys.stdout.flush()


def describe_machine():
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(f"machine: {cpu}, {os.cpu_count()} cores, {mem:.0f} GiB, {platform.platform()}")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, scipy "
        f"{sp.__name__ and __import__('scipy').__version__}, scikit-learn {sklearn.__version__}, "
        f"gdlinreg {gdlinreg.__version__}"
    )
    for lib in threadpool_info():
        print(
            f"threadpool: {lib['internal_api']} {lib.get('version')} "
            f"kernel={lib.get('architecture')} threads={lib['num_threads']} ({lib['prefix']})"
        )
    print(f"peak memory via {'VmHWM (clear_refs)' if RESET_PEAK else 'tracemalloc'}")
    print(f"load average at start: {os.getloadavg()}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n=20,000 (smoke run, seconds)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cases", default="abcde", help="subset of the cases a..e to run")
    args = parser.parse_args(argv)
    n = 20_000 if args.quick else 1_000_000
    sparse_n, sparse_d = (20_000, 2_000) if args.quick else (1_000_000, 10_000)
    describe_machine()
    print(f"\nn={n:,}, repeats={args.repeats}, {PAUSE} s pause between runs")
    cases = {
        "a": ("(a) well conditioned, float64", "well", np.float64),
        "b": ("(b) ill conditioned, float64", "ill", np.float64),
        "c": ("(c) ill conditioned, float32", "ill", np.float32),
    }
    for key, (title, kind, dtype) in cases.items():
        if key not in args.cases:
            continue
        X, y = dense_case(kind, n, 100)
        X = X.astype(dtype, copy=False)
        y = y.astype(dtype)
        ref, std = reference(X, y.astype(np.float64))
        table, read, xtx = run_case(title, X, y, ref, std, args.repeats)
        print_table(f"{title}, n={n:,}, d=100, X {X.nbytes / 1e6:.0f} MB", table, read, xtx)
        del X, y
    if "d" in args.cases:
        X, y, coef = sparse_case(sparse_n, sparse_d, 0.01)
        std = np.sqrt(np.asarray(X.multiply(X).mean(axis=0)).ravel() - np.square(X.mean(axis=0).A1))
        table, read, xtx = run_case("(d)", X, y, coef, std, args.repeats)
        print_table(
            f"(d) sparse CSR, n={sparse_n:,}, d={sparse_d:,}, 1% density, {X.nnz:,} nonzeros",
            table,
            read,
            xtx,
        )
        del X, y
    if "e" in args.cases:
        fits = 20 if args.quick else 200
        table = run_small(1000, 10, fits)
        print_table(f"(e) small: n=1000, d=10, {fits} fits (time per fit)", table)
    model = GDLinearRegressor(solver="gd", learning_rate=0.01, max_iter=1_000_000, tol=None)
    X5, y5 = load_seed_example()
    seconds, _, _ = measure(lambda: model.fit(X5, y5, coef_init=[0.48], intercept_init=0.75))
    print(f"\ntutorial: 1,000,000 textbook steps with loss_curve_: {seconds:.2f} s")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
