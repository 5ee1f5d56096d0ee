"""GDLinearRegressor as a scikit-learn estimator, checked against independent references.

The references are NumPy's ``lstsq`` (plain and weighted least squares), scikit-learn's
``LinearRegression`` and ``r2_score``, and a plain NumPy loop of the textbook update.
"""

import inspect
import pickle
import re
import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from gdlinreg import DivergenceError, GDLinearRegressor

PARAM_NAMES = set(inspect.signature(GDLinearRegressor).parameters)
assert {
    "loss",
    "learning_rate",
    "max_iter",
    "tol",
    "solver",
    "penalty",
    "batch_size",
} <= PARAM_NAMES


# ----------------------------------------------------------------------------- helpers


def make_data(n=40, d=3, *, n_targets=None, offset=True, seed=0):
    """A noisy linear problem; columns with different scales and (optionally) offsets."""
    rng = np.random.default_rng(seed)
    scales = np.linspace(0.5, 2.0, d)
    shifts = np.linspace(-2.0, 3.0, d) if offset else np.zeros(d)
    X = rng.standard_normal((n, d)) * scales + shifts
    k = 1 if n_targets is None else n_targets
    coef = rng.standard_normal((k, d))
    intercept = rng.standard_normal(k)
    Y = X @ coef.T + intercept + 0.1 * rng.standard_normal((n, k))
    return X, (Y[:, 0] if n_targets is None else Y)


def lstsq(X, y, sample_weight=None, fit_intercept=True):
    """(Weighted) least squares with NumPy alone: returns (coef, intercept) in sklearn shapes."""
    n, d = X.shape
    s = np.sqrt(np.ones(n) if sample_weight is None else np.asarray(sample_weight, float))
    Z = np.c_[X, np.ones(n)] if fit_intercept else X
    sol = np.linalg.lstsq(Z * s[:, None], (np.asarray(y).T * s).T, rcond=None)[0]
    coef = sol[:d].T
    no_intercept = np.zeros(sol.shape[1]) if sol.ndim == 2 else 0.0
    intercept = sol[d] if fit_intercept else no_intercept
    return coef, intercept


def gd_reference(X, y, learning_rate, n_steps, coef0, intercept0, factor=0.5):
    """The textbook update on J = factor * mean((Xw + b - y)^2), one target, as a plain loop."""
    w, b = np.array(coef0, dtype=float), float(intercept0)
    n = X.shape[0]
    for _ in range(n_steps):
        r = X @ w + b - y
        w = w - learning_rate * (2 * factor / n) * (X.T @ r)
        b = b - learning_rate * (2 * factor / n) * r.sum()
    return w, b


def fitted_state(model):
    """The fitted attributes (trailing underscore), as scikit-learn defines them."""
    return {k: v for k, v in vars(model).items() if k.endswith("_") and not k.startswith("__")}


def assert_same_state(before, after):
    assert before.keys() == after.keys()
    for key, value in before.items():
        if isinstance(value, np.ndarray | np.generic):
            assert_array_equal(after[key], value, err_msg=key)
            assert np.asarray(after[key]).dtype == np.asarray(value).dtype, key
        else:
            assert after[key] == value, key


# ----------------------------------------------------------------------------- meta-estimators


def test_grid_search_pipeline_refits_and_matches_linear_regression():
    X, y = load_diabetes(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), GDLinearRegressor(solver="auto"))
    grid = {
        "gdlinearregressor__loss": ["half_mse", "mse"],
        "gdlinearregressor__learning_rate": ["auto", 0.1],
        "gdlinearregressor__max_iter": [100_000],
    }
    search = GridSearchCV(pipe, grid, cv=3, n_jobs=2, error_score="raise").fit(X, y)

    assert len(search.cv_results_["params"]) == 4
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    best = search.best_estimator_
    model = best[-1]
    assert model.loss == search.best_params_["gdlinearregressor__loss"]
    assert model.learning_rate == search.best_params_["gdlinearregressor__learning_rate"]
    # A number is a step: with it, "auto" runs textbook gradient descent.
    assert model.solver_ == ("cg" if model.learning_rate == "auto" else "gd")

    Xs = StandardScaler().fit_transform(X)
    ref = LinearRegression().fit(Xs, y)
    assert_allclose(model.coef_, ref.coef_, rtol=1e-6)
    assert_allclose(model.intercept_, ref.intercept_, rtol=1e-6)
    assert_allclose(search.predict(X), ref.predict(Xs), rtol=1e-6)
    assert search.score(X, y) == pytest.approx(r2_score(y, ref.predict(Xs)), rel=1e-9)


