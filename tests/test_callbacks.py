"""Callbacks: the ``callback=`` of :func:`gdlinreg.gradient_descent` and scikit-learn's callback
API (``set_callbacks``, ``ScoringMonitor``, ``ProgressBar``, ``FitCallback``), alone and inside
``Pipeline`` / ``GridSearchCV``.

The references are ``return_path=True`` (the iterates the callback must see), a NumPy loop of the
textbook update, and scikit-learn's ``r2_score``.
"""

import contextlib
import pickle
import warnings
from collections import Counter

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from gdlinreg import DivergenceError, GDLinearRegressor, gradient_descent

callback_api = pytest.importorskip("sklearn.callback", reason="scikit-learn >= 1.9 callbacks")
ScoringMonitor = callback_api.ScoringMonitor
FitCallback = callback_api.FitCallback
AutoPropagatedCallback = callback_api.AutoPropagatedCallback

# ----------------------------------------------------------------------------- helpers


def make_data(n=40, targets=1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3)) + np.array([0.0, 0.5, -1.0])
    W = np.array([[1.5, -2.0, 0.5], [0.0, 1.0, 1.0]])[:targets]
    Y = X @ W.T + [1.0, -2.0][:targets] + 0.5 * rng.standard_normal((n, targets))
    return X, Y[:, 0] if targets == 1 else Y


@contextlib.contextmanager
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def numpy_gd_path(X, y, lr, n_steps):
    """Textbook half-MSE gradient descent from zero, intercept as a coordinate."""
    coef, b = np.zeros(X.shape[1]), 0.0
    path = [(coef, b)]
    for _ in range(n_steps):
        r = X @ coef + b - y
        coef, b = coef - lr * X.T @ r / len(y), b - lr * r.mean()
        path.append((coef, b))
    return path


def path_r2(est, X, y):
    """sklearn's r2_score (default multioutput) of iterates 1..n_iter_ of a store_path fit."""
    return np.array(
        [
            r2_score(y, X @ c.T + b)
            for c, b in zip(est.coef_path_[1:], est.intercept_path_[1:], strict=True)
        ]
    )


class Recorder:
    """A FitCallback recording every hook call (not auto-propagated)."""

    def __init__(self):
        self.calls = []

    def setup(self, estimator, context):
        self.calls.append(("setup", type(estimator).__name__, None, None))

    def teardown(self, estimator, context):
        self.calls.append(("teardown", type(estimator).__name__, None, None))

    def on_fit_task_begin(self, estimator, context):
        self.calls.append(("begin", context.estimator_name, context.task_name, context.task_id))

    def on_fit_task_end(self, estimator, context):
        self.calls.append(("end", context.estimator_name, context.task_name, context.task_id))

    def count(self, hook, estimator_name=None, task_name=None):
        return sum(
            c[0] == hook
            and (estimator_name is None or c[1] == estimator_name)
            and (task_name is None or c[2] == task_name)
            for c in self.calls
        )


class AutoRecorder(Recorder):
    """The same, auto-propagated from a meta-estimator to its sub-estimators."""

    max_propagation_depth = None


class StopAt:
    """Asks to stop at the end of iteration ``k`` (1-based); remembers the iterates it saw."""

    def __init__(self, k):
        self.k = k
        self.seen = []

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        if context.task_name != "iteration":
            return True  # the end of the whole fit: asking to stop then changes nothing
        self.seen.append((context.task_id, fitted_estimator.coef_.copy()))
        return context.task_id + 1 == self.k


def test_helper_callbacks_follow_the_protocols():
    assert isinstance(Recorder(), FitCallback)
    assert not isinstance(Recorder(), AutoPropagatedCallback)
    assert isinstance(AutoRecorder(), AutoPropagatedCallback)
    assert isinstance(StopAt(1), FitCallback)


# ----------------------------------------------------------------------------- core callback=

CORE_CONFIGS = {
    "gd-block": dict(solver="gd", learning_rate=0.05),  # fixed steps, evaluated in blocks
    "gd-momentum": dict(solver="gd", learning_rate=0.05, momentum=0.5),
    "cg": dict(solver="cg", tol=0.0),
    "agd": dict(solver="agd"),
    "sgd": dict(solver="gd", learning_rate=0.02, batch_size=8, random_state=0),
    "gd-data": dict(solver="gd", learning_rate=0.05, precompute=False),
}


