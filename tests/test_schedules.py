"""Step-size schedules: the registry contract, each formula, and the iterates they produce.

Every expected value is computed here, independently of gdlinreg: each schedule's formula is
written out from its docstring, and the iterates of ``solver="gd"`` come from a plain NumPy
loop of the documented update ``theta <- theta - base * f(t) * grad J(theta)``, where ``base`` is
the schedule's ``initial`` step or ``1/L``, ``L`` being the largest eigenvalue of the Hessian of
``J`` in the user's coordinates with the intercept as a column of ones,
``H = 2c [X 1]' W [X 1] / S`` (``c = 1/2`` for half-MSE, 1 for MSE).
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from _reference import curvature, objective
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from gdlinreg import GDLinearRegressor, gradient_descent
from gdlinreg.schedules import (
    SCHEDULES,
    Adaptive,
    Constant,
    ExponentialDecay,
    InverseScaling,
    get_schedule,
)

HYP = settings(max_examples=20, deadline=None, database=None)

# The formulas of the docstrings, with the documented defaults (written here, not imported).
DEFAULTS = {
    "constant": {},
    "invscaling": {"power_t": 0.25},
    "exponential": {"decay_rate": 0.999},
    "adaptive": {"divisor": 5.0, "patience": None, "tol": None, "min_step": 1e-6},
}


class RefSchedule:
    """The documented factor ``f(t)`` of each schedule; "adaptive" is scikit-learn's rule as
    its ``_plain_sgd`` writes it: an observation counts as no improvement unless it is below
    the best seen (the running minimum) minus ``tol`` (absolute); after ``patience`` in a row,
    the step ``base * f`` is divided by ``divisor`` if it is above 1e-6 and the count restarts.
    Outside a fit ``patience`` and ``tol`` default to 5 and 1e-3, and ``base`` to 1."""

    def __init__(self, name, **params):
        self.name = name
        self.params = {**DEFAULTS[name], **params}
        self.factor, self.best, self.stalled, self.divisions = 1.0, math.inf, 0, 0
        self.base = 1.0

    def __call__(self, t):
        if self.name == "constant":
            return 1.0
        if self.name == "invscaling":
            return (t + 1.0) ** (-self.params["power_t"])
        if self.name == "exponential":
            return self.params["decay_rate"] ** t
        return self.factor

    def observe(self, loss):
        if self.name != "adaptive":
            return
        tol = 1e-3 if self.params["tol"] is None else self.params["tol"]
        patience = 5 if self.params["patience"] is None else self.params["patience"]
        if loss > self.best - tol:
            self.stalled += 1
        else:
            self.stalled = 0
        if loss < self.best:
            self.best = loss
        if self.stalled >= patience and self.base * self.factor > 1e-6:
            self.factor /= self.params["divisor"]
            self.divisions += 1
            self.stalled = 0


# ----------------------------------------------------------------------------- references


def make_data(n=30, d=3, k=None, seed=0, weights=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.linspace(0.5, 1.5, d) + np.linspace(-1.0, 2.0, d)
    kk = 1 if k is None else k
    Y = (
        X @ rng.standard_normal((d, kk))
        + rng.standard_normal(kk)
        + 0.3 * rng.standard_normal((n, kk))
    )
    y = Y[:, 0] if k is None else Y
    s = rng.uniform(0.2, 3.0, n) if weights else None
    return X, y, s


def gd_path(f, theta0, base, schedule, n_steps, t0=0):
    """The documented update with a schedule; returns the path and the steps used."""
    theta, path, steps = theta0.copy(), [theta0.copy()], []
    if isinstance(schedule, RefSchedule):
        schedule.base = base  # (the adaptive floor is on the step, base * f)
    for t in range(t0, t0 + n_steps):
        step = base * schedule(t)
        theta = theta - step * f(theta)[1]
        path.append(theta.copy())
        steps.append(step)
        if hasattr(schedule, "observe"):
            schedule.observe(f(theta)[0])
    return np.array(path), np.array(steps)


def to_user(path, one_target):
    """(T, d + 1, k) into scikit-learn's shapes: coef (T, [k,] d), intercept (T, [k])."""
    coef, intercept = np.swapaxes(path[:, :-1, :], 1, 2), path[:, -1, :]
    return (coef[:, 0, :], intercept[:, 0]) if one_target else (coef, intercept)


def assert_path(model, ref_path, one_target, rtol=1e-10):
    coef, intercept = to_user(ref_path, one_target)
    scale = np.abs(ref_path).max()
    assert model.coef_path_.shape == coef.shape
    assert_allclose(model.coef_path_, coef, rtol=rtol, atol=rtol * scale)
    assert_allclose(model.intercept_path_, intercept, rtol=rtol, atol=rtol * scale)