def test_every_grid_point_reaches_least_squares():
    # Not only the winner: each loss / step pair the search tried has the same minimiser.
    X, y = load_diabetes(return_X_y=True)
    Xs = StandardScaler().fit_transform(X)
    ref = LinearRegression().fit(Xs, y)
    for loss in ("half_mse", "mse"):
        for lr in ("auto", 0.1):
            model = GDLinearRegressor(loss=loss, learning_rate=lr, max_iter=100_000).fit(Xs, y)
            assert model.converged_, (loss, lr)
            assert_allclose(model.coef_, ref.coef_, rtol=1e-6, err_msg=f"{loss}, {lr}")


# ----------------------------------------------------------------------------- sklearn API


def test_init_stores_only():
    marker = object()
    est = GDLinearRegressor(
        loss="not-a-loss",
        learning_rate=-5,
        max_iter="many",
        tol=marker,
        fit_intercept="maybe",
        solver="magic",
        warm_start=None,
        store_path=3,
        precompute=[1],
        verbose="loud",
    )  # no validation in __init__
    assert set(vars(est)) == PARAM_NAMES
    assert est.tol is marker
    assert est.get_params()["precompute"] == [1]
    assert not fitted_state(est)
    with pytest.raises(ValueError, match="parameter of GDLinearRegressor must be"):
        est.fit(*make_data())  # validated at fit time


def test_get_params_and_set_params():
    est = GDLinearRegressor()
    assert est.get_params() == {
        "loss": "half_mse",
        "learning_rate": "auto",
        "max_iter": 1000,
        "tol": 1e-10,
        "fit_intercept": True,
        "solver": "auto",
        "epsilon": 1.35,
        "penalty": None,
        "alpha": 1e-4,
        "l1_ratio": 0.15,
        "positive": False,
        "momentum": 0.0,
        "nesterovs_momentum": False,
        "line_search": False,
        "batch_size": None,
        "shuffle": True,
        "random_state": None,
        "early_stopping": False,
        "validation_fraction": 0.1,
        "n_iter_no_change": 5,
        "warm_start": False,
        "store_path": False,
        "precompute": "auto",
        "verbose": 0,
    }
    assert est.set_params(loss="mse", learning_rate=0.05, max_iter=7) is est
    params = est.get_params()
    assert (params["loss"], params["learning_rate"], params["max_iter"]) == ("mse", 0.05, 7)
    with pytest.raises(ValueError, match="Invalid parameter 'eta0'"):
        est.set_params(eta0=1.0)
    # Nested names, as used by GridSearchCV.
    pipe = make_pipeline(StandardScaler(), GDLinearRegressor())
    pipe.set_params(gdlinearregressor__solver="agd")
    assert pipe[-1].solver == "agd"


def test_clone_keeps_params_drops_fit():
    X, y = make_data()
    est = GDLinearRegressor(loss="mse", solver="agd", learning_rate=0.2, tol=1e-8).fit(X, y)
    copy = clone(est)
    assert copy is not est
    assert copy.get_params() == est.get_params()
    assert not fitted_state(copy)
    with pytest.raises(NotFittedError):
        check_is_fitted(copy)
    assert_allclose(copy.fit(X, y).coef_, est.coef_, rtol=1e-12)


def test_pickle_round_trip():
    X, y = make_data(n_targets=2)
    est = GDLinearRegressor(store_path=True).fit(X, y)
    restored = pickle.loads(pickle.dumps(est))
    assert restored.get_params() == est.get_params()
    assert_same_state(fitted_state(est), fitted_state(restored))
    assert_array_equal(restored.predict(X), est.predict(X))