@pytest.mark.parametrize("targets", [1, 2])
@pytest.mark.parametrize("config", list(CORE_CONFIGS), ids=list(CORE_CONFIGS))
def test_core_callback_sees_every_iterate_once(config, targets):
    X, y = make_data(targets=targets)
    calls = []
    res = gradient_descent(
        X,
        y,
        max_iter=60,
        return_path=True,
        callback=lambda i, c, b, loss: calls.append((i, c, b, loss)),
        **CORE_CONFIGS[config],
    )
    assert [c[0] for c in calls] == list(range(1, res.n_iter + 1))
    # Compared after the fit: a callback that kept references would see later mutations.
    for i, coef, intercept, loss in calls:
        assert np.shape(coef) == res.coef.shape
        assert np.shape(intercept) == np.shape(res.intercept)
        assert_array_equal(coef, res.coef_path[i])
        assert_array_equal(intercept, res.intercept_path[i])
        assert loss == res.loss_history[i - 1]
    if res.stop_reason != "callback":  # the last iterate seen is the one returned
        assert_array_equal(calls[-1][1], res.coef)


def test_core_callback_iterates_are_the_textbook_update():
    X, y = make_data()
    calls = []
    gradient_descent(
        X,
        y,
        solver="gd",
        learning_rate=0.05,
        max_iter=25,
        tol=None,
        callback=lambda i, c, b, loss: calls.append((c, b, loss)),
    )
    ref = numpy_gd_path(X, y, 0.05, 25)
    assert len(calls) == 25
    for (coef, b, loss), (ref_coef, ref_b) in zip(calls, ref[1:], strict=True):
        assert_allclose(coef, ref_coef, rtol=1e-10, atol=1e-12)
        assert b == pytest.approx(ref_b, rel=1e-10, abs=1e-12)
        assert loss == pytest.approx(0.5 * np.mean((X @ ref_coef + ref_b - y) ** 2), rel=1e-10)


@pytest.mark.parametrize("k", [1, 7])
@pytest.mark.parametrize("config", list(CORE_CONFIGS), ids=list(CORE_CONFIGS))
def test_core_callback_returning_true_stops_after_k_iterations(config, k):
    X, y = make_data(targets=2)
    params = {**CORE_CONFIGS[config], "tol": 0.0}
    seen = []

    def stop(i, coef, intercept, loss):
        seen.append(i)
        return i == k

    res = gradient_descent(X, y, max_iter=500, return_path=True, callback=stop, **params)
    if config == "cg" and k > 3:  # cg solves 3 features in 3 steps
        assert res.stop_reason == "tol"
        assert res.n_iter <= 3
        assert seen == list(range(1, res.n_iter + 1))
        return
    assert seen == list(range(1, k + 1))
    assert res.n_iter == k
    assert res.stop_reason == "callback"
    assert res.converged is False
    assert "callback" in res.message
    assert res.loss_history.shape == (k,)
    assert_array_equal(res.coef, res.coef_path[k])
    assert_array_equal(res.intercept, res.intercept_path[k])


def test_core_callback_truthy_return_values_stop():
    X, y = make_data()
    res = gradient_descent(
        X,
        y,
        solver="gd",
        learning_rate=0.05,
        max_iter=100,
        callback=lambda i, *a: "stop" * (i >= 4),
    )
    assert res.n_iter == 4
    assert res.stop_reason == "callback"


def test_core_callback_stop_with_tol_none():
    X, y = make_data()
    res = gradient_descent(
        X, y, solver="gd", learning_rate=0.05, tol=None, callback=lambda i, *a: i == 3
    )
    assert res.n_iter == 3
    assert res.stop_reason == "callback"
    assert not res.converged


@pytest.mark.parametrize("momentum", [0.0, 0.01], ids=["block", "one-step"])
def test_core_callback_sees_the_iterations_before_divergence(momentum):
    X, y = make_data()
    calls = []
    with pytest.raises(DivergenceError) as info:
        gradient_descent(
            X,
            y,
            solver="gd",
            learning_rate=5.0,
            momentum=momentum,
            tol=None,
            max_iter=100,
            callback=lambda i, *a: calls.append(i),
        )
    assert len(info.value.loss_history) >= 1
    assert calls == list(range(1, len(info.value.loss_history) + 1))


# ----------------------------------------------------------------------------- ScoringMonitor


def iteration_rows(log):
    rows = [r for r in log.data if r["task_name"] == "iteration"]
    return sorted(rows, key=lambda r: r["task_id_path"])


