"""Early stopping, ``stop_reason_`` / ``converged_`` and ``verbose``, checked against
independent references.

The references are scikit-learn's ``r2_score`` (the validation score of every iterate, rebuilt
from ``coef_path_`` / ``intercept_path_``), NumPy (pooled R^2, the half-MSE gradient, the
textbook update on the rows that should be used for training, ``lstsq``) and the arithmetic of
the held-out split.
"""

import contextlib
import math
import re
import warnings

import numpy as np
import pytest
from _reference import exact_lstsq, exact_mse
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score

from gdlinreg import GDLinearRegressor

# ----------------------------------------------------------------------------- helpers


def overfit_data(seed, n=50, d=80, n_val=15, noise=1.5, k=10):
    """More features than samples, a sparse signal and noise: a long fit interpolates the
    training noise, so the validation R^2 rises, peaks and falls."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n + n_val, d))
    w = np.zeros(d)
    w[:k] = rng.standard_normal(k)
    y = X @ w + noise * rng.standard_normal(n + n_val)
    return X[:n], y[:n], X[n:], y[n:]


def iterate_predictions(est, X):
    """Predictions of iterates 1..n_iter_ (iterate 0 is the start), shape (n_iter_, n, ...)."""
    coef, intercept = est.coef_path_[1:], est.intercept_path_[1:]
    if coef.ndim == 2:  # one target
        return coef @ X.T + intercept[:, None]
    return np.einsum("nf,tkf->tnk", X, coef) + intercept[:, None, :]


def r2_of_iterates(est, X_val, y_val, sample_weight=None):
    """sklearn's R^2 of every iterate; pooled over targets (variance_weighted is exactly
    1 - sum of SSE / sum of SST)."""
    return np.array(
        [
            r2_score(y_val, p, sample_weight=sample_weight, multioutput="variance_weighted")
            for p in iterate_predictions(est, X_val)
        ]
    )


@contextlib.contextmanager
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def check_early_stopping_result(est, X_val, y_val, sample_weight_val=None):
    """The properties every early-stopped fit must have (tol=0 so "improved" is strict)."""
    k = est.n_iter_no_change
    scores = est.validation_scores_
    assert scores.shape == (est.n_iter_,)
    assert est.coef_path_.shape[0] == est.n_iter_ + 1
    # validation_scores_[i] is the validation R^2 of iterate i + 1.
    assert_allclose(
        scores, r2_of_iterates(est, X_val, y_val, sample_weight_val), rtol=1e-9, atol=1e-9
    )
    # The returned model is iterate best_iter_, the (first) best validation score.
    assert est.best_iter_ == int(np.argmax(scores)) + 1
    assert_array_equal(est.coef_, est.coef_path_[est.best_iter_])
    assert_array_equal(est.intercept_, est.intercept_path_[est.best_iter_])
    returned = r2_score(
        y_val,
        est.predict(X_val),
        sample_weight=sample_weight_val,
        multioutput="variance_weighted",
    )
    assert returned == pytest.approx(scores.max(), rel=1e-9, abs=1e-9)
    last = r2_score(
        y_val,
        iterate_predictions(est, X_val)[-1],
        sample_weight=sample_weight_val,
        multioutput="variance_weighted",
    )
    assert returned >= last - 1e-12
    # Stopped because k iterations in a row did not improve on the best.
    assert est.stop_reason_ == "early_stopping"
    assert not est.converged_
    assert est.n_iter_ == est.best_iter_ + k
    assert np.all(scores[est.best_iter_ :] <= scores[est.best_iter_ - 1])


# ----------------------------------------------------------------------------- early stopping


ES_CONFIGS = {
    "gd-gram": dict(solver="gd", learning_rate=0.02),
    "gd-data": dict(solver="gd", learning_rate=0.02, precompute=False),
    "agd": dict(solver="agd"),
    "cg": dict(solver="cg"),
    "sgd": dict(solver="gd", learning_rate=0.01, batch_size=10, random_state=0),
}


@pytest.mark.parametrize("seed", [0, 3])
@pytest.mark.parametrize("config", list(ES_CONFIGS), ids=list(ES_CONFIGS))
def test_validation_scores_are_r2_of_each_iterate_and_best_is_returned(config, seed):
    X, y, X_val, y_val = overfit_data(seed)
    est = GDLinearRegressor(
        max_iter=3000, tol=0.0, n_iter_no_change=15, store_path=True, **ES_CONFIGS[config]
    )
    with no_warnings():
        est.fit(X, y, X_val=X_val, y_val=y_val)
    check_early_stopping_result(est, X_val, y_val)
    # These settings overfit: the best iterate is strictly better than the last one.
    assert est.validation_scores_.max() > est.validation_scores_[-1] + 1e-3


@pytest.mark.parametrize("precompute", [True, False])
def test_pooled_r2_over_two_targets(precompute):
    X, y, X_val, y_val = overfit_data(1)
    rng = np.random.default_rng(11)
    noise = rng.standard_normal(X.shape[0] + X_val.shape[0])
    # Targets on very different scales: pooling and averaging R^2 then disagree.
    Y = np.c_[y, 10 * y[::-1] + noise[: y.size]]
    Y_val = np.c_[y_val, 10 * y_val[::-1] + noise[y.size :]]
    est = GDLinearRegressor(
        solver="gd",
        learning_rate=0.02,
        max_iter=2000,
        tol=0.0,
        n_iter_no_change=10,
        store_path=True,
        precompute=precompute,
    )
    with no_warnings():
        est.fit(X, Y, X_val=X_val, y_val=Y_val)
    check_early_stopping_result(est, X_val, Y_val)
    # Pooled R^2 by hand: 1 - SSE over both targets / SST over both targets.
    P = iterate_predictions(est, X_val)
    sse = ((P - Y_val) ** 2).sum(axis=(1, 2))
    sst = ((Y_val - Y_val.mean(axis=0)) ** 2).sum()
    assert_allclose(est.validation_scores_, 1 - sse / sst, rtol=1e-9, atol=1e-9)
    averaged = np.array([r2_score(Y_val, p) for p in P])  # uniform average: not what is used
    assert np.max(np.abs(averaged - est.validation_scores_)) > 1e-3


@pytest.mark.parametrize("precompute", [True, False])
def test_sample_weight_val_gives_weighted_r2(precompute):
    X, y, X_val, y_val = overfit_data(3)
    w_val = np.random.default_rng(5).uniform(0.1, 3.0, size=y_val.size)
    est = GDLinearRegressor(
        solver="gd",
        learning_rate=0.02,
        max_iter=2000,
        tol=0.0,
        n_iter_no_change=10,
        store_path=True,
        precompute=precompute,
    )
    with no_warnings():
        est.fit(X, y, X_val=X_val, y_val=y_val, sample_weight_val=w_val)
    check_early_stopping_result(est, X_val, y_val, w_val)
    unweighted = r2_of_iterates(est, X_val, y_val)
    assert np.max(np.abs(unweighted - est.validation_scores_)) > 1e-3


@pytest.mark.parametrize("seed", [0, 1, 3])
def test_early_stopping_beats_a_long_overfitting_run(seed):
    X, y, X_val, y_val = overfit_data(seed)
    common = dict(solver="gd", learning_rate=0.02, max_iter=1500)
    long_run = GDLinearRegressor(tol=None, store_path=True, **common).fit(X, y)
    assert r2_score(y, long_run.predict(X)) > 0.999  # it interpolates the training noise
    # The validation R^2 along the long run (NumPy), confirmed at two points by sklearn.
    P = iterate_predictions(long_run, X_val)
    curve = 1 - ((P - y_val) ** 2).sum(axis=1) / ((y_val - y_val.mean()) ** 2).sum()
    peak = int(np.argmax(curve)) + 1  # curve[i] is iterate i + 1
    assert curve[peak - 1] == pytest.approx(r2_score(y_val, P[peak - 1]), abs=1e-12)
    assert curve[-1] == pytest.approx(r2_score(y_val, long_run.predict(X_val)), abs=1e-12)
    # ... rises, peaks, then falls by a wide margin.
    assert 1 < peak < 200
    assert curve[peak - 1] > curve[0] + 0.05
    assert curve[peak - 1] > curve[-1] + 0.05

    early = GDLinearRegressor(tol=0.0, n_iter_no_change=30, **common)
    with no_warnings():
        early.fit(X, y, X_val=X_val, y_val=y_val)
    assert early.stop_reason_ == "early_stopping"
    assert early.n_iter_ < 1500
    # Same start and steps: early stopping keeps exactly the peak of the long run.
    assert early.best_iter_ == peak
    score = r2_score(y_val, early.predict(X_val))
    assert score == pytest.approx(curve[peak - 1], abs=1e-9)
    assert score > r2_score(y_val, long_run.predict(X_val)) + 0.05


# ----------------------------------------------------------------------------- held-out split


def one_hot_data(n=40, seed=4):
    """X = [identity | z]: a gradient step from zero moves the one-hot coefficient of every
    training row and never that of a held-out row, which reveals the split exactly."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(n)
    X = np.c_[np.eye(n), z]
    y = 2 * z + 1.5 + 0.5 * rng.standard_normal(n)
    return X, y