# ----------------------------------------------------------------------------- results


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("precompute", [True, False])
@pytest.mark.parametrize(
    ("solver", "learning_rate", "data_offset", "rtol"),
    [
        ("auto", "auto", True, 1e-9),
        ("cg", "auto", True, 1e-9),
        ("agd", "auto", True, 1e-7),
        ("agd", 0.3, True, 1e-7),
        # textbook GD in raw coordinates: centred data keeps it to a few hundred steps
        ("gd", "auto", False, 1e-7),
        ("gd", 0.2, False, 1e-7),
    ],
)
def test_matches_linear_regression(
    solver, learning_rate, data_offset, rtol, precompute, fit_intercept
):
    X, y = make_data(offset=data_offset)
    est = GDLinearRegressor(
        solver=solver,
        learning_rate=learning_rate,
        precompute=precompute,
        fit_intercept=fit_intercept,
        max_iter=5000,
    ).fit(X, y)
    ref = LinearRegression(fit_intercept=fit_intercept).fit(X, y)
    assert est.converged_
    assert est.solver_ == ("cg" if solver == "auto" else solver)
    assert est.coef_.shape == (3,)
    assert np.ndim(est.intercept_) == 0
    assert_allclose(est.coef_, ref.coef_, rtol=rtol, atol=1e-9)
    assert_allclose(est.intercept_, ref.intercept_, rtol=rtol, atol=1e-9)
    assert_allclose(est.predict(X), ref.predict(X), rtol=1e-7, atol=1e-7)
    if not fit_intercept:
        assert est.intercept_ == 0.0


def test_fit_intercept_false_matches_lstsq_through_origin():
    X, y = make_data()
    est = GDLinearRegressor(fit_intercept=False).fit(X, y)
    coef, _ = lstsq(X, y, fit_intercept=False)
    assert_allclose(est.coef_, coef, rtol=1e-9)
    assert est.intercept_ == 0.0
    assert_allclose(est.predict(X), X @ coef, rtol=1e-9)