ESTIMATOR_CONFIGS = {
    "gd": dict(solver="gd", learning_rate=0.05, max_iter=30, tol=None),
    "cg": dict(solver="cg", tol=0.0),
    "agd": dict(solver="agd", max_iter=200),
    "sgd": dict(solver="gd", learning_rate=0.02, batch_size=8, random_state=0, tol=None),
}


@pytest.mark.parametrize("targets", [1, 2])
@pytest.mark.parametrize("config", list(ESTIMATOR_CONFIGS), ids=list(ESTIMATOR_CONFIGS))
def test_scoring_monitor_logs_the_r2_of_every_iterate(config, targets):
    X, y = make_data(targets=targets)
    params = {"max_iter": 30, **ESTIMATOR_CONFIGS[config]}
    monitor = ScoringMonitor(scoring="r2")
    est = GDLinearRegressor(store_path=True, **params).set_callbacks(monitor)
    with no_warnings():
        est.fit(X, y)
    log = monitor.get_logs()
    assert log.estimator_name == "GDLinearRegressor"
    assert len(monitor.get_logs(select="all")) == 1
    rows = iteration_rows(log)
    assert len(rows) == est.n_iter_
    assert [r["task_id_path"] for r in rows] == [(0, i) for i in range(est.n_iter_)]
    assert {r["estimator_name"] for r in rows} == {"GDLinearRegressor"}
    assert_allclose([r["r2"] for r in rows], path_r2(est, X, y), rtol=1e-10, atol=1e-12)
    # One more row, for the whole fit: the score of the returned model.
    (root,) = [r for r in log.data if r["task_id_path"] == (0,)]
    assert root["task_name"] == "fit"
    assert root["r2"] == pytest.approx(r2_score(y, est.predict(X)), rel=1e-12)
    assert len(log.data) == est.n_iter_ + 1


def test_scoring_monitor_scores_a_weighted_fit_with_its_weights():
    X, y = make_data()
    w = np.random.default_rng(9).uniform(0.1, 3.0, y.size)
    monitor = ScoringMonitor(scoring="r2")
    est = GDLinearRegressor(solver="gd", learning_rate=0.05, max_iter=5, tol=None, store_path=True)
    est.set_callbacks(monitor).fit(X, y, sample_weight=w)
    rows = iteration_rows(monitor.get_logs())
    weighted = [
        r2_score(y, X @ c + b, sample_weight=w)
        for c, b in zip(est.coef_path_[1:], est.intercept_path_[1:], strict=True)
    ]
    assert_allclose([r["r2"] for r in rows], weighted, rtol=1e-10)


def test_scoring_monitor_with_early_stopping_scores_on_the_training_data():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((45, 60))
    y = X[:, :5] @ rng.standard_normal(5) + rng.standard_normal(45)
    X_tr, y_tr, X_val, y_val = X[:30], y[:30], X[30:], y[30:]
    monitor = ScoringMonitor(scoring="r2")
    est = GDLinearRegressor(
        solver="gd", learning_rate=0.02, tol=0.0, n_iter_no_change=10, store_path=True
    ).set_callbacks(monitor)
    with no_warnings():
        est.fit(X_tr, y_tr, X_val=X_val, y_val=y_val)
    assert est.stop_reason_ == "early_stopping"
    rows = iteration_rows(monitor.get_logs())
    assert len(rows) == est.n_iter_
    train_r2 = path_r2(est, X_tr, y_tr)
    assert_allclose([r["r2"] for r in rows], train_r2, rtol=1e-10, atol=1e-12)
    assert train_r2[-1] > train_r2[est.best_iter_ - 1]  # training keeps improving meanwhile


def test_scoring_monitor_logs_one_run_per_fit():
    X, y = make_data()
    monitor = ScoringMonitor(scoring="neg_mean_squared_error")
    est = GDLinearRegressor(solver="gd", learning_rate=0.05, max_iter=5, tol=None)
    est.set_callbacks(monitor)
    est.fit(X, y)
    est.set_params(max_iter=8).fit(X, y)
    logs = monitor.get_logs(select="all")
    assert [len(iteration_rows(log)) for log in logs] == [5, 8]
    ref = numpy_gd_path(X, y, 0.05, 8)
    mse = [-np.mean((X @ c + b - y) ** 2) for c, b in ref[1:]]
    assert_allclose([r["neg_mean_squared_error"] for r in iteration_rows(logs[1])], mse, rtol=1e-9)


# ----------------------------------------------------------------------------- ProgressBar