def numpy_gd_path(X, y, w, lr, n_steps):
    """Textbook weighted half-MSE gradient descent from zero, intercept as a coordinate."""
    p = w / w.sum()
    coef, b = np.zeros(X.shape[1]), 0.0
    path = [np.r_[coef, b]]
    for _ in range(n_steps):
        r = X @ coef + b - y
        coef, b = coef - lr * (X.T @ (p * r)), b - lr * np.sum(p * r)
        path.append(np.r_[coef, b])
    return np.array(path)


def fit_split(X, y, fraction, seed, sample_weight=None):
    est = GDLinearRegressor(
        solver="gd",
        learning_rate=0.5,
        tol=0.0,
        max_iter=500,
        n_iter_no_change=5,
        early_stopping=True,
        validation_fraction=fraction,
        random_state=seed,
        store_path=True,
    )
    with no_warnings():
        est.fit(X, y, sample_weight=sample_weight)
    first = est.coef_path_[1][: X.shape[0]]
    held_out = np.abs(first) <= 1e-12 * np.abs(first).max()
    return est, held_out


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fraction", [0.1, 0.25, 0.33])
def test_held_out_split(fraction, weighted):
    X, y = one_hot_data()
    n = y.size
    w = np.random.default_rng(2).uniform(0.5, 2.0, n) if weighted else np.ones(n)
    est, held_out = fit_split(X, y, fraction, seed=0, sample_weight=w if weighted else None)
    # validation_fraction of the samples are held out (rounded to a whole sample).
    assert held_out.sum() in {math.floor(fraction * n), math.ceil(fraction * n)}
    assert held_out.sum() >= 1
    # Held-out rows never influence training: their coefficients stay exactly zero ...
    assert np.all(est.coef_path_[:, :n][:, held_out] == 0)
    # ... and the path is the textbook update on the training rows alone.
    train = ~held_out
    ref = numpy_gd_path(X[train], y[train], w[train], 0.5, est.n_iter_)
    path = np.c_[est.coef_path_, est.intercept_path_]
    assert_allclose(path, ref, rtol=1e-9, atol=1e-12)
    # The scores are the (weighted) R^2 of each iterate on the held-out rows.
    check_early_stopping_result(est, X[held_out], y[held_out], w[held_out])