# ----------------------------------------------------------------------------- registry contract


def test_registry_holds_the_standard_schedules():
    assert set(DEFAULTS) <= set(SCHEDULES)


@pytest.mark.parametrize("key", sorted(SCHEDULES))
def test_registry_entry_contract(key):
    """What every entry, present or future, promises: its name is its key, its instances are
    callables ``t -> factor`` with finite positive factors, and ``initial`` sets the base."""
    cls = SCHEDULES[key]
    assert cls.name == key
    schedule = cls()
    assert callable(schedule)
    assert schedule.initial is None  # the base is 1/L unless an initial step is given
    assert cls(initial=0.125).initial == 0.125
    for t in (0, 1, 10, 1000):
        value = schedule(t)
        assert isinstance(value, float)
        assert math.isfinite(value) and value > 0.0
    assert 0.0 <= schedule(10**6) < math.inf  # may underflow to 0, never negative or inf


@pytest.mark.parametrize("key", sorted(DEFAULTS))
def test_standard_schedules_start_at_the_base_step_and_never_exceed_it(key):
    schedule = SCHEDULES[key]()
    assert schedule(0) == 1.0
    for t in (1, 10, 1000, 10**6):
        assert schedule(t) <= 1.0
    for attr, value in DEFAULTS[key].items():  # the documented defaults
        assert getattr(schedule, attr) == value


@pytest.mark.parametrize("key", sorted(SCHEDULES))
def test_get_schedule_by_name_returns_a_fresh_default_instance(key):
    first, initial = get_schedule(key)
    second, _ = get_schedule(key)
    assert initial is None
    assert type(first) is SCHEDULES[key] and type(second) is SCHEDULES[key]
    assert first is not second
    untouched = [SCHEDULES[key]()(t) for t in range(10)]
    # The state of one (a schedule that observes losses) never leaks into the next.
    if hasattr(first, "observe"):
        for loss in (1.0, 1.0, 1.0, 1.0, 1.0, 1.0):
            first.observe(loss)
        if key == "adaptive":
            assert first(0) == pytest.approx(1.0 / 5.0)  # the observations did change it
    assert [get_schedule(key)[0](t) for t in range(10)] == untouched


def test_get_schedule_of_an_object_is_a_reset_copy_and_reports_its_initial():
    user = Adaptive(patience=1, initial=0.3)
    for loss in (1.0, 1.0, 1.0):
        user.observe(loss)
    assert user(0) == pytest.approx(1 / 25)
    snapshot = copy.deepcopy(vars(user))
    schedule, initial = get_schedule(user)
    assert schedule is not user
    assert initial == 0.3
    assert schedule(0) == 1.0  # reset at the start of a fit
    assert vars(user) == snapshot  # the user's object untouched

    def factor(t):
        return 0.5

    schedule, initial = get_schedule(factor)
    assert initial is None  # a plain callable: base 1/L
    assert schedule(3) == 0.5


@pytest.mark.parametrize("bad", ["linear", "Constant", ""])
def test_get_schedule_unknown_name_lists_the_choices(bad):
    with pytest.raises(ValueError, match=r"learning_rate=.*adaptive.*constant.*exponential"):
        get_schedule(bad)


@pytest.mark.parametrize("bad", [3, None, [1.0]])
def test_get_schedule_rejects_non_callables(bad):
    with pytest.raises(TypeError, match="learning_rate must be"):
        get_schedule(bad)


# ----------------------------------------------------------------------------- formulas


@HYP
@given(t=st.integers(0, 10**6), power_t=st.floats(0.0, 2.0))
def test_invscaling_formula(t, power_t):
    assert InverseScaling(power_t=power_t)(t) == pytest.approx((t + 1.0) ** -power_t, rel=1e-12)


@HYP
@given(t=st.integers(0, 10**5), rate=st.floats(0.5, 1.0))
def test_exponential_formula(t, rate):
    assert ExponentialDecay(decay_rate=rate)(t) == pytest.approx(rate**t, rel=1e-12, abs=1e-300)


@HYP
@given(t=st.integers(0, 10**6))
def test_constant_formula(t):
    assert Constant()(t) == 1.0
    assert Constant(initial=0.01)(t) == 1.0


