"""Rank-deficient least squares, every form (issue 14, deliverable 3).

With or without an intercept, fewer rows than columns, duplicate columns, duplicate or
zero-weight rows: the Gram form (``precompute=True``) and the data form (``precompute=False``)
return the minimum-norm solution in the documented coordinates (README, "Rank deficiency"),
checked against ``numpy.linalg.pinv`` on the scaled design written out here from that
definition:

* with an intercept, each column centred at its weighted mean and divided by its weighted
  standard deviation;
* without one, each column divided by its weighted root mean square (not centred).

Tolerances come from the problem: the documented ``tol`` criterion bounds the distance to the
solution by the condition number of the standardised Gram matrix (``kappa**2``, kappa that of
the scaled design's nonzero spectrum) times the tested step, to which the rounding of the
statistics (a few ``kappa**2 * eps``) adds; that is valid under any BLAS kernel.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from gdlinreg import GDLinearRegressor

EPS = np.finfo(np.float64).eps
TOL = 1e-10  # the estimator's default tol


def scaled_design(X, w, fit_intercept):
    """(offset, scale, Z, t, y_offset): the documented coordinates of the weighted problem."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    p = np.ones(X.shape[0]) if w is None else np.asarray(w, dtype=float)
    p = p / p.sum()
    offset = p @ X if fit_intercept else np.zeros(X.shape[1])
    scale = np.sqrt(p @ (X - offset) ** 2)
    root = np.sqrt(p)[:, None]
    return offset, scale, root * (X - offset) / scale, root[:, 0], p


def reference(X, y, w=None, fit_intercept=True):
    """Minimum-norm least squares by ``pinv`` of the scaled design; also kappa (the
    condition number of its nonzero spectrum) and what bounds an intercept error."""
    offset, scale, Z, root, p = scaled_design(X, w, fit_intercept)
    y_offset = p @ y if fit_intercept else 0.0
    sv = np.linalg.svd(Z, compute_uv=False)
    # Singular values at the rounding level of Z (of an exact zero) are zeros.
    rcond = max(Z.shape) * EPS
    nonzero = sv[sv > rcond * sv[0]]
    v = np.linalg.pinv(Z, rcond=rcond) @ (root * (y - y_offset))
    coef = v / scale
    return coef, y_offset - offset @ coef, v, nonzero[0] / nonzero[-1], offset, scale


def assert_min_norm(model, X, y, w=None, fit_intercept=True, tol=TOL):
    """The fit is the minimum-norm solution, to the accuracy its tol promises."""
    _, intercept, v, kappa, offset, scale = reference(X, y, w, fit_intercept)
    rtol = 10 * kappa**2 * (tol + 64 * EPS * np.sqrt(X.shape[1]))
    assert rtol < 0.1, "the check would not tell a wrong answer"
    error = np.linalg.norm(model.coef_ * scale - v) / np.linalg.norm(v)
    assert error <= rtol, (error, rtol, kappa)
    assert model.converged_ and model.stop_reason_ == "tol"
    if fit_intercept:
        bound = rtol * (abs(intercept) + np.sum(np.abs(offset) / scale) * np.linalg.norm(v))
        assert abs(model.intercept_ - intercept) <= bound
    else:
        assert model.intercept_ == 0.0


def data(seed, n, d):
    rng = np.random.RandomState(seed)
    return rng.rand(n, d), rng.rand(n)


FORMS = [True, False]  # precompute: the Gram form, the data form
SHAPES = [(1, 50, 100), (0, 95, 100), (0, 10, 20), (2, 100, 100)]


