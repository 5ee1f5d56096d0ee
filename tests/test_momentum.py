"""Momentum (heavy-ball, Nesterov) and backtracking line search, against independent references.

The references are plain NumPy loops of the documented update rules in the user's coordinates
``theta = (coef, intercept)``, with ``J(theta) = sum_i p_i l(z_i' theta - y_i)``, ``z_i = (x_i, 1)``
and ``p = s / sum(s)``:

* heavy-ball: ``theta+ = theta - a grad J(theta) + mu (theta - theta_prev)``;
* Nesterov: ``theta+ = theta + mu v - a grad J(theta + mu v)``, ``v = theta - theta_prev``;
* Armijo (sufficient decrease): ``J(new) <= J(old) - step / 2 |grad J(old)|^2``.

Least-squares solutions come from ``numpy.linalg.lstsq``.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from _reference import EPSILON, curvature, design, lstsq, model_path, objective
from numpy.testing import assert_allclose

from gdlinreg import GDLinearRegressor, gradient_descent

LOSSES = ("half_mse", "mse", "huber")


def make_data(n=40, d=3, k=None, seed=0, weights=False, offset=True):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.linspace(0.6, 1.4, d)
    if offset:
        X = X + np.linspace(-0.5, 1.0, d)
    kk = 1 if k is None else k
    Y = X @ rng.standard_normal((d, kk)) + rng.standard_normal(kk)
    Y = Y + 0.5 * rng.standard_normal((n, kk))
    Y[:3] += 6.0  # a few outliers, so that Huber's linear part is active
    y = Y[:, 0] if k is None else Y
    s = rng.uniform(0.2, 3.0, n) if weights else None
    return X, y, s


def momentum_path(f, theta0, step, mu, nesterov, n_steps):
    theta, prev = theta0.copy(), theta0.copy()
    path = [theta.copy()]
    for _ in range(n_steps):
        v = theta - prev
        if nesterov:
            look = theta + mu * v
            new = look - step * f(look)[1]
        else:
            new = theta - step * f(theta)[1] + mu * v
        prev, theta = theta, new
        path.append(theta.copy())
    return np.array(path)


def _theta0(X, y):
    k = 1 if np.ndim(y) == 1 else np.shape(y)[1]
    return np.zeros((X.shape[1] + 1, k))


# ----------------------------------------------------------------------------- momentum paths


@pytest.mark.parametrize("nesterov", [False, True], ids=["heavy-ball", "nesterov"])
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("k", [None, 2])
@pytest.mark.parametrize("mu", [0.5, 0.9])
def test_momentum_path_matches_reference_loop(nesterov, loss, k, mu):
    X, y, s = make_data(k=k, weights=True, seed=1)
    step = 0.5 / curvature(X, s, loss)
    n_steps = 60
    ref = momentum_path(objective(X, y, s, loss), _theta0(X, y), step, mu, nesterov, n_steps)
    model = GDLinearRegressor(
        solver="gd",
        loss=loss,
        learning_rate=step,
        momentum=mu,
        nesterovs_momentum=nesterov,
        tol=None,
        max_iter=n_steps,
        store_path=True,
        epsilon=EPSILON,
    ).fit(X, y, sample_weight=s)
    assert model.solver_ == "gd" and model.n_iter_ == n_steps
    got = model_path(model, k)
    assert got.shape == ref.shape
    assert_allclose(got, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    # Momentum does change the path (the test would see a plain-GD implementation).
    plain = momentum_path(objective(X, y, s, loss), _theta0(X, y), step, 0.0, False, n_steps)
    assert np.abs(plain[-1] - ref[-1]).max() > 1e-6 * np.abs(ref).max()


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_path_from_an_initial_point(nesterov):
    X, y, s = make_data(seed=2)
    coef0, b0 = np.array([0.3, -0.2, 1.0]), -0.7
    theta0 = np.append(coef0, b0)[:, None]
    ref = momentum_path(objective(X, y, s, "mse"), theta0, 0.05, 0.8, nesterov, 40)
    res = gradient_descent(
        X,
        y,
        loss="mse",
        solver="gd",
        learning_rate=0.05,
        momentum=0.8,
        nesterovs_momentum=nesterov,
        tol=None,
        max_iter=40,
        coef_init=coef0,
        intercept_init=b0,
        return_path=True,
    )
    assert_allclose(res.coef_path, ref[:, :-1, 0], rtol=1e-12, atol=1e-13)
    assert_allclose(res.intercept_path, ref[:, -1, 0], rtol=1e-12, atol=1e-13)


def test_nesterov_flag_without_momentum_is_plain_gd():
    X, y, s = make_data(seed=3)
    step = 1.0 / curvature(X, s, "half_mse")
    ref = momentum_path(objective(X, y, s, "half_mse"), _theta0(X, y), step, 0.0, False, 30)
    model = GDLinearRegressor(
        solver="gd",
        learning_rate=step,
        nesterovs_momentum=True,
        tol=None,
        max_iter=30,
        store_path=True,
    ).fit(X, y)
    assert_allclose(model_path(model, None), ref, rtol=1e-12, atol=1e-13)


# ----------------------------------------------------------------------------- momentum helps


def ill_conditioned_standardised(n=200, d=5, seed=0):
    """Centred, unit-variance columns that are strongly correlated (cond ~ 300)."""
    rng = np.random.default_rng(seed)
    common = rng.standard_normal((n, 1))
    X = common + np.geomspace(0.1, 0.5, d) * rng.standard_normal((n, d))
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    y = X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n) + 2.0
    return X, y


def test_problem_is_ill_conditioned_and_standardised():
    X, _ = ill_conditioned_standardised()
    assert_allclose(X.mean(axis=0), 0.0, atol=1e-12)
    assert_allclose(X.std(axis=0), 1.0, rtol=1e-12)
    Z = np.hstack([X, np.ones((X.shape[0], 1))])
    eig = np.linalg.eigvalsh(Z.T @ Z / X.shape[0])
    assert eig[-1] / eig[0] > 300


@pytest.mark.parametrize("nesterov", [False, True], ids=["heavy-ball", "nesterov"])
def test_momentum_needs_fewer_iterations_on_ill_conditioned_problem(nesterov):
    X, y = ill_conditioned_standardised()
    common = dict(solver="gd", learning_rate="auto", tol=1e-8, max_iter=20000)
    plain = GDLinearRegressor(**common).fit(X, y)
    fast = GDLinearRegressor(momentum=0.9, nesterovs_momentum=nesterov, **common).fit(X, y)
    assert plain.converged_ and fast.converged_
    ref = lstsq(X, y)[:, 0]
    for model in (plain, fast):
        assert_allclose(model.coef_, ref[:-1], rtol=1e-5, atol=1e-6 * np.abs(ref).max())
        assert model.intercept_ == pytest.approx(ref[-1], rel=1e-6)
    assert fast.n_iter_ * 5 < plain.n_iter_, (fast.n_iter_, plain.n_iter_)


# ----------------------------------------------------------------------------- line search


# Rounding slack of the tests below: a few dozen ulps of the objective, far below the decrease
# that Armijo asks for in the steps checked (those whose move is measurable).
ULPS = 64 * np.finfo(float).eps


def _measurable(old, new):
    """A move long enough that its length (hence the step size) is known to ~1e-8."""
    return np.linalg.norm(new - old) > 1e-7 * (np.abs(old).max() + 1.0)


def _armijo_steps(f, path, lr):
    """Check every measurable step of a gd path: a gradient step ``-step * grad`` whose size
    (read off the path, |new - old| / |grad|) is ``lr / 2^j``, the largest such size meeting
    the Armijo condition. Returns the sizes ``lr / 2^j``."""
    steps = []
    for old, new in itertools.pairwise(path):
        if not _measurable(old, new):
            break
        value, grad = f(old)
        g2 = float(np.sum(grad * grad))
        step = np.linalg.norm(new - old) / np.sqrt(g2)
        assert_allclose(new, old - step * grad, rtol=0, atol=1e-9 * (np.abs(old).max() + 1))
        j = np.log2(lr / step)
        assert abs(j - round(j)) < 1e-6 and round(j) >= 0
        step = lr / 2.0 ** round(j)
        slack = ULPS * abs(value)
        assert f(new)[0] <= value - 0.5 * step * g2 + slack  # Armijo
        if round(j) > 0:  # the step twice as long was refused: it fails the Armijo test
            assert f(old - 2 * step * grad)[0] > value - step * g2 - slack
        steps.append(step)
    return np.array(steps)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("k", [None, 2])
def test_gd_line_search_steps_satisfy_armijo(loss, k):
    X, y, s = make_data(k=k, weights=True, seed=4)
    f = objective(X, y, s, loss)
    lr = 8.0 / curvature(X, s, loss)  # too long a step: backtracking must act
    model = GDLinearRegressor(
        solver="gd",
        loss=loss,
        learning_rate=lr,
        line_search=True,
        tol=None,
        max_iter=40,
        store_path=True,
        epsilon=EPSILON,
    ).fit(X, y, sample_weight=s)
    path = model_path(model, k)
    steps = _armijo_steps(f, path, lr)
    assert len(steps) == 40  # every step was measurable and checked
    assert steps.min() < lr / 2  # it did backtrack
    values = np.array([f(theta)[0] for theta in path])
    assert np.all(np.diff(values) <= ULPS * values[0])  # the loss never increases
    assert_allclose(model.loss_curve_, values[1:], rtol=1e-12)
    assert model.learning_rate_ == pytest.approx(steps[-1], rel=1e-14)


def _line_search_fit(loss, k, lr_times_l, max_iter):
    X, y, s = make_data(k=k, weights=True, seed=5, offset=False)
    lr = lr_times_l / curvature(X, s, loss)
    model = GDLinearRegressor(
        solver="gd",
        loss=loss,
        learning_rate=lr,
        line_search=True,
        tol=1e-10,
        max_iter=max_iter,
        store_path=True,
    ).fit(X, y, sample_weight=s)
    return X, y, s, model


def _assert_lstsq(model, X, y, s, rtol):
    ref = lstsq(X, y, s)
    scale = np.abs(ref).max()
    assert_allclose(np.atleast_2d(model.coef_), ref[:-1].T, rtol=rtol, atol=rtol * scale)
    assert_allclose(np.atleast_1d(model.intercept_), ref[-1], rtol=rtol, atol=rtol * scale)


@pytest.mark.parametrize("loss", ["half_mse", "mse"])
@pytest.mark.parametrize("k", [None, 2])
def test_gd_line_search_converges_to_lstsq(loss, k):
    """From a step below the stability limit 2/L, with backtracking acting on some steps."""
    X, y, s, model = _line_search_fit(loss, k, 1.9, 2000)
    assert model.converged_ and model.stop_reason_ == "tol"
    _assert_lstsq(model, X, y, s, 1e-7)
    f = objective(X, y, s, loss)
    values = np.array([f(theta)[0] for theta in model_path(model, k)])
    assert np.all(np.diff(values) <= ULPS * values[0])


@pytest.mark.parametrize("lr_times_l", [2.5, 10.0])
def test_gd_line_search_from_a_long_step_never_increases_the_loss(lr_times_l):
    X, y, s, model = _line_search_fit("half_mse", None, lr_times_l, 3000)
    f = objective(X, y, s, "half_mse")
    values = np.array([f(theta)[0] for theta in model_path(model, None)])
    assert np.diff(values).max() <= ULPS * values[0]


@pytest.mark.parametrize("lr_times_l", [2.5, 10.0])
def test_gd_line_search_from_a_long_step_converges_to_lstsq(lr_times_l):
    X, y, s, model = _line_search_fit("half_mse", None, lr_times_l, 3000)
    assert model.converged_
    _assert_lstsq(model, X, y, s, 1e-7)


def _standardised(X, s):
    p = np.ones(X.shape[0]) if s is None else s / s.sum()
    p = p / p.sum()
    mean = p @ X
    std = np.sqrt(p @ (X - mean) ** 2)
    return mean, std


@pytest.mark.parametrize("k", [None, 2])
def test_agd_line_search_steps_satisfy_armijo_and_converge(k):
    """ "agd" iterates on the centred, standardised problem ``u = std * coef`` (the intercept
    eliminated by centring). The look-ahead points are rebuilt from the stored path with the
    FISTA recurrence and adaptive restart; every step from a look-ahead point must be a
    gradient step that meets the Armijo condition, with sizes lr / 2^j that never grow."""
    X, y, s = make_data(k=k, weights=True, seed=6)
    _, Y, p = design(X, y, s)
    mean, std = _standardised(X, s)
    Xs = (X - mean) / std
    Yc = Y - p @ Y

    def f(u):
        R = Xs @ u - Yc
        return float(0.5 * p @ (R**2).sum(axis=1)), Xs.T @ (p[:, None] * R)

    lr = 50.0  # the standardised Hessian has L <= d = 3: this must be backtracked
    model = GDLinearRegressor(
        solver="agd",
        learning_rate=lr,
        line_search=True,
        tol=1e-12,
        max_iter=3000,
        store_path=True,
    ).fit(X, y, sample_weight=s)
    assert model.solver_ == "agd" and model.converged_
    coef = np.asarray(model.coef_path_)
    coef = coef[:, :, None] if k is None else np.swapaxes(coef, 1, 2)
    us = coef * std[None, :, None]
    theta, ahead, t, prev_step = us[0], us[0], 1.0, lr
    steps = []
    for new in us[1:]:
        if not _measurable(ahead, new):
            break
        value, grad = f(ahead)
        g2 = float(np.sum(grad * grad))
        step = np.linalg.norm(new - ahead) / np.sqrt(g2)
        assert_allclose(new, ahead - step * grad, rtol=0, atol=1e-9 * (np.abs(ahead).max() + 1))
        j = np.log2(prev_step / step)
        assert abs(j - round(j)) < 1e-6 and round(j) >= 0  # halvings of the last step
        step = prev_step / 2.0 ** round(j)
        assert f(new)[0] <= value - 0.5 * step * g2 + ULPS * abs(value)  # Armijo
        steps.append(step)
        prev_step = step
        if np.sum((ahead - new) * (new - theta)) > 0:
            t = 1.0
        t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        ahead = new + ((t - 1.0) / t_next) * (new - theta)
        theta, t = new, t_next
    assert len(steps) >= 10 and steps[0] < lr / 2  # checked steps, and it backtracked
    _assert_lstsq(model, X, y, s, 1e-8)


@pytest.mark.parametrize("solver", ["gd", "auto"])
@pytest.mark.parametrize(
    "options",
    [{"momentum": 0.5}, {"momentum": 0.9, "nesterovs_momentum": True}, {"batch_size": 4}],
    ids=["momentum", "nesterov", "batch_size"],
)
def test_line_search_with_momentum_or_batches_is_refused(solver, options):
    X, y, _ = make_data(seed=7)
    model = GDLinearRegressor(solver=solver, line_search=True, **options)
    with pytest.raises(ValueError, match=r"line_search=True needs full batches and momentum=0"):
        model.fit(X, y)
    assert not hasattr(model, "coef_")
    with pytest.raises(ValueError, match="line_search"):
        gradient_descent(X, y, solver=solver, line_search=True, **options)