@HYP
@given(
    losses=st.lists(st.floats(0.0, 10.0), min_size=1, max_size=60),
    patience=st.integers(1, 4),
    tol=st.sampled_from([0.0, 1e-4, 0.1]),
    divisor=st.sampled_from([5.0, 2.0]),
)
def test_adaptive_formula(losses, patience, tol, divisor):
    schedule = Adaptive(divisor=divisor, patience=patience, tol=tol)
    ref = RefSchedule("adaptive", divisor=divisor, patience=patience, tol=tol)
    assert schedule(0) == 1.0
    for loss in losses:
        schedule.observe(loss)
        ref.observe(loss)
        assert schedule(0) == pytest.approx(ref(0), rel=1e-14)
        assert schedule(123) == schedule(0)  # the factor does not depend on t


def test_adaptive_divides_by_five_by_default():
    schedule = Adaptive(patience=2, tol=1e-4)
    for loss in (1.0, 0.5, 0.5, 0.5):  # two observations without improvement
        schedule.observe(loss)
    assert schedule(0) == pytest.approx(0.2)
    for loss in (0.4999999, 0.4999999):  # not below best - 1e-4: no improvement
        schedule.observe(loss)
    assert schedule(0) == pytest.approx(0.04)
    schedule.observe(0.1)  # an improvement resets the count
    schedule.observe(0.1)
    assert schedule(0) == pytest.approx(0.04)
    schedule.reset()
    assert schedule(0) == 1.0


# ----------------------------------------------------------------------------- iterates of fit

N_STEPS = 80


def _fit(X, y, s, learning_rate, loss="half_mse", n_steps=N_STEPS, **kw):
    model = GDLinearRegressor(
        solver="gd",
        learning_rate=learning_rate,
        loss=loss,
        tol=None,
        max_iter=n_steps,
        store_path=True,
        **kw,
    )
    return model.fit(X, y, sample_weight=s)


def _theta0(X, y):
    k = 1 if np.ndim(y) == 1 else np.shape(y)[1]
    return np.zeros((X.shape[1] + 1, k))


@pytest.mark.parametrize("loss", ["half_mse", "mse"])
@pytest.mark.parametrize("key", sorted(SCHEDULES))
@pytest.mark.parametrize("k", [None, 2])
def test_named_schedule_iterates_match_reference_loop(key, loss, k):
    X, y, s = make_data(k=k, weights=True, seed=1)
    base = 1.0 / curvature(X, s, loss)
    # "adaptive" by name reads the fit's tol, here None: scikit-learn's rule then never counts.
    ref = RefSchedule(key, **({"tol": -math.inf} if key == "adaptive" else {}))
    path, steps = gd_path(objective(X, y, s, loss), _theta0(X, y), base, ref, N_STEPS)
    model = _fit(X, y, s, key, loss)
    assert model.solver_ == "gd" and model.n_iter_ == N_STEPS and model.t_ == N_STEPS
    assert_path(model, path, k is None)
    assert model.learning_rate_ == pytest.approx(steps[-1], rel=1e-10)


@pytest.mark.parametrize(
    ("schedule", "ref"),
    [
        (InverseScaling(power_t=0.7), RefSchedule("invscaling", power_t=0.7)),
        (ExponentialDecay(decay_rate=0.95), RefSchedule("exponential", decay_rate=0.95)),
        (Adaptive(patience=2, tol=1e-2), RefSchedule("adaptive", patience=2, tol=1e-2)),
        (
            Adaptive(divisor=2.0, patience=1, tol=0.05),
            RefSchedule("adaptive", divisor=2.0, patience=1, tol=0.05),
        ),
    ],
    ids=["invscaling0.7", "exp0.95", "adaptive-p2", "adaptive-div2"],
)
@pytest.mark.parametrize("loss", ["half_mse", "mse"])
def test_schedule_object_iterates_match_reference_loop(schedule, ref, loss):
    X, y, s = make_data(seed=2, weights=True)
    ref = copy.deepcopy(ref)
    base = 1.0 / curvature(X, s, loss)
    path, steps = gd_path(objective(X, y, s, loss), _theta0(X, y), base, ref, N_STEPS)
    if ref.name == "adaptive":
        assert ref.divisions >= 1  # the data do make the adaptive rule act
    model = _fit(X, y, s, schedule, loss)
    assert_path(model, path, True)
    assert model.learning_rate_ == pytest.approx(steps[-1], rel=1e-10)


