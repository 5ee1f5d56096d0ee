"""The default fit runs to the accuracy the statistics allow (issue 14, deliverable 4).

On the Gram form a step costs O(p^2), so once ``tol`` holds the fit goes on to the rounding
floor of the statistics (``gdlinreg._loop.polish``). The references are independent: the
exact rational least-squares solution of the very numbers passed (``_reference.exact_lstsq``)
and ``numpy.linalg.lstsq`` on the weighted design, whose error against the exact solution sets
the bar: the default fit must be within 10 times it (or 10 times a few eps, where lstsq happens
to land nearer than its own rounding).
"""

from __future__ import annotations

import numpy as np
import pytest
from _reference import exact_lstsq, lstsq

from gdlinreg import GDLinearRegressor

EPS = np.finfo(np.float64).eps


def problem(seed, offset, n=3000, d=10, weighted=True):
    """Well-conditioned columns of unit spread around ``offset``, weights in 0.5..2."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) + offset
    y = (X - offset) @ rng.standard_normal(d) + 3.0 + 0.1 * rng.standard_normal(n)
    s = rng.uniform(0.5, 2.0, n) if weighted else None
    return X, y, s


def errors(coef, intercept, exact):
    """Relative errors of (coef, intercept) against the exact (intercept, coef)."""
    b, w = float(exact[0]), np.array([float(v) for v in exact[1]])
    return (
        float(np.linalg.norm(np.ravel(coef) - w) / np.linalg.norm(w)),
        float(abs(float(np.ravel(intercept)[0]) - b) / abs(b)),
    )


def bar(X, y, s, exact):
    """10 times lstsq's (coef, intercept) errors, each at least 10 * 4 eps."""
    theta = lstsq(X, y, s)[:, 0]
    return tuple(10 * max(e, 4 * EPS) for e in errors(theta[:-1], theta[-1], exact))


CASES = [(seed, offset) for seed in range(3) for offset in (1e2, 1e3)]


@pytest.mark.parametrize(("seed", "offset"), CASES)
def test_default_fit_is_within_10x_of_lstsq(seed, offset):
    X, y, s = problem(seed, offset)
    exact = exact_lstsq(X.tolist(), y.tolist(), s.tolist())
    model = GDLinearRegressor().fit(X, y, sample_weight=s)  # (warnings fail the test)
    assert model.stop_reason_ == "tol" and model.converged_
    coef_err, intercept_err = errors(model.coef_, model.intercept_, exact)
    coef_bar, intercept_bar = bar(X, y, s, exact)
    assert coef_err <= coef_bar, (coef_err, coef_bar)
    assert intercept_err <= intercept_bar, (intercept_err, intercept_bar)


@pytest.mark.parametrize("splits", [2, 5])
def test_partial_fit_reaches_the_same_floor_without_a_warning(splits):
    X, y, s = problem(7, 1e2)
    exact = exact_lstsq(X.tolist(), y.tolist(), s.tolist())
    rng = np.random.default_rng(splits)
    cuts = np.sort(rng.choice(np.arange(1, len(y)), splits - 1, replace=False))
    model = GDLinearRegressor()
    for rows in np.split(np.arange(len(y)), cuts):
        model.partial_fit(X[rows], y[rows], sample_weight=s[rows])  # (warnings fail the test)
    assert model.stop_reason_ == "tol"
    coef_err, intercept_err = errors(model.coef_, model.intercept_, exact)
    coef_bar, intercept_bar = bar(X, y, s, exact)
    assert coef_err <= coef_bar, (coef_err, coef_bar)
    assert intercept_err <= intercept_bar, (intercept_err, intercept_bar)


def test_dask_fit_reaches_the_same_floor():
    da = pytest.importorskip("dask.array")
    import dask

    X, y, s = problem(11, 1e3)
    exact = exact_lstsq(X.tolist(), y.tolist(), s.tolist())
    with dask.config.set(scheduler="synchronous"):
        model = GDLinearRegressor().fit(
            da.from_array(X, chunks=(700, -1)),
            da.from_array(y, chunks=700),
            sample_weight=da.from_array(s, chunks=700),
        )
    assert model.stop_reason_ == "tol"
    coef_err, intercept_err = errors(model.coef_, model.intercept_, exact)
    coef_bar, intercept_bar = bar(X, y, s, exact)
    assert coef_err <= coef_bar, (coef_err, coef_bar)
    assert intercept_err <= intercept_bar, (intercept_err, intercept_bar)


@pytest.mark.parametrize("tol", [1e-10, 0.0])
def test_perfectly_conditioned_design_is_solved_to_rounding(tol):
    # Orthonormal columns (scaled by sqrt(n)): lstsq is accurate to a few eps, and so must the
    # fit be (before it polished, it stopped at 8e-12 relative, and at 7e-14 with tol=0).
    rng = np.random.default_rng(3)
    n, d = 300, 100
    Q = np.linalg.qr(rng.standard_normal((n, d)))[0]
    X = Q * np.sqrt(n)
    y = X @ rng.standard_normal(d) + 1.0 + 0.1 * rng.standard_normal(n)
    theta = lstsq(X, y)[:, 0]
    model = GDLinearRegressor(tol=tol).fit(X, y)
    assert model.stop_reason_ == "tol"
    err = np.linalg.norm(model.coef_ - theta[:-1]) / np.linalg.norm(theta[:-1])
    assert err <= 16 * np.sqrt(d) * EPS, err
    assert abs(model.intercept_ - theta[-1]) <= 16 * np.sqrt(d) * EPS * abs(theta[-1])
