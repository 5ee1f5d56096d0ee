"""The objective forms: blocked statistics, Gram vs data form, no copies of X.

References are independent of the code under test: exact rational arithmetic, a plain
unblocked two-pass computation, and the other objective form.
"""

import tracemalloc

import numpy as np
import pytest
from _reference import exact_moments as exact
from _reference import unblocked
from hypothesis import given, settings
from hypothesis import strategies as st

from gdlinreg import GDLinearRegressor, gradient_descent
from gdlinreg._problem.statistics import moments


def close(got, want, spread):
    # Entries relative to the spreads of the two columns involved.
    return np.abs(got - want) <= 1e-11 * np.outer(spread, spread) + 1e-300


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 120),
    d=st.integers(1, 4),
    k=st.integers(1, 2),
    block_rows=st.integers(1, 130),
    offset=st.sampled_from([0.0, 3.0, 1e6]),
    weighted=st.sampled_from(["none", "random", "zeros"]),
    full=st.booleans(),
    float32=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_blocked_moments_equal_unblocked(
    n, d, k, block_rows, offset, weighted, full, float32, seed
):
    rng = np.random.default_rng(seed)
    X = offset + rng.standard_normal((n, d)) * rng.uniform(0.1, 10, d)
    if float32:
        X = X.astype(np.float32)
    Y = rng.standard_normal((n, k)) - offset
    s = np.ones(n)
    if weighted == "random":
        s = rng.uniform(0.0, 3.0, n)
    elif weighted == "zeros":
        s = rng.integers(0, 3, n).astype(float)
        s[0] = 1.0
    got = moments(X, Y, s, full=full, block_rows=block_rows)
    Z = np.hstack([X.astype(np.float64), Y])
    mean, scatter = unblocked(Z, s)
    spread = np.sqrt(np.diagonal(scatter)) + 1e-12 * np.abs(mean)
    assert got.weight_sum == pytest.approx(s.sum(), rel=1e-14)
    assert np.all(np.abs(got.mean - mean) <= 1e-12 * (spread + np.abs(mean)))
    want = scatter if full else np.diagonal(scatter)
    assert np.all(close(got.scatter, want, spread) if full else close(got.scatter, want, spread)[0])


@pytest.mark.parametrize("block_rows", [7, 64, 1000])
@pytest.mark.parametrize("weighted", [False, True])
def test_blocked_moments_keep_every_digit_under_huge_offsets(block_rows, weighted):
    # Values offset + k/4 with offset 2^36 (7e10 times the spread) are exact in float64, so
    # the exact moments are known; raw sums would lose all ~11 significant digits here.
    rng = np.random.default_rng(3)
    n = 300
    X = 2.0**36 + rng.integers(-400, 400, (n, 2)) / 4.0
    X[:, 1] = rng.integers(-400, 400, n) / 4.0  # and a column near zero (in-place path)
    Y = (-(2.0**30) + rng.integers(-400, 400, n) / 4.0)[:, None]
    s = rng.integers(0, 4, n).astype(float) if weighted else np.ones(n)
    s[0] = 1.0
    got = moments(X, Y, s, block_rows=block_rows)
    mean, scatter = exact(np.hstack([X, Y]), s)
    spread = np.sqrt(np.diagonal(scatter) / s.sum())
    # Means to a few ulps of (|mean| + spread): the shift is added back at the end.
    assert np.all(np.abs(got.mean - mean) <= 1e-14 * (np.abs(mean) + spread))
    assert np.allclose(got.scatter, scatter, rtol=1e-12, atol=1e-9 * np.abs(scatter).max())


@pytest.mark.parametrize("block_rows", [64, 100])
@pytest.mark.parametrize("weighted", [False, True])
def test_blocked_moments_follow_rows_that_drift(block_rows, weighted):
    # Blocks are summed about one shift while their means stay near it. Here the first 100
    # rows sit 2^30 away from the rest: summed about their mean, the rest would lose ~30x
    # eps (1.5e-13 measured); a run ends where a block drifts, and the next is shifted anew.
    # Values on a 1/64 grid, so the exact moments are known.
    rng = np.random.default_rng(5)
    n = 6000
    X = np.round(rng.standard_normal((n, 2)) * 64) / 64
    X[:100, 0] += 2.0**30
    Y = np.round(rng.standard_normal((n, 1)) * 64) / 64
    s = rng.integers(1, 4, n).astype(float) if weighted else np.ones(n)
    got = moments(X, Y, s, block_rows=block_rows)
    mean, scatter = exact(np.hstack([X, Y]), s)
    spread = np.sqrt(np.diagonal(scatter))
    assert np.all(np.abs(got.mean - mean) <= 1e-15 * (np.abs(mean) + spread / np.sqrt(s.sum())))
    assert np.all(np.abs(got.scatter - scatter) <= 2e-14 * np.outer(spread, spread))


