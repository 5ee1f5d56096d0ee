"""``loss="huber"`` against an independent minimiser of the same objective.

The objective, written here from its definition, is

    J(w, b) = (1 / S) sum_i s_i huber(x_i'w + b - y_i) + alpha (rho |w|_1 + (1 - rho)/2 |w|^2),
    huber(r) = r^2 / 2 if |r| <= epsilon else epsilon |r| - epsilon^2 / 2,

with sample weights ``s`` and ``S = sum(s)``. The reference minimises it with
``scipy.optimize.minimize`` (L-BFGS-B, tolerances at rounding, the intercept free). To help
L-BFGS-B on unscaled data, it works on centred, standardised columns (a change of variables, not
of the problem); an l1 part or a sign constraint is handled exactly by splitting w = u - v with
u, v >= 0, which makes the problem smooth and bound-constrained.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize, minimize_scalar
from sklearn.linear_model import LinearRegression

from gdlinreg import GDLinearRegressor

#: How close gdlinreg's objective must come to scipy's, and its coefficients.
OBJ_RTOL = 1e-9
COEF_RTOL = 1e-5
LONG = {"max_iter": 100_000}

SETTINGS = settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


# --------------------------------------------------------------------------------------------
# Independent references
# --------------------------------------------------------------------------------------------


def huber(r, eps):
    a = np.abs(r)
    return np.where(a <= eps, 0.5 * r * r, eps * a - 0.5 * eps * eps)


def huber_objective(X, y, coef, intercept, sample_weight, eps, alpha=0.0, rho=0.0):
    """J above; ``y`` (n,) or (n, k) with ``coef`` (d,) or (k, d), summed over targets."""
    s = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, float)
    r = X @ np.asarray(coef).T + intercept - y
    per = huber(r, eps)
    loss = np.sum(s @ per.reshape(len(s), -1)) / s.sum()
    w = np.ravel(coef)
    return loss + alpha * (rho * np.abs(w).sum() + (1 - rho) / 2 * w @ w)


def scipy_huber(X, y, sample_weight, eps, *, alpha=0.0, rho=0.0, positive=False, intercept=True):
    """(coef, intercept, objective) minimising J with L-BFGS-B."""
    n, d = X.shape
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    p = s / s.sum()
    xm = p @ X if intercept else np.zeros(d)
    sd = np.sqrt(p @ (X - xm) ** 2)
    ym = p @ y if intercept else 0.0
    Z, t = (X - xm) / sd, y - ym
    l1, l2 = alpha * rho, alpha * (1 - rho)
    split = l1 > 0 or positive

    def unpack(x):
        theta = x[:d] - x[d : 2 * d] if split else x[:d]
        return theta, (x[-1] if intercept else 0.0)

    def f(x):
        theta, b = unpack(x)
        w = theta / sd
        r = Z @ theta + b - t
        g = p * np.clip(r, -eps, eps)
        value = p @ huber(r, eps) + 0.5 * l2 * w @ w
        g_theta = Z.T @ g + l2 * w / sd
        if split:
            value += l1 * np.sum((x[:d] + x[d : 2 * d]) / sd)
            grads = [g_theta + l1 / sd, -g_theta + l1 / sd]
        else:
            grads = [g_theta]
        if intercept:
            grads.append([g.sum()])
        return value, np.concatenate(grads)

    m = 2 * d if split else d
    bounds = [(0, None)] * d + [(0, 0 if positive else None)] * d if split else [(None, None)] * d
    if intercept:
        bounds.append((None, None))
    res = minimize(
        f,
        np.zeros(m + int(intercept)),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"ftol": 0, "gtol": 1e-14, "maxiter": 20_000, "maxcor": 30},
    )
    theta, b = unpack(res.x)
    coef = theta / sd
    b0 = ym + b - xm @ coef
    return coef, b0, huber_objective(X, y, coef, b0, sample_weight, eps, alpha, rho)


def robust_problem(n=300, d=5, seed=1, outliers=20):
    """Unscaled columns with offsets, heavy-tailed noise, some gross outliers, and weights."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 20, d) + rng.uniform(-50, 50, d)
    coef = np.array([1.0, -1.0, 0.5, 0.05, -0.02, 0.3, -0.7][:d]) * 2 / X.std(0)
    y = X @ coef + 4 + rng.standard_t(2, size=n)
    y[rng.choice(n, outliers, replace=False)] += 50
    sw = rng.uniform(0.2, 2.0, n)
    return X, y, sw


