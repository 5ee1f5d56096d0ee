"""Penalties: the registry contract, and the penalised estimator against independent references.

Every expected value comes from outside gdlinreg: formulas written here (the penalty value,
soft-thresholding, the closed-form ridge solution, the lasso/elastic-net KKT conditions),
``scipy.optimize`` (the proximal problem, finite-difference gradients) and scikit-learn
(``Ridge``, ``Lasso``, ``ElasticNet``, ``LinearRegression(positive=True)``).

gdlinreg's penalised objective, with sample weights ``s`` and ``S = sum(s)``, is

    (1 / (2 S)) sum_i s_i (x_i'w + b - y_i)^2 + alpha * (rho |w|_1 + (1 - rho) / 2 |w|_2^2)

for ``loss="half_mse"`` (twice the data term for ``loss="mse"``). That is scikit-learn's
``ElasticNet(alpha, l1_ratio=rho)`` objective (whose sample weights are rescaled to sum to n)
and ``Ridge``'s divided by ``2 S`` when ``Ridge(alpha=S * alpha)``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import check_grad, minimize
from sklearn.datasets import load_diabetes
from sklearn.linear_model import ElasticNet as SkElasticNet
from sklearn.linear_model import Lasso, LinearRegression, Ridge

from gdlinreg import GDLinearRegressor
from gdlinreg.penalties import PENALTIES, get_penalty

#: The l1 share of every registry entry: None means the ``l1_ratio`` passed. A new entry must be
#: added here (test_every_registry_entry_is_covered), so the contract tests below pick it up.
L1_SHARE = {"l2": 0.0, "l1": 1.0, "elasticnet": None}
#: The accuracy asked of the estimator against scikit-learn.
RTOL = 1e-6
#: scikit-learn's coordinate descent run to (almost) rounding.
CD = {"tol": 1e-14, "max_iter": 1_000_000}
#: Enough budget for the iterative solvers that the tol criterion, not max_iter, stops them.
LONG = {"max_iter": 100_000}

SETTINGS = settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _share(name, l1_ratio):
    share = L1_SHARE[name]
    return l1_ratio if share is None else share


# --------------------------------------------------------------------------------------------
# Independent references
# --------------------------------------------------------------------------------------------


def penalty_formula(coef, alpha, rho, weights=1.0):
    """alpha * (rho * sum|v| + (1 - rho)/2 * sum v^2) of v = weights * coef, per leading index."""
    v = np.asarray(weights) * coef
    return alpha * (rho * np.abs(v).sum(axis=(-2, -1)) + (1 - rho) / 2 * (v * v).sum(axis=(-2, -1)))


def soft_threshold(v, threshold):
    """argmin_x 0.5 (x - v)^2 + threshold |x|, coordinatewise, written case by case."""
    return np.where(v > threshold, v - threshold, np.where(v < -threshold, v + threshold, 0.0))


def prox_by_scipy(v, threshold):
    """argmin_x 0.5 |x - v|^2 + sum threshold |x| by L-BFGS-B on the split x = u - z, u, z >= 0
    (a smooth, bound-constrained problem with the same minimiser)."""
    v, t = v.ravel(), np.broadcast_to(threshold, v.shape).ravel()
    m = v.size

    def f(uz):
        u, z = uz[:m], uz[m:]
        r = u - z - v
        return 0.5 * r @ r + t @ (u + z), np.concatenate([r + t, -r + t])

    res = minimize(
        f,
        np.zeros(2 * m),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0, None)] * (2 * m),
        options={"ftol": 0, "gtol": 1e-13, "maxiter": 10_000},
    )
    return res.x[:m] - res.x[m:]


def weighted_stats(X, y, sample_weight):
    s = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, float)
    x_mean = np.average(X, axis=0, weights=s)
    y_mean = np.average(y, axis=0, weights=s)
    return s, x_mean, y_mean


def ridge_closed_form(X, y, alpha, sample_weight=None):
    """Centre, then solve (Xc' W Xc + S alpha I) w = Xc' W yc; b = ybar - xbar'w."""
    s, xm, ym = weighted_stats(X, y, sample_weight)
    Xc, yc = X - xm, y - ym
    A = Xc.T @ (s[:, None] * Xc) + s.sum() * alpha * np.eye(X.shape[1])
    w = np.linalg.solve(A, Xc.T @ (s * yc))
    return w, ym - xm @ w


def objective(X, y, coef, intercept, sample_weight, alpha, rho):
    """gdlinreg's half-MSE objective with the elastic-net penalty, from its definition."""
    s = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    r = X @ coef + intercept - y
    return 0.5 * np.sum(s * r * r) / s.sum() + penalty_formula(coef[:, None], alpha, rho)


def assert_matches(model, coef, intercept, rtol=RTOL):
    """Componentwise relative error of every coefficient (zeros must be exact) and the intercept."""
    coef = np.asarray(coef)
    np.testing.assert_array_equal(model.coef_ == 0.0, coef == 0.0)
    np.testing.assert_allclose(model.coef_, coef, rtol=rtol, atol=0)
    np.testing.assert_allclose(model.intercept_, intercept, rtol=rtol, atol=0)


def standardise(X, sample_weight=None):
    s, xm, _ = weighted_stats(X, X[:, 0], sample_weight)
    sd = np.sqrt(np.average((X - xm) ** 2, axis=0, weights=s))
    return (X - xm) / sd


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


def diabetes():
    """Unscaled, with offsets: columns of standard deviation about 4.8 around 5."""
    X, y = load_diabetes(return_X_y=True)
    return X * 100 + 5, y


def random_design(n=200, d=6, seed=0):
    """Columns with spreads from 0.5 to 20 and offsets up to +-50, effects (coefficient times
    spread) from 3 down to 0.01 so that the lasso zeroes some, unit noise, and positive sample
    weights (ten of them zero)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 20, d) + rng.uniform(-50, 50, d)
    effects = rng.permutation(np.geomspace(3, 0.01, d)) * rng.choice([-1, 1], d)
    y = X @ (effects / X.std(0)) + 7 + rng.normal(size=n)
    sw = rng.uniform(0.1, 3, n)
    sw[:10] = 0.0
    return X, y, sw


# --------------------------------------------------------------------------------------------
# 1. The registry contract
# --------------------------------------------------------------------------------------------

NAMES = sorted(PENALTIES)
CASES = [(0.7, 0.3), (2.5, 0.9), (1e-3, 0.0)]  # (alpha, l1_ratio passed)


def test_every_registry_entry_is_covered():
    assert set(PENALTIES) == set(L1_SHARE)
    for name, cls in PENALTIES.items():
        assert cls.name == name


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("alpha", "l1_ratio"), CASES)
def test_value_is_the_elastic_net_formula(name, alpha, l1_ratio):
    rho = _share(name, l1_ratio)
    pen = PENALTIES[name](alpha=alpha, l1_ratio=l1_ratio)
    rng = np.random.default_rng(1)
    coef = rng.normal(size=(5, 2)) * 3
    weights = np.array([[0.5], [2.0], [0.0], [1.0], [7.0]])  # one unpenalised coordinate
    np.testing.assert_allclose(pen.value(coef), penalty_formula(coef, alpha, rho), rtol=1e-14)
    np.testing.assert_allclose(
        pen.value(coef, weights), penalty_formula(coef, alpha, rho, weights), rtol=1e-14
    )
    # Written out for one coordinate: alpha * (rho |c| + (1 - rho)/2 c^2).
    one = np.array([[-2.0]])
    expected = alpha * (rho * 2.0 + (1 - rho) / 2 * 4.0)
    assert pen.value(one) == pytest.approx(expected, rel=1e-15)
    # A stack of parameters (as fixed-step blocks evaluate) gives one value per member.
    stack = rng.normal(size=(4, 5, 2))
    np.testing.assert_allclose(
        pen.value(stack, weights), penalty_formula(stack, alpha, rho, weights), rtol=1e-14
    )


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("alpha", "l1_ratio"), CASES)
@pytest.mark.parametrize("step", [0.3, 1.0, 4.0])
def test_prox_is_soft_thresholding_of_the_l1_part(name, alpha, l1_ratio, step):
    rho = _share(name, l1_ratio)
    pen = PENALTIES[name](alpha=alpha, l1_ratio=l1_ratio)
    rng = np.random.default_rng(2)
    v = rng.normal(size=(6, 3)) * 2
    v[0, 0] = 0.0
    weights = np.array([[1.0], [0.0], [0.25], [3.0], [1.0], [0.5]])
    before = v.copy()
    for w in (1.0, weights):
        threshold = step * alpha * rho * np.asarray(w)
        expected = soft_threshold(v, np.broadcast_to(threshold, v.shape))
        got = pen.prox(v, step, w)
        np.testing.assert_allclose(got, expected, rtol=1e-15, atol=0)
        np.testing.assert_array_equal(got == 0.0, expected == 0.0)  # exact zeros
    np.testing.assert_array_equal(v, before)  # the input is not modified
    if rho > 0:  # the case is not vacuous: some coordinates are zeroed, some are not
        zeroed = pen.prox(v, step, weights) == 0.0
        assert zeroed.any() and not zeroed.all()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", range(3))
def test_prox_is_the_minimiser_found_by_scipy(name, seed):
    rng = np.random.default_rng(seed)
    alpha, l1_ratio, step = rng.uniform(0.2, 2), rng.uniform(0.1, 0.9), rng.uniform(0.2, 2)
    rho = _share(name, l1_ratio)
    pen = PENALTIES[name](alpha=alpha, l1_ratio=l1_ratio)
    v = rng.normal(size=(5, 2)) * 2
    weights = rng.uniform(0, 2, size=(5, 1))
    threshold = np.broadcast_to(step * alpha * rho * weights, v.shape)
    expected = prox_by_scipy(v, threshold).reshape(v.shape)
    got = pen.prox(v, step, weights)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-8)

    def prox_objective(x):
        return 0.5 * np.sum((x - v) ** 2) + np.sum(threshold * np.abs(x))

    assert prox_objective(got) <= prox_objective(expected) + 1e-14


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("alpha", "l1_ratio"), CASES)
def test_smooth_gradient_matches_finite_differences(name, alpha, l1_ratio):
    rho = _share(name, l1_ratio)
    pen = PENALTIES[name](alpha=alpha, l1_ratio=l1_ratio)
    rng = np.random.default_rng(3)
    shape = (4, 2)
    weights = np.array([[1.0], [0.0], [2.0], [0.3]])

    def smooth(x):  # the smooth part, from the formula: alpha (1 - rho)/2 |weights * x|^2
        return alpha * (1 - rho) / 2 * np.sum((weights * x.reshape(shape)) ** 2)

    def grad(x):
        return pen.smooth_gradient(x.reshape(shape), weights).ravel()

    for _ in range(3):
        x = rng.normal(size=shape).ravel() * 2
        g = grad(x)
        scale = max(1.0, float(np.linalg.norm(g)))
        assert check_grad(smooth, grad, x, epsilon=1e-6) <= 1e-6 * scale
    # And the unweighted call.
    x = rng.normal(size=shape)
    np.testing.assert_allclose(pen.smooth_gradient(x), alpha * (1 - rho) * x, rtol=1e-15)


@pytest.mark.parametrize(("name", "rho"), [("l1", 1.0), ("l2", 0.0)])
def test_l1_and_l2_are_elastic_net_with_ratio_one_and_zero_whatever_l1_ratio(name, rho):
    rng = np.random.default_rng(4)
    coef = rng.normal(size=(5, 1))
    for passed in (None, 0.15, 0.5):
        pen = get_penalty(name, alpha=0.8, l1_ratio=passed)
        assert pen.l1_ratio == rho
        assert pen.value(coef) == pytest.approx(penalty_formula(coef, 0.8, rho), rel=1e-14)
        expected = soft_threshold(coef, 0.5 * 0.8 * rho)
        np.testing.assert_allclose(pen.prox(coef, 0.5), expected, rtol=1e-15)
    enet = get_penalty("elasticnet", alpha=0.8, l1_ratio=rho)
    np.testing.assert_allclose(enet.value(coef), penalty_formula(coef, 0.8, rho), rtol=1e-14)


def test_get_penalty_none_and_unknown():
    assert get_penalty(None, alpha=1.0, l1_ratio=0.5) is None
    with pytest.raises(ValueError, match="elasticnet"):
        get_penalty("lasso", alpha=1.0, l1_ratio=0.5)


# --------------------------------------------------------------------------------------------
# 2. The estimator against scikit-learn, at matched scaling
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", ["half_mse", "mse"])
@pytest.mark.parametrize(("penalty", "rho"), [("l2", 0.0), ("l1", 1.0), ("elasticnet", 0.3)])
def test_alpha_conversions_between_the_objectives(loss, penalty, rho):
    """The objective gdlinreg reports (loss_curve_, at the stored iterates) is the formula
    above; and, from the definitions: Ridge's sum(s r^2) + A |w|^2 is 2 S times it when
    A = S alpha; ElasticNet's (weights rescaled to sum to n) is it with the same alpha; MSE
    with 2 alpha is twice half-MSE with alpha."""
    X, y, sw = random_design(n=40, d=3, seed=5)
    S, alpha = sw.sum(), 0.7
    model = GDLinearRegressor(
        loss=loss,
        penalty=penalty,
        alpha=alpha,
        l1_ratio=rho,
        solver="agd",
        tol=None,
        max_iter=4,
        store_path=True,
    )
    model.fit(X, y, sample_weight=sw, coef_init=[0.3, -0.2, 0.1])
    path = zip(model.coef_path_[1:], model.intercept_path_[1:], model.loss_curve_, strict=True)
    factor = 2.0 if loss == "mse" else 1.0
    for coef, b, reported in path:
        r = X @ coef + b - y
        half = objective(X, y, coef, b, sw, alpha, rho)
        data = 0.5 * np.sum(sw * r * r) / S
        assert reported == pytest.approx(half + (factor - 1) * data, rel=1e-12)
        if penalty == "l2":
            ridge = np.sum(sw * r * r) + (S * alpha) * coef @ coef
            assert ridge == pytest.approx(2 * S * half, rel=1e-12)
        s_n = sw * len(y) / S  # scikit-learn's rescaled weights
        enet = np.sum(s_n * r * r) / (2 * len(y)) + alpha * (
            rho * np.abs(coef).sum() + (1 - rho) / 2 * coef @ coef
        )
        assert enet == pytest.approx(half, rel=1e-12)
        mse = np.sum(sw * r * r) / S + penalty_formula(coef[:, None], 2 * alpha, rho)
        assert mse == pytest.approx(2 * half, rel=1e-12)


def _data(kind):
    if kind == "diabetes":
        X, y = diabetes()
        return X, y, None
    return random_design()


def _weight_sum(X, sw):
    return X.shape[0] if sw is None else float(np.sum(sw))


@pytest.mark.parametrize("kind", ["diabetes", "weighted"])
@pytest.mark.parametrize("alpha", [0.05, 1.0, 10.0])
def test_l2_equals_ridge_with_alpha_times_weight_sum(kind, alpha):
    X, y, sw = _data(kind)
    ridge_alpha = _weight_sum(X, sw) * alpha  # S * alpha
    ref = Ridge(alpha=ridge_alpha).fit(X, y, sample_weight=sw)
    model = GDLinearRegressor(penalty="l2", alpha=alpha).fit(X, y, sample_weight=sw)
    assert model.solver_ == "cg"
    assert_matches(model, ref.coef_, ref.intercept_)
    # Not vacuous: Ridge(alpha) without the conversion is a different model.
    other = Ridge(alpha=alpha).fit(X, y, sample_weight=sw)
    assert np.max(np.abs(other.coef_ - ref.coef_)) > 1e-3 * np.max(np.abs(ref.coef_))


@pytest.mark.parametrize("kind", ["diabetes", "weighted"])
@pytest.mark.parametrize("scale", [0.05, 0.2, 0.5])
def test_l1_equals_lasso_with_exact_zeros(kind, scale):
    X, y, sw = _data(kind)
    s, xm, ym = weighted_stats(X, y, sw)
    alpha_max = np.max(np.abs((X - xm).T @ (s * (y - ym)))) / s.sum()  # all-zero above it
    alpha = scale * alpha_max
    ref = Lasso(alpha=alpha, **CD).fit(X, y, sample_weight=sw)
    assert (ref.coef_ == 0).any() and (ref.coef_ != 0).any()  # some zeros, not all
    model = GDLinearRegressor(penalty="l1", alpha=alpha, **LONG).fit(X, y, sample_weight=sw)
    assert model.solver_ == "agd"
    assert_matches(model, ref.coef_, ref.intercept_)


@pytest.mark.parametrize("kind", ["diabetes", "weighted"])
@pytest.mark.parametrize(("alpha", "l1_ratio"), [(0.5, 0.3), (3.0, 0.7), (30.0, 0.5)])
def test_elasticnet_equals_sklearn_elasticnet(kind, alpha, l1_ratio):
    X, y, sw = _data(kind)
    ref = SkElasticNet(alpha=alpha, l1_ratio=l1_ratio, **CD).fit(X, y, sample_weight=sw)
    model = GDLinearRegressor(penalty="elasticnet", alpha=alpha, l1_ratio=l1_ratio, **LONG)
    model.fit(X, y, sample_weight=sw)
    assert model.solver_ == "agd"
    assert_matches(model, ref.coef_, ref.intercept_)


def test_elasticnet_zeroes_the_same_coefficients_as_sklearn():
    X, y = diabetes()
    ref = SkElasticNet(alpha=30.0, l1_ratio=0.5, **CD).fit(X, y)
    assert 0 < np.sum(ref.coef_ == 0) < X.shape[1]
    model = GDLinearRegressor(penalty="elasticnet", alpha=30.0, l1_ratio=0.5, **LONG).fit(X, y)
    np.testing.assert_array_equal(
        np.flatnonzero(model.coef_ == 0.0), np.flatnonzero(ref.coef_ == 0)
    )


def _reference(penalty, alpha, S):
    if penalty == "l2":
        return Ridge(alpha=S * alpha)
    if penalty == "l1":
        return Lasso(alpha=alpha, **CD)
    return SkElasticNet(alpha=alpha, l1_ratio=0.4, **CD)


@pytest.mark.parametrize("penalty", ["l2", "l1", "elasticnet"])
def test_mse_needs_alpha_doubled_for_the_same_minimiser(penalty):
    X, y, sw = random_design()
    alpha = 0.3
    ref = _reference(penalty, alpha, sw.sum()).fit(X, y, sample_weight=sw)
    kw = {"loss": "mse", "penalty": penalty, "l1_ratio": 0.4, **LONG}
    doubled = GDLinearRegressor(alpha=2 * alpha, **kw).fit(X, y, sample_weight=sw)
    assert_matches(doubled, ref.coef_, ref.intercept_)
    same = GDLinearRegressor(alpha=alpha, **kw).fit(X, y, sample_weight=sw)
    assert np.max(np.abs(same.coef_ - ref.coef_)) > 1e-3 * np.max(np.abs(ref.coef_))


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
@pytest.mark.parametrize("solver", ["auto", "agd"])
@pytest.mark.parametrize("weighted", [False, True])
def test_intercept_is_never_penalised(penalty, solver, weighted):
    X, y, sw = random_design()
    sw = sw if weighted else None
    model = GDLinearRegressor(penalty=penalty, alpha=1e8, solver=solver).fit(X, y, sample_weight=sw)
    assert np.all(model.coef_ == 0.0)
    mean = np.average(y, weights=sw)
    assert model.intercept_ == pytest.approx(mean, rel=1e-12)
    # A mean far from zero: an intercept shrunk towards 0 would show.
    assert abs(mean) > 1.0


def test_intercept_is_never_penalised_by_textbook_gd():
    X, y, sw = random_design()
    Xs = standardise(X, sw) + 10.0  # standardised spread, offsets kept
    model = GDLinearRegressor(penalty="l1", alpha=1e8, solver="gd", **LONG)
    model.fit(Xs, y, sample_weight=sw)
    assert np.all(model.coef_ == 0.0)
    mean = np.average(y, weights=sw)
    assert model.intercept_ == pytest.approx(mean, rel=RTOL)
    assert abs(mean) > 1.0


def test_huge_l2_shrinks_coefficients_but_not_the_intercept():
    X, y, sw = random_design()
    model = GDLinearRegressor(penalty="l2", alpha=1e10).fit(X, y, sample_weight=sw)
    ref = Ridge(alpha=1e10 * sw.sum()).fit(X, y, sample_weight=sw)
    assert np.max(np.abs(model.coef_)) < 1e-8
    assert model.intercept_ == pytest.approx(ref.intercept_, rel=1e-9)


@pytest.mark.parametrize(
    ("penalty", "d"),
    [
        pytest.param("l2", 6),
        ("l2", 20),  # more than 16 parameters: the generic loop, which applies the penalty
        ("l1", 6),
        ("elasticnet", 6),
    ],
)
def test_textbook_gd_on_standardised_data_matches_sklearn(penalty, d):
    X, y, sw = random_design(d=d, seed=6)
    Xs = standardise(X, sw)
    alpha = 0.1
    ref = _reference(penalty, alpha, sw.sum()).fit(Xs, y, sample_weight=sw)
    model = GDLinearRegressor(penalty=penalty, alpha=alpha, l1_ratio=0.4, solver="gd", **LONG)
    model.fit(Xs, y, sample_weight=sw)
    assert model.solver_ == "gd"
    assert_matches(model, ref.coef_, ref.intercept_)


def _small_spread_problem():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=50), 0.001 * rng.normal(size=50)])
    y = X @ [1.0, 0.0] + 0.5 * rng.normal(size=50)
    Z = standardise(X)
    assert np.linalg.cond(Z.T @ Z) < 2  # the data are as well conditioned as can be
    return X, y


@pytest.mark.parametrize("max_iter", [1000, 100_000])
def test_elasticnet_is_accurate_when_a_column_has_a_small_spread(max_iter):
    X, y = _small_spread_problem()
    ref = SkElasticNet(alpha=0.5, l1_ratio=0.5, **CD).fit(X, y)
    model = GDLinearRegressor(penalty="elasticnet", alpha=0.5, l1_ratio=0.5, max_iter=max_iter)
    assert_matches(model.fit(X, y), ref.coef_, ref.intercept_)


@pytest.mark.parametrize(
    "options",
    [
        {"solver": "auto"},  # conjugate gradients: unaffected
        pytest.param({"solver": "agd"}),
        pytest.param({"positive": True}),
    ],
)
def test_l2_is_accurate_when_a_column_has_a_small_spread(options):
    X, y = _small_spread_problem()
    ref = Ridge(alpha=len(y) * 0.25).fit(X, y)
    assert np.all(ref.coef_ > 0)  # the sign constraint is inactive: Ridge is the reference
    model = GDLinearRegressor(penalty="l2", alpha=0.25, **options).fit(X, y)
    assert_matches(model, ref.coef_, ref.intercept_)


@pytest.mark.parametrize("alpha", [0.5, 2.0])
def test_textbook_gd_l1_reaches_lassos_exact_zeros(alpha):
    X, y, sw = random_design(seed=6)
    Xs = standardise(X, sw)
    ref = Lasso(alpha=alpha, **CD).fit(Xs, y, sample_weight=sw)
    assert (ref.coef_ == 0).any() and (ref.coef_ != 0).any()
    model = GDLinearRegressor(penalty="l1", alpha=alpha, solver="gd", **LONG)
    model.fit(Xs, y, sample_weight=sw)
    assert_matches(model, ref.coef_, ref.intercept_)


@pytest.mark.parametrize("solver", ["auto", "agd"])
@pytest.mark.parametrize("weighted", [False, True])
def test_multi_output_l2_equals_ridge(solver, weighted):
    X, y, sw = random_design(seed=7)
    sw = sw if weighted else None
    rng = np.random.default_rng(7)
    Y = np.column_stack([y, -2 * y + X[:, 0], rng.normal(size=len(y)) * 100 - 40])
    alpha = 0.05
    ref = Ridge(alpha=_weight_sum(X, sw) * alpha).fit(X, Y, sample_weight=sw)
    model = GDLinearRegressor(penalty="l2", alpha=alpha, solver=solver, **LONG)
    model.fit(X, Y, sample_weight=sw)
    assert model.coef_.shape == (3, X.shape[1])
    assert_matches(model, ref.coef_, ref.intercept_)


def test_multi_output_l1_equals_lasso_per_target():
    X, y, sw = random_design(seed=8)
    Y = np.column_stack([y, 3 * y - X[:, 1] / X[:, 1].std()])
    ref = Lasso(alpha=0.5, **CD).fit(X, Y, sample_weight=sw)
    assert (ref.coef_ == 0).any()
    model = GDLinearRegressor(penalty="l1", alpha=0.5, **LONG).fit(X, Y, sample_weight=sw)
    assert_matches(model, ref.coef_, ref.intercept_)


@pytest.mark.parametrize("penalty", ["l2", "l1"])
def test_no_intercept_matches_sklearn(penalty):
    X, y, sw = random_design(seed=9)
    alpha = 0.3
    ref = _reference(penalty, alpha, sw.sum()).set_params(fit_intercept=False)
    ref.fit(X, y, sample_weight=sw)
    model = GDLinearRegressor(penalty=penalty, alpha=alpha, fit_intercept=False, **LONG)
    model.fit(X, y, sample_weight=sw)
    assert model.intercept_ == 0.0
    np.testing.assert_array_equal(model.coef_ == 0.0, ref.coef_ == 0.0)
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=RTOL, atol=0)


# --------------------------------------------------------------------------------------------
# 3. positive=True
# --------------------------------------------------------------------------------------------


def _positive_problem(standardised, seed=10):
    rng = np.random.default_rng(seed)
    X, _, sw = random_design(seed=seed)
    if standardised:
        X = standardise(X, sw)
    y = X @ (np.array([1, -1, 2, -0.5, 0.3, 0]) / X.std(0)) + 3 + rng.normal(size=len(X))
    return X, y, sw


@pytest.mark.parametrize(
    ("standardised", "solver"), [(False, "auto"), (False, "agd"), (True, "gd"), (True, "auto")]
)
@pytest.mark.parametrize("weighted", [False, True])
def test_positive_equals_nonnegative_least_squares(standardised, solver, weighted):
    X, y, sw = _positive_problem(standardised)
    sw = sw if weighted else None
    ref = LinearRegression(positive=True).fit(X, y, sample_weight=sw)
    assert (ref.coef_ == 0).any() and (ref.coef_ > 0).any()  # an active constraint
    unconstrained = LinearRegression().fit(X, y, sample_weight=sw)
    assert (unconstrained.coef_ < 0).any()
    model = GDLinearRegressor(positive=True, solver=solver, **LONG).fit(X, y, sample_weight=sw)
    assert np.all(model.coef_ >= 0)
    assert_matches(model, ref.coef_, ref.intercept_)


def test_positive_without_intercept():
    X, y, sw = _positive_problem(False)
    ref = LinearRegression(positive=True, fit_intercept=False).fit(X, y, sample_weight=sw)
    assert (ref.coef_ == 0).any() and (ref.coef_ > 0).any()
    model = GDLinearRegressor(positive=True, fit_intercept=False, **LONG)
    model.fit(X, y, sample_weight=sw)
    np.testing.assert_array_equal(model.coef_ == 0.0, ref.coef_ == 0.0)
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=RTOL, atol=0)


@pytest.mark.parametrize("alpha", [0.01, 0.1])
def test_positive_l1_equals_positive_lasso(alpha):
    X, y, sw = _positive_problem(False, seed=11)
    ref = Lasso(alpha=alpha, positive=True, **CD).fit(X, y, sample_weight=sw)
    assert (ref.coef_ == 0).any() and (ref.coef_ > 0).any()
    model = GDLinearRegressor(penalty="l1", alpha=alpha, positive=True, **LONG)
    model.fit(X, y, sample_weight=sw)
    assert_matches(model, ref.coef_, ref.intercept_)


def test_positive_l2_equals_nnls_on_the_augmented_ridge_system():
    """Ridge with w >= 0 is NNLS of [sqrt(s) Xc; sqrt(S alpha) I] w = [sqrt(s) yc; 0]."""
    X, y, sw = _positive_problem(False, seed=12)
    alpha = 0.2
    s, xm, ym = weighted_stats(X, y, sw)
    d = X.shape[1]
    A = np.vstack([np.sqrt(s)[:, None] * (X - xm), np.sqrt(s.sum() * alpha) * np.eye(d)])
    b = np.concatenate([np.sqrt(s) * (y - ym), np.zeros(d)])
    nnls = LinearRegression(positive=True, fit_intercept=False).fit(A, b)
    assert (nnls.coef_ == 0).any() and (nnls.coef_ > 0).any()
    model = GDLinearRegressor(penalty="l2", alpha=alpha, positive=True, **LONG)
    model.fit(X, y, sample_weight=sw)
    assert_matches(model, nnls.coef_, ym - xm @ nnls.coef_)


# --------------------------------------------------------------------------------------------
# 5. Properties on random small problems
# --------------------------------------------------------------------------------------------


@st.composite
def problems(draw):
    """A small random design with offsets and spreads, optional weights, well enough
    conditioned (standardised Gram condition number <= 1e3) for the default tol."""
    d = draw(st.integers(1, 5))
    n = draw(st.integers(d + 5, 40))
    seed = draw(st.integers(0, 2**32 - 1))
    weighted = draw(st.booleans())
    rng = np.random.default_rng(seed)
    spread = 10.0 ** rng.uniform(-2, 2, d)
    X = rng.normal(size=(n, d)) * spread + rng.uniform(-100, 100, d)
    y = X @ (rng.normal(size=d) / spread) + rng.normal() * 10 + rng.normal(size=n)
    sw = rng.uniform(0.1, 3.0, n) if weighted else None
    Z = standardise(X, sw)
    s = np.ones(n) if sw is None else sw
    assume(np.linalg.cond(Z.T @ (s[:, None] * Z)) < 1e3)
    return X, y, sw


@SETTINGS
@given(problem=problems(), log_alpha=st.floats(-3, 1))
def test_l2_equals_the_closed_form_ridge_solution(problem, log_alpha):
    X, y, sw = problem
    alpha = 10.0**log_alpha
    w, b = ridge_closed_form(X, y, alpha, sw)
    model = GDLinearRegressor(penalty="l2", alpha=alpha).fit(X, y, sample_weight=sw)
    # Relative to the largest coefficient in units of y (coefficient times column spread).
    s, xm, _ = weighted_stats(X, y, sw)
    sd = np.sqrt(np.average((X - xm) ** 2, axis=0, weights=s))
    scale = np.max(np.abs(w * sd))
    np.testing.assert_allclose(model.coef_ * sd, w * sd, rtol=RTOL, atol=RTOL * scale)
    y_scale = np.sqrt(np.average((y - np.average(y, weights=sw)) ** 2, weights=sw))
    assert abs(model.intercept_ - b) <= RTOL * (abs(b) + y_scale)


@SETTINGS
@given(
    problem=problems(),
    penalty=st.sampled_from(["l1", "elasticnet"]),
    l1_ratio=st.floats(0.05, 1.0),
    fraction=st.floats(0.01, 1.2),
)
def test_l1_result_satisfies_the_kkt_conditions(problem, penalty, l1_ratio, fraction):
    """At the minimiser, with g_j = (1/S) sum_i s_i x_ij r_i (r = Xw + b - y):
    sum_i s_i r_i = 0; |g_j| <= alpha rho where w_j == 0; otherwise
    g_j + alpha (1 - rho) w_j + alpha rho sign(w_j) == 0."""
    X, y, sw = problem
    rho = 1.0 if penalty == "l1" else l1_ratio
    s, xm, ym = weighted_stats(X, y, sw)
    alpha_max = np.max(np.abs((X - xm).T @ (s * (y - ym)))) / s.sum() / rho
    alpha = fraction * alpha_max  # from many nonzeros to all zero
    sd = np.sqrt(np.average((X - xm) ** 2, axis=0, weights=s))
    # Within the documented accuracy range: the standardised Hessian, penalty included, of
    # condition <= 1e3. (The l2 share adds alpha (1 - rho) / sd_j^2 to it; beyond, see
    # test_elasticnet_is_accurate_when_a_column_has_a_small_spread.)
    Z = (X - xm) / sd
    hessian = Z.T @ (s[:, None] * Z) / s.sum() + np.diag(alpha * (1 - rho) / sd**2)
    assume(np.linalg.cond(hessian) < 1e3)
    model = GDLinearRegressor(penalty=penalty, alpha=alpha, l1_ratio=l1_ratio, **LONG)
    model.fit(X, y, sample_weight=sw)
    w, b = model.coef_, model.intercept_
    r = X @ w + b - y
    g = (X - xm).T @ (s * r) / s.sum()  # equal to X'Wr/S where sum(s r) = 0, checked below
    y_sd = np.sqrt(np.average((y - ym) ** 2, weights=s))
    # Tolerances in units of y: a gradient with respect to a coefficient times its column's
    # spread (the gradient in standardised coordinates is g_j / sd_j).
    tol = 1e-6 * y_sd * sd
    assert abs(np.sum(s * r) / s.sum()) <= 1e-6 * y_sd
    zero = w == 0.0
    assert np.all(np.abs(g[zero]) <= alpha * rho + tol[zero])
    stationarity = g + alpha * (1 - rho) * w + alpha * rho * np.sign(w)
    assert np.all(np.abs(stationarity[~zero]) <= tol[~zero])
    if fraction > 1.0:
        assert np.all(zero)
