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
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize, minimize_scalar
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import HuberRegressor, LinearRegression

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


# --------------------------------------------------------------------------------------------
# The default fit converges (Newton's method): load_diabetes and 5% gross outliers
# --------------------------------------------------------------------------------------------


def outlier_problem(n=1000, d=8, seed=0):
    """Unequal spreads and offsets, Gaussian noise, and 5% gross outliers (50 to 200 units of
    y, either sign)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 5, d) + rng.uniform(-10, 10, d)
    y = X @ rng.normal(size=d) + 3 + rng.normal(size=n)
    bad = rng.choice(n, n // 20, replace=False)
    y[bad] += rng.choice([-1.0, 1.0], bad.size) * rng.uniform(50, 200, bad.size)
    return X, y


def dataset(name):
    return load_diabetes(return_X_y=True) if name == "diabetes" else outlier_problem()


#: The tol criterion the default fit certifies (GDLinearRegressor's tol=1e-10), with a margin
#: of 100 for the rounding of this test's own gradient (a sum of n terms).
KKT_RTOL = 1e-8


def assert_first_order_optimal(X, y, sw, coef, intercept, eps, l1=0.0, l2=0.0, positive=False):
    """The optimality conditions of J, written here from its definition: the gradient of the
    smooth part ``g`` plus an l1 subgradient vanishes (``|g_j| <= l1`` at a zero coefficient;
    ``g_j >= 0`` at a zero under ``positive``), each measured as a step in units of y,
    ``g_j / std_j`` (the criterion of ``tol``), relative to the largest effect."""
    s = np.ones(len(y)) if sw is None else sw
    p = s / s.sum()
    psi = p * np.clip(X @ coef + intercept - y, -eps, eps)
    g = X.T @ psi + l2 * coef
    if l1:
        zero = coef == 0
        g = np.where(zero, np.maximum(np.abs(g) - l1, 0.0), g + l1 * np.sign(coef))
    if positive:
        g = np.where(coef == 0, np.minimum(g, 0.0), g)
    spread = X.std(axis=0)
    effect = np.max(np.abs(coef * spread))
    assert np.max(np.abs(g) / spread) <= KKT_RTOL * effect
    assert abs(psi.sum()) <= KKT_RTOL * effect  # the intercept's condition


# (penalty options, scipy_huber's arguments); alpha for each data set: some zeros, not all.
_CASES = {
    "none": ({}, {}),
    "l2": ({"penalty": "l2"}, {"rho": 0.0}),
    "l1": ({"penalty": "l1"}, {"rho": 1.0}),
    "elasticnet": ({"penalty": "elasticnet", "l1_ratio": 0.5}, {"rho": 0.5}),
    "positive": ({"positive": True}, {"positive": True}),
}
_ALPHA = {"diabetes": 0.01, "outliers": 0.3}


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("case", sorted(_CASES))
@pytest.mark.parametrize("name", ["diabetes", "outliers"])
def test_default_huber_fit_converges_within_max_iter(name, case, weighted):
    """Issue 14: FISTA needed about 1,950 steps on load_diabetes (default max_iter 1000) and
    warned; Newton's method (``solver_ == "newton"``) stops on the tol criterion, and reaches
    the scipy minimiser and the first-order conditions (ConvergenceWarning is an error)."""
    X, y = dataset(name)
    sw = np.random.default_rng(1).uniform(0.2, 2.0, len(y)) if weighted else None
    options, reference = _CASES[case]
    alpha = _ALPHA[name] if "rho" in reference else 0.0
    if alpha:
        options, reference = {**options, "alpha": alpha}, {**reference, "alpha": alpha}
    model = GDLinearRegressor(loss="huber", **options).fit(X, y, sample_weight=sw)
    assert model.solver_ == "newton"
    assert model.stop_reason_ == "tol" and model.converged_
    assert model.n_iter_ < model.max_iter
    coef, b, ref_value = scipy_huber(X, y, sw, 1.35, **reference)
    rho = reference.get("rho", 0.0)
    if rho > 0 or "positive" in reference:
        assert (coef == 0).any() and (coef != 0).any()  # some zeros, not all
    value = huber_objective(X, y, model.coef_, model.intercept_, sw, 1.35, alpha, rho)
    assert value <= ref_value * (1 + OBJ_RTOL)
    assert_objective_close(value, ref_value)
    assert_close(model.coef_, model.intercept_, coef, b, X)
    l1, l2 = alpha * rho, alpha * (1 - rho)
    positive = bool(options.get("positive"))
    assert_first_order_optimal(X, y, sw, model.coef_, model.intercept_, 1.35, l1, l2, positive)


def test_multi_output_default_fit_converges_on_every_target():
    X, y = dataset("outliers")
    rng = np.random.default_rng(3)
    Y = np.column_stack([y, -2 * y + 10, X[:, 0] + rng.standard_t(2, len(y))])
    model = GDLinearRegressor(loss="huber").fit(X, Y)
    assert model.solver_ == "newton" and model.stop_reason_ == "tol"
    for k in range(Y.shape[1]):
        coef, b, _ = scipy_huber(X, Y[:, k], None, 1.35)
        assert_close(model.coef_[k], model.intercept_[k], coef, b, X)
        assert_first_order_optimal(X, Y[:, k], None, model.coef_[k], model.intercept_[k], 1.35)


def test_huber_agd_at_max_iter_does_not_blame_collinearity():
    X, y = dataset("diabetes")
    with pytest.warns(ConvergenceWarning) as record:
        GDLinearRegressor(loss="huber", solver="agd").fit(X, y)
    message = str(record[0].message)
    assert "max_iter" in message and "collinear" not in message
    assert "solver='auto'" in message


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("hr_alpha", [1e-4, 1.0])
@pytest.mark.parametrize("name", ["diabetes", "outliers"])
def test_matches_sklearn_huber_regressor_at_its_scale(name, hr_alpha, weighted):
    r"""``HuberRegressor`` minimises over ``(w, b, sigma)``

        sum_i s_i (sigma + sigma H_m(r_i / sigma)) + a |w|^2,
        H_m(z) = z^2 if |z| < m else 2 m |z| - m^2,

    (``m`` its epsilon, ``a`` its alpha). At fixed ``sigma``, ``sigma H_m(r / sigma)`` is
    ``r^2 / sigma`` inside ``|r| < m sigma`` and ``2 m |r| - m^2 sigma`` outside: that is
    ``(2 / sigma) huber_delta(r)`` with ``huber`` as here and threshold ``delta = m sigma``. So
    at its fitted ``sigma = scale_`` its ``(w, b)`` minimise ``(2 / sigma) sum_i s_i
    huber_delta(r_i) + a |w|^2``, which is ``2 S / sigma`` times gdlinreg's objective with
    ``epsilon = m scale_``, ``penalty="l2"`` and ``alpha = a scale_ / S`` (``S = sum_i s_i``;
    gdlinreg's l2 term is ``alpha |w|^2 / 2``).

    Tolerance: HuberRegressor stops (L-BFGS-B, its ``tol`` on the projected gradient, or
    earlier on the relative decrease) with a gradient ``G`` of that objective in ``(w, b)``
    that is not zero. The objective is piecewise quadratic with Hessian ``K`` (computed here
    at its solution: ``(2 / sigma) [X 1]' diag(s_i [|r_i| <= delta]) [X 1] + 2 a I_w``), so
    its ``(w, b)`` lie within ``|G| / lambda_min(K)`` of the minimiser at that ``sigma``;
    twice that allows for a change of the inlier set in between.
    """
    X, y = dataset(name)
    X = standardise(X)  # (HuberRegressor's L-BFGS-B stops early on unscaled columns)
    s = np.random.default_rng(2).uniform(0.2, 2.0, len(y)) if weighted else np.ones(len(y))
    hr = HuberRegressor(alpha=hr_alpha, tol=1e-10, max_iter=10_000).fit(X, y, sample_weight=s)
    sigma, m = hr.scale_, hr.epsilon
    model = GDLinearRegressor(
        loss="huber", epsilon=m * sigma, penalty="l2", alpha=hr_alpha * sigma / s.sum()
    ).fit(X, y, sample_weight=s)
    assert model.stop_reason_ == "tol"
    delta = m * sigma
    r = X @ hr.coef_ + hr.intercept_ - y
    psi = s * np.clip(r, -delta, delta)
    grad = np.append((2 / sigma) * X.T @ psi + 2 * hr_alpha * hr.coef_, (2 / sigma) * psi.sum())
    Z = np.column_stack([X, np.ones(len(y))])
    K = (2 / sigma) * (Z * (s * (np.abs(r) <= delta))[:, None]).T @ Z
    K[:-1, :-1] += 2 * hr_alpha * np.eye(X.shape[1])
    bound = 2 * np.linalg.norm(grad) / np.linalg.eigvalsh(K)[0]
    theta_hr = np.append(hr.coef_, hr.intercept_)
    assert bound < 1e-2 * np.linalg.norm(theta_hr)  # HuberRegressor is close enough to test
    error = np.linalg.norm(np.append(model.coef_, model.intercept_) - theta_hr)
    assert error <= bound


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_newton_on_sparse_x_is_the_dense_fit(fmt):
    """Newton's Hessian from sparse rows (densified a block at a time, never all of X)."""
    X, y, sw = robust_problem(seed=9)
    X = np.where(np.abs(X - X.mean(0)) < X.std(0), 0.0, X)  # some structural zeros
    sparse = sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X)
    model = GDLinearRegressor(loss="huber", epsilon=1.0).fit(sparse, y, sample_weight=sw)
    assert model.solver_ == "newton" and model.stop_reason_ == "tol"
    coef, b, _ = scipy_huber(X, y, sw, 1.0)
    assert_close(model.coef_, model.intercept_, coef, b, X)


# --------------------------------------------------------------------------------------------
# partial_fit: a stream of batches, against the fit on all the data
# --------------------------------------------------------------------------------------------


def unscaled_stream(n=20_000, d=20, seed=0):
    """Columns of spreads 1e-2..1e3 around offsets up to 1e4, y near 5e3, t(3) noise: the
    stream of ``benchmarks/promise.py --only huber`` (n=100_000 there)."""
    rng = np.random.default_rng(seed)
    scale = np.logspace(-2, 3, d)
    X = rng.standard_normal((n, d)) * scale + rng.uniform(-1e4, 1e4, d)
    y = (X - X.mean(0)) @ (rng.standard_normal(d) / scale) + 5e3 + rng.standard_t(3, n)
    return X, y


def centred_stream(n=20_000, d=20, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + rng.standard_t(3, n)
    return X, y - y.mean()


def stream(model, X, y, sample_weight=None, chunks=50):
    for rows in np.array_split(np.arange(len(y)), chunks):
        s = None if sample_weight is None else sample_weight[rows]
        model.partial_fit(X[rows], y[rows], sample_weight=s)
    return model


@pytest.mark.parametrize("make", [unscaled_stream, centred_stream], ids=["unscaled", "centred"])
def test_streamed_huber_reaches_the_fit_on_all_the_data(make):
    # 50 chunks, the "auto" step: the running statistics give the coordinates, and no warning
    # (filterwarnings=error) comes with an epoch that promises no convergence.
    X, y = make()
    full = GDLinearRegressor(loss="huber").fit(X, y)
    model = stream(GDLinearRegressor(loss="huber"), X, y)
    assert model.score(X, y) == pytest.approx(full.score(X, y), abs=0.01)
    # The fit itself against scikit-learn's HuberRegressor on standardised columns.
    Z = (X - X.mean(0)) / X.std(0)
    reference = HuberRegressor(max_iter=1000).fit(Z, y)
    assert model.score(X, y) == pytest.approx(reference.score(Z, y), abs=0.01)
    # Within 2% of the minimum of the objective of all the rows.
    best = huber_objective(X, y, full.coef_, full.intercept_, None, 1.35)
    assert huber_objective(X, y, model.coef_, model.intercept_, None, 1.35) < 1.02 * best
    # One epoch a call, and no claim of convergence: a stream's objective is never tested.
    assert (model.n_iter_, model.t_, model.solver_) == (1, 50, "sgd")
    assert model.stop_reason_ == "max_iter" and not model.converged_


def test_streamed_huber_with_a_numeric_step_is_the_textbook_epoch_in_x_own_coordinates():
    # A numeric learning_rate keeps the textbook update on the user's coordinates, as fit's
    # solver="gd" does: on the unscaled stream it cannot move the intercept to y's level.
    X, y = unscaled_stream(n=5000)
    model = stream(GDLinearRegressor(loss="huber", learning_rate=1e-9), X, y)
    assert model.score(X, y) < 0
    assert model.stop_reason_ == "max_iter" and not model.converged_


def test_streamed_huber_with_weights_and_mini_batches():
    X, y = unscaled_stream(n=10_000, d=5, seed=3)
    w = np.random.default_rng(3).uniform(0.2, 2.0, len(y))
    full = GDLinearRegressor(loss="huber").fit(X, y, sample_weight=w)
    for batch_size in (None, 64):
        model = GDLinearRegressor(loss="huber", batch_size=batch_size, random_state=0)
        stream(model, X, y, w, chunks=20)
        score = model.score(X, y, sample_weight=w)
        assert score == pytest.approx(full.score(X, y, sample_weight=w), abs=0.01)


def test_streamed_huber_starts_robustly_from_its_first_batch():
    # 10% of y shifted by 1e3: the stream starts from the Huber fit of its first batch, not
    # from y's mean (100 away, some 70 bounded Huber steps), and stays with the Huber fit.
    rng = np.random.default_rng(2)
    n, d = 20_000, 5
    X = rng.standard_normal((n, d)) * [1, 10, 100, 1e3, 0.1] + rng.uniform(-1e4, 1e4, d)
    y = X @ (rng.standard_normal(d) / [1, 10, 100, 1e3, 0.1]) + 3e3 + rng.standard_normal(n)
    bad = rng.random(n) < 0.1
    y[bad] += 1e3
    full = GDLinearRegressor(loss="huber").fit(X, y)
    model = stream(GDLinearRegressor(loss="huber"), X, y)
    squares = GDLinearRegressor().fit(X, y)

    def rmse(m):  # on the rows without the shift
        return np.sqrt(np.mean((m.predict(X[~bad]) - y[~bad]) ** 2))

    assert rmse(model) < 1.01 * rmse(full) < 1.1
    assert rmse(squares) > 50


def test_streamed_huber_keeps_the_statistics_of_every_batch():
    # The running statistics are those of all the rows seen: a squared-loss partial_fit that
    # continues from them (the Gram form) is least squares on every row.
    X, y = unscaled_stream(n=3000, d=4, seed=4)
    model = stream(GDLinearRegressor(loss="huber"), X[:2990], y[:2990], chunks=5)
    model.set_params(loss="half_mse").partial_fit(X[2990:], y[2990:])
    A = np.column_stack([X - X.mean(0), np.ones(len(y))])
    solution = np.linalg.lstsq(A, y, rcond=None)[0]
    np.testing.assert_allclose(model.coef_, solution[:-1], rtol=1e-6)


def test_streamed_huber_continues_after_pickling():
    import pickle

    X, y = unscaled_stream(n=4000, d=5, seed=5)
    model = stream(GDLinearRegressor(loss="huber"), X[:2000], y[:2000], chunks=4)
    loaded = pickle.loads(pickle.dumps(model))
    stream(model, X[2000:], y[2000:], chunks=4)
    stream(loaded, X[2000:], y[2000:], chunks=4)
    np.testing.assert_array_equal(loaded.coef_, model.coef_)
    assert loaded.intercept_ == model.intercept_ and loaded.t_ == model.t_ == 8


def test_streamed_huber_on_dask_chunks_equals_the_in_memory_stream():
    # One chunk a call: the Dask epoch is the in-memory one (the same batch, the same step).
    da = pytest.importorskip("dask.array")
    dask = pytest.importorskip("dask")
    X, y = unscaled_stream(n=3000, d=5, seed=6)
    memory, chunked = GDLinearRegressor(loss="huber"), GDLinearRegressor(loss="huber")
    with dask.config.set(scheduler="sync"):
        for rows in np.array_split(np.arange(len(y)), 6):
            memory.partial_fit(X[rows], y[rows])
            chunked.partial_fit(da.from_array(X[rows], chunks=len(rows)), da.from_array(y[rows]))
    np.testing.assert_allclose(chunked.coef_, memory.coef_, rtol=1e-9)
    assert chunked.intercept_ == pytest.approx(memory.intercept_, rel=1e-12)
    assert chunked.t_ == memory.t_ == 6
