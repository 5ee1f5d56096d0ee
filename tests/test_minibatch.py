"""Mini-batch SGD (``batch_size``), ``partial_fit`` and ``warm_start``, against references.

The references are computed here: a plain NumPy loop of mini-batch SGD written from the
documented rule (every epoch one ``numpy.random.default_rng(random_state)`` draws a
permutation of the samples; each batch ``B`` of it takes one gradient step on its own objective
with weights ``p_i * n / |B|``, ``p = s / sum(s)``, so that its gradient is an unbiased estimate
of the full one), weighted least squares by ``numpy.linalg.lstsq`` on square-root-weighted
rows, and the Huber minimiser by ``scipy.optimize.minimize`` on the objective written here.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import warnings

import numpy as np
import pytest
from _reference import EPSILON, FACTOR, design, lstsq, model_path
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDRegressor

from gdlinreg import GDLinearRegressor, gradient_descent
from gdlinreg.schedules import Adaptive, ExponentialDecay, InverseScaling


def make_data(n=23, d=3, k=None, seed=0, weights=False, noise=0.3, outliers=True):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) + np.linspace(-0.5, 0.5, d)
    kk = 1 if k is None else k
    Y = X @ rng.uniform(0.5, 2.0, (d, kk)) + rng.uniform(0.5, 2.0, kk)
    Y = Y + noise * rng.standard_normal((n, kk))
    if outliers:
        Y[:2] += 5.0  # Huber's linear part is active
    y = Y[:, 0] if k is None else Y
    s = rng.uniform(0.2, 3.0, n) if weights else None
    return X, y, s


def batch_objective(Z, Y, q, loss, epsilon=EPSILON):
    """``sum_i q_i l(z_i' theta - y_i)`` and its gradient, for (not necessarily normalised) q."""

    def f(theta):
        R = Z @ theta - Y
        if loss == "huber":
            a = np.abs(R)
            per = np.where(a <= epsilon, 0.5 * R**2, epsilon * a - 0.5 * epsilon**2)
            return float(q @ per.sum(axis=1)), Z.T @ (q[:, None] * np.clip(R, -epsilon, epsilon))
        c = FACTOR[loss]
        return float(c * q @ (R**2).sum(axis=1)), 2 * c * Z.T @ (q[:, None] * R)

    return f


def objective(X, y, s, loss):
    Z, Y, p = design(X, y, s)
    return batch_objective(Z, Y, p, loss)


def sgd_reference(
    X,
    y,
    s,
    loss,
    lr,
    batch_size,
    epochs,
    *,
    shuffle=True,
    random_state=None,
    schedule=None,
    momentum=0.0,
    nesterov=False,
    theta0=None,
    t0=0,
):
    """Mini-batch SGD from the documented rule; returns the per-epoch path, the epoch values
    (mean of the batch objectives, weighted by batch size) and the last step."""
    Z, Y, p = design(X, y, s)
    n = Z.shape[0]
    rng = np.random.default_rng(random_state)
    theta = np.zeros((Z.shape[1], Y.shape[1])) if theta0 is None else theta0.copy()
    velocity = np.zeros_like(theta)
    path, values, t, step = [theta.copy()], [], t0, None
    for _ in range(epochs):
        order = rng.permutation(n) if shuffle else np.arange(n)
        total = 0.0
        for start in range(0, n, batch_size):
            rows = order[start : start + batch_size]
            f = batch_objective(Z[rows], Y[rows], p[rows] * n / rows.size, loss)
            step = lr * (1.0 if schedule is None else schedule(t))
            look = theta + momentum * velocity if nesterov else theta
            value, grad = f(look)
            new = look - step * grad + (0.0 if nesterov else momentum * velocity)
            velocity, theta = new - theta, new
            total += value * rows.size
            t += 1
        values.append(total / n)
        if hasattr(schedule, "observe"):
            schedule.observe(total / n)
        path.append(theta.copy())
    return np.array(path), np.array(values), step


def model_theta(model):
    coef = np.atleast_2d(model.coef_)
    return np.vstack([coef.T, np.atleast_1d(model.intercept_)[None, :]])


def assert_close_to(model, theta, rtol):
    assert_allclose(model_theta(model), theta, rtol=rtol, atol=rtol * np.abs(theta).max())


def huber_minimiser(X, y, s):
    f = objective(X, y, s, "huber")
    shape = (X.shape[1] + 1, 1)
    res = minimize(
        lambda v: (f(v.reshape(shape))[0], f(v.reshape(shape))[1].ravel()),
        np.zeros(np.prod(shape)),
        jac=True,
        method="BFGS",
        options={"gtol": 1e-12, "maxiter": 10000},
    )
    theta = res.x.reshape(shape)
    # BFGS alone stops short of gtol on some BLAS kernels (scipy 1.10, Sandybridge: 3e-9).
    # Huber's gradient is piecewise linear, so near the minimum (the same residuals inside
    # epsilon) differences of gradients give its Hessian exactly up to rounding, and Newton
    # steps on it polish the reference.
    for _ in range(3):
        g = f(theta)[1].ravel()
        h = 1e-6
        H = np.column_stack(
            [(f(theta + h * np.eye(len(g))[:, [j]])[1].ravel() - g) / h for j in range(len(g))]
        )
        theta = theta - np.linalg.solve(0.5 * (H + H.T), g).reshape(shape)
    assert np.abs(f(theta)[1]).max() < 1e-9  # the reference itself is a minimiser
    return theta


def _sgd_model(**kw):
    params = dict(solver="gd", tol=None, store_path=True, epsilon=EPSILON)
    params.update(kw)
    return GDLinearRegressor(**params)


# ----------------------------------------------------------------------------- counters


@pytest.mark.parametrize("batch_size", [1, 4, 7, 23])
@pytest.mark.parametrize("solver", ["gd", "sgd", "auto"])
def test_epochs_and_updates_are_counted(batch_size, solver):
    X, y, _ = make_data()
    epochs = 6
    model = _sgd_model(
        solver=solver, batch_size=batch_size, learning_rate=0.01, max_iter=epochs, random_state=0
    ).fit(X, y)
    per_epoch = -(-23 // batch_size)
    assert model.solver_ == "sgd"
    assert model.n_iter_ == epochs and len(model.loss_curve_) == epochs
    assert model.t_ == epochs * per_epoch
    assert model.coef_path_.shape == (epochs + 1, 3)
    ref, _, _ = sgd_reference(X, y, None, "half_mse", 0.01, batch_size, epochs, random_state=0)
    assert_allclose(model_path(model, None), ref, rtol=1e-12, atol=1e-14)


def test_solver_sgd_by_name():
    """solver="sgd" is the mini-batch method "gd" and "auto" run with a batch_size (the
    reference loop's iterates, with the "auto" step too, where "auto" would pick "svrg");
    without a batch_size it is refused, naming the parameter."""
    X, y, _ = make_data()
    model = _sgd_model(solver="sgd", batch_size=5, learning_rate=0.01, max_iter=4, random_state=0)
    model.fit(X, y)
    ref, _, _ = sgd_reference(X, y, None, "half_mse", 0.01, 5, 4, random_state=0)
    assert model.solver_ == "sgd"
    assert_allclose(model_path(model, None), ref, rtol=1e-12, atol=1e-14)
    auto_step = GDLinearRegressor(solver="sgd", batch_size=5, max_iter=3, tol=None, random_state=0)
    assert auto_step.fit(X, y).solver_ == "sgd"
    with pytest.raises(ValueError, match=r"solver='sgd' .* needs a batch_size"):
        GDLinearRegressor(solver="sgd").fit(X, y)
    # partial_fit of a squared loss solves on the statistics: sgd's full-batch limit, "gd".
    part = _sgd_model(solver="sgd", batch_size=5, learning_rate=0.01, max_iter=5)
    assert part.partial_fit(X, y).solver_ == "gd"


@pytest.mark.parametrize("loss", ["half_mse", "mse", "huber"])
@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("batch_size", [23, 40])
def test_one_batch_of_everything_is_full_batch_gd(loss, shuffle, batch_size):
    """``batch_size >= n`` is one batch per epoch with weights p_i: plain gradient descent,
    ``theta <- theta - a grad J(theta)``, whatever the order of the rows."""
    X, y, s = make_data(weights=True, k=2, seed=1)
    f = objective(X, y, s, loss)
    lr, epochs = 0.1, 25
    theta, ref = np.zeros((4, 2)), []
    for _ in range(epochs + 1):
        ref.append(theta)
        theta = theta - lr * f(theta)[1]
    ref = np.array(ref)
    model = _sgd_model(
        loss=loss,
        batch_size=batch_size,
        shuffle=shuffle,
        learning_rate=lr,
        max_iter=epochs,
        random_state=3,
    )
    # batch_size above the 23 samples is clipped, and says so (at the caller's line).
    clipped = batch_size > len(y)
    with (
        pytest.warns(UserWarning, match="batch_size=40 is larger than the 23")
        if clipped
        else (contextlib.nullcontext()) as record
    ):
        model.fit(X, y, sample_weight=s)
    if clipped:
        assert [w.filename for w in record] == [__file__]
    assert model.solver_ == "sgd" and model.t_ == epochs
    assert_allclose(model_path(model, 2), ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    # The epoch value is the objective before the epoch's single step.
    assert_allclose(model.loss_curve_, [f(t)[0] for t in ref[:-1]], rtol=1e-12)


# ----------------------------------------------------------------------------- shuffled paths


@pytest.mark.parametrize("loss", ["half_mse", "mse", "huber"])
@pytest.mark.parametrize("k", [None, 2])
@pytest.mark.parametrize("batch_size", [1, 5, 7])
def test_shuffled_minibatch_path_matches_reference(loss, k, batch_size):
    X, y, s = make_data(weights=True, k=k, seed=2)
    lr, epochs = 0.02, 12
    ref, values, last = sgd_reference(X, y, s, loss, lr, batch_size, epochs, random_state=11)
    model = _sgd_model(
        loss=loss, batch_size=batch_size, learning_rate=lr, max_iter=epochs, random_state=11
    ).fit(X, y, sample_weight=s)
    assert_allclose(model_path(model, k), ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    assert_allclose(model.loss_curve_, values, rtol=1e-12)
    assert model.learning_rate_ == last
    # Shuffling matters: the unshuffled reference is a different path.
    plain, _, _ = sgd_reference(X, y, s, loss, lr, batch_size, epochs, shuffle=False)
    assert np.abs(plain[-1] - ref[-1]).max() > 1e-8


@pytest.mark.parametrize(
    ("options", "ref_options"),
    [
        ({"momentum": 0.6}, {"momentum": 0.6}),
        ({"momentum": 0.6, "nesterovs_momentum": True}, {"momentum": 0.6, "nesterov": True}),
    ],
    ids=["heavy-ball", "nesterov"],
)
@pytest.mark.parametrize("loss", ["half_mse", "huber"])
def test_minibatch_momentum_matches_reference(options, ref_options, loss):
    X, y, s = make_data(weights=True, k=2, seed=3)
    lr, epochs = 0.01, 10
    ref, values, _ = sgd_reference(X, y, s, loss, lr, 4, epochs, random_state=5, **ref_options)
    model = _sgd_model(
        loss=loss, batch_size=4, learning_rate=lr, max_iter=epochs, random_state=5, **options
    ).fit(X, y, sample_weight=s)
    assert_allclose(model_path(model, 2), ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    assert_allclose(model.loss_curve_, values, rtol=1e-12)


def _ref_invscaling(t):
    return (t + 1.0) ** -0.5


class _RefAdaptive:
    """sklearn's "adaptive" as its ``_plain_sgd`` writes it: an epoch is no improvement unless
    its loss is below the best (running minimum) minus ``tol``; after ``patience`` in a row the
    step is divided by 5 while it is above 1e-6 (``base`` is the initial step)."""

    def __init__(self, patience, tol, base):
        self.patience, self.tol, self.base = patience, tol, base
        self.factor, self.best, self.stalled, self.divisions = 1.0, np.inf, 0, 0

    def __call__(self, t):
        return self.factor

    def observe(self, loss):
        self.stalled = self.stalled + 1 if loss > self.best - self.tol else 0
        self.best = min(self.best, loss)
        if self.stalled >= self.patience and self.base * self.factor > 1e-6:
            self.factor, self.stalled, self.divisions = self.factor / 5, 0, self.divisions + 1


@pytest.mark.parametrize("loss", ["half_mse", "huber"])
def test_schedule_counts_updates_not_epochs(loss):
    """The schedule's t is the update counter: with 5 batches an epoch, epoch e uses
    t = 5e, ..., 5e + 4."""
    X, y, s = make_data(weights=True, seed=4)
    ref, _, last = sgd_reference(
        X, y, s, loss, 0.2, 5, 10, random_state=1, schedule=_ref_invscaling
    )
    model = _sgd_model(
        loss=loss,
        batch_size=5,
        learning_rate=InverseScaling(power_t=0.5, initial=0.2),
        max_iter=10,
        random_state=1,
    ).fit(X, y, sample_weight=s)
    assert model.t_ == 50
    assert_allclose(model_path(model, None), ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    assert model.learning_rate_ == pytest.approx(0.2 / np.sqrt(50), rel=1e-14)
    assert last == pytest.approx(0.2 / np.sqrt(50), rel=1e-14)


def test_adaptive_schedule_observes_epoch_losses():
    X, y, s = make_data(weights=True, seed=5)
    ref_schedule = _RefAdaptive(patience=1, tol=0.05, base=0.05)
    ref, values, _ = sgd_reference(
        X, y, s, "half_mse", 0.05, 6, 15, random_state=2, schedule=ref_schedule
    )
    assert ref_schedule.divisions >= 1  # the rule does act on these data
    model = _sgd_model(
        batch_size=6,
        learning_rate=Adaptive(patience=1, tol=0.05, initial=0.05),
        max_iter=15,
        random_state=2,
    ).fit(X, y, sample_weight=s)
    assert_allclose(model_path(model, None), ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    assert_allclose(model.loss_curve_, values, rtol=1e-12)


def test_same_random_state_gives_bit_identical_fits():
    X, y, s = make_data(weights=True, k=2, seed=6)
    fits = [
        _sgd_model(batch_size=3, learning_rate=0.02, max_iter=8, random_state=rs).fit(
            X, y, sample_weight=s
        )
        for rs in (42, 42, 43)
    ]
    assert np.array_equal(fits[0].coef_, fits[1].coef_)
    assert np.array_equal(fits[0].intercept_, fits[1].intercept_)
    assert np.array_equal(fits[0].loss_curve_, fits[1].loss_curve_)
    assert not np.array_equal(fits[0].coef_, fits[2].coef_)
    for fit, rs in zip(fits, (42, 42, 43), strict=True):
        ref, _, _ = sgd_reference(X, y, s, "half_mse", 0.02, 3, 8, random_state=rs)
        assert_close_to(fit, ref[-1], 1e-12)


# ----------------------------------------------------------------------------- convergence


# Below this (relative) error the gradient noise of the 0.02 noise in y dominates: once there,
# further epochs need not halve the error.
NOISE_FLOOR = 2e-3


@settings(max_examples=10, deadline=None, database=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(60, 150),
    d=st.integers(1, 4),
    batch_size=st.integers(4, 16),
    schedule=st.one_of(
        st.tuples(st.just("invscaling"), st.floats(0.5, 0.75)),
        st.tuples(st.just("exponential"), st.floats(1e-3, 1e-2)),
    ),
)
def test_minibatch_sgd_with_decaying_step_approaches_lstsq(seed, n, d, batch_size, schedule):
    """Well-conditioned data (standard normal columns, coefficients and intercept of size
    0.5..2, noise 0.02 in y); a decaying step from the default base 1/L: invscaling with
    power_t in [1/2, 3/4] (Robbins-Monro), or an exponential decay that shrinks the step 100-
    to 1000-fold over the run. The error (max abs difference to lstsq, relative to lstsq's
    largest entry) never ends above the start, ends below 10% after 40 epochs, and at most
    half of what it was after the first epoch (or below the noise floor)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    coef = rng.choice([-1.0, 1.0], d) * rng.uniform(0.5, 2.0, d)
    y = X @ coef + rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 2.0) + 0.02 * rng.standard_normal(n)
    epochs = 40
    kind, value = schedule
    if kind == "invscaling":
        learning_rate = InverseScaling(power_t=value)
    else:  # the factor after all updates is ``value``
        updates = epochs * -(-n // batch_size)
        learning_rate = ExponentialDecay(decay_rate=value ** (1.0 / updates))
    model = _sgd_model(
        batch_size=batch_size, learning_rate=learning_rate, max_iter=epochs, random_state=seed
    ).fit(X, y)
    ref = lstsq(X, y)
    err = np.abs(model_path(model, None) - ref).max(axis=(1, 2)) / np.abs(ref).max()
    assert err[0] == pytest.approx(1.0)  # the start: zeros
    assert err[-1] < 0.1
    assert err[-1] < 0.5 * err[1] or err[-1] < NOISE_FLOOR


# ----------------------------------------------------------------------------- partial_fit


def _splits(n, cuts):
    edges = [0, *sorted(set(cuts)), n]
    return [slice(a, b) for a, b in itertools.pairwise(edges) if b > a]


@settings(max_examples=20, deadline=None, database=None)
@given(
    cuts=st.lists(st.integers(1, 39), max_size=5),
    weights=st.lists(st.floats(0.1, 10.0), min_size=40, max_size=40),
    k=st.sampled_from([None, 2]),
    loss=st.sampled_from(["half_mse", "mse"]),
    solver=st.sampled_from(["auto", "agd"]),
)
def test_partial_fit_over_any_split_reaches_weighted_lstsq(cuts, weights, k, loss, solver):
    X, y, _ = make_data(n=40, k=k, seed=7, outliers=False)
    s = np.array(weights)
    model = GDLinearRegressor(loss=loss, solver=solver, max_iter=5000)
    t_total = 0
    for part in _splits(40, cuts):
        model.partial_fit(X[part], y[part], sample_weight=s[part])
        t_total += model.n_iter_
        assert model.t_ == t_total  # t_ keeps counting across calls
    assert_close_to(model, lstsq(X, y, s), 1e-6)


def test_partial_fit_after_fit_continues():
    X, y, s = make_data(n=40, seed=8, weights=True, outliers=False)
    A, B = slice(0, 25), slice(25, 40)
    model = GDLinearRegressor().fit(X[A], y[A], sample_weight=s[A])
    assert_close_to(model, lstsq(X[A], y[A], s[A]), 1e-8)
    t_fit = model.t_
    model.partial_fit(X[B], y[B], sample_weight=s[B])
    assert_close_to(model, lstsq(X, y, s), 1e-8)
    assert model.t_ == t_fit + model.n_iter_


@pytest.mark.parametrize(
    "options",
    [{"precompute": False, "solver": "agd"}, {"batch_size": 5, "random_state": 0, "tol": 1e-6}],
    ids=["precompute-False", "batch_size"],
)
def test_partial_fit_after_a_non_gram_fit_keeps_only_the_coefficients(options):
    # Documented: a fit that did not use the Gram form keeps no statistics, so partial_fit
    # starts them with its own batch (warm-started from the fitted coefficients).
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = X @ [1.0, -2, 0.5] + 0.3 + 0.1 * rng.standard_normal(40)
    A, B = slice(0, 25), slice(25, 40)
    model = GDLinearRegressor(**options)
    model.fit(X[A], y[A])  # (with batch_size: "svrg", converged without a warning)
    model.partial_fit(X[B], y[B])
    assert_close_to(model, lstsq(X[B], y[B]), 1e-6)


def _fitted_state(model):
    return {k: copy.deepcopy(v) for k, v in vars(model).items() if k.endswith("_")}


def _assert_same_state(before, after):
    assert before.keys() == after.keys()
    for key, value in before.items():
        if isinstance(value, np.ndarray):
            assert np.array_equal(value, after[key]), key
        else:
            assert value == after[key], key


@pytest.mark.parametrize("loss", ["half_mse", "huber"])
def test_partial_fit_with_other_shapes_raises_and_keeps_the_model(loss):
    X, y, _ = make_data(n=40, seed=9, outliers=False)
    A, B = slice(0, 20), slice(20, 40)
    model = GDLinearRegressor(loss=loss, tol=None, learning_rate=0.1, epsilon=EPSILON)
    model.partial_fit(X[A], y[A])
    before = _fitted_state(model)
    with pytest.raises(ValueError, match=r"X has 4 features.*expecting 3 features"):
        model.partial_fit(np.hstack([X[B], X[B, :1]]), y[B])
    _assert_same_state(before, _fitted_state(model))
    with pytest.raises(ValueError, match=r"partial_fit: the model has coef_ of shape \(3,\)"):
        model.partial_fit(X[B], np.column_stack([y[B], y[B]]))
    _assert_same_state(before, _fitted_state(model))
    model.partial_fit(X[B], y[B])
    if loss == "half_mse":  # the statistics of A survived the failed calls
        assert_close_to(model, lstsq(X, y), 1e-8)
    else:  # one more epoch, from where A left it
        ref = theta_after_epochs(X, y, [A, B], 0.1)
        assert_close_to(model, ref, 1e-12)
    assert model.n_features_in_ == 3


def theta_after_epochs(X, y, parts, lr, batch_size=None, schedule=None):
    """One unshuffled Huber epoch over each part in turn, continuing theta and t."""
    theta, t = None, 0
    for part in parts:
        n = part.stop - part.start
        b = batch_size or n
        path, _, _ = sgd_reference(
            X[part],
            y[part],
            None,
            "huber",
            lr,
            b,
            1,
            shuffle=False,
            schedule=schedule,
            theta0=theta,
            t0=t,
        )
        theta, t = path[-1], t + -(-n // b)
    return theta


@pytest.mark.parametrize("batch_size", [None, 1, 6])
def test_huber_partial_fit_runs_one_epoch(batch_size):
    X, y, _ = make_data(n=20, seed=10)
    parts = [slice(0, 8), slice(8, 20), slice(0, 20)]
    schedule = InverseScaling(power_t=0.5, initial=0.3)
    model = GDLinearRegressor(
        loss="huber",
        learning_rate=schedule,
        batch_size=batch_size,
        shuffle=False,
        tol=None,
        epsilon=EPSILON,
    )
    t = 0
    for i, part in enumerate(parts):
        n = part.stop - part.start
        model.partial_fit(X[part], y[part])
        t += -(-n // (batch_size or n))
        assert model.n_iter_ == 1 and model.solver_ == "sgd"
        assert model.t_ == t
        ref = theta_after_epochs(X, y, parts[: i + 1], 0.3, batch_size, _ref_invscaling)
        assert_close_to(model, ref, 1e-12)


def test_huber_partial_fit_repeated_approaches_the_huber_minimiser():
    X, y, s = make_data(n=30, seed=11, weights=True)
    f = objective(X, y, s, "huber")
    target = huber_minimiser(X, y, s)
    model = GDLinearRegressor(loss="huber", tol=None, epsilon=EPSILON)
    values = [f(np.zeros((4, 1)))[0]]
    for _ in range(400):
        model.partial_fit(X, y, sample_weight=s)
        values.append(f(model_theta(model))[0])
    assert model.t_ == 400
    values = np.array(values)
    assert np.all(np.diff(values) <= 64 * np.finfo(float).eps * values[0])  # never increases
    assert values[-1] - f(target)[0] < 1e-10 * values[0]
    assert_close_to(model, target, 1e-5)


def test_huber_partial_fit_minibatches_decrease_the_objective():
    X, y, s = make_data(n=60, seed=12, weights=True)
    f = objective(X, y, s, "huber")
    target_value = f(huber_minimiser(X, y, s))[0]
    model = GDLinearRegressor(
        loss="huber",
        batch_size=8,
        learning_rate="invscaling",
        tol=None,
        random_state=0,
        epsilon=EPSILON,
    )
    gaps = {0: f(np.zeros((4, 1)))[0] - target_value}
    for call in range(1, 81):
        model.partial_fit(X, y, sample_weight=s)
        if call in (1, 10, 80):
            gaps[call] = f(model_theta(model))[0] - target_value
    assert model.t_ == 80 * 8
    assert gaps[0] > gaps[1] > gaps[10] > gaps[80] >= 0
    assert gaps[80] < 1e-3 * gaps[0]


def test_huber_partial_fit_with_default_tol_does_not_warn():
    X, y, _ = make_data(n=20, seed=13)
    model = GDLinearRegressor(loss="huber")
    model.partial_fit(X, y)  # filterwarnings=error: a warning fails here
    model.partial_fit(X, y)
    assert model.n_iter_ == 1 and model.t_ == 2


# ----------------------------------------------------------------------------- warm_start


@pytest.mark.parametrize("k", [None, 2])
def test_warm_start_forgets_and_partial_fit_remembers(k):
    X, y, s = make_data(n=50, k=k, seed=14, weights=True, outliers=False)
    A, B = slice(0, 30), slice(30, 50)
    warm = GDLinearRegressor(warm_start=True)
    warm.fit(X[A], y[A], sample_weight=s[A])
    warm.fit(X[B], y[B], sample_weight=s[B])
    assert_close_to(warm, lstsq(X[B], y[B], s[B]), 1e-8)
    online = GDLinearRegressor()
    online.partial_fit(X[A], y[A], sample_weight=s[A])
    online.partial_fit(X[B], y[B], sample_weight=s[B])
    assert_close_to(online, lstsq(X, y, s), 1e-8)
    # The two answers differ: the test tells forgetting from remembering.
    gap = np.abs(lstsq(X[B], y[B], s[B]) - lstsq(X, y, s)).max()
    assert gap > 1e-3


def test_warm_start_starts_from_the_previous_solution():
    """warm_start changes the starting point only: gd from the previous coef_ and intercept_."""
    X, y, _ = make_data(n=50, seed=15, outliers=False)
    A, B = slice(0, 30), slice(30, 50)
    model = GDLinearRegressor(warm_start=True, solver="gd", learning_rate=0.1, tol=None, max_iter=5)
    model.fit(X[A], y[A])
    start = model_theta(model)
    model.fit(X[B], y[B])
    f = objective(X[B], y[B], None, "half_mse")
    theta = start
    for _ in range(5):
        theta = theta - 0.1 * f(theta)[1]
    assert_close_to(model, theta, 1e-12)


def test_fit_resets_what_partial_fit_has_seen():
    X, y, _ = make_data(n=60, seed=16, outliers=False)
    A, B, C = slice(0, 20), slice(20, 40), slice(40, 60)
    model = GDLinearRegressor()
    model.partial_fit(X[A], y[A])
    model.fit(X[B], y[B])
    model.partial_fit(X[C], y[C])
    assert_close_to(model, lstsq(X[20:], y[20:]), 1e-8)


@pytest.mark.parametrize(("tol", "patience"), [(1e-3, 5), (1e-4, 3)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_adaptive_divides_instead_of_stopping_as_sgdregressor(seed, tol, patience):
    """scikit-learn's SGDRegressor(learning_rate="adaptive"): where ``n_iter_no_change``
    epochs fail to bring the epoch loss below the best minus ``tol``, the step is divided by
    5 instead of stopping, and the fit stops only once the step is at most 1e-6. With one row a
    batch, in order, and no penalty, its updates are those of ``batch_size=1, shuffle=False``
    (the per-sample loss before each update is the epoch loss of both), so the fits agree to
    rounding, epoch count included; and the stop is certified here ("tol"), or "stalled" with
    a ConvergenceWarning. A constant step would have stopped at the first proposal."""
    X, y, _ = make_data(n=60, d=3, seed=seed, outliers=False)
    eta0 = 0.05
    ref = SGDRegressor(
        loss="squared_error",
        penalty=None,
        learning_rate="adaptive",
        eta0=eta0,
        tol=tol,
        n_iter_no_change=patience,
        shuffle=False,
        max_iter=10_000,
    ).fit(X, y)
    model = GDLinearRegressor(
        solver="gd",
        batch_size=1,
        shuffle=False,
        learning_rate=Adaptive(initial=eta0),
        tol=tol,
        n_iter_no_change=patience,
        max_iter=10_000,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    assert model.n_iter_ == ref.n_iter_
    assert_allclose(model.coef_, ref.coef_, rtol=1e-12, atol=1e-12)
    assert_allclose(model.intercept_, ref.intercept_[0], rtol=1e-12)
    # The step was divided while above 1e-6: eta0 / 5**j, the first at or below 1e-6.
    divisions = int(np.ceil(np.log(eta0 / 1e-6) / np.log(5)))
    assert model.learning_rate_ == pytest.approx(eta0 / 5**divisions, rel=1e-12)
    assert model.stop_reason_ in ("tol", "stalled")
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    assert warned == (model.stop_reason_ != "tol")


def test_gradient_descent_says_when_batch_size_is_clipped():
    X, y, _ = make_data()
    with pytest.warns(UserWarning, match=r"batch_size=50 is larger than the 23 training") as rec:
        gradient_descent(X, y, batch_size=50, learning_rate=0.01, max_iter=2, tol=None)
    assert [w.filename for w in rec] == [__file__]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # batch_size == n: no warning
        gradient_descent(X, y, batch_size=23, learning_rate=0.01, max_iter=2, tol=None)
