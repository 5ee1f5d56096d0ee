"""Every path keeps the promise: the measurements of issue 22, each against an independent
reference (centred ``numpy.linalg.lstsq``, ``Ridge(solver="svd")``, an exact rational solve,
the least-squares fit of the whole data).

Run: ``python benchmarks/promise.py [--large]`` (``--large``: the chain design at n = 4e5 and
1e6, with timings; a few minutes). Prints one line per measurement: the case, the error
against its reference, ``stop_reason_`` and the warnings raised.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import ElasticNet, HuberRegressor, Ridge

from gdlinreg import GDLinearRegressor

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

# The designs, as the tests build them (one definition).
from test_side_paths import chain, near_collinear


def lstsq(X, y, s=None):
    """Centred weighted least squares (minimum norm): (coef, intercept)."""
    s = np.ones(len(y)) if s is None else np.asarray(s, float)
    p = s / s.sum()
    xm, ym = p @ X, p @ y
    r = np.sqrt(p)[:, None]
    # Columns scaled to unit spread first: lstsq's error is normwise, and unscaled columns
    # spanning six decades would leave the small coefficients at its mercy.
    sd = np.sqrt(p @ (X - xm) ** 2)
    sd = np.where(sd > 0, sd, 1.0)
    coef = np.linalg.lstsq((X - xm) / sd * r, (y - ym).reshape(len(y), -1) * r, rcond=None)[0]
    coef = coef / sd[:, None]
    coef = coef[:, 0] if np.ndim(y) == 1 else coef.T
    return coef, ym - xm @ (coef.T if np.ndim(y) > 1 else coef)


def fit(model, *args, method="fit", **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        getattr(model, method)(*args, **kw)
    names = sorted({w.category.__name__ for w in caught})
    return model, ",".join(names) or "-"


def rel(a, b):
    a, b = np.ravel(a), np.ravel(b)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def show(case, err, model, warned, extra=""):
    reason = getattr(model, "stop_reason_", "?")
    print(f"{case:<58} {err:>9.2e}  {reason:<8} {warned:<30} {extra}", flush=True)


def sparse_and_partial():
    X, y = near_collinear()
    coef, _ = lstsq(X, y)
    for tol in (1e-10, 1e-15):
        m, w = fit(GDLinearRegressor(tol=tol), X, y)
        show(f"near-collinear dense, tol={tol:g}", rel(m.coef_, coef), m, w)
        m, w = fit(GDLinearRegressor(tol=tol), sp.csr_matrix(X), y)
        show(f"near-collinear sparse CSR, tol={tol:g}", rel(m.coef_, coef), m, w)
    m = GDLinearRegressor()
    warned = set()
    for part in np.array_split(np.arange(1000), 4):
        m, w = fit(m, X[part], y[part], method="partial_fit")
        warned.add(w)
    show("near-collinear partial_fit, 4 batches", rel(m.coef_, coef), m, "|".join(sorted(warned)))


def rank_deficient():
    rng = np.random.default_rng(0)
    n = 200
    cat = rng.integers(0, 3, n)
    X = np.c_[rng.standard_normal(n) * 10 + 50, np.eye(3)[cat]]
    y = 2 * X[:, 0] + np.array([1.0, -2.0, 0.5])[cat] + rng.standard_normal(n)
    coef, _ = lstsq(X, y)
    f, w = fit(GDLinearRegressor(), X, y)
    show("one-hot rank-deficient: fit vs min-norm lstsq", rel(f.coef_, coef), f, w)
    m = GDLinearRegressor()
    for part in (slice(0, 100), slice(100, 200)):
        m, w = fit(m, X[part], y[part], method="partial_fit")
    show("one-hot rank-deficient: partial_fit x2 vs lstsq", rel(m.coef_, coef), m, w)
    Xs, ys = rng.standard_normal((8, 12)) + 3, rng.standard_normal(8)
    coef, _ = lstsq(Xs, ys)
    m = GDLinearRegressor()
    for part in (slice(0, 3), slice(3, 8)):
        m, w = fit(m, Xs[part], ys[part], method="partial_fit")
    show("n=8 < d=12: partial_fit x2 vs min-norm lstsq", rel(m.coef_, coef), m, w)
    s = np.r_[np.zeros(3), np.ones(5)]
    coef, _ = lstsq(Xs, ys, s)
    m, w = fit(GDLinearRegressor(), Xs, ys, sample_weight=s, method="partial_fit")
    show("n=8 < d=12, 3 zero weights: partial_fit", rel(m.coef_, coef), m, w)


def solvers_in_partial_fit():
    X, y = near_collinear()
    for solver in ("svrg", "sgd", "cg", "agd", "newton", "gd"):
        kw = {"batch_size": 16} if solver in ("svrg", "sgd") else {}
        try:
            m, w = fit(GDLinearRegressor(solver=solver, **kw), X, y, method="partial_fit")
            show(f"partial_fit solver={solver!r} {kw}", rel(m.coef_, lstsq(X, y)[0]), m, w)
        except Exception as exc:  # the table reports it
            print(f"partial_fit solver={solver!r} {kw}: {type(exc).__name__}: {exc}")


def penalised():
    rng = np.random.default_rng(3)
    n, d = 12, 24
    X = rng.standard_normal((n, d)) * np.logspace(0, 2, d) + rng.uniform(-1e3, 1e3, d)
    y = X @ rng.standard_normal(d) / 100 + 1e3 + rng.standard_normal(n)
    s = rng.uniform(0.5, 2.0, n)
    alpha = 1e-3
    ref = Ridge(alpha=alpha * s.sum(), solver="svd").fit(X, y, sample_weight=s)
    m, w = fit(GDLinearRegressor(penalty="l2", alpha=alpha, tol=1e-15), X, y, sample_weight=s)
    cond = getattr(m, "condition_number_", float("nan"))
    err = float(np.max(np.abs(m.coef_ - ref.coef_)))
    show("ridge 12 x 24, offsets, weights, tol=1e-15 (abs)", err, m, w, f"cond {cond:.1e}")
    d = 6
    X = rng.standard_normal((300, d)) @ np.triu(np.ones((d, d))) * np.logspace(-2, 2, d) + 1e4
    y = X @ rng.standard_normal(d) + rng.standard_normal(300)
    for penalty, alpha in (("l2", 1e-9), ("l1", 1e-9), ("elasticnet", 1e-9)):
        m, w = fit(GDLinearRegressor(penalty=penalty, alpha=alpha, tol=1e-15), X, y)
        if penalty == "l2":
            ref_coef = Ridge(alpha=alpha * len(y), solver="svd").fit(X, y).coef_
            name = "Ridge(svd)"
        else:
            ratio = 1.0 if penalty == "l1" else 0.15  # (gdlinreg's l1_ratio default)
            enet = ElasticNet(alpha=alpha, l1_ratio=ratio, tol=1e-14, max_iter=100_000)
            ref_coef = enet.fit(X, y).coef_
            name = "ElasticNet(cd, tol=1e-14)"
        label = f"{penalty} alpha=1e-9, 300 x 6 offset 1e4 vs {name}"
        show(label, rel(m.coef_, ref_coef), m, w)


def nist():
    from _reference import exact_lstsq  # the tests' rational solve
    from test_accuracy import CASES

    for name in ("longley", "wampler1", "wampler2", "wampler3", "wampler4", "wampler5"):
        X, y, sw = CASES[name].data()
        b, w = exact_lstsq(X.tolist(), y.tolist(), None if sw is None else sw.tolist())
        exact = np.array([float(v) for v in w] + [float(b)])

        def lre(m, exact=exact):
            got = np.r_[m.coef_, m.intercept_]
            err = np.abs(got - exact) / np.abs(exact)
            return float(-np.log10(max(err.max(), 1e-17)))

        cells = []
        for params in ({}, {"tol": 1e-15}, {"tol": None, "max_iter": 100_000}):
            m, warned = fit(GDLinearRegressor(**params), X, y)
            cells.append(f"{lre(m):.1f} {m.stop_reason_} {warned}")
        print(f"NIST {name:<10} LRE default | tol=1e-15 | tol=None: " + " | ".join(cells))


def chain_rows(sizes):
    try:
        from sklearnex.linear_model import LinearRegression as Intelex
    except ImportError:
        Intelex = None
    for n in sizes:
        X, y = chain(n)
        t = time.perf_counter()
        coef, _ = lstsq(X, y)
        t_ref = time.perf_counter() - t
        extra = f"lstsq {t_ref:.2f}s"
        if Intelex is not None:
            t = time.perf_counter()
            ix = Intelex().fit(X, y)
            extra += f"; sklearnex {rel(ix.coef_, coef):.1e} {time.perf_counter() - t:.2f}s"
        for params in ({}, {"tol": 1e-14}, {"tol": None, "max_iter": 2000}):
            time.sleep(0.25)
            t = time.perf_counter()
            m, w = fit(GDLinearRegressor(**params), X, y)
            elapsed = time.perf_counter() - t
            show(f"chain n={n:g} {params}", rel(m.coef_, coef), m, w, f"{elapsed:.2f}s; {extra}")


def saturated():
    from gdlinreg import GDLinearRegressor as G

    for label, X, y in (
        ("inference, n = rank = 2", [[1.0], [2.0]], [1.0, 3.0]),
        ("inference, n = 3 < d + 1 = 5", np.arange(12.0).reshape(3, 4) ** 1.5, [1.0, 2.0, 4.0]),
    ):
        m = G().fit(X, y)
        for cov in ("nonrobust", "HC2"):
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    res = m.inference(X, y, cov_type=cov) if cov != "nonrobust" else m.inference()
                names = sorted({w.category.__name__ for w in caught})
                print(f"{label} {cov}: bse {np.ravel(res.std_err)[:2]} warnings {names}")
            except Exception as exc:  # the table reports it
                print(f"{label} {cov}: {type(exc).__name__}: {str(exc)[:80]}")


def streamed_huber():
    rng = np.random.default_rng(0)
    n, d = 100_000, 20
    scale = np.logspace(-2, 3, d)
    X = rng.standard_normal((n, d)) * scale + rng.uniform(-1e4, 1e4, d)
    y = (X - X.mean(0)) @ (rng.standard_normal(d) / scale) + 5e3 + rng.standard_t(3, n)
    full, w = fit(GDLinearRegressor(loss="huber"), X, y)
    show("huber fit, 1e5 x 20 unscaled (R^2)", full.score(X, y), full, w)
    m = GDLinearRegressor(loss="huber")
    warned = set()
    for part in np.array_split(np.arange(n), 50):
        m, w = fit(m, X[part], y[part], method="partial_fit")
        warned.add(w)
    show("huber partial_fit, 50 chunks (R^2)", m.score(X, y), m, "|".join(sorted(warned)))
    ref = HuberRegressor(max_iter=1000).fit((X - X.mean(0)) / X.std(0), y)
    print(f"  HuberRegressor (standardised) R^2 {ref.score((X - X.mean(0)) / X.std(0), y):.4f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--large", action="store_true")
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    parts = {
        "sparse": sparse_and_partial,
        "rank": rank_deficient,
        "solvers": solvers_in_partial_fit,
        "penalised": penalised,
        "nist": nist,
        "chain": lambda: chain_rows(
            (10_000, 100_000) + ((400_000, 1_000_000) if args.large else ())
        ),
        "saturated": saturated,
        "huber": streamed_huber,
    }
    for name, part in parts.items():
        if not args.only or name in args.only.split(","):
            part()


if __name__ == "__main__":
    main()