def test_split_is_reproducible_from_random_state():
    X, y = one_hot_data()
    a, held_a = fit_split(X, y, 0.25, seed=7)
    b, held_b = fit_split(X, y, 0.25, seed=7)
    assert_array_equal(held_a, held_b)
    assert_array_equal(a.coef_, b.coef_)
    assert a.intercept_ == b.intercept_
    assert_array_equal(a.validation_scores_, b.validation_scores_)
    _, held_c = fit_split(X, y, 0.25, seed=8)
    assert held_c.sum() == held_a.sum()
    assert not np.array_equal(held_a, held_c)
    # A RandomState instance seeded alike holds out the same rows.
    _, held_d = fit_split(X, y, 0.25, seed=np.random.RandomState(7))
    assert_array_equal(held_a, held_d)


def test_X_val_turns_early_stopping_on_and_trains_on_all_rows():
    X, y = one_hot_data()
    rng = np.random.default_rng(3)
    X_val = np.c_[np.zeros((10, y.size)), rng.standard_normal(10)]
    y_val = 2 * X_val[:, -1] + 1.5 + 0.3 * rng.standard_normal(10)
    est = GDLinearRegressor(
        solver="gd", learning_rate=0.5, tol=0.0, max_iter=500, n_iter_no_change=5, store_path=True
    )
    assert est.early_stopping is False
    with no_warnings():
        est.fit(X, y, X_val=X_val, y_val=y_val)
    assert np.all(est.coef_path_[1][: y.size] != 0)  # no row was held out
    ref = numpy_gd_path(X, y, np.ones(y.size), 0.5, est.n_iter_)
    assert_allclose(np.c_[est.coef_path_, est.intercept_path_], ref, rtol=1e-9, atol=1e-12)
    check_early_stopping_result(est, X_val, y_val)