def standardise(X):
    return (X - X.mean(0)) / X.std(0)


def assert_close(got_coef, got_intercept, coef, intercept, X, rtol=COEF_RTOL):
    """Every coefficient within ``rtol`` relative, or, for one far smaller than the others,
    within ``rtol`` of the largest effect in units of y (coefficient times its column's spread);
    the intercept within ``rtol`` relative. Zeros of the reference (bounds of the split) must
    be exact zeros."""
    spread = X.std(axis=0)
    effect = np.max(np.abs(coef * spread))
    np.testing.assert_array_equal(got_coef == 0.0, np.abs(coef * spread) <= 1e-12 * effect)
    allowed = rtol * np.maximum(np.abs(coef), effect / spread)
    assert np.all(np.abs(got_coef - coef) <= allowed), (got_coef, coef)
    np.testing.assert_allclose(got_intercept, intercept, rtol=rtol, atol=0)


def assert_objective_close(value, reference):
    assert abs(value - reference) <= OBJ_RTOL * abs(reference)


# --------------------------------------------------------------------------------------------
# The minimiser
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("eps", [0.5, 1.35, 3.0])
@pytest.mark.parametrize("weighted", [False, True])
def test_huber_reaches_the_scipy_minimiser(eps, weighted):
    X, y, sw = robust_problem()
    sw = sw if weighted else None
    coef, b, ref_value = scipy_huber(X, y, sw, eps)
    r = X @ coef + b - y
    share = np.mean(np.abs(r) > eps)
    assert 0.05 < share < 0.95  # both branches of the loss are in play
    model = GDLinearRegressor(loss="huber", epsilon=eps).fit(X, y, sample_weight=sw)
    assert model.solver_ == "newton"
    assert_objective_close(huber_objective(X, y, model.coef_, model.intercept_, sw, eps), ref_value)
    assert_close(model.coef_, model.intercept_, coef, b, X)
    # Not vacuous: least squares is far from it.
    ls = LinearRegression().fit(X, y, sample_weight=sw)
    assert np.max(np.abs(ls.coef_ / coef - 1)) > 1e-2


@pytest.mark.parametrize(
    "options",
    [
        {"solver": "gd"},
        {"solver": "gd", "line_search": True},
        {"solver": "gd", "line_search": True, "learning_rate": 1.0},  # backtracks
        {"solver": "agd", "line_search": True},
        {"line_search": True},
    ],
)
@pytest.mark.parametrize("weighted", [False, True])
def test_gd_and_line_search_reach_the_minimiser(options, weighted):
    X, y, sw = robust_problem(seed=2)
    X = standardise(X)  # textbook gd needs scaled features
    sw = sw if weighted else None
    coef, b, ref_value = scipy_huber(X, y, sw, 1.0)
    model = GDLinearRegressor(loss="huber", epsilon=1.0, **options, **LONG)
    model.fit(X, y, sample_weight=sw)
    assert model.stop_reason_ == "tol"
    assert_objective_close(huber_objective(X, y, model.coef_, model.intercept_, sw, 1.0), ref_value)
    assert_close(model.coef_, model.intercept_, coef, b, X)


