"""Tests of :func:`gdlinreg.gradient_descent` against independent references.

Every expected value here comes from outside gdlinreg: ``numpy.linalg.lstsq`` (weighted through
square-root weights, or on centred, standardised columns where offsets make the raw problem
ill-conditioned), a plain gradient-descent loop written from the update rule, or the closed
form of the k-th fixed-step iterate of a quadratic,
``theta_k = theta* + (I - a H)^k (theta_0 - theta*)``.

Notation: ``Z = [X | 1]`` is the augmented design, ``p = s / sum(s)`` the normalised sample
weights, ``c`` the loss factor (1/2 for half_mse, 1 for mse), so that
``J(theta) = c * sum_i p_i |z_i' theta - y_i|^2`` and ``H = 2c Z' diag(p) Z``.
"""

from __future__ import annotations

import contextlib
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gdlinreg import DivergenceError, GDLinearRegressor, GDResult, gradient_descent
from gdlinreg.datasets import load_seed_example

FACTOR = {"half_mse": 0.5, "mse": 1.0}
LOSSES = ("half_mse", "mse")

# No example database: the tests write nothing into the working tree.
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


# --------------------------------------------------------------------------------------------
# Independent references
# --------------------------------------------------------------------------------------------


def _augment(X):
    X = np.asarray(X, dtype=np.float64)
    return np.hstack([X, np.ones((X.shape[0], 1))])


def _norm_weights(n, sample_weight):
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    return s / s.sum()


def _as_2d(y):
    y = np.asarray(y, dtype=np.float64)
    return y.reshape(y.shape[0], -1)


def _hessian(X, sample_weight, loss):
    """Hessian of J in the augmented coordinates (coef, intercept), from its definition."""
    Z = _augment(X)
    p = _norm_weights(Z.shape[0], sample_weight)
    return 2.0 * FACTOR[loss] * (Z.T @ (Z * p[:, None]))


def _objective(X, y, sample_weight, loss, theta):
    """J(theta) for theta (p, k), summed over targets."""
    Z = _augment(X)
    p = _norm_weights(Z.shape[0], sample_weight)
    r = Z @ theta - _as_2d(y)
    return FACTOR[loss] * float(np.sum(p[:, None] * r * r))


def _objective_rounding(X, y, loss, theta, value):
    """A bound on the rounding error of :func:`_objective` at theta (value = J there).

    Each residual z_i' theta - y_i is a sum of terms as large as |y_i| and |x_ij theta_j|;
    its rounding error dr perturbs J = c mean(r^2) by about 2 c |r| dr.
    """
    Z = _augment(X)
    terms = np.abs(Z) @ np.abs(theta) + np.abs(_as_2d(y))
    dr = 64 * np.finfo(float).eps * float(terms.max())
    c = FACTOR[loss]
    return 2 * np.sqrt(c * value) * dr + c * dr * dr


def _wlstsq(X, y, sample_weight=None):
    """Weighted least squares in the augmented coordinates: theta* (d + 1, k)."""
    Z = _augment(X)
    root = np.sqrt(_norm_weights(Z.shape[0], sample_weight))[:, None]
    return np.linalg.lstsq(Z * root, _as_2d(y) * root, rcond=None)[0]


def _wlstsq_standardised(X, y, sample_weight=None):
    """Weighted least squares solved on centred, standardised columns; (coef (d, k), b (k,)).

    Columns with offsets of 1e3 and spreads of 1e-3 make ``[X | 1]`` far too ill-conditioned
    for a plain lstsq to serve as a reference; centring first keeps every digit.
    """
    X = np.asarray(X, dtype=np.float64)
    Y = _as_2d(y)
    p = _norm_weights(X.shape[0], sample_weight)
    x_mean, y_mean = p @ X, p @ Y
    Xc, Yc = X - x_mean, Y - y_mean
    x_std = np.sqrt(p @ (Xc * Xc))
    root = np.sqrt(p)[:, None]
    beta = np.linalg.lstsq(Xc / x_std * root, Yc * root, rcond=None)[0]
    coef = beta / x_std[:, None]
    return coef, y_mean - x_mean @ coef


def _wlstsq_no_intercept(X, y, sample_weight=None):
    """Weighted least squares without an intercept, on columns scaled to unit RMS: (d, k)."""
    X = np.asarray(X, dtype=np.float64)
    p = _norm_weights(X.shape[0], sample_weight)
    rms = np.sqrt(p @ (X * X))
    root = np.sqrt(p)[:, None]
    beta = np.linalg.lstsq(X / rms * root, _as_2d(y) * root, rcond=None)[0]
    return beta / rms[:, None]


def _equilibrated_condition(X, sample_weight=None):
    X = np.asarray(X, dtype=np.float64)
    p = _norm_weights(X.shape[0], sample_weight)
    rms = np.sqrt(p @ (X * X))
    if not np.all(rms > 0):
        return np.inf
    return float(np.linalg.cond(X / rms * np.sqrt(p)[:, None]))


def _wlstsq_standardised_user(X, y, sample_weight=None):
    """:func:`_wlstsq_standardised` in gdlinreg's shapes: coef (k, d) or (d,), intercept."""
    coef, b = _wlstsq_standardised(X, y, sample_weight)
    if np.ndim(y) == 1:
        return coef[:, 0], b[0]
    return coef.T, b


def _standardised_condition(X, sample_weight=None):
    X = np.asarray(X, dtype=np.float64)
    p = _norm_weights(X.shape[0], sample_weight)
    Xc = X - p @ X
    std = np.sqrt(p @ (Xc * Xc))
    if not np.all(std > 0):
        return np.inf
    return float(np.linalg.cond(Xc / std * np.sqrt(p)[:, None]))