@pytest.mark.parametrize("which", ["X_val", "y_val"])
def test_validation_set_needs_both_X_val_and_y_val(which):
    X, y, X_val, y_val = overfit_data(0)
    given = {"X_val": X_val, "y_val": y_val}
    with pytest.raises(ValueError, match="X_val and y_val"):
        GDLinearRegressor(early_stopping=True).fit(X, y, **{which: given[which]})


@pytest.mark.parametrize("n, fraction", [(5, 0.9), (1, 0.01), (10, 0.95)])
def test_validation_fraction_leaving_no_training_sample_raises(n, fraction):
    X, y, _, _ = overfit_data(0)
    est = GDLinearRegressor(early_stopping=True, validation_fraction=fraction)
    with pytest.raises(ValueError, match=r"validation_fraction.*none to train"):
        est.fit(X[:n, :2], y[:n])
    assert not hasattr(est, "coef_")


@pytest.mark.parametrize("precompute", [True, False])
@pytest.mark.parametrize("train_targets, val_targets", [(2, 1), (1, 2)])
def test_validation_targets_must_match_training_targets(precompute, train_targets, val_targets):
    X, y, X_val, y_val = overfit_data(0, d=3, k=3)
    Y = np.c_[y, -y] if train_targets == 2 else y
    Y_val = np.c_[y_val, -y_val] if val_targets == 2 else y_val
    est = GDLinearRegressor(precompute=precompute, early_stopping=True)
    with pytest.raises(ValueError, match=r"(?i)y_val|target"):
        est.fit(X, Y, X_val=X_val, y_val=Y_val)


def test_early_stopping_with_tol_none():
    X, y, X_val, y_val = overfit_data(0)
    est = GDLinearRegressor(
        solver="gd",
        learning_rate=0.02,
        max_iter=1500,
        tol=None,
        n_iter_no_change=30,
        store_path=True,
    )
    with no_warnings():
        est.fit(X, y, X_val=X_val, y_val=y_val)
    check_early_stopping_result(est, X_val, y_val)


# ----------------------------------------------------------------------------- stop reasons


def small_data(seed=0, n=60):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3)) + np.array([0.0, 1.0, -2.0])
    y = X @ [1.5, -2.0, 0.5] + 3.0 + 0.1 * rng.standard_normal(n)
    return X, y


def lstsq(X, y):
    sol = np.linalg.lstsq(np.c_[X, np.ones(len(X))], y, rcond=None)[0]
    return sol[:-1], sol[-1]


@pytest.mark.parametrize(
    "params",
    [dict(solver="cg"), dict(solver="agd"), dict(solver="gd", learning_rate=0.1, max_iter=20000)],
    ids=["cg", "agd", "gd"],
)
def test_stop_reason_tol(params):
    X, y = small_data()
    est = GDLinearRegressor(**params)
    with no_warnings():
        est.fit(X, y)
    assert est.stop_reason_ == "tol"
    assert est.converged_
    assert est.n_iter_ < est.max_iter
    coef, intercept = lstsq(X, y)
    assert_allclose(est.coef_, coef, rtol=1e-6)
    assert est.intercept_ == pytest.approx(intercept, rel=1e-6)


