"""Sparse X: accepted without densifying, implicitly centred, equal to the dense fit.

References: numpy.linalg.lstsq on the dense array, and unblocked dense statistics.
"""

import re
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

from gdlinreg import GDLinearRegressor, gradient_descent
from gdlinreg._problem.statistics import moments

FORMATS = [sp.csr_matrix, sp.csc_matrix, sp.coo_matrix, sp.csr_array, sp.csc_array]


def sparse_problem(n=3000, d=12, density=0.2, k=1, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=seed, dtype=np.float64)
    X.data = rng.standard_normal(X.nnz) * 3.0 + 2.0  # nonzero means: centring matters
    X = X.astype(dtype)
    coef = rng.standard_normal((d, k))
    Y = X.toarray().astype(np.float64) @ coef + 5.0 + 0.1 * rng.standard_normal((n, k))
    return X, (Y[:, 0] if k == 1 else Y)


def lstsq(A, y, s=None, fit_intercept=True):
    A = np.asarray(A, dtype=np.float64)
    if fit_intercept:
        A = np.column_stack([A, np.ones(len(A))])
    root = np.ones(len(A)) if s is None else np.sqrt(s)
    sol = np.linalg.lstsq(A * root[:, None], (y.T * root).T, rcond=None)[0]
    return (sol[:-1], sol[-1]) if fit_intercept else (sol, 0.0)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("precompute", [True, False, "auto"])
def test_sparse_fit_equals_lstsq_on_dense(fmt, precompute):
    X, y = sparse_problem()
    model = GDLinearRegressor(precompute=precompute).fit(fmt(X), y)
    coef, intercept = lstsq(X.toarray(), y)
    np.testing.assert_allclose(model.coef_, coef, rtol=1e-8, atol=1e-10)
    assert model.intercept_ == pytest.approx(intercept, rel=1e-9)
    dense = GDLinearRegressor(precompute=precompute).fit(X.toarray(), y)
    np.testing.assert_allclose(model.predict(fmt(X)), dense.predict(X.toarray()), rtol=1e-9)


@pytest.mark.parametrize("precompute", [True, False])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_sparse_weighted_multi_target(precompute, fit_intercept):
    X, Y = sparse_problem(k=2, seed=1)
    s = np.random.default_rng(1).uniform(0, 2, X.shape[0])
    res = gradient_descent(
        X, Y, sample_weight=s, precompute=precompute, fit_intercept=fit_intercept
    )
    coef, intercept = lstsq(X.toarray(), Y, s, fit_intercept)
    np.testing.assert_allclose(res.coef, coef.T, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(res.intercept, intercept, rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("solver,lr", [("gd", 0.05), ("agd", 0.3)])
def test_sparse_iterates_equal_dense_iterates(solver, lr):
    X, y = sparse_problem(seed=2)
    kw = {"solver": solver, "learning_rate": lr, "tol": None, "max_iter": 25}
    kw["return_path"] = True
    for precompute in (True, False):
        sparse = gradient_descent(X, y, precompute=precompute, **kw)
        dense = gradient_descent(X.toarray(), y, precompute=True, **kw)
        np.testing.assert_allclose(sparse.coef_path, dense.coef_path, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("full", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_sparse_moments_equal_dense(full, weighted):
    X, y = sparse_problem(n=500, d=6, density=0.3, seed=3)
    X = X.toarray()
    X[:, 2] = 7.0  # a constant column, stored in full: its variance must come out zero
    X = sp.csr_matrix(X)
    s = np.random.default_rng(3).uniform(0, 2, 500) if weighted else np.ones(500)
    Y = y[:, None]
    got = moments(X, Y, s, full=full)
    Z = np.column_stack([X.toarray(), Y])
    w = s.sum()
    mean = s @ Z / w
    C = Z - mean
    scatter = C.T @ (C * s[:, None])
    np.testing.assert_allclose(got.mean, mean, rtol=1e-13, atol=1e-15)
    want = scatter if full else np.diagonal(scatter)
    np.testing.assert_allclose(got.scatter, want, rtol=1e-10, atol=1e-9 * np.abs(want).max())
    diag = np.diagonal(got.scatter) if full else got.scatter
    # Below the solver's constant-column floor, (16 eps |mean|)^2 per unit weight.
    assert diag[2] <= (16 * np.finfo(float).eps * 7.0) ** 2 * s.sum()
    model = GDLinearRegressor().fit(X, y, sample_weight=s)
    assert model.coef_[2] == 0.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_float32_stays_float32(dtype):
    X, y = sparse_problem(seed=4, dtype=dtype)
    for precompute in (True, False):
        model = GDLinearRegressor(precompute=precompute).fit(X, y.astype(dtype))
        assert model.coef_.dtype == dtype
        coef, _ = lstsq(X.toarray(), y.astype(dtype))
        np.testing.assert_allclose(model.coef_, coef, rtol=1e-4 if dtype == np.float32 else 1e-8)


def test_sparse_data_form_does_not_densify():
    X, y = sparse_problem(n=40_000, d=400, density=0.01, seed=5)
    dense_bytes = X.shape[0] * X.shape[1] * 8
    tracemalloc.start()
    try:
        model = GDLinearRegressor(precompute=False, max_iter=30, tol=1e-6).fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert model.n_iter_ > 0
    # Dense would be 128 MB. Allowed: O(n) vectors, blocks of stored values, the Lanczos
    # basis for the curvature bound (O(d) vectors): a few MB, nothing of size n x d.
    assert peak < 0.05 * dense_bytes, peak


def test_sparse_nan_is_rejected():
    X, y = sparse_problem(n=50, d=3)
    X.data[0] = np.nan
    # CSR: the first stored value is in the first row that has one, at its first index.
    row, column = int(np.flatnonzero(np.diff(X.indptr))[0]), int(X.indices[0])
    where = f"at row {row}, column {column} (the first such value); remove or impute"
    with pytest.raises(ValueError, match=re.escape(f"Input X contains NaN {where}")):
        gradient_descent(X, y)
    with pytest.raises(ValueError, match=re.escape(f"Input X contains NaN {where}")):
        GDLinearRegressor().fit(X, y)
    with pytest.raises(ValueError, match=re.escape(f"Input X contains NaN {where}")):
        GDLinearRegressor().fit(X.toarray(), y).predict(X)


def test_minibatch_sgd_on_sparse_equals_dense():
    # Mini-batch SGD draws the same batches whatever the storage: sparse and dense iterates agree.
    rng = np.random.default_rng(3)
    X = sp.random(120, 8, density=0.3, format="csr", random_state=3)
    y = X @ rng.standard_normal(8) + 0.5
    params = dict(batch_size=16, random_state=0, tol=None, max_iter=4)
    sparse_fit = GDLinearRegressor(**params).fit(X, y)
    dense_fit = GDLinearRegressor(**params).fit(X.toarray(), y)
    np.testing.assert_allclose(sparse_fit.coef_, dense_fit.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sparse_fit.intercept_, dense_fit.intercept_, rtol=1e-10)