def test_in_place_path_matches_shifted_path():
    # Columns centred near zero are read in place: the result agrees with a fully shifted
    # computation (the same data with a huge offset, which forces the copy path).
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5000, 5))
    Y = rng.standard_normal((5000, 2))
    s = np.ones(5000)
    near_zero = moments(X, Y, s, block_rows=256)
    mean, scatter = unblocked(np.hstack([X, Y]), s)
    assert np.allclose(near_zero.mean, mean, rtol=0, atol=1e-14)
    assert np.allclose(near_zero.scatter, scatter, rtol=1e-12)


@pytest.mark.parametrize("solver,lr", [("gd", 0.1), ("agd", 0.2), ("auto", "auto")])
@pytest.mark.parametrize("weighted", [False, True])
def test_gram_and_data_forms_give_the_same_iterates(solver, lr, weighted):
    rng = np.random.default_rng(1)
    X = 5.0 + rng.standard_normal((5000, 4)) * [1.0, 2.0, 0.5, 3.0]
    y = X @ [1.0, -2.0, 0.5, 0.0] + rng.standard_normal(5000)
    s = rng.uniform(0, 2, 5000) if weighted else None
    # Conjugate gradients solve 4 parameters in 4 steps; after that both paths are rounding.
    steps = 4 if solver == "auto" else 30
    kw = {"solver": solver, "learning_rate": lr, "tol": None, "max_iter": steps}
    kw.update(return_path=True, sample_weight=s)
    if solver == "gd":
        X = X - X.mean(axis=0)  # textbook GD in raw coordinates needs tame scales to move
    gram = gradient_descent(X, y, precompute=True, **kw)
    data = gradient_descent(X, y, precompute=False, **kw)
    scale = np.abs(gram.coef_path).max()
    np.testing.assert_allclose(data.coef_path, gram.coef_path, rtol=0, atol=1e-9 * scale)
    np.testing.assert_allclose(data.intercept_path, gram.intercept_path, rtol=1e-9, atol=1e-9)


def _peak_during(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "dtype,order,precompute,weighted",
    [
        (dtype, order, precompute, (order == "F") != precompute)
        for dtype in (np.float64, np.float32)
        for order in "CF"
        for precompute in (True, False)
    ],
)
def test_fit_makes_no_copy_of_X(dtype, order, precompute, weighted):
    rng = np.random.default_rng(2)
    X = np.asarray(rng.standard_normal((80_000, 100)), dtype=dtype, order=order)
    y = X[:, :3].sum(axis=1, dtype=np.float64) + 1.0
    s = rng.uniform(0.5, 1.5, len(y)) if weighted else None
    model = GDLinearRegressor(precompute=precompute, max_iter=50, tol=1e-6)
    peak = _peak_during(lambda: model.fit(X, y, sample_weight=s))
    # A copy of X would be X.nbytes; one block of rows, the n-vectors (y, weights,
    # residuals), the d x d statistics (all fixed or O(n)) are far less.
    assert peak < 0.5 * X.nbytes, (peak, X.nbytes)
    assert model.coef_.dtype == dtype


def test_float32_stays_float32_and_is_accurate():
    rng = np.random.default_rng(4)
    X = (100.0 + rng.standard_normal((20_000, 6))).astype(np.float32)
    y = X.astype(np.float64) @ np.arange(1.0, 7.0) + rng.standard_normal(20_000)
    for precompute in (True, False):
        model = GDLinearRegressor(precompute=precompute).fit(X, y.astype(np.float32))
        assert model.coef_.dtype == np.float32
        assert model.predict(X).dtype == np.float32
        A = np.column_stack([X.astype(np.float64), np.ones(len(y))])
        ref = np.linalg.lstsq(A, y.astype(np.float32).astype(np.float64), rcond=None)[0]
        np.testing.assert_allclose(model.coef_, ref[:-1], rtol=1e-5)