def test_stop_reason_max_iter_warns():
    X, y = small_data()
    est = GDLinearRegressor(solver="gd", learning_rate=0.01, max_iter=7)
    with pytest.warns(ConvergenceWarning, match=r"max_iter=7") as record:
        est.fit(X, y)
    assert len(record) == 1
    assert est.stop_reason_ == "max_iter"
    assert not est.converged_
    assert est.n_iter_ == 7
    assert est.loss_curve_.shape == (7,)


@pytest.mark.parametrize(
    "params",
    [dict(solver="gd", learning_rate=0.01), dict(solver="agd"), dict(solver="cg")],
    ids=["gd", "agd", "cg"],
)
def test_tol_none_runs_max_iter_without_warning(params):
    X, y = small_data()
    est = GDLinearRegressor(tol=None, max_iter=2, **params)
    with no_warnings():
        est.fit(X, y)
    assert est.stop_reason_ == "max_iter"
    assert not est.converged_
    assert est.n_iter_ == 2


def ill_conditioned(seed=0, degree=16, n=60):
    """Monomials of degree 1..16 on [0, 1]: their standardised Gram matrix is singular to
    float64, and X itself (condition number ~1e14 and more) is beyond what refinement on the
    data recovers (degree 12 is recovered: see test_bad_input)."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 1, n))
    X = np.vander(t, degree + 1, increasing=True)[:, 1:]
    y = np.sin(3 * t) + 0.01 * rng.standard_normal(n)
    return X, y


def _exact_excess(X, y, coef, intercept, reference):
    """The relative excess of (coef, intercept) over the exact least-squares minimum."""
    best = exact_mse(X, y, *reference)
    return float((exact_mse(X, y, coef, intercept) - best) / best)


def _stalled_or_exact(X, y, **params):
    """Fit a design beyond float64 (see ill_conditioned) and hold its stop reason to its
    promise, against the exact rational minimum: "stalled" with one ConvergenceWarning, near
    the minimum; or "tol" only where it is exact, at least as close as a backward-stable
    solver (numpy.linalg.lstsq, within a factor 10). Which of the two happens is decided by
    the BLAS kernel's rounding (SkylakeX finishes seed 0 exactly, Haswell stalls on it)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = GDLinearRegressor(solver="cg", **params).fit(X, y)
    warned = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    b, coef = exact_lstsq(X.tolist(), y.tolist())
    excess = _exact_excess(X, y, est.coef_, est.intercept_, (coef, b))
    A = np.c_[X, np.ones(len(X))]
    theta = np.linalg.lstsq(A, y, rcond=None)[0]
    floor = _exact_excess(X, y, theta[:-1], theta[-1], (coef, b))
    assert est.n_iter_ < 200  # it gave up, or finished, long before max_iter
    if est.stop_reason_ == "stalled":
        assert len(warned) == 1 and "stalled" in warned[0]
        assert not est.converged_
        # Stalled, but not lost: refinement on the data brings it near the minimum.
        assert 0 <= excess <= 1e-8, excess
    else:
        assert est.stop_reason_ == "tol" and est.converged_ and not warned
        assert 0 <= excess <= max(10 * floor, 1e-13), (excess, floor)
    return est


@pytest.mark.parametrize("seed", [0, 1])
def test_stop_reason_stalled(seed):
    X, y = ill_conditioned(seed)
    est = _stalled_or_exact(X, y, tol=0.0, max_iter=100_000)
    # The loss is the model's (the Gram form's rounding, not a wrong model).
    own = 0.5 * np.mean((est.predict(X) - y) ** 2)
    assert est.loss_curve_[-1] == pytest.approx(own, rel=1e-5)


def test_stalled_with_tol_none_does_not_crash():
    # A stall warns whatever tol is (issue 14; it used to pass silently with tol=None).
    X, y = ill_conditioned(0)
    _stalled_or_exact(X, y, tol=None, max_iter=500)


# ----------------------------------------------------------------------------- verbose