def test_progress_bar_runs():
    pytest.importorskip("rich")
    X, y = make_data()
    est = GDLinearRegressor(solver="gd", learning_rate=0.05, max_iter=20, tol=None)
    est.set_callbacks(callback_api.ProgressBar())
    with no_warnings():
        est.fit(X, y)
    assert est.n_iter_ == 20
    pipe = make_pipeline(StandardScaler(), GDLinearRegressor(max_iter=20))
    pipe.set_callbacks(callback_api.ProgressBar()).fit(X, y)


# ----------------------------------------------------------------------------- FitCallback stop


STOP_CONFIGS = {
    "gd-block": dict(solver="gd", learning_rate=0.01),
    "gd-momentum": dict(solver="gd", learning_rate=0.01, momentum=0.5),
    "agd": dict(solver="agd", tol=0.0),
    "sgd": dict(solver="gd", learning_rate=0.01, batch_size=8, random_state=0),
}


@pytest.mark.parametrize("k", [1, 4])
@pytest.mark.parametrize("config", list(STOP_CONFIGS), ids=list(STOP_CONFIGS))
def test_fit_callback_stops_the_fit(config, k):
    X, y = make_data()
    stopper = StopAt(k)
    est = GDLinearRegressor(max_iter=50, store_path=True, **STOP_CONFIGS[config])
    est.set_callbacks(stopper)
    with no_warnings():  # no ConvergenceWarning: the user asked to stop
        est.fit(X, y)
    assert est.n_iter_ == k
    assert est.stop_reason_ == "callback"
    assert not est.converged_
    assert est.loss_curve_.shape == (k,)
    assert [task_id for task_id, _ in stopper.seen] == list(range(k))
    assert_array_equal(est.coef_, est.coef_path_[k])
    # The callback's fitted_estimator at iteration i is iterate i + 1.
    for task_id, coef in stopper.seen:
        assert_array_equal(coef, est.coef_path_[task_id + 1])


def test_fit_callback_stop_wins_over_max_iter_warning():
    # Without the callback this fit warns (max_iter=5 < what tol needs).
    X, y = make_data()
    est = GDLinearRegressor(solver="gd", learning_rate=0.01, max_iter=5).set_callbacks(StopAt(5))
    with no_warnings():
        est.fit(X, y)
    assert est.n_iter_ == 5
    assert est.stop_reason_ == "callback"
    assert not est.converged_


def test_fit_callback_stop_with_early_stopping_keeps_the_best_seen():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((45, 60))
    y = X[:, :5] @ rng.standard_normal(5) + rng.standard_normal(45)
    est = GDLinearRegressor(
        solver="gd", learning_rate=0.02, tol=0.0, n_iter_no_change=1000, store_path=True
    ).set_callbacks(StopAt(120))
    with no_warnings():
        est.fit(X[:30], y[:30], X_val=X[30:], y_val=y[30:])
    assert est.n_iter_ == 120
    assert est.stop_reason_ == "callback"
    assert not est.converged_
    scores = np.array(
        [
            r2_score(y[30:], X[30:] @ c + b)
            for c, b in zip(est.coef_path_[1:], est.intercept_path_[1:], strict=True)
        ]
    )
    assert est.best_iter_ == int(np.argmax(scores)) + 1
    assert_array_equal(est.coef_, est.coef_path_[est.best_iter_])


def test_callbacks_without_iteration_hooks_do_not_change_the_fit():
    X, y = make_data()
    plain = GDLinearRegressor(solver="gd", learning_rate=0.05, max_iter=40, tol=None).fit(X, y)
    rec = Recorder()
    est = GDLinearRegressor(solver="gd", learning_rate=0.05, max_iter=40, tol=None)
    est.set_callbacks(rec).fit(X, y)
    ref_coef, ref_b = numpy_gd_path(X, y, 0.05, 40)[-1]
    assert est.intercept_ == pytest.approx(ref_b, rel=1e-10)
    assert_allclose(est.coef_, ref_coef, rtol=1e-10)
    assert_allclose(plain.coef_, ref_coef, rtol=1e-10)
    assert rec.calls[0][0] == "setup"
    assert rec.calls[-1][0] == "teardown"
    assert rec.count("begin", task_name="iteration") == 40
    assert rec.count("end", task_name="iteration") == 40
    assert rec.count("begin", task_name="fit") == rec.count("end", task_name="fit") == 1
    # The callback machinery leaves nothing behind but the callbacks themselves.
    assert not hasattr(est, "_callback_fit_ctx")
    assert not hasattr(est, "_skl_callbacks_to_teardown")
    assert est._skl_callbacks == [rec]


