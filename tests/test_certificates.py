"""A stop reason is a certificate (issue 14, deliverable 2).

``converged_`` / ``stop_reason_ == "tol"`` only where the documented criterion holds on the
full objective; otherwise "max_iter" or "stalled", with a ``ConvergenceWarning`` for a stall
whatever ``tol`` is. References: NumPy's lstsq and scikit-learn's LinearRegression.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression

from gdlinreg import GDLinearRegressor, gradient_descent

EPS = np.finfo(float).eps


def _fit(model, X, y, sample_weight=None):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y, sample_weight=sample_weight)
    return [w for w in caught if issubclass(w.category, ConvergenceWarning)]


def _lstsq(X, y, w=None):
    w = np.ones(len(y)) if w is None else w
    mean = np.average(X, axis=0, weights=w)
    Z = np.c_[X - mean, np.ones(len(y))] * np.sqrt(w)[:, None]
    sol = np.linalg.lstsq(Z, y * np.sqrt(w), rcond=None)[0]
    return sol[:-1], sol[-1] - mean @ sol[:-1]


def _standardised_cond(X):
    C = np.corrcoef(X, rowvar=False)
    eig = np.linalg.eigvalsh(np.atleast_2d(C))
    return eig[-1] / eig[0]


# ------------------------------------------------------------------- (a) mini-batch SGD


def test_sgd_noise_floor_is_not_reported_as_convergence():
    X, y = load_diabetes(return_X_y=True)
    ref = LinearRegression().fit(X, y)
    model = GDLinearRegressor(solver="gd", batch_size=32, random_state=3)
    caught = _fit(model, X, y)
    error = np.linalg.norm(model.coef_ - ref.coef_) / np.linalg.norm(ref.coef_)
    assert error > 0.1  # constant-step SGD's noise floor (solver="auto" runs "svrg" here)
    assert not model.converged_ and model.stop_reason_ == "stalled"
    assert len(caught) == 1 and "full objective" in str(caught[0].message)
    # Each certificate tested costs a pass over the data (a full gradient), counted.
    res = gradient_descent(X, y, solver="gd", batch_size=32, random_state=3)
    assert res.stop_reason == "stalled"
    same = gradient_descent(
        X, y, solver="gd", batch_size=32, random_state=3, tol=None, max_iter=res.n_iter
    )
    np.testing.assert_array_equal(same.coef, res.coef)  # the same epochs, untested
    assert res.n_passes - same.n_passes >= 1


def test_sgd_tol_certified_on_the_full_objective_where_it_holds():
    # Noise-free data: constant-step SGD converges (interpolation), and the stop is then
    # certified by the full gradient: one pass more than the statistics and the epochs.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 4))
    y = X @ [1.0, -2.0, 0.5, 3.0] + 0.7
    model = GDLinearRegressor(solver="gd", batch_size=20, random_state=0, tol=1e-8, max_iter=2000)
    assert _fit(model, X, y) == []
    assert model.converged_ and model.stop_reason_ == "tol"
    coef, b = _lstsq(X, y)
    np.testing.assert_allclose(model.coef_, coef, rtol=1e-6, atol=1e-6)
    assert model.intercept_ == pytest.approx(b, rel=1e-6)


def test_sgd_tol_none_runs_max_iter_without_warning():
    X, y = load_diabetes(return_X_y=True)
    model = GDLinearRegressor(solver="gd", batch_size=32, random_state=3, tol=None, max_iter=40)
    assert _fit(model, X, y) == []
    assert model.stop_reason_ == "max_iter" and model.n_iter_ == 40


def test_huber_partial_fit_epoch_does_not_warn():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 3))
    y = X @ [1.0, 2.0, -1.0] + rng.standard_normal(300)
    model = GDLinearRegressor(loss="huber", batch_size=32, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.partial_fit(X, y)
        model.partial_fit(X, y)
    assert model.n_iter_ == 1


def test_sgd_early_stopping_keeps_its_reason():
    X, y = load_diabetes(return_X_y=True)
    model = GDLinearRegressor(
        batch_size=32, random_state=0, early_stopping=True, n_iter_no_change=3, tol=0.0
    )
    assert _fit(model, X, y) == []
    assert model.stop_reason_ == "early_stopping" and not model.converged_


# ------------------------------------------------------------------- (b) tol=None


def _polynomial(degree, seed=0, n=60):
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 1, n))
    X = np.vander(t, degree + 1, increasing=True)[:, 1:]
    return X, np.sin(3 * t) + 0.01 * rng.standard_normal(n)


def test_tol_none_on_a_polynomial_design_is_exact_or_runs_max_iter():
    X, y = _polynomial(10)
    model = GDLinearRegressor(tol=None, max_iter=100_000)
    caught = _fit(model, X, y)
    sol = np.linalg.lstsq(np.c_[X, np.ones(len(y))], y, rcond=None)[0]
    if model.n_iter_ < model.max_iter:
        # Stopped early: only because it is exact (the tol=0 criterion, after refinement).
        assert model.stop_reason_ == "tol" and model.converged_ and caught == []
        cond = np.linalg.cond(np.c_[X, np.ones(len(y))])
        assert abs(model.intercept_ - sol[-1]) <= 1e3 * cond * EPS * max(1.0, abs(sol[-1]))


def test_tol_none_stall_warns():
    X, y = _polynomial(16)
    model = GDLinearRegressor(tol=None, max_iter=100_000)
    caught = _fit(model, X, y)
    if model.stop_reason_ == "stalled":
        assert len(caught) == 1 and "stalled" in str(caught[0].message)
    else:
        assert model.stop_reason_ in ("tol", "max_iter")


def test_tol_none_exact_is_documented_in_the_message():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3))
    y = X @ [1.0, 2.0, 3.0] + 0.1 * rng.standard_normal(50)
    model = GDLinearRegressor(solver="cg", tol=None, max_iter=1000)
    assert _fit(model, X, y) == []
    assert model.stop_reason_ in ("tol", "max_iter")
    coef, _ = _lstsq(X, y)
    np.testing.assert_allclose(model.coef_, coef, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------- (c) partial_fit


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("offset", [1.0, 1e4])
def test_partial_fit_on_well_conditioned_data_matches_fit_without_warning(seed, offset):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(2000, 5)) + offset * rng.uniform(0.5, 1, 5)
    y = X @ rng.normal(size=5) + 0.1 * rng.normal(size=2000) + offset
    w = rng.uniform(0.5, 2, 2000)
    assert _standardised_cond(X) < 1.5
    model = GDLinearRegressor()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.partial_fit(X[:1000], y[:1000], sample_weight=w[:1000])
        model.partial_fit(X[1000:], y[1000:], sample_weight=w[1000:])
    assert model.stop_reason_ == "tol"
    coef, b = _lstsq(X, y, w)
    scale = np.abs(coef).max()
    # tol=1e-10 on a condition number below 1.5 (plus the rounding floor of the offsets).
    np.testing.assert_allclose(model.coef_, coef, rtol=0, atol=1e-9 * scale)
    amplification = 1 + np.sum(np.abs(X.mean(0)) / X.std(0))
    assert abs(model.intercept_ - b) <= 1e-9 * amplification * max(abs(b), scale)


# ------------------------------------------------------------------- the property


@settings(max_examples=30)
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(30, 120),
    d=st.integers(1, 6),
    noise=st.sampled_from([0.0, 0.1]),
    offset=st.sampled_from([0.0, 10.0]),
    solver=st.sampled_from(["gd", "agd", "cg", "sgd", "svrg"]),
)
def test_converged_means_within_the_documented_tolerance(seed, n, d, noise, offset, solver):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) @ (np.eye(d) + 0.3 * rng.standard_normal((d, d)))
    X = X + offset
    y = X @ rng.standard_normal(d) + 1.0 + noise * rng.standard_normal(n)
    tol = 1e-8
    params = dict(tol=tol, max_iter=3000, random_state=0)
    if solver == "sgd":
        params.update(solver="gd", batch_size=16)
    elif solver == "svrg":
        params.update(solver="svrg", batch_size=16)
    elif solver == "gd":
        Z = np.c_[X, np.ones(n)]
        params.update(solver="gd", learning_rate=1.0 / np.linalg.eigvalsh(Z.T @ Z / n).max())
    else:
        params.update(solver=solver)
    model = GDLinearRegressor(**params)
    _fit(model, X, y)
    if not model.converged_:
        assert model.stop_reason_ != "tol"
        return
    assert model.stop_reason_ == "tol"
    coef, b = _lstsq(X, y)
    std = X.std(axis=0)
    cond = _standardised_cond(X) if d > 1 else 1.0
    v = np.abs(coef * std).max()
    bound = 10 * cond * (tol * v + 1e3 * EPS * (v + np.abs(y).max()))
    assert np.abs((model.coef_ - coef) * std).max() <= bound
    amplification = 1 + np.sum(np.abs(X.mean(0)) / std)
    assert abs(model.intercept_ - b) <= bound * amplification + tol * abs(b)