LINE = re.compile(r"^(step|epoch)\s+(\d+)\s+loss (\S+)(?:\s+\|grad\| (\S+))?\s+step size (\S+)$")


def parse(out):
    rows = []
    for line in out.strip().splitlines():
        match = LINE.match(line.strip())
        assert match, line
        unit, it, loss, grad, step = match.groups()
        grad = None if grad is None else float(grad)
        rows.append((unit, int(it), float(loss), grad, float(step)))
    return rows


def test_verbose_prints_step_loss_gradient_norm_and_step_size(capsys):
    X, y = small_data()
    est = GDLinearRegressor(
        solver="gd", learning_rate=0.05, tol=None, max_iter=100, verbose=1, store_path=True
    )
    est.fit(X, y)
    rows = parse(capsys.readouterr().out)
    assert [r[1] for r in rows] == list(range(10, 101, 10))
    n = y.size
    for unit, it, loss, grad, step in rows:
        assert unit == "step"
        assert loss == pytest.approx(est.loss_curve_[it - 1], rel=1e-9)
        # The half-MSE loss and its gradient in (coef, intercept), by NumPy.
        r = X @ est.coef_path_[it] + est.intercept_path_[it] - y
        assert loss == pytest.approx(0.5 * np.mean(r**2), rel=1e-9)
        assert grad == pytest.approx(np.linalg.norm(np.r_[X.T @ r / n, r.mean()]), rel=1e-3)
        assert step == 0.05


def test_verbose_prints_epochs_with_mini_batches(capsys):
    X, y = small_data()
    est = GDLinearRegressor(
        solver="gd",
        learning_rate=0.01,
        tol=None,
        max_iter=50,
        batch_size=16,
        random_state=0,
        verbose=1,
    )
    est.fit(X, y)
    rows = parse(capsys.readouterr().out)
    assert [r[1] for r in rows] == list(range(5, 51, 5))
    for unit, it, loss, _, step in rows:
        assert unit == "epoch"
        assert loss == pytest.approx(est.loss_curve_[it - 1], rel=1e-9)
        assert step == 0.01


def test_verbose_reports_the_last_step_of_an_early_stop(capsys):
    X, y = small_data()
    est = GDLinearRegressor(solver="gd", learning_rate=0.1, max_iter=2000, verbose=1)
    with no_warnings():
        est.fit(X, y)
    assert est.stop_reason_ == "tol"
    assert est.n_iter_ % 200  # stopped between two periodic lines
    rows = parse(capsys.readouterr().out)
    its = [r[1] for r in rows]
    assert its == [*range(200, est.n_iter_, 200), est.n_iter_]
    for _, it, loss, _, _ in rows:
        assert loss == pytest.approx(est.loss_curve_[it - 1], rel=1e-9)


def test_a_validation_set_of_one_row_is_refused():
    """R^2 is undefined on one sample (scikit-learn's r2_score warns and returns NaN): early
    stopping on it would score a constant. Two rows work, and score as r2_score does."""
    from sklearn.metrics import r2_score

    rng = np.random.default_rng(0)
    X = rng.standard_normal((10, 2))
    y = X @ [1.0, -2.0] + 0.1 * rng.standard_normal(10)
    est = GDLinearRegressor(solver="gd", learning_rate=0.1, max_iter=30, tol=None)
    with pytest.raises(ValueError, match=r"undefined for fewer than 2 samples; this one has 1"):
        est.fit(X, y, X_val=X[:1], y_val=y[:1])
    # validation_fraction=0.1 of 10 rows holds out one.
    with pytest.raises(ValueError, match=r"undefined for fewer than 2 samples; this one has 1"):
        GDLinearRegressor(early_stopping=True, random_state=0).fit(X, y)
    # Two rows, one of zero weight: one that counts.
    with pytest.raises(ValueError, match=r"this one has 1 \(of positive weight\)"):
        est.fit(X, y, X_val=X[:2], y_val=y[:2], sample_weight_val=[1.0, 0.0])
    est.fit(X, y, X_val=X[:2], y_val=y[:2])
    assert_allclose(est.validation_scores_[est.best_iter_ - 1], r2_score(y[:2], est.predict(X[:2])))