@pytest.mark.parametrize("loss", ["half_mse", "mse", "huber"])
@pytest.mark.parametrize(
    ("schedule", "ref"),
    [
        (Constant(initial=0.05), RefSchedule("constant")),
        (InverseScaling(power_t=0.5, initial=0.2), RefSchedule("invscaling", power_t=0.5)),
        (
            ExponentialDecay(decay_rate=0.97, initial=0.1),
            RefSchedule("exponential", decay_rate=0.97),
        ),
        (
            Adaptive(patience=1, tol=0.02, initial=0.15),
            RefSchedule("adaptive", patience=1, tol=0.02),
        ),
    ],
    ids=["constant", "invscaling", "exponential", "adaptive"],
)
def test_schedule_initial_is_the_base_step(schedule, ref, loss):
    """With ``initial`` set the base is ``initial``, not 1/L (also for Huber, whose L is only
    estimated, so the base matters exactly here)."""
    X, y, s = make_data(seed=3, weights=True, k=2)
    ref = copy.deepcopy(ref)
    path, steps = gd_path(objective(X, y, s, loss), _theta0(X, y), schedule.initial, ref, N_STEPS)
    assert steps[0] == schedule.initial
    model = _fit(X, y, s, schedule, loss)
    assert_path(model, path, False)
    assert model.learning_rate_ == pytest.approx(steps[-1], rel=1e-12)


@pytest.mark.parametrize("loss", ["half_mse", "mse"])
def test_plain_callable_schedule_uses_base_one_over_L(loss):
    X, y, s = make_data(seed=4, k=2)
    base = 1.0 / curvature(X, s, loss)

    def ref(t):
        return 1.0 / (1.0 + 0.1 * t)

    path, _ = gd_path(objective(X, y, s, loss), _theta0(X, y), base, ref, N_STEPS)
    model = _fit(X, y, s, lambda t: 1.0 / (1.0 + 0.1 * t), loss)
    assert_path(model, path, False)


def test_plain_callable_with_initial_attribute():
    class Halving:
        initial = 0.3

        def __call__(self, t):
            return 0.5 ** (t // 10)

    X, y, s = make_data(seed=5)
    path, _ = gd_path(objective(X, y, s, "half_mse"), _theta0(X, y), 0.3, Halving(), N_STEPS)
    assert_path(_fit(X, y, s, Halving()), path, True)


def test_start_step_offsets_the_schedule():
    """``gradient_descent(start_step=t0)`` evaluates the schedule at t0, t0 + 1, ..."""
    X, y, s = make_data(seed=6)
    base = 1.0 / curvature(X, s, "half_mse")
    ref = RefSchedule("invscaling", power_t=0.6)
    path, steps = gd_path(objective(X, y, s, "half_mse"), _theta0(X, y), base, ref, 30, t0=50)
    res = gradient_descent(
        X,
        y,
        solver="gd",
        learning_rate=InverseScaling(power_t=0.6),
        tol=None,
        max_iter=30,
        return_path=True,
        start_step=50,
    )
    coef, intercept = to_user(path, True)
    assert_allclose(res.coef_path, coef, rtol=1e-10, atol=1e-12)
    assert_allclose(res.intercept_path, intercept, rtol=1e-10, atol=1e-12)
    assert res.learning_rate == pytest.approx(steps[-1], rel=1e-10)


# ----------------------------------------------------------------------------- no mutation


def test_stateful_schedule_passed_to_fit_is_not_mutated():
    X, y, s = make_data(seed=2, weights=True)
    user = Adaptive(patience=2, tol=1e-2)
    snapshot = copy.deepcopy(vars(user))
    ref = RefSchedule("adaptive", patience=2, tol=1e-2)
    base = 1.0 / curvature(X, s, "half_mse")
    path, _ = gd_path(objective(X, y, s, "half_mse"), _theta0(X, y), base, ref, N_STEPS)
    assert ref.divisions >= 1
    model = _fit(X, y, s, user)
    assert vars(user) == snapshot
    assert user(0) == 1.0
    assert model.get_params()["learning_rate"] is user
    # A second fit with the same object starts afresh, at factor 1.
    model.fit(X, y, sample_weight=s)
    assert_path(model, path, True)


def test_pre_stalled_schedule_is_reset_for_the_fit_and_left_as_given():
    X, y, s = make_data(seed=2, weights=True)
    user = Adaptive(patience=2, tol=1e-2)
    for loss in (1.0, 1.0, 1.0, 1.0, 1.0):  # one best, then two rounds of two stalls
        user.observe(loss)
    assert user(0) == pytest.approx(1 / 25)
    snapshot = copy.deepcopy(vars(user))
    ref = RefSchedule("adaptive", patience=2, tol=1e-2)  # starts at 1: reset for every fit
    base = 1.0 / curvature(X, s, "half_mse")
    path, _ = gd_path(objective(X, y, s, "half_mse"), _theta0(X, y), base, ref, N_STEPS)
    model = _fit(X, y, s, user)
    assert_path(model, path, True)
    assert vars(user) == snapshot