def _theta(coef, intercept):
    """(coef, intercept) in gdlinreg's shapes -> theta (d + 1, k)."""
    coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))  # (k, d)
    intercept = np.atleast_1d(np.asarray(intercept, dtype=np.float64))  # (k,)
    return np.vstack([coef.T, intercept[None, :]])


def _theta_path(result):
    """The path of a GDResult as an array (n_iter + 1, d + 1, k)."""
    cp = np.asarray(result.coef_path, dtype=np.float64)
    ip = np.asarray(result.intercept_path, dtype=np.float64)
    if cp.ndim == 2:  # one target: (m, d), (m,)
        cp, ip = cp[:, None, :], ip[:, None]
    return np.concatenate([np.swapaxes(cp, 1, 2), ip[:, None, :]], axis=1)


def _closed_form_iterate(H, theta_star, theta0, step, k):
    M = np.eye(H.shape[0]) - step * H
    return theta_star + np.linalg.matrix_power(M, k) @ (theta0 - theta_star)


def _relative_error(X, y, sample_weight, coef, intercept, coef_ref, b_ref):
    """Scale-aware relative error of (coef, intercept) against a reference, per target, max.

    Coefficients are compared in units of the column spreads (|dw_j| * std_j, so a column
    scaled by 1e3 does not dominate), relative to the size of the fitted signal plus the spread
    of y; the intercept relative to |b| plus the terms |mean_j w_j| it is the difference of.
    """
    X = np.asarray(X, dtype=np.float64)
    Y = _as_2d(y)
    p = _norm_weights(X.shape[0], sample_weight)
    mean = p @ X
    std = np.sqrt(p @ (X - mean) ** 2)
    y_std = np.sqrt(p @ (Y - p @ Y) ** 2)
    theta = _theta(coef, intercept)
    w, b = theta[:-1], theta[-1]
    dw = np.linalg.norm((w - coef_ref) * std[:, None], axis=0)
    w_size = np.linalg.norm(coef_ref * std[:, None], axis=0) + y_std
    db = np.abs(b - b_ref)
    b_size = np.abs(b_ref) + np.abs(mean) @ np.abs(coef_ref) + y_std
    return float(max(np.max(dw / w_size), np.max(db / b_size)))


def _reference_gd_tutorial(x, y, w, b, step, loss, n_steps):
    """Textbook GD on one feature, in plain Python floats, gradients written out by hand.

    half_mse: J = 1/(2n) sum r_i^2, dJ/dw = 1/n sum r_i x_i, dJ/db = 1/n sum r_i;
    mse:      J = 1/n sum r_i^2,    dJ/dw = 2/n sum r_i x_i, dJ/db = 2/n sum r_i.
    Returns the iterates (w_k, b_k) for k = 0..n_steps.
    """
    n = len(x)
    mult = 1.0 if loss == "half_mse" else 2.0
    path = [(w, b)]
    for _ in range(n_steps):
        r = [w * xi + b - yi for xi, yi in zip(x, y, strict=True)]
        gw = mult * sum(ri * xi for ri, xi in zip(r, x, strict=True)) / n
        gb = mult * sum(r) / n
        w, b = w - step * gw, b - step * gb
        path.append((w, b))
    return path


def _tutorial_loss(x, y, w, b, loss):
    n = len(x)
    sq = sum((w * xi + b - yi) ** 2 for xi, yi in zip(x, y, strict=True))
    return sq / (2 * n) if loss == "half_mse" else sq / n


def _random_problem(rng, n, d, k=None, *, offset=0.0, scale=1.0, weighted=False):
    X = rng.standard_normal((n, d)) * scale + offset
    kk = 1 if k is None else k
    w = rng.standard_normal((d, kk)) / scale
    y = X @ w + rng.standard_normal(kk) + 0.1 * rng.standard_normal((n, kk))
    y = y[:, 0] if k is None else y
    s = rng.uniform(0.2, 5.0, n) if weighted else None
    return X, y, s