# ----------------------------------------------------------------------------- meta-estimators


def test_auto_propagated_callback_reaches_the_regressor_in_a_pipeline():
    X, y = make_data()
    rec = AutoRecorder()
    pipe = make_pipeline(
        StandardScaler(), GDLinearRegressor(solver="gd", learning_rate=0.1, max_iter=12, tol=None)
    )
    with no_warnings():
        pipe.set_callbacks(rec).fit(X, y)
    reg = pipe[-1]
    # Set up and torn down once, by the outermost estimator.
    assert [c[:2] for c in rec.calls if c[0] in ("setup", "teardown")] == [
        ("setup", "Pipeline"),
        ("teardown", "Pipeline"),
    ]
    assert rec.count("begin", "GDLinearRegressor", "fit") == 1
    assert rec.count("end", "GDLinearRegressor", "fit") == 1
    assert rec.count("begin", "GDLinearRegressor", "iteration") == reg.n_iter_ == 12
    assert rec.count("end", "GDLinearRegressor", "iteration") == 12
    ends = [c for c in rec.calls if c[0] == "end" and c[2] == "iteration"]
    assert [c[3] for c in ends] == list(range(12))
    # The propagated callback is removed from the step after the fit.
    assert not getattr(reg, "_skl_callbacks", [])
    assert not hasattr(reg, "_parent_callback_ctx")


def test_scoring_monitor_on_the_regressor_inside_a_pipeline():
    X, y = make_data()
    monitor = ScoringMonitor(scoring="r2")
    reg = GDLinearRegressor(solver="gd", learning_rate=0.1, max_iter=15, tol=None, store_path=True)
    pipe = make_pipeline(StandardScaler(), reg.set_callbacks(monitor))
    with no_warnings():
        pipe.fit(X, y)
    log = monitor.get_logs()
    assert log.estimator_name == "Pipeline"  # one run per fit of the outermost estimator
    rows = iteration_rows(log)
    assert len(rows) == 15
    Xs = (X - X.mean(axis=0)) / X.std(axis=0)  # what the regressor was fitted on
    assert_allclose([r["r2"] for r in rows], path_r2(pipe[-1], Xs, y), rtol=1e-9, atol=1e-12)
    assert pipe[-1]._skl_callbacks == [monitor]


def test_callbacks_in_grid_search():
    X, y = make_data(n=30)
    rec = AutoRecorder()
    monitor = ScoringMonitor(scoring="r2")
    reg = GDLinearRegressor(solver="gd", learning_rate=0.1, tol=None, store_path=True)
    grid = GridSearchCV(
        reg.set_callbacks(monitor), {"max_iter": [2, 3]}, cv=KFold(2), n_jobs=1
    ).set_callbacks(rec)
    with no_warnings():
        grid.fit(X, y)
    best = grid.best_params_["max_iter"]
    # Auto-propagated: every candidate-split fit and the refit run their iterations under it.
    assert rec.count("begin", "GDLinearRegressor", "fit") == 2 * 2 + 1
    assert rec.count("end", "GDLinearRegressor", "iteration") == 2 * (2 + 3) + best
    assert [c[:2] for c in rec.calls if c[0] in ("setup", "teardown")] == [
        ("setup", "GridSearchCV"),
        ("teardown", "GridSearchCV"),
    ]
    # The monitor set on the (cloned) regressor logs one run: the grid search's fit.
    (log,) = monitor.get_logs(select="all")
    assert log.estimator_name == "GridSearchCV"
    rows = iteration_rows(log)
    assert len(rows) == 2 * (2 + 3) + best
    by_fit = Counter(r["parent_task_id_path"] for r in rows)
    assert sorted(by_fit.values()) == sorted([2, 2, 3, 3, best])
    # Each candidate-split fit is scored on its own training fold (NumPy textbook path).
    splits = list(KFold(2).split(X))
    for task, (max_iter, (train, _)) in enumerate((m, s) for m in (2, 3) for s in splits):
        fit_rows = [r for r in rows if r["parent_task_id_path"] == (0, 0, task)]
        assert len(fit_rows) == max_iter
        path = numpy_gd_path(X[train], y[train], 0.1, max_iter)[1:]
        ref = [r2_score(y[train], X[train] @ c + b) for c, b in path]
        assert_allclose([r["r2"] for r in fit_rows], ref, rtol=1e-9, atol=1e-12)
    # The refit's rows are the best estimator's iterates on all the data.
    refit_rows = [r for r in rows if len(r["parent_task_id_path"]) == 2]
    assert_allclose([r["r2"] for r in refit_rows], path_r2(grid.best_estimator_, X, y), rtol=1e-9)