@pytest.mark.parametrize("solver", ["cg", "agd"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_sample_weight_matches_weighted_lstsq(solver, fit_intercept):
    X, y = make_data(n=50)
    sw = np.random.default_rng(1).uniform(0.1, 5.0, size=50)
    est = GDLinearRegressor(solver=solver, fit_intercept=fit_intercept)
    est.fit(X, y, sample_weight=sw)
    coef, intercept = lstsq(X, y, sw, fit_intercept=fit_intercept)
    assert_allclose(est.coef_, coef, rtol=1e-7)
    assert_allclose(est.intercept_, intercept, rtol=1e-7, atol=1e-12)
    # and it is not the unweighted solution
    assert not np.allclose(est.coef_, lstsq(X, y, fit_intercept=fit_intercept)[0], rtol=1e-4)


def test_integer_weights_equal_repeated_rows_and_zero_weights_drop_rows():
    X, y = make_data(n=30)
    counts = np.random.default_rng(2).integers(0, 4, size=30)
    counts[:2] = (0, 3)
    weighted = GDLinearRegressor().fit(X, y, sample_weight=counts)
    repeated = GDLinearRegressor().fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-9)
    assert_allclose(weighted.intercept_, repeated.intercept_, rtol=1e-9)
    # weights are relative: scaling them all changes nothing
    scaled = GDLinearRegressor().fit(X, y, sample_weight=1e3 * counts)
    assert_allclose(scaled.coef_, weighted.coef_, rtol=1e-9)


@pytest.mark.parametrize("use_weights", [False, True])
def test_multi_output_matches_lstsq(use_weights):
    X, Y = make_data(n=60, d=4, n_targets=3)
    sw = np.random.default_rng(3).uniform(0.5, 2.0, size=60) if use_weights else None
    est = GDLinearRegressor().fit(X, Y, sample_weight=sw)
    coef, intercept = lstsq(X, Y, sw)
    assert est.coef_.shape == (3, 4)
    assert est.intercept_.shape == (3,)
    assert_allclose(est.coef_, coef, rtol=1e-8)
    assert_allclose(est.intercept_, intercept, rtol=1e-8)
    pred = est.predict(X)
    assert pred.shape == (60, 3)
    assert_allclose(pred, X @ coef.T + intercept, rtol=1e-8)
    # each target is fitted as if alone
    for j in range(3):
        alone = GDLinearRegressor().fit(X, Y[:, j], sample_weight=sw)
        assert_allclose(est.coef_[j], alone.coef_, rtol=1e-8)
        assert_allclose(est.intercept_[j], alone.intercept_, rtol=1e-8)


def test_two_dimensional_y_with_one_column_keeps_2d_shapes():
    X, y = make_data()
    est = GDLinearRegressor().fit(X, y[:, None])
    flat = GDLinearRegressor().fit(X, y)
    assert est.coef_.shape == (1, 3)
    assert est.intercept_.shape == (1,)
    assert est.predict(X).shape == (40, 1)
    assert_allclose(est.coef_[0], flat.coef_, rtol=1e-12)
    assert_allclose(est.intercept_[0], flat.intercept_, rtol=1e-12)


def test_dataframe_input_sets_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = make_data()
    df = pd.DataFrame(X, columns=["alpha", "beta", "gamma"])
    est = GDLinearRegressor().fit(df, pd.Series(y, name="target"))
    assert_array_equal(est.feature_names_in_, ["alpha", "beta", "gamma"])
    assert est.n_features_in_ == 3
    assert_allclose(est.coef_, GDLinearRegressor().fit(X, y).coef_, rtol=1e-12)
    assert_allclose(est.predict(df), X @ est.coef_ + est.intercept_, rtol=1e-12)
    with pytest.raises(ValueError, match="feature names should match"):
        est.predict(df[["gamma", "beta", "alpha"]])
    # arrays have no feature names: no attribute
    assert not hasattr(GDLinearRegressor().fit(X, y), "feature_names_in_")


def test_predict_array_after_dataframe_fit_warns():
    pd = pytest.importorskip("pandas")
    X, y = make_data()
    est = GDLinearRegressor().fit(pd.DataFrame(X, columns=list("abc")), y)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        est.predict(X)


@pytest.mark.parametrize("n_targets", [None, 2])
@pytest.mark.parametrize("solver", ["cg", "agd"])
def test_float32_is_preserved(n_targets, solver):
    X, y = make_data(n_targets=n_targets)
    X32 = X.astype(np.float32)
    est = GDLinearRegressor(solver=solver, tol=1e-6).fit(X32, y)
    assert est.coef_.dtype == np.float32
    assert np.asarray(est.intercept_).dtype == np.float32
    assert est.predict(X32).dtype == np.float32
    ref = LinearRegression().fit(X32.astype(np.float64), y)
    assert_allclose(est.coef_, ref.coef_, rtol=1e-4)
    assert_allclose(est.predict(X32), ref.predict(X32.astype(np.float64)), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("n_targets", [None, 2])
@pytest.mark.parametrize("X_dtype", [np.float64, np.int64])
def test_float64_and_integer_input_give_float64(n_targets, X_dtype):
    X, y = make_data(n_targets=n_targets)
    X = np.round(X * 10).astype(X_dtype)
    est = GDLinearRegressor().fit(X, y.astype(np.float32))  # y's dtype does not decide
    assert est.coef_.dtype == np.float64
    assert np.asarray(est.intercept_).dtype == np.float64
    assert est.predict(X).dtype == np.float64


@pytest.mark.parametrize("n_targets", [None, 3])
def test_score_is_r2_score(n_targets):
    X, y = make_data(n_targets=n_targets)
    sw = np.linspace(0.5, 1.5, X.shape[0])
    est = GDLinearRegressor().fit(X[:30], y[:30])
    X_test, y_test = X[30:] + 0.3, y[30:]
    assert est.score(X_test, y_test) == pytest.approx(r2_score(y_test, est.predict(X_test)))
    assert est.score(X_test, y_test, sample_weight=sw[30:]) == pytest.approx(
        r2_score(y_test, est.predict(X_test), sample_weight=sw[30:])
    )


def test_loss_curve_and_learning_rate_are_those_of_the_textbook_update():
    X, y = make_data(offset=False)
    n_steps, lr = 25, 0.1
    est = GDLinearRegressor(solver="gd", learning_rate=lr, tol=None, max_iter=n_steps)
    est.fit(X, y, coef_init=[0.5, -0.5, 1.0], intercept_init=0.25)
    w, b = gd_reference(X, y, lr, n_steps, [0.5, -0.5, 1.0], 0.25)
    assert_allclose(est.coef_, w, rtol=1e-10)
    assert_allclose(est.intercept_, b, rtol=1e-10)
    assert est.n_iter_ == n_steps and not est.converged_ and est.learning_rate_ == lr
    assert est.loss_curve_.shape == (n_steps,)
    assert est.loss_curve_[-1] == pytest.approx(0.5 * np.mean((X @ w + b - y) ** 2), rel=1e-9)
    assert np.all(np.diff(est.loss_curve_) < 0)


@pytest.mark.parametrize("loss, factor", [("half_mse", 0.5), ("mse", 1.0)])
def test_auto_learning_rate_is_inverse_lipschitz(loss, factor):
    X, y = make_data()
    Z = np.c_[X, np.ones(len(X))]
    L = 2 * factor * np.linalg.eigvalsh(Z.T @ Z / len(X))[-1]
    est = GDLinearRegressor(solver="gd", loss=loss, tol=None, max_iter=3).fit(X, y)
    assert est.learning_rate_ == pytest.approx(1 / L, rel=1e-10)


@pytest.mark.parametrize("loss, factor", [("half_mse", 0.5), ("mse", 1.0)])
def test_cg_on_the_data_form_reports_the_inverse_lipschitz_step(loss, factor):
    # On the data form, "cg" reads L off its own Lanczos coefficients instead of spending
    # passes on it: after d steps they hold the Hessian's whole spectrum, so 1/L matches the
    # top eigenvalue of the centred, standardised Hessian (NumPy) to rounding.
    X, y = make_data()
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    L = 2 * factor * np.linalg.eigvalsh(Z.T @ Z / len(X))[-1]
    est = GDLinearRegressor(loss=loss, precompute=False, tol=0.0).fit(X, y)
    assert est.solver_ == "cg" and est.n_iter_ >= X.shape[1]
    assert est.learning_rate_ == pytest.approx(1 / L, rel=1e-6)


def test_mse_with_step_a_is_half_mse_with_step_2a():
    X, y = make_data(offset=False)
    kw = {"solver": "gd", "tol": None, "max_iter": 40}
    mse = GDLinearRegressor(loss="mse", learning_rate=0.05, **kw).fit(X, y)
    half = GDLinearRegressor(loss="half_mse", learning_rate=0.1, **kw).fit(X, y)
    assert_allclose(mse.coef_, half.coef_, rtol=1e-12)
    assert_allclose(mse.loss_curve_, 2 * half.loss_curve_, rtol=1e-12)


# ----------------------------------------------------------------------------- warm start


@pytest.mark.parametrize("precompute", [True, False])
@pytest.mark.parametrize("k", [7, 300])  # 2 * 300 crosses the solver's 512-step blocks
def test_warm_start_continues_textbook_gd(k, precompute):
    X, y = make_data(offset=False)
    kw = {"solver": "gd", "learning_rate": 0.05, "tol": None, "precompute": precompute}
    twice = GDLinearRegressor(warm_start=True, max_iter=k, **kw)
    twice.fit(X, y).fit(X, y)
    once = GDLinearRegressor(max_iter=2 * k, **kw).fit(X, y)
    w, b = gd_reference(X, y, 0.05, 2 * k, np.zeros(3), 0.0)
    assert twice.n_iter_ == k
    assert_allclose(twice.coef_, once.coef_, rtol=1e-10)
    assert_allclose(twice.intercept_, once.intercept_, rtol=1e-10)
    assert_allclose(twice.coef_, w, rtol=1e-9)
    assert_allclose(twice.intercept_, b, rtol=1e-9)
    # warm_start=False starts from zeros again
    cold = clone(twice).set_params(warm_start=False)
    assert_allclose(
        cold.fit(X, y).fit(X, y).coef_, GDLinearRegressor(max_iter=k, **kw).fit(X, y).coef_
    )


def test_warm_start_with_store_path_starts_from_previous_fit():
    X, y = make_data(offset=False)
    est = GDLinearRegressor(
        solver="gd", learning_rate=0.05, tol=None, max_iter=30, warm_start=True, store_path=True
    )
    est.fit(X, y)
    assert_array_equal(est.coef_path_[0], np.zeros(3))
    assert est.intercept_path_[0] == 0.0
    prev_coef, prev_intercept = est.coef_.copy(), est.intercept_
    est.fit(X, y)
    assert est.coef_path_.shape == (31, 3)
    assert est.intercept_path_.shape == (31,)
    assert_array_equal(est.coef_path_[0], prev_coef)
    assert est.intercept_path_[0] == prev_intercept
    assert_array_equal(est.coef_path_[-1], est.coef_)
    assert est.intercept_path_[-1] == pytest.approx(est.intercept_, rel=1e-14)
    # every row is one textbook step from the one before
    w, b = gd_reference(X, y, 0.05, 1, est.coef_path_[9], est.intercept_path_[9])
    assert_allclose(est.coef_path_[10], w, rtol=1e-12)
    assert_allclose(est.intercept_path_[10], b, rtol=1e-12)


def test_store_path_with_cg_warm_start_and_multi_output():
    X, Y = make_data(n_targets=2)
    est = GDLinearRegressor(warm_start=True, store_path=True).fit(X, Y)
    assert est.coef_path_.shape == (est.n_iter_ + 1, 2, 3)
    assert est.intercept_path_.shape == (est.n_iter_ + 1, 2)
    prev = est.coef_.copy()
    est.fit(X, Y + 0.5 * np.random.default_rng(4).standard_normal(Y.shape))
    assert_allclose(est.coef_path_[0], prev, rtol=1e-14)
    assert_array_equal(est.coef_path_[-1], est.coef_)
    assert_allclose(est.intercept_path_[-1], est.intercept_, rtol=1e-14)


def test_coef_init_takes_precedence_over_warm_start():
    X, y = make_data(offset=False)
    kw = {"solver": "gd", "learning_rate": 0.05, "tol": None, "max_iter": 5, "store_path": True}
    est = GDLinearRegressor(warm_start=True, **kw).fit(X, y)
    est.fit(X, y, coef_init=[1.0, 2.0, 3.0], intercept_init=-1.0)
    assert_array_equal(est.coef_path_[0], [1.0, 2.0, 3.0])
    assert est.intercept_path_[0] == -1.0


def test_warm_start_with_different_width_is_a_clear_error():
    X, y = make_data()
    est = GDLinearRegressor(warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match=r"coef_ of shape \(3,\).*warm_start=False"):
        est.fit(np.c_[X, X], y)
    with pytest.raises(ValueError, match=r"warm_start=True.*coef_ of shape \(3,\)"):
        est.fit(X, np.c_[y, y])


# ----------------------------------------------------------------------------- warnings, verbose


def test_convergence_warning_when_max_iter_too_small():
    X, y = make_data()
    est = GDLinearRegressor(solver="gd", learning_rate=0.01, max_iter=5)
    with pytest.warns(ConvergenceWarning, match=r"max_iter=5.*Increase max_iter"):
        est.fit(X, y)
    assert est.n_iter_ == 5
    assert not est.converged_
    assert est.loss_curve_.shape == (5,)


@pytest.mark.parametrize("solver, learning_rate", [("gd", 0.01), ("agd", 0.1), ("cg", "auto")])
def test_no_warning_with_tol_none(solver, learning_rate):
    X, y = make_data()
    est = GDLinearRegressor(solver=solver, learning_rate=learning_rate, max_iter=2, tol=None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.fit(X, y)
    assert est.n_iter_ == 2
    assert not est.converged_


def test_verbose_prints_ten_progress_lines(capsys):
    X, y = make_data(offset=False)
    est = GDLinearRegressor(solver="gd", learning_rate=0.05, tol=None, max_iter=100, verbose=1)
    est.fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 10
    pattern = re.compile(r"step\s+(\d+)\s+loss (\S+)\s+\|grad\| (\S+)")
    steps = []
    for line in lines:
        match = pattern.search(line)
        assert match, line
        steps.append(int(match[1]))
        assert float(match[2]) == pytest.approx(est.loss_curve_[int(match[1]) - 1], rel=1e-9)
    assert steps == list(range(10, 101, 10))


def test_verbose_zero_is_silent(capsys):
    GDLinearRegressor(verbose=0).fit(*make_data())
    assert capsys.readouterr().out == ""


# ----------------------------------------------------------------------------- failed refits


def _divergent(est, X, y):
    est.set_params(solver="gd", learning_rate=1e3, tol=None)
    return est.fit(np.c_[X, X[:, :1]], y)


def _nan_in_X(est, X, y):
    X = np.c_[X, X].copy()
    X[3, 1] = np.nan
    return est.fit(X, y)


def _wrong_y_length(est, X, y):
    return est.fit(np.c_[X, X], y[:-1])


def _negative_weight(est, X, y):
    return est.fit(np.c_[X, X], y, sample_weight=-np.ones(len(y)))


def _bad_coef_init(est, X, y):
    return est.fit(np.c_[X, X], y, coef_init=np.zeros(2))


def _warm_start_mismatch(est, X, y):
    est.set_params(warm_start=True)
    return est.fit(np.c_[X, X], y)


def _invalid_param(est, X, y):
    est.set_params(solver="sag")
    return est.fit(np.c_[X, X], y)


def _warning_as_error(est, X, y):
    # Under filterwarnings=error the ConvergenceWarning is raised after every fitted
    # attribute was already overwritten: the roll-back must undo them.
    est.set_params(solver="gd", learning_rate=1e-3, max_iter=2, store_path=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return est.fit(np.c_[X, X], np.c_[y, y])


FAILED_REFITS = [
    pytest.param(_divergent, DivergenceError, id="divergent-learning-rate"),
    pytest.param(_nan_in_X, ValueError, id="nan-in-X"),
    pytest.param(_wrong_y_length, ValueError, id="wrong-y-length"),
    pytest.param(_negative_weight, ValueError, id="negative-sample-weight"),
    pytest.param(_bad_coef_init, ValueError, id="coef-init-shape"),
    pytest.param(_warm_start_mismatch, ValueError, id="warm-start-shape"),
    pytest.param(_invalid_param, ValueError, id="invalid-parameter"),
    pytest.param(_warning_as_error, ConvergenceWarning, id="convergence-warning-as-error"),
]


@pytest.mark.parametrize("refit, error", FAILED_REFITS)
def test_failed_refit_leaves_previous_fit_intact(refit, error):
    X, y = make_data()
    est = GDLinearRegressor(store_path=True).fit(X, y)
    before = fitted_state(est)
    pred = est.predict(X)
    with pytest.raises(error):
        refit(est, X, y)
    assert_same_state(before, fitted_state(est))
    assert est.n_features_in_ == 3
    assert_array_equal(est.predict(X), pred)


@pytest.mark.parametrize("refit, error", [p for p in FAILED_REFITS if p.id != "warm-start-shape"])
def test_failed_first_fit_leaves_estimator_unfitted(refit, error):
    X, y = make_data()
    est = GDLinearRegressor()
    with pytest.raises(error):
        refit(est, X, y)
    assert not fitted_state(est)
    with pytest.raises(NotFittedError):
        est.predict(X)


def test_failed_refit_restores_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = make_data()
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    est = GDLinearRegressor().fit(df, y)
    bad = X.copy()
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        est.fit(bad, y)  # an array: validate_data drops feature_names_in_ before failing
    assert_array_equal(est.feature_names_in_, ["a", "b", "c"])
    assert_allclose(est.predict(df), GDLinearRegressor().fit(X, y).predict(X), rtol=1e-12)

    plain = GDLinearRegressor().fit(X, y)
    with pytest.raises(DivergenceError):
        plain.set_params(solver="gd", learning_rate=1e3, tol=None).fit(df, y)
    assert not hasattr(plain, "feature_names_in_")


# ----------------------------------------------------------------------------- divergence


@pytest.mark.parametrize("loss, factor", [("half_mse", 0.5), ("mse", 1.0)])
def test_divergence_error_gives_the_true_stable_bound(loss, factor):
    X, y = make_data(offset=False)
    Z = np.c_[X, np.ones(len(X))]
    bound = 2 / (2 * factor * np.linalg.eigvalsh(Z.T @ Z / len(X))[-1])
    kw = {"solver": "gd", "loss": loss, "tol": None, "max_iter": 2000}
    with pytest.raises(DivergenceError, match=r"largest stable step .* is (\S+) \(2/L") as info:
        GDLinearRegressor(learning_rate=1.05 * bound, **kw).fit(X, y)
    assert isinstance(info.value, ValueError)
    quoted = float(re.search(r"largest stable step .* is (\S+) \(2/L", str(info.value))[1])
    assert quoted == pytest.approx(bound, rel=1e-5)
    assert "learning_rate='auto'" in str(info.value)
    assert np.all(np.isfinite(info.value.loss_history))
    # just below the bound, the same iteration is stable
    est = GDLinearRegressor(learning_rate=0.95 * bound, **kw).fit(X, y)
    assert_allclose(est.coef_, lstsq(X, y)[0], rtol=1e-6)


# ----------------------------------------------------------------------------- known bugs


def test_store_path_when_starting_at_the_optimum():
    # A start that already meets tol takes no step, converges, and keeps a one-row path.
    X = np.array(
        [[5, 6, 3], [8, -1, 7], [-2, 2, 8], [7, 8, -4], [6, -1, 2], [9, -8, -7], [8, 3, -2]],
        dtype=float,
    )
    X = np.vstack([X, [-3.0, -8.0, 0.0]])
    y = np.array([0.0, 6.0, 6.0, -6.0, 3.0, 1.0, -2.0, 8.0])
    coef, _ = lstsq(X, y)
    est = GDLinearRegressor(store_path=True).fit(X, y, coef_init=coef)
    assert est.coef_path_.shape[0] == est.n_iter_ + 1
    assert_allclose(est.coef_path_[0], coef)
    assert est.converged_


def test_divergence_error_survives_pickling():
    # GridSearchCV(n_jobs=2, error_score="raise") ships the error back from a worker.
    X, y = make_data(offset=False)
    with pytest.raises(DivergenceError) as info:
        GDLinearRegressor(solver="gd", learning_rate=1e3, tol=None).fit(X, y)
    restored = pickle.loads(pickle.dumps(info.value))
    assert str(restored) == str(info.value)
    assert_array_equal(restored.loss_history, info.value.loss_history)


@pytest.mark.parametrize(
    "params",
    [{}, {"fit_intercept": False}, {"penalty": "l2", "alpha": 0.5}, {"solver": "agd"}],
)
@pytest.mark.parametrize("constant", [False, True])
def test_condition_number_is_that_of_the_standardised_gram_matrix(params, constant):
    # The reference: numpy's cond of the weighted correlation matrix of the non-constant
    # columns (uncentred without an intercept), plus the ridge share alpha / (c * var_j).
    rng = np.random.default_rng(4)
    X = rng.standard_normal((400, 6)) @ (np.eye(6) + rng.standard_normal((6, 6))) + 3.0
    if constant:
        X[:, 2] = 7.0
    w = rng.uniform(0.5, 2.0, 400)
    y = X @ rng.standard_normal(6) + rng.standard_normal(400)
    model = GDLinearRegressor(**params).fit(X, y, sample_weight=w)
    p = w / w.sum()
    Z = X - p @ X if params.get("fit_intercept", True) else X
    second = Z.T @ (Z * p[:, None])
    keep = second.diagonal() > 1e-12 * second.diagonal().max()
    second = second[np.ix_(keep, keep)]
    spread = np.sqrt(second.diagonal())
    scaled = second / np.outer(spread, spread)
    if "alpha" in params:
        scaled += np.diag(params["alpha"] / spread**2)  # half_mse: curvature 1
    assert model.condition_number_ == pytest.approx(np.linalg.cond(scaled), rel=1e-8)


def test_coef_frame_labels_the_least_squares_coefficients(monkeypatch):
    """Rows: intercept, then the features by name; columns: one per target. Values from
    numpy.linalg.lstsq on [1 | X]."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.standard_normal((40, 3)), columns=["age", "bmi", "bp"])
    Y = X.to_numpy() @ rng.standard_normal((3, 2)) + [1.0, -2.0] + rng.standard_normal((40, 2))
    ref = np.linalg.lstsq(np.c_[np.ones(40), X.to_numpy()], Y, rcond=None)[0]
    frame = GDLinearRegressor().fit(X, Y).coef_frame()
    assert list(frame.index) == ["intercept", "age", "bmi", "bp"]
    assert list(frame.columns) == ["y0", "y1"]
    np.testing.assert_allclose(frame.to_numpy(), ref, rtol=1e-8, atol=1e-10)
    one = GDLinearRegressor(fit_intercept=False).fit(X.to_numpy(), Y[:, 0]).coef_frame()
    ref0 = np.linalg.lstsq(X.to_numpy(), Y[:, 0], rcond=None)[0]
    assert list(one.index) == ["x0", "x1", "x2"] and list(one.columns) == ["coef"]
    np.testing.assert_allclose(one["coef"].to_numpy(), ref0, rtol=1e-8, atol=1e-10)
    with pytest.raises(NotFittedError):
        GDLinearRegressor().coef_frame()
    fitted = GDLinearRegressor().fit(X.to_numpy(), Y[:, 0])
    # As if pandas were not installed (after the fit: scikit-learn 1.6 reads sys.modules'
    # pandas in its validation and fails on None).
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"coef_frame needs pandas.*pip install pandas"):
        fitted.coef_frame()