# --------------------------------------------------------------------------------------------
# 1. The tutorial
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", LOSSES)
def test_tutorial_iterates_match_reference_loop(loss):
    X, y = load_seed_example()
    x = [float(v) for v in X[:, 0]]
    yy = [float(v) for v in y]
    ref = _reference_gd_tutorial(x, yy, 0.48, 0.75, 0.01, loss, 1000)
    res = gradient_descent(
        X,
        y,
        loss=loss,
        solver="gd",
        learning_rate=0.01,
        tol=None,
        coef_init=[0.48],
        intercept_init=0.75,
        max_iter=1000,
        return_path=True,
    )
    assert isinstance(res, GDResult)
    assert res.solver == "gd"
    assert res.n_iter == 1000
    assert not res.converged
    assert res.learning_rate == 0.01
    assert res.coef.shape == (1,)
    assert np.ndim(res.intercept) == 0
    assert res.coef_path.shape == (1001, 1)
    assert res.intercept_path.shape == (1001,)
    assert res.loss_history.shape == (1000,)
    # The start is the start.
    assert res.coef_path[0, 0] == 0.48
    assert res.intercept_path[0] == 0.75
    for k in (1, 10, 100, 1000):
        w_ref, b_ref = ref[k]
        np.testing.assert_allclose(res.coef_path[k, 0], w_ref, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(res.intercept_path[k], b_ref, rtol=1e-12, atol=1e-12)
        # The loss after step k, computed by hand at the reference iterate.
        np.testing.assert_allclose(
            res.loss_history[k - 1], _tutorial_loss(x, yy, w_ref, b_ref, loss), rtol=1e-12
        )
    np.testing.assert_allclose(res.coef, [ref[1000][0]], rtol=1e-12)
    np.testing.assert_allclose(res.intercept, ref[1000][1], rtol=1e-12)


@pytest.mark.parametrize("loss", LOSSES)
def test_a_number_is_a_step_with_the_default_solver(loss):
    # solver="auto" (the default) with a numeric learning_rate: the textbook update with that
    # step, in the user's coordinates, from coef_init and intercept_init, for both the core
    # function and the estimator.
    X, y = load_seed_example()
    x, yy = [float(v) for v in X[:, 0]], [float(v) for v in y]
    ref = _reference_gd_tutorial(x, yy, 0.48, 0.75, 0.01, loss, 10)
    res = gradient_descent(
        X, y, loss=loss, learning_rate=0.01, max_iter=10, tol=None, coef_init=[0.48],
        intercept_init=0.75, return_path=True,
    )  # fmt: skip
    model = GDLinearRegressor(loss=loss, learning_rate=0.01, max_iter=10, tol=None)
    model.fit(X, y, coef_init=[0.48], intercept_init=0.75)
    assert res.solver == model.solver_ == "gd"
    for k in range(11):
        np.testing.assert_allclose(res.coef_path[k, 0], ref[k][0], rtol=1e-12)
        np.testing.assert_allclose(res.intercept_path[k], ref[k][1], rtol=1e-12)
    np.testing.assert_allclose(model.coef_, [ref[10][0]], rtol=1e-12)
    np.testing.assert_allclose(model.intercept_, ref[10][1], rtol=1e-12)
    # The first step's loss is the hand-computed loss at the first reference iterate.
    np.testing.assert_allclose(
        model.loss_curve_[0], _tutorial_loss(x, yy, *ref[1], loss), rtol=1e-12
    )


def test_tutorial_reference_loop_reproduces_published_numbers():
    # Guards the reference loop itself: the tutorial's half-MSE fit after 1000 steps.
    X, y = load_seed_example()
    w, b = _reference_gd_tutorial(list(X[:, 0]), list(y), 0.48, 0.75, 0.01, "half_mse", 1000)[-1]
    assert round(w, 4) == 0.7887
    assert round(b, 4) == 0.6408


@pytest.mark.parametrize("loss", LOSSES)
def test_tutorial_with_tol_reaches_least_squares(loss):
    X, y = load_seed_example()
    theta = _wlstsq(X, y)
    np.testing.assert_allclose(theta[:, 0], [0.8, 0.6], rtol=1e-12)
    res = gradient_descent(
        X,
        y,
        loss=loss,
        solver="gd",
        learning_rate=0.01,
        tol=1e-12,
        max_iter=200_000,
        coef_init=[0.48],
        intercept_init=0.75,
        return_path=True,
    )
    assert res.converged, res.message
    assert res.n_iter < 200_000
    assert len(res.loss_history) == res.n_iter
    assert res.coef_path.shape == (res.n_iter + 1, 1)
    assert res.intercept_path.shape == (res.n_iter + 1,)
    # The iteration stopped inside a block of steps: its last iterate is still the reference
    # loop's iterate number n_iter.
    x, yy = list(X[:, 0]), list(y)
    w_ref, b_ref = _reference_gd_tutorial(x, yy, 0.48, 0.75, 0.01, loss, res.n_iter)[-1]
    np.testing.assert_allclose([res.coef[0], res.intercept], [w_ref, b_ref], rtol=1e-10)
    assert res.coef_path[-1, 0] == res.coef[0]
    assert res.intercept_path[-1] == res.intercept
    assert abs(res.coef[0] - 0.8) < 1e-8
    assert abs(res.intercept - 0.6) < 1e-8
    # The objective at the end is the least-squares objective.
    j_star = _objective(X, y, None, loss, theta)
    np.testing.assert_allclose(res.loss_history[-1], j_star, rtol=1e-10)


# --------------------------------------------------------------------------------------------
# 2. Closed-form k-th iterate of fixed-step GD
# --------------------------------------------------------------------------------------------

CLOSED_FORM_CASES = [
    # (seed, n, d, n_targets, weighted, offset, scale)
    (0, 30, 1, None, False, 0.0, 1.0),
    (1, 40, 3, None, True, 2.0, 1.5),
    (2, 25, 4, 3, False, 0.0, 1.0),
    (3, 50, 2, 2, True, -1.0, 0.5),
    # Above 16 parameters the Gram form steps one at a time instead of by matrix powers.
    (4, 80, 20, 2, True, 0.5, 1.0),
    # More rows than one block of the one-pass moments (2048): exercises their merge.
    (5, 4500, 3, 2, True, 3.0, 1.0),
]


@pytest.mark.parametrize("precompute", [True, False])
@pytest.mark.parametrize("case", CLOSED_FORM_CASES)
@pytest.mark.parametrize("loss", LOSSES)
def test_gd_iterates_match_closed_form(case, precompute, loss):
    seed, n, d, k, weighted, offset, scale = case
    rng = np.random.default_rng(seed)
    X, y, s = _random_problem(rng, n, d, k, offset=offset, scale=scale, weighted=weighted)
    kk = 1 if k is None else k
    H = _hessian(X, s, loss)
    L = np.linalg.eigvalsh(H)[-1]
    step = 1.5 / L
    theta_star = _wlstsq(X, y, s)
    coef0 = rng.standard_normal(d if k is None else (k, d))
    b0 = rng.standard_normal() if k is None else rng.standard_normal(k)
    theta0 = _theta(coef0, b0)
    res = gradient_descent(
        X,
        y,
        loss=loss,
        solver="gd",
        learning_rate=step,
        tol=None,
        max_iter=2000,
        sample_weight=s,
        coef_init=coef0,
        intercept_init=b0,
        return_path=True,
        precompute=precompute,
    )
    assert res.n_iter == 2000
    assert res.learning_rate == step
    path = _theta_path(res)
    assert path.shape == (2001, d + 1, kk)
    size = np.max(np.abs(theta0 - theta_star)) + np.max(np.abs(theta_star))
    for it in (0, 1, 7, 511, 512, 513, 1024, 1025, 2000):
        expected = _closed_form_iterate(H, theta_star, theta0, step, it)
        np.testing.assert_allclose(path[it], expected, rtol=1e-9, atol=1e-9 * size, err_msg=it)
        if it:
            np.testing.assert_allclose(
                res.loss_history[it - 1],
                _objective(X, y, s, loss, expected),
                rtol=1e-9,
                atol=1e-12 * _objective(X, y, s, loss, theta0),
            )
    np.testing.assert_allclose(_theta(res.coef, res.intercept), path[-1], rtol=0, atol=0)


# --------------------------------------------------------------------------------------------
# 3. Properties over random problems
# --------------------------------------------------------------------------------------------


@st.composite
def problems(draw, allow_float32=True, intercept=True, max_condition=1e3):
    d = draw(st.integers(1, 6))
    n = draw(st.integers(max(5, d + 2), 60))
    k = draw(st.sampled_from([None, 2, 3]))
    offsets = np.array(draw(st.lists(st.floats(-1e3, 1e3), min_size=d, max_size=d)))
    scales = 10.0 ** np.array(draw(st.lists(st.floats(-3, 3), min_size=d, max_size=d)))
    if not intercept:
        # Without an intercept, offsets much larger than the spreads make the columns nearly
        # parallel: keep them comparable to the scales.
        offsets = offsets * scales / 300.0
    weighted = draw(st.booleans())
    dtype = draw(st.sampled_from([np.float64, np.float32] if allow_float32 else [np.float64]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    X = (rng.standard_normal((n, d)) * scales + offsets).astype(dtype)
    kk = 1 if k is None else k
    w = rng.standard_normal((d, kk)) / scales[:, None]
    y = X.astype(np.float64) @ w + 10 * rng.standard_normal(kk)
    y = y + 0.1 * rng.standard_normal((n, kk))
    y = y[:, 0] if k is None else y
    s = np.exp(rng.uniform(-3, 3, n)) if weighted else None
    # Full rank, with a condition number (on standardised columns, or on columns scaled to
    # unit root mean square without an intercept) that a tolerance can use.
    if intercept:
        assume(_standardised_condition(X, s) < max_condition)
    else:
        assume(_equilibrated_condition(X, s) < max_condition)
    return X, y, s


@SETTINGS
@given(problem=problems(), loss=st.sampled_from(LOSSES), start=st.booleans())
def test_auto_solver_reaches_weighted_least_squares(problem, loss, start):
    X, y, s = problem
    init = {}
    if start:  # a start far from the solution: the fixed point does not depend on it
        rng = np.random.default_rng(X.shape[0])
        shape = (X.shape[1],) if y.ndim == 1 else (y.shape[1], X.shape[1])
        init = {"coef_init": rng.standard_normal(shape) * 100, "intercept_init": -50.0}
    if start:  # (cg eliminates the intercept: its start cannot matter, and it says so)
        with pytest.warns(UserWarning, match="intercept_init has no effect with solver='cg'"):
            res = gradient_descent(X, y, loss=loss, sample_weight=s, return_path=True, **init)
    else:
        res = gradient_descent(X, y, loss=loss, sample_weight=s, return_path=True)
    assert res.solver == "cg"
    assert res.converged, res.message
    assert len(res.loss_history) == res.n_iter
    assert len(res.coef_path) == len(res.intercept_path) == res.n_iter + 1
    np.testing.assert_array_equal(res.coef_path[-1], res.coef)
    np.testing.assert_array_equal(res.intercept_path[-1], res.intercept)
    if X.dtype == np.float64:
        # loss_history is the objective at the iterates of the path, computed here by hand;
        # the loss of the solution is the least-squares minimum. Tolerance: the rounding of
        # residuals that are differences of terms as large as |y| and |x_ij w_j|.
        path = _theta_path(res)
        theta_min = _theta(*_wlstsq_standardised_user(X, y, s))
        j_min = _objective(X, y, s, loss, theta_min)
        for i in {0, res.n_iter // 2, res.n_iter - 1}:
            j = _objective(X, y, s, loss, path[i + 1])
            atol = _objective_rounding(X, y, loss, path[i + 1], j)
            np.testing.assert_allclose(res.loss_history[i], j, rtol=1e-9, atol=atol)
        atol = 2 * _objective_rounding(X, y, loss, theta_min, j_min)
        np.testing.assert_allclose(res.loss_history[-1], j_min, rtol=1e-9, atol=atol)
    coef_ref, b_ref = _wlstsq_standardised(X, y, s)
    err = _relative_error(X, y, s, res.coef, res.intercept, coef_ref, b_ref)
    if X.dtype == np.float32:
        # Results come back in float32 (about 6e-8 relative rounding) and the intercept is
        # a difference of terms as large as |mean_j coef_j|: a float32-sized tolerance.
        assert res.coef.dtype == np.float32
        assert np.asarray(res.intercept).dtype == np.float32
        assert err <= 1e-5, err
    else:
        assert res.coef.dtype == np.float64
        assert err <= 1e-6, err
    if y.ndim == 1:
        assert res.coef.shape == (X.shape[1],)
        assert np.ndim(res.intercept) == 0
    else:
        assert res.coef.shape == (y.shape[1], X.shape[1])
        assert np.shape(res.intercept) == (y.shape[1],)


@SETTINGS
@given(problem=problems(allow_float32=False), loss=st.sampled_from(LOSSES))
def test_gd_auto_step_reaches_least_squares_on_standardised_data(problem, loss):
    X, y, s = problem
    # Standardised columns (unweighted): textbook GD then needs about cond^2 * log(1/tol)
    # steps, with cond < 1e3 in the weighted metric; 2e5 steps leave a wide margin here.
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    assume(np.linalg.cond(_hessian(X, s, loss)) < 1e3)
    res = gradient_descent(
        X, y, loss=loss, solver="gd", learning_rate="auto", max_iter=200_000, sample_weight=s
    )
    assert res.solver == "gd"
    L = np.linalg.eigvalsh(_hessian(X, s, loss))[-1]
    np.testing.assert_allclose(res.learning_rate, 1.0 / L, rtol=1e-10)
    assert res.converged, res.message
    coef_ref, b_ref = _wlstsq_standardised(X, y, s)
    err = _relative_error(X, y, s, res.coef, res.intercept, coef_ref, b_ref)
    # The default tol=1e-10 bounds the last step; the distance to the minimum is at most
    # cond(H) (< 1e3) times that.
    assert err <= 1e-6, err


@SETTINGS
@given(
    problem=problems(intercept=False),
    loss=st.sampled_from(LOSSES),
    solver=st.sampled_from(["auto", "cg"]),
)
def test_no_intercept_reaches_least_squares(problem, loss, solver):
    X, y, s = problem
    res = gradient_descent(X, y, loss=loss, sample_weight=s, fit_intercept=False, solver=solver)
    assert res.converged, res.message
    assert np.all(np.asarray(res.intercept) == 0)
    coef_ref = _wlstsq_no_intercept(X, y, s)
    coef = np.atleast_2d(np.asarray(res.coef, dtype=np.float64)).T
    p = _norm_weights(X.shape[0], s)
    rms = np.sqrt(p @ (X.astype(np.float64) ** 2))
    y_rms = np.sqrt(p @ _as_2d(y) ** 2)
    err = np.max(
        np.linalg.norm((coef - coef_ref) * rms[:, None], axis=0)
        / (np.linalg.norm(coef_ref * rms[:, None], axis=0) + y_rms)
    )
    assert err <= (1e-5 if X.dtype == np.float32 else 1e-6), err


@settings(max_examples=15, deadline=None, database=None)
@given(problem=problems(allow_float32=False, max_condition=30.0), loss=st.sampled_from(LOSSES))
def test_fixed_step_agd_reaches_least_squares(problem, loss):
    X, y, s = problem
    # agd steps on standardised columns, where L <= 2c * (d + 1) <= 14: 0.05 is below 1/L.
    res = gradient_descent(
        X, y, loss=loss, solver="agd", learning_rate=0.05, sample_weight=s, max_iter=50_000
    )
    assert res.solver == "agd"
    assert res.learning_rate == 0.05
    assert res.converged, res.message
    coef_ref, b_ref = _wlstsq_standardised(X, y, s)
    err = _relative_error(X, y, s, res.coef, res.intercept, coef_ref, b_ref)
    assert err <= 1e-6, err


@pytest.mark.parametrize("precompute", [True, False])
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("n_targets", [None, 2])
def test_gd_no_intercept_matches_closed_form(n_targets, loss, precompute):
    rng = np.random.default_rng(21)
    X, y, s = _random_problem(rng, 35, 3, n_targets, offset=0.5, weighted=True)
    p = _norm_weights(35, s)
    H = 2 * FACTOR[loss] * (X.T @ (X * p[:, None]))
    step = 1.9 / np.linalg.eigvalsh(H)[-1]
    w_star = _wlstsq_no_intercept(X, y, s)
    res = gradient_descent(
        X,
        y,
        loss=loss,
        solver="gd",
        fit_intercept=False,
        learning_rate=step,
        tol=None,
        max_iter=1100,
        sample_weight=s,
        return_path=True,
        precompute=precompute,
    )
    path = _theta_path(res)[:, :-1]  # drop the intercept row
    assert np.all(np.asarray(res.intercept_path) == 0)
    M = np.eye(3) - step * H
    for it in (1, 7, 513, 1100):
        expected = w_star + np.linalg.matrix_power(M, it) @ (0 - w_star)
        np.testing.assert_allclose(path[it], expected, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("precompute", [True, False])
def test_constant_column_gets_zero_coefficient(weighted, precompute):
    rng = np.random.default_rng(3)
    X, y, s = _random_problem(rng, 30, 3, 2, offset=1.0, weighted=weighted)
    X[:, 1] = 3.0
    res = gradient_descent(X, y, sample_weight=s, precompute=precompute)
    assert res.converged, res.message
    keep = [0, 2]
    theta_ref = _wlstsq(X[:, keep], y, s)
    np.testing.assert_allclose(res.coef[:, 1], 0.0, atol=0)
    np.testing.assert_allclose(res.coef[:, keep].T, theta_ref[:-1], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(res.intercept, theta_ref[-1], rtol=1e-8, atol=1e-10)


# --------------------------------------------------------------------------------------------
# 4. mse with step a is half_mse with step 2a
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("precompute", [True, False])
@pytest.mark.parametrize("n_targets", [None, 2])
def test_mse_step_equals_half_mse_double_step(n_targets, precompute):
    rng = np.random.default_rng(42)
    X, y, s = _random_problem(rng, 40, 3, n_targets, offset=1.0, weighted=True)
    a = 0.4 / np.linalg.eigvalsh(_hessian(X, s, "mse"))[-1]
    common = {
        "solver": "gd",
        "tol": None,
        "max_iter": 1200,
        "sample_weight": s,
        "return_path": True,
        "precompute": precompute,
    }
    mse = gradient_descent(X, y, loss="mse", learning_rate=a, **common)
    half = gradient_descent(X, y, loss="half_mse", learning_rate=2 * a, **common)
    np.testing.assert_allclose(mse.coef_path, half.coef_path, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(mse.intercept_path, half.intercept_path, rtol=1e-12, atol=1e-14)
    # ... and J_mse = 2 J_half along the way.
    np.testing.assert_allclose(mse.loss_history, 2 * half.loss_history, rtol=1e-12)
    # Independent check of the common path: the closed form for half_mse with step 2a.
    H = _hessian(X, s, "half_mse")
    theta_star = _wlstsq(X, y, s)
    theta0 = np.zeros_like(theta_star)
    expected = _closed_form_iterate(H, theta_star, theta0, 2 * a, 1200)
    np.testing.assert_allclose(_theta_path(mse)[-1], expected, rtol=1e-9, atol=1e-10)


# --------------------------------------------------------------------------------------------
# 5. With step 1/L the loss never increases
# --------------------------------------------------------------------------------------------


@SETTINGS
@given(
    problem=problems(allow_float32=False),
    loss=st.sampled_from(LOSSES),
    precompute=st.booleans(),
)
def test_gd_auto_step_loss_never_increases(problem, loss, precompute):
    X, y, s = problem
    res = gradient_descent(
        X,
        y,
        loss=loss,
        solver="gd",
        learning_rate="auto",
        tol=None,
        max_iter=300,
        sample_weight=s,
        precompute=precompute,
    )
    d = X.shape[1]
    k = 1 if y.ndim == 1 else y.shape[1]
    j0 = _objective(X, y, s, loss, np.zeros((d + 1, k)))
    history = np.concatenate([[j0], res.loss_history])
    assert np.all(np.isfinite(history))
    L = np.linalg.eigvalsh(_hessian(X, s, loss))[-1]
    if precompute:
        np.testing.assert_allclose(res.learning_rate, 1.0 / L, rtol=1e-10)
    else:  # the data form may estimate L; its step must still be stable
        assert 0.5 / L <= res.learning_rate < 2.0 / L
    slack = 1e-12 * j0
    assert np.all(np.diff(history) <= slack), np.max(np.diff(history))
    # Never below the minimum either.
    j_star = _objective(X, y, s, loss, _wlstsq(X, y, s))
    assert res.loss_history.min() >= j_star - 1e-9 * j0


def test_gd_auto_step_tutorial_loss_never_increases():
    X, y = load_seed_example()
    for loss in LOSSES:
        res = gradient_descent(X, y, loss=loss, solver="gd", tol=None, max_iter=3000)
        x, yy = list(X[:, 0]), list(y)
        history = np.concatenate([[_tutorial_loss(x, yy, 0.0, 0.0, loss)], res.loss_history])
        assert np.all(np.diff(history) <= 1e-12 * history[0])
        L = np.linalg.eigvalsh(_hessian(X, None, loss))[-1]
        np.testing.assert_allclose(res.learning_rate, 1.0 / L, rtol=1e-12)


# --------------------------------------------------------------------------------------------
# 6. Divergence above 2/L
# --------------------------------------------------------------------------------------------


def _divergence_problems():
    X, y = load_seed_example()
    yield "tutorial", X, y, None
    rng = np.random.default_rng(7)
    X, y, s = _random_problem(rng, 30, 3, 2, offset=2.0, weighted=True)
    yield "random", X, y, s
    X, y, s = _random_problem(rng, 30, 20, None, weighted=True)
    yield "random-wide", X, y, s


DIVERGENCE_PROBLEMS = list(_divergence_problems())
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


@pytest.mark.parametrize("precompute", [True, False])
@pytest.mark.parametrize("factor", [1.05, 2.0, 1e6])
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("problem", DIVERGENCE_PROBLEMS, ids=lambda p: p[0])
def test_step_above_two_over_L_raises(problem, loss, factor, precompute):
    _, X, y, s = problem
    L = np.linalg.eigvalsh(_hessian(X, s, loss))[-1]
    bound = 2.0 / L
    lr = factor * bound
    with pytest.raises(DivergenceError) as info:
        gradient_descent(
            X,
            y,
            loss=loss,
            solver="gd",
            learning_rate=lr,
            max_iter=5000,
            sample_weight=s,
            precompute=precompute,
        )
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    match = re.search(rf"largest stable step for this data and loss is ({_NUMBER})", message)
    assert match, message
    np.testing.assert_allclose(float(match.group(1)), bound, rtol=1e-5)
    match = re.search(rf"learning_rate=({_NUMBER})", message)
    assert match, message
    np.testing.assert_allclose(float(match.group(1)), lr, rtol=1e-5)
    history = info.value.loss_history
    assert np.all(np.isfinite(history))
    assert len(history) < 5000


@pytest.mark.parametrize("precompute", [True, False])
@pytest.mark.parametrize("factor", [0.999, 1 - 1e-6])
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("problem", DIVERGENCE_PROBLEMS, ids=lambda p: p[0])
def test_step_just_below_two_over_L_does_not_raise(problem, loss, factor, precompute):
    _, X, y, s = problem
    H = _hessian(X, s, loss)
    lr = factor * 2.0 / np.linalg.eigvalsh(H)[-1]
    res = gradient_descent(
        X,
        y,
        loss=loss,
        solver="gd",
        learning_rate=lr,
        tol=None,
        max_iter=3000,
        sample_weight=s,
        return_path=True,
        precompute=precompute,
    )
    assert res.n_iter == 3000
    assert np.all(np.isfinite(res.coef_path))
    assert np.all(np.isfinite(res.intercept_path))
    assert np.all(np.isfinite(res.loss_history))
    # Every eigen-component shrinks (|1 - a lambda| < 1), so the loss never exceeds its start.
    j0 = _objective(X, y, s, loss, _theta_path(res)[0])
    assert res.loss_history.max() <= j0 * (1 + 1e-9)
    theta_star = _wlstsq(X, y, s)
    expected = _closed_form_iterate(H, theta_star, np.zeros_like(theta_star), lr, 3000)
    size = np.max(np.abs(theta_star))
    np.testing.assert_allclose(_theta_path(res)[-1], expected, rtol=1e-8, atol=1e-8 * size)


def _near_degenerate_problem():
    """Centred, orthogonal columns: H = diag(2, 1.999, 0.5) and 1 for the intercept."""
    rng = np.random.default_rng(0)
    n = 200
    q = np.linalg.qr(np.hstack([np.ones((n, 1)), rng.standard_normal((n, 3))]))[0]
    X = q[:, 1:] * np.sqrt(n) * np.sqrt([2.0, 1.999, 0.5])
    y = X @ [1.0, -1.0, 0.5] + rng.standard_normal(n)
    return X, y


# With precompute=False, L once came only from a power iteration that stops when the Rayleigh
# quotient settles, which is far from the top eigenvalue when the top two are close (2 and 1.999
# here): at commit f108946 the message quoted "the largest stable step ... is 1.00019" where
# 2/L = 1.0, so a step of 1.0001, reported stable, diverges. This case guards against that.
@pytest.mark.parametrize("precompute", [True, False])
def test_divergence_message_bound_with_close_top_eigenvalues(precompute):
    X, y = _near_degenerate_problem()
    L = np.linalg.eigvalsh(_hessian(X, None, "half_mse"))[-1]
    np.testing.assert_allclose(L, 2.0, rtol=1e-12)
    with pytest.raises(DivergenceError) as info:
        gradient_descent(X, y, solver="gd", learning_rate=1.5, precompute=precompute)
    match = re.search(
        rf"largest stable step for this data and loss is ({_NUMBER})", str(info.value)
    )
    assert match, str(info.value)
    np.testing.assert_allclose(float(match.group(1)), 2.0 / L, rtol=1e-5)


# --------------------------------------------------------------------------------------------
# 7. Gram form vs data form; weights as counts; zero weights
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "d", "k", "offset"),
    [(30, 2, None, 0.0), (60, 5, 3, 50.0), (3000, 3, 2, 10.0), (50, 18, None, 1.0)],
)
def test_gram_and_data_forms_give_same_iterates(n, d, k, offset):
    rng = np.random.default_rng(n + d)
    X, y, s = _random_problem(rng, n, d, k, offset=offset, weighted=True)
    H = _hessian(X, s, "half_mse")
    step = 1.0 / np.linalg.eigvalsh(H)[-1]
    common = {
        "solver": "gd",
        "learning_rate": step,
        "tol": None,
        "max_iter": 600,
        "sample_weight": s,
        "return_path": True,
    }
    gram = gradient_descent(X, y, precompute=True, **common)
    data = gradient_descent(X, y, precompute=False, **common)
    pg, pd = _theta_path(gram), _theta_path(data)
    size = np.max(np.abs(pg))
    np.testing.assert_allclose(pg, pd, rtol=1e-10, atol=1e-10 * size)
    np.testing.assert_allclose(gram.loss_history, data.loss_history, rtol=1e-10)
    # And both against the closed form.
    theta_star = _wlstsq(X, y, s)
    expected = _closed_form_iterate(H, theta_star, pd[0], step, 600)
    np.testing.assert_allclose(pd[-1], expected, rtol=1e-8, atol=1e-8 * size)


@pytest.mark.parametrize("solver", ["auto", "agd", "gd"])
@pytest.mark.parametrize("n_targets", [None, 2])
def test_integer_weights_equal_repeated_rows(solver, n_targets):
    rng = np.random.default_rng(11)
    X, y, _ = _random_problem(rng, 25, 3, n_targets, offset=1.0)
    counts = rng.integers(1, 5, 25)
    X_rep, y_rep = np.repeat(X, counts, axis=0), np.repeat(y, counts, axis=0)
    theta_ref = _wlstsq(X_rep, y_rep)
    # The weighted reference agrees with the repeated one (checks the references).
    np.testing.assert_allclose(_wlstsq(X, y, counts), theta_ref, rtol=1e-10, atol=1e-12)
    kwargs = {"max_iter": 100_000}
    if solver == "agd":
        kwargs["learning_rate"] = 0.1
    res = gradient_descent(X, y, solver=solver, sample_weight=counts.astype(float), **kwargs)
    assert res.converged, res.message
    np.testing.assert_allclose(_theta(res.coef, res.intercept), theta_ref, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("solver", ["auto", "gd"])
@pytest.mark.parametrize("precompute", [True, False])
def test_zero_weights_equal_dropping_rows(solver, precompute):
    rng = np.random.default_rng(12)
    X, y, _ = _random_problem(rng, 40, 3, 2, offset=1.0)
    s = rng.uniform(0.5, 2.0, 40)
    s[::3] = 0.0
    keep = s > 0
    theta_ref = _wlstsq(X[keep], y[keep], s[keep])
    res = gradient_descent(
        X, y, solver=solver, sample_weight=s, max_iter=100_000, precompute=precompute
    )
    assert res.converged, res.message
    np.testing.assert_allclose(_theta(res.coef, res.intercept), theta_ref, rtol=1e-7, atol=1e-8)
    # Fixed-step paths: identical to the fit on the kept rows, and to the closed form.
    common = {
        "solver": "gd",
        "learning_rate": 0.05,
        "tol": None,
        "max_iter": 700,
        "return_path": True,
    }
    full = gradient_descent(X, y, sample_weight=s, precompute=precompute, **common)
    dropped = gradient_descent(X[keep], y[keep], sample_weight=s[keep], **common)
    np.testing.assert_allclose(_theta_path(full), _theta_path(dropped), rtol=1e-10, atol=1e-12)
    H = _hessian(X[keep], s[keep], "half_mse")
    expected = _closed_form_iterate(H, theta_ref, np.zeros_like(theta_ref), 0.05, 700)
    np.testing.assert_allclose(_theta_path(full)[-1], expected, rtol=1e-9, atol=1e-10)


def test_scalar_sample_weight_is_uniform():
    rng = np.random.default_rng(13)
    X, y, _ = _random_problem(rng, 20, 2, None)
    res = gradient_descent(X, y, sample_weight=2.5)
    np.testing.assert_allclose(_theta(res.coef, res.intercept), _wlstsq(X, y), rtol=1e-8)


# --------------------------------------------------------------------------------------------
# 8. Inputs are never modified
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["auto", "gd", "cg", "agd"])
@pytest.mark.parametrize("precompute", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_targets", [None, 2])
def test_inputs_are_not_modified(solver, precompute, dtype, n_targets):
    rng = np.random.default_rng(5)
    X, y, s = _random_problem(rng, 30, 3, n_targets, offset=5.0, weighted=True)
    X = X.astype(dtype)
    k = 1 if n_targets is None else n_targets
    coef_init = rng.standard_normal(3 if n_targets is None else (k, 3))
    intercept_init = rng.standard_normal() if n_targets is None else rng.standard_normal(k)
    intercept_init = np.asarray(intercept_init)
    copies = [a.copy() for a in (X, y, s, coef_init, intercept_init)]
    lr = "auto" if solver in ("auto", "cg") else 1e-3
    # (the centring solvers warn that the intercept's start cannot matter to them)
    expect = pytest.warns(UserWarning, match="intercept_init has no effect")
    with expect if solver != "gd" else contextlib.nullcontext():
        gradient_descent(
            X,
            y,
            solver=solver,
            learning_rate=lr,
            max_iter=50,
            sample_weight=s,
            coef_init=coef_init,
            intercept_init=intercept_init,
            return_path=True,
            precompute=precompute,
        )
    for original, copy in zip((X, y, s, coef_init, intercept_init), copies, strict=True):
        assert original.dtype == copy.dtype
        np.testing.assert_array_equal(original, copy)


def test_inputs_not_modified_when_diverging():
    X, y = load_seed_example()
    coef_init, s = np.array([0.48]), np.ones(5)
    copies = [a.copy() for a in (X, y, coef_init, s)]
    with pytest.raises(DivergenceError):
        gradient_descent(X, y, solver="gd", learning_rate=1.0, coef_init=coef_init, sample_weight=s)
    for original, copy in zip((X, y, coef_init, s), copies, strict=True):
        np.testing.assert_array_equal(original, copy)


def test_gdresult_repr_is_short_whatever_the_number_of_steps():
    """print(result) shows the fields and the arrays' shapes, not 1000 loss values."""
    X, y = load_seed_example()
    res = gradient_descent(X, y, solver="gd", learning_rate=0.01, max_iter=1000, tol=None)
    text = repr(res)
    assert str(res) == text and len(text) < 400
    for field in ("coef=", "intercept=", "n_iter=1000", "stop_reason='max_iter'", "solver='gd'"):
        assert field in text
    assert "loss_history=<float64 array of shape (1000,)" in text
    # The last loss value, from the reference loop (factor 1/2: half-MSE), to 6 digits.
    assert f"last {reference_loop_last_loss():.6g}>" in text
    # Many coefficients and a path: shapes only.
    rng = np.random.default_rng(0)
    Xw = rng.standard_normal((40, 30))
    wide = gradient_descent(Xw, Xw @ np.ones(30), return_path=True)
    assert "coef=<float64 array of shape (30,)>" in repr(wide)
    assert f"coef_path=<float64 array of shape ({wide.n_iter + 1}, 30)>" in repr(wide)
    assert len(repr(wide)) < 600


def reference_loop_last_loss():
    x, y = np.arange(1.0, 6.0), np.array([1.0, 3.0, 3.0, 3.0, 5.0])
    m = b = 0.0
    for _ in range(1000):
        r = m * x + b - y
        m, b = m - 0.01 * np.mean(r * x), b - 0.01 * np.mean(r)
    return 0.5 * np.mean((m * x + b - y) ** 2)