# ----------------------------------------------------------------------------- clone, pickle


def test_set_callbacks_then_clone():
    X, y = make_data()
    monitor = ScoringMonitor(scoring="r2")
    est = GDLinearRegressor(solver="gd", learning_rate=0.05, max_iter=6, tol=None)
    est.set_callbacks(monitor)
    twin = clone(est)
    assert twin.get_params() == est.get_params()
    assert twin._skl_callbacks == [monitor]  # shared by reference, as scikit-learn does
    twin.fit(X, y)
    assert len(iteration_rows(monitor.get_logs())) == 6
    assert not hasattr(est, "coef_")


@pytest.mark.parametrize("fitted", [False, True])
def test_set_callbacks_then_pickle(fitted):
    X, y = make_data()
    est = GDLinearRegressor(solver="gd", learning_rate=0.05, max_iter=6, tol=None, store_path=True)
    est.set_callbacks(ScoringMonitor(scoring="r2"))
    if fitted:
        est.fit(X, y)
    copy = pickle.loads(pickle.dumps(est))
    assert copy.get_params() == est.get_params()
    assert len(copy._skl_callbacks) == 1
    assert isinstance(copy._skl_callbacks[0], ScoringMonitor)
    if fitted:
        assert_array_equal(copy.predict(X), est.predict(X))
    with no_warnings():
        copy.fit(X, y)
    # The unpickled monitor records the new fit (its own log, not the original's).
    rows = iteration_rows(copy._skl_callbacks[0].get_logs())
    assert_allclose([r["r2"] for r in rows], path_r2(copy, X, y), rtol=1e-10)
    if fitted:  # the original monitor saw only the original fit
        assert len(est._skl_callbacks[0].get_logs(select="all")) == 1
    else:
        with pytest.raises(ValueError, match="No logs"):
            est._skl_callbacks[0].get_logs()


# ----------------------------------------------------------------------------- failed fits


def _snapshot(est):
    fitted = [k for k in vars(est) if k.endswith("_") and not k.startswith("_")]
    return {k: np.copy(getattr(est, k)) for k in fitted}


def _assert_unchanged(est, before):
    after = _snapshot(est)
    assert after.keys() == before.keys()
    for key, value in before.items():
        assert_array_equal(after[key], value, err_msg=key)


def test_divergent_fit_tears_callbacks_down_and_keeps_the_previous_model():
    X, y = make_data()
    rec = Recorder()
    est = GDLinearRegressor(solver="gd", learning_rate=0.05, max_iter=30, tol=None)
    est.set_callbacks(rec).fit(X, y)
    before = _snapshot(est)
    rec.calls.clear()
    est.set_params(learning_rate=1e3)
    with pytest.raises(DivergenceError):
        est.fit(X, y)
    assert rec.count("setup") == 1
    assert rec.count("teardown") == 1
    assert rec.calls[-1][0] == "teardown"
    _assert_unchanged(est, before)
    assert_allclose(est.coef_, numpy_gd_path(X, y, 0.05, 30)[-1][0], rtol=1e-10)
    assert not hasattr(est, "_callback_fit_ctx")
    assert not hasattr(est, "_skl_callbacks_to_teardown")
    assert est._skl_callbacks == [rec]
    # The estimator and its callbacks still work.
    rec.calls.clear()
    est.set_params(learning_rate=0.05, max_iter=3).fit(X, y)
    assert rec.count("end", task_name="iteration") == 3


class FailsAt(Recorder):
    def __init__(self, k):
        super().__init__()
        self.k = k

    def on_fit_task_end(self, estimator, context):
        super().on_fit_task_end(estimator, context)
        if context.task_name == "iteration" and context.task_id + 1 == self.k:
            raise RuntimeError("callback failed")


def test_failing_callback_tears_down_and_keeps_the_previous_model():
    X, y = make_data()
    est = GDLinearRegressor(solver="gd", learning_rate=0.05, max_iter=30, tol=None).fit(X, y)
    before = _snapshot(est)
    failing = FailsAt(3)
    est.set_callbacks(failing)
    with pytest.raises(RuntimeError, match="callback failed"):
        est.fit(X[:20], y[:20])
    assert failing.count("end", task_name="iteration") == 3
    assert failing.count("teardown") == 1
    _assert_unchanged(est, before)
    assert est.n_features_in_ == 3