@pytest.mark.parametrize("precompute", FORMS)
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize(("seed", "n", "d"), SHAPES)
def test_fewer_rows_than_columns_is_min_norm(seed, n, d, fit_intercept, precompute):
    # Measured before the fix (no intercept, Gram form): 37x the minimum norm at 50 x 100,
    # and "tol" at relative error 0.24 at 95 x 100.
    X, y = data(seed, n, d)
    model = GDLinearRegressor(fit_intercept=fit_intercept, precompute=precompute).fit(X, y)
    assert_min_norm(model, X, y, fit_intercept=fit_intercept)
    # Predictions on new data: the minimum-norm model's, not one off along the null space.
    X_new = np.random.RandomState(seed + 100).rand(200, d)
    coef, intercept = reference(X, y, fit_intercept=fit_intercept)[:2]
    expected = X_new @ coef + intercept
    rms = np.sqrt(np.mean((model.predict(X_new) - expected) ** 2))
    assert rms <= 1e-6 * np.std(y)


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_default_form_is_min_norm(fit_intercept):
    # The default (precompute="auto": the Gram form here) on the cases.
    for seed, n, d in SHAPES[:2]:
        X, y = data(seed, n, d)
        model = GDLinearRegressor(fit_intercept=fit_intercept).fit(X, y)
        assert_min_norm(model, X, y, fit_intercept=fit_intercept)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("precompute", FORMS)
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_duplicate_columns_split_in_scaled_coordinates(fit_intercept, precompute, sparse):
    X, y = data(3, 40, 6)
    # A column, a copy and a multiple: one direction, shared equally in scaled coordinates.
    X = np.hstack([X, X[:, :1], 3.0 * X[:, :1], X[:, 1:2]])
    Xf = sp.csr_matrix(X) if sparse else X
    model = GDLinearRegressor(fit_intercept=fit_intercept, precompute=precompute).fit(Xf, y)
    assert_min_norm(model, X, y, fit_intercept=fit_intercept)
    scaled = model.coef_ * reference(X, y, fit_intercept=fit_intercept)[5]
    np.testing.assert_allclose(scaled[[6, 7]], scaled[0], rtol=1e-6)
    np.testing.assert_allclose(scaled[8], scaled[1], rtol=1e-6)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("precompute", FORMS)
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_duplicate_rows_are_weights(fit_intercept, precompute, sparse):
    X, y = data(4, 30, 50)
    X2, y2 = np.vstack([X, X[:15]]), np.concatenate([y, y[:15]])
    w = np.ones(30)
    w[:15] = 2.0
    kw = dict(fit_intercept=fit_intercept, precompute=precompute)
    wrap = sp.csr_matrix if sparse else np.asarray
    repeated = GDLinearRegressor(**kw).fit(wrap(X2), y2)
    weighted = GDLinearRegressor(**kw).fit(wrap(X), y, sample_weight=w)
    assert_min_norm(repeated, X2, y2, fit_intercept=fit_intercept)
    assert_min_norm(weighted, X, y, w, fit_intercept=fit_intercept)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("precompute", FORMS)
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("shape", [(10, 5), (10, 20), (60, 100)])
def test_sample_weight_consistency(shape, fit_intercept, precompute, sparse):
    """scikit-learn's test_linear_regression_sample_weight_consistency, with the
    minimum-norm reference added: ones, a number, a rescaling, zeros for removed rows and
    doubled weights for repeated rows all give the same fit. (Its third shape, 100 x 100,
    is full rank with kappa**2 ~ 2e7; 60 x 100 keeps the test about rank deficiency.)"""
    n, d = shape
    rng = np.random.RandomState(0)
    X, y = rng.rand(n, d), rng.rand(n)
    wrap = sp.csr_matrix if sparse else np.asarray
    kw = dict(fit_intercept=fit_intercept, precompute=precompute)

    def fit(X, y, w=None):
        model = GDLinearRegressor(**kw).fit(wrap(X), y, sample_weight=w)
        assert_min_norm(model, X, y, w, fit_intercept=fit_intercept)
        return model

    def assert_same(model, other, X, y, w):
        # Each is within rtol of the reference; so are they of each other, in the norm of
        # the scaled coefficients (a single coefficient can be small beside the others).
        _, intercept, v, kappa, offset, scale = reference(X, y, w, fit_intercept)
        rtol = 20 * kappa**2 * (TOL + 64 * EPS * np.sqrt(d))
        gap = np.linalg.norm((model.coef_ - other.coef_) * scale)
        assert gap <= rtol * np.linalg.norm(v)
        bound = rtol * (abs(intercept) + np.sum(np.abs(offset) / scale) * np.linalg.norm(v))
        assert abs(model.intercept_ - other.intercept_) <= bound

    base = fit(X, y)
    for w in (np.ones(n), 123.0):
        assert_same(fit(X, y, np.broadcast_to(w, (n,)).copy()), base, X, y, None)
    w = rng.uniform(low=0.01, high=2, size=n)
    weighted = fit(X, y, w)
    assert_same(fit(X, y, np.pi * w), weighted, X, y, w)
    # Zero weights are removed rows.
    w0 = w.copy()
    w0[-5:] = 0.0
    y = y.copy()
    y[-5:] *= 1000  # (which makes excluding them matter)
    # The references agree (the premise), and so do the fits.
    kept = reference(X[:-5], y[:-5], w[:-5], fit_intercept)
    np.testing.assert_allclose(reference(X, y, w0, fit_intercept)[2], kept[2], atol=1e-9)
    assert_same(fit(X, y, w0), fit(X[:-5], y[:-5], w[:-5]), X[:-5], y[:-5], w[:-5])
    # Doubled weights are repeated rows.
    half = n // 2
    w1 = w.copy()
    w1[:half] *= 2
    X2, y2 = np.vstack([X, X[:half]]), np.concatenate([y, y[:half]])
    assert_same(fit(X, y, w1), fit(X2, y2, np.concatenate([w, w[:half]])), X, y, w1)


@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize(("seed", "n", "d"), SHAPES)
def test_gram_form_equals_data_form(seed, n, d, fit_intercept):
    X, y = data(seed, n, d)
    kappa, scale = reference(X, y, fit_intercept=fit_intercept)[3::2]
    gram = GDLinearRegressor(fit_intercept=fit_intercept, precompute=True).fit(X, y)
    rows = GDLinearRegressor(fit_intercept=fit_intercept, precompute=False).fit(X, y)
    gap = np.linalg.norm((gram.coef_ - rows.coef_) * scale)
    assert gap <= 20 * kappa**2 * (TOL + 64 * EPS * np.sqrt(d)) * np.linalg.norm(gram.coef_ * scale)