@pytest.mark.parametrize(
    ("options", "reference"),
    [
        ({"penalty": "l2", "alpha": 0.5}, {"alpha": 0.5, "rho": 0.0}),
        ({"penalty": "l1", "alpha": 0.1}, {"alpha": 0.1, "rho": 1.0}),
        (
            {"penalty": "elasticnet", "alpha": 0.2, "l1_ratio": 0.5},
            {"alpha": 0.2, "rho": 0.5},
        ),
        ({"positive": True}, {"positive": True}),
        ({"fit_intercept": False}, {"intercept": False}),
    ],
    ids=["l2", "l1", "elasticnet", "positive", "no-intercept"],
)
def test_huber_with_penalties_and_constraints(options, reference):
    X, y, sw = robust_problem(seed=3)
    eps = 1.0
    coef, b, ref_value = scipy_huber(X, y, sw, eps, **reference)
    if reference.get("rho", 0.0) > 0 or "positive" in reference:
        assert (coef == 0).any() and (coef != 0).any()  # some zeros, not all
    model = GDLinearRegressor(loss="huber", epsilon=eps, **options, **LONG)
    model.fit(X, y, sample_weight=sw)
    alpha, rho = reference.get("alpha", 0.0), reference.get("rho", 0.0)
    value = huber_objective(X, y, model.coef_, model.intercept_, sw, eps, alpha, rho)
    assert_objective_close(value, ref_value)
    if options.get("positive"):
        assert np.all(model.coef_ >= 0)
    if options.get("fit_intercept") is False:
        assert model.intercept_ == 0.0 and b == 0.0
    assert_close(model.coef_, model.intercept_, coef, b, X)


def test_multi_output_huber_is_one_fit_per_target():
    X, y, sw = robust_problem(seed=4)
    rng = np.random.default_rng(4)
    Y = np.column_stack([y, -3 * y + 100, X[:, 0] / X[:, 0].std() + rng.standard_t(2, len(y))])
    model = GDLinearRegressor(loss="huber", epsilon=1.0).fit(X, Y, sample_weight=sw)
    assert model.coef_.shape == (3, X.shape[1])
    for k in range(3):
        coef, b, _ = scipy_huber(X, Y[:, k], sw, 1.0)
        assert_close(model.coef_[k], model.intercept_[k], coef, b, X)


def test_huge_l1_leaves_the_huber_location_estimate_as_intercept():
    """With every coefficient zeroed, the intercept (never penalised) minimises
    (1/S) sum s_i huber(b - y_i): Huber's M-estimate of location, not the mean."""
    X, y, sw = robust_problem(seed=5)
    model = GDLinearRegressor(loss="huber", epsilon=1.0, penalty="l1", alpha=1e8)
    model.fit(X, y, sample_weight=sw)
    assert np.all(model.coef_ == 0.0)
    res = minimize_scalar(
        lambda b: sw @ huber(b - y, 1.0) / sw.sum(),
        bracket=(np.min(y), np.max(y)),
        tol=1e-14,
    )
    assert model.intercept_ == pytest.approx(res.x, rel=1e-7)
    assert abs(res.x - np.average(y, weights=sw)) > 0.1  # the mean would be another answer


# --------------------------------------------------------------------------------------------
# Robustness and the least-squares limit
# --------------------------------------------------------------------------------------------


def test_outliers_move_huber_less_than_least_squares():
    rng = np.random.default_rng(6)
    n, d = 400, 3
    X = rng.normal(size=(n, d)) * [1.0, 5.0, 0.2] + [10.0, -3.0, 1.0]
    y_clean = X @ [2.0, -0.4, 5.0] + 1.0 + 0.3 * rng.normal(size=n)
    y = y_clean.copy()
    bad = rng.choice(n, n // 10, replace=False)
    y[bad] += rng.uniform(20, 60, bad.size)  # gross one-sided outliers
    clean = LinearRegression().fit(X, y_clean)
    ls = LinearRegression().fit(X, y)
    model = GDLinearRegressor(loss="huber", epsilon=0.5).fit(X, y)

    def distance(m):  # RMS difference of the fitted lines over the design
        return np.sqrt(
            np.mean((X @ (m.coef_ - clean.coef_) + m.intercept_ - clean.intercept_) ** 2)
        )

    assert distance(model) < 0.1 * distance(ls)
    assert np.max(np.abs(model.coef_ - clean.coef_)) < np.max(np.abs(ls.coef_ - clean.coef_))


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("solver", ["auto", "gd"])
def test_huber_with_huge_epsilon_is_least_squares(weighted, solver):
    X, y, sw = robust_problem(seed=7)
    if solver == "gd":
        X = standardise(X)
    sw = sw if weighted else None
    eps = 1e8
    ref = LinearRegression().fit(X, y, sample_weight=sw)
    assert np.max(np.abs(X @ ref.coef_ + ref.intercept_ - y)) < eps / 1e3  # all quadratic
    model = GDLinearRegressor(loss="huber", epsilon=eps, solver=solver, **LONG)
    model.fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-6, atol=0)
    np.testing.assert_allclose(model.intercept_, ref.intercept_, rtol=1e-6, atol=0)
    # ... and its objective is half the weighted mean squared error.
    s = np.ones(len(y)) if sw is None else sw
    r = X @ model.coef_ + model.intercept_ - y
    assert model.loss_curve_[-1] == pytest.approx(0.5 * s @ (r * r) / s.sum(), rel=1e-10)


# --------------------------------------------------------------------------------------------
# loss_curve_ along the stored path
# --------------------------------------------------------------------------------------------


_PATH_OPTIONS = [
    {},
    {"line_search": True},
    {"penalty": "l1", "alpha": 0.05},
    {"penalty": "l2", "alpha": 0.2, "positive": True},
]
# Textbook gd needs scaled features to converge in reasonable time.
_GD_PATH_OPTIONS = [
    {"solver": "gd"},
    {"solver": "gd", "line_search": True, "learning_rate": 1.0},
    {"penalty": "elasticnet", "alpha": 0.1, "l1_ratio": 0.3, "solver": "gd"},
]


@pytest.mark.parametrize(
    ("options", "scaled"),
    [(o, False) for o in _PATH_OPTIONS] + [(o, True) for o in _PATH_OPTIONS + _GD_PATH_OPTIONS],
)
def test_loss_curve_is_the_objective_at_the_stored_path(options, scaled):
    X, y, sw = robust_problem(n=120, seed=8)
    if scaled:
        X = standardise(X)
    eps = 1.0
    model = GDLinearRegressor(loss="huber", epsilon=eps, store_path=True, **options, **LONG)
    model.fit(X, y, sample_weight=sw)
    assert model.n_iter_ >= 3  # (Newton needs a few steps; gradient methods many)
    assert model.coef_path_.shape == (model.n_iter_ + 1, X.shape[1])
    assert model.intercept_path_.shape == (model.n_iter_ + 1,)
    alpha = options.get("alpha", 0.0)
    rho = {"l1": 1.0, "l2": 0.0, "elasticnet": options.get("l1_ratio"), None: 0.0}[
        options.get("penalty")
    ]
    values = np.array(
        [
            huber_objective(X, y, c, b, sw, eps, alpha, rho)
            for c, b in zip(model.coef_path_[1:], model.intercept_path_[1:], strict=True)
        ]
    )
    np.testing.assert_allclose(model.loss_curve_, values, rtol=1e-10, atol=0)
    np.testing.assert_array_equal(model.coef_path_[-1], model.coef_)
    # The path starts at the documented start, zeros.
    np.testing.assert_allclose(model.coef_path_[0], 0.0, atol=0)
    assert model.intercept_path_[0] == pytest.approx(0.0, abs=1e-12 * np.abs(y).max())


# --------------------------------------------------------------------------------------------
# Property: random problems
# --------------------------------------------------------------------------------------------


@SETTINGS
@given(
    seed=st.integers(0, 2**32 - 1),
    d=st.integers(1, 4),
    log_eps=st.floats(-1, 1),
    weighted=st.booleans(),
)
def test_huber_objective_matches_scipy_on_random_problems(seed, d, log_eps, weighted):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(d + 10, 80))
    spread = 10.0 ** rng.uniform(-1, 1, d)
    X = rng.normal(size=(n, d)) * spread + rng.uniform(-20, 20, d)
    y = X @ (rng.normal(size=d) / spread) + rng.normal() * 5 + rng.standard_t(2, size=n)
    sw = rng.uniform(0.1, 3.0, n) if weighted else None
    eps = 10.0**log_eps
    _, _, ref_value = scipy_huber(X, y, sw, eps)
    model = GDLinearRegressor(loss="huber", epsilon=eps, **LONG).fit(X, y, sample_weight=sw)
    value = huber_objective(X, y, model.coef_, model.intercept_, sw, eps)
    # gdlinreg is at least as low as scipy, up to OBJ_RTOL.
    assert value <= ref_value * (1 + OBJ_RTOL)
    assert_objective_close(value, ref_value)
