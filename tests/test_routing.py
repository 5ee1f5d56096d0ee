"""scikit-learn's metadata routing (issue 16): ``sample_weight`` reaches GDLinearRegressor
through ``Pipeline``, ``cross_validate`` and ``GridSearchCV`` once requested with
``set_fit_request`` (and ``set_score_request`` where a score needs it), and an unrequested
weight raises or is left out as scikit-learn documents.

The references never route: weighted least squares by NumPy's ``lstsq`` on the same rows
(and the same folds), scikit-learn's ``r2_score`` and ``mean_squared_error`` with the
weights passed by hand, and ``LinearRegression`` on rows repeated as often as their integer
weight. The data are heteroscedastic with weights that follow the noise, so that the weighted
and the unweighted solutions differ by far more than the tolerance: a weight that went
missing on its way fails the test.
"""

import inspect
import re

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose
from sklearn.exceptions import UnsetMetadataPassedError
from sklearn.linear_model import LinearRegression
from sklearn.metrics import get_scorer, mean_squared_error, r2_score
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from gdlinreg import GDLinearRegressor

# The default fit stops at tol, which leaves about 1e-8 of relative error in the coefficients
# on data this well conditioned (tests/test_estimator.py asks the same 1e-7 of lstsq).
RTOL = 1e-7
CV = KFold(3, shuffle=True, random_state=0)


@pytest.fixture(autouse=True)
def _routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def _data(n=90, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) * [1.0, 2.0, 0.5] + [0.0, 1.0, -1.0]
    noise = rng.choice([0.2, 3.0], size=n)  # two noise levels
    # Outliers in the noisy rows pull the unweighted solution away.
    y = X @ [1.0, -2.0, 3.0] + 2.0 + noise * rng.standard_t(3, size=n) + 2.0 * (noise > 1) * X[:, 0]
    w = np.where(noise > 1, 1.0, 5.0)  # integer weights: the repeated-rows reference
    return X, y, w


def _lstsq(X, y, w=None, fit_intercept=True):
    """Weighted least squares: (coef, intercept)."""
    Z = np.hstack([X, np.ones((len(X), 1))]) if fit_intercept else X
    r = np.sqrt(np.ones(len(X)) if w is None else w)
    sol = np.linalg.lstsq(Z * r[:, None], y * r, rcond=None)[0]
    return (sol[:-1], sol[-1]) if fit_intercept else (sol, 0.0)


def _assert_fit(model, coef, intercept, unweighted=None):
    assert_allclose(model.coef_, coef, rtol=RTOL)
    assert_allclose(model.intercept_, intercept, rtol=RTOL, atol=1e-12)
    if unweighted is not None:  # the weights made a difference the test can see
        assert not np.allclose(coef, unweighted, rtol=1e-2)


def _gd(fit=True, score=None):
    model = GDLinearRegressor().set_fit_request(sample_weight=fit)
    return model if score is None else model.set_score_request(sample_weight=score)


# --- Pipeline --------------------------------------------------------------------------------


@pytest.mark.parametrize("scaler_weighted", [False, True])
def test_pipeline_routes_sample_weight_to_the_estimator(scaler_weighted):
    X, y, w = _data()
    scaler = StandardScaler().set_fit_request(sample_weight=scaler_weighted)
    pipe = make_pipeline(scaler, _gd()).fit(X, y, sample_weight=w)
    ref = StandardScaler().fit(X, sample_weight=w if scaler_weighted else None)
    Xs = ref.transform(X)
    _assert_fit(pipe[-1], *_lstsq(Xs, y, w), unweighted=_lstsq(Xs, y)[0])
    assert_allclose(pipe[0].mean_, ref.mean_, rtol=1e-12)


def test_pipeline_routes_an_aliased_weight():
    # set_fit_request(sample_weight="model_weight"): the pipeline's keyword is the alias.
    X, y, w = _data()
    model = GDLinearRegressor().set_fit_request(sample_weight="model_weight")
    pipe = make_pipeline(StandardScaler().set_fit_request(sample_weight=False), model)
    pipe.fit(X, y, model_weight=w)
    Xs = StandardScaler().fit_transform(X)
    repeats = w.astype(int)
    ref = LinearRegression().fit(np.repeat(Xs, repeats, axis=0), np.repeat(y, repeats))
    _assert_fit(pipe[-1], ref.coef_, ref.intercept_, unweighted=_lstsq(Xs, y)[0])


def test_a_weight_requested_by_another_step_only_is_left_out():
    X, y, w = _data()
    scaler = StandardScaler().set_fit_request(sample_weight=True)
    pipe = make_pipeline(scaler, _gd(fit=False)).fit(X, y, sample_weight=w)
    Xs = StandardScaler().fit(X, sample_weight=w).transform(X)
    _assert_fit(pipe[-1], *_lstsq(Xs, y), unweighted=_lstsq(Xs, y, w)[0])


def test_a_weight_no_step_requests_is_refused():
    X, y, w = _data()
    pipe = make_pipeline(StandardScaler().set_fit_request(sample_weight=False), _gd(fit=False))
    with pytest.raises(TypeError, match="not routed to any object"):
        pipe.fit(X, y, sample_weight=w)


# --- cross_validate --------------------------------------------------------------------------


@pytest.mark.parametrize("score_weighted", [True, False])
def test_cross_validate_routes_sample_weight_to_fit_and_score(score_weighted):
    X, y, w = _data()
    result = cross_validate(
        _gd(score=score_weighted), X, y, params={"sample_weight": w}, cv=CV, return_estimator=True
    )
    for k, (train, test) in enumerate(CV.split(X)):
        coef, intercept = _lstsq(X[train], y[train], w[train])
        _assert_fit(result["estimator"][k], coef, intercept, _lstsq(X[train], y[train])[0])
        pred = X[test] @ coef + intercept
        ref = r2_score(y[test], pred, sample_weight=w[test] if score_weighted else None)
        assert result["test_score"][k] == pytest.approx(ref, abs=1e-6)


def test_cross_validate_routes_sample_weight_to_a_scorer():
    X, y, w = _data()
    scorer = get_scorer("neg_mean_squared_error").set_score_request(sample_weight=True)
    result = cross_validate(_gd(), X, y, params={"sample_weight": w}, cv=CV, scoring=scorer)
    for k, (train, test) in enumerate(CV.split(X)):
        coef, intercept = _lstsq(X[train], y[train], w[train])
        ref = -mean_squared_error(y[test], X[test] @ coef + intercept, sample_weight=w[test])
        assert result["test_score"][k] == pytest.approx(ref, rel=1e-6)


# --- GridSearchCV ----------------------------------------------------------------------------


def test_grid_search_routes_sample_weight_to_every_fit_and_score():
    X, y, w = _data()
    grid = {"fit_intercept": [True, False]}
    search = GridSearchCV(_gd(score=True), grid, cv=CV).fit(X, y, sample_weight=w)
    means = []
    for i, params in enumerate(search.cv_results_["params"]):
        scores = []
        for k, (train, test) in enumerate(CV.split(X)):
            coef, intercept = _lstsq(X[train], y[train], w[train], **params)
            pred = X[test] @ coef + intercept
            scores.append(r2_score(y[test], pred, sample_weight=w[test]))
            got = search.cv_results_[f"split{k}_test_score"][i]
            assert got == pytest.approx(scores[-1], abs=1e-6)
        means.append(np.mean(scores))
    best = search.cv_results_["params"][int(np.argmax(means))]
    assert search.best_params_ == best
    # The refit on all the data is weighted too.
    _assert_fit(search.best_estimator_, *_lstsq(X, y, w, **best), unweighted=_lstsq(X, y)[0])


# --- what happens without a request ----------------------------------------------------------


@pytest.mark.parametrize("route", ["Pipeline", "cross_validate", "GridSearchCV"])
def test_an_unset_request_raises_and_names_set_fit_request(route):
    # scikit-learn's rule: metadata passed to a consumer that neither requested nor declined it
    # is an error, never silently dropped.
    X, y, w = _data()
    model = GDLinearRegressor()
    calls = {
        "Pipeline": lambda: make_pipeline(model).fit(X, y, sample_weight=w),
        "cross_validate": lambda: cross_validate(model, X, y, params={"sample_weight": w}, cv=CV),
        "GridSearchCV": lambda: GridSearchCV(model, {"fit_intercept": [True]}, cv=CV).fit(
            X, y, sample_weight=w
        ),
    }
    with pytest.raises(UnsetMetadataPassedError, match=r"GDLinearRegressor.*set_fit_request"):
        calls[route]()


@pytest.mark.parametrize("route", ["cross_validate", "GridSearchCV"])
def test_a_score_that_was_not_asked_about_raises_and_names_set_score_request(route):
    X, y, w = _data()
    model = _gd()
    with pytest.raises(UnsetMetadataPassedError) as info:
        if route == "cross_validate":
            cross_validate(model, X, y, params={"sample_weight": w}, cv=CV)
        else:
            GridSearchCV(model, {"fit_intercept": [True]}, cv=CV).fit(X, y, sample_weight=w)
    # scikit-learn < 1.7's cross_validate re-raises it in words about set_fit_request; the
    # error it chains names the request that is missing.
    words = f"{info.value} {info.value.__context__}"
    assert re.search(r"GDLinearRegressor.*set_score_request", words), words


def test_a_declined_fit_request_fits_without_the_weights():
    X, y, w = _data()
    result = cross_validate(
        _gd(fit=False, score=True), X, y, params={"sample_weight": w}, cv=CV, return_estimator=True
    )
    for k, (train, test) in enumerate(CV.split(X)):
        coef, intercept = _lstsq(X[train], y[train])
        _assert_fit(
            result["estimator"][k], coef, intercept, _lstsq(X[train], y[train], w[train])[0]
        )
        ref = r2_score(y[test], X[test] @ coef + intercept, sample_weight=w[test])
        assert result["test_score"][k] == pytest.approx(ref, abs=1e-6)


# --- the other parameters of fit -------------------------------------------------------------


def test_set_fit_request_offers_every_metadata_parameter_of_fit():
    # scikit-learn generates set_fit_request from fit's signature: every parameter after X, y.
    fit = set(inspect.signature(GDLinearRegressor.fit).parameters) - {"self", "X", "y"}
    request = set(inspect.signature(GDLinearRegressor.set_fit_request).parameters) - {"self"}
    assert (
        request
        == fit
        == {
            "sample_weight",
            "coef_init",
            "intercept_init",
            "X_val",
            "y_val",
            "sample_weight_val",
        }
    )
    # Requesting one leaves the others unset (None): passing them raises, as below.
    routing = GDLinearRegressor().set_fit_request(sample_weight=True).get_metadata_routing()
    expected = dict.fromkeys(fit)
    expected["sample_weight"] = True
    assert routing.fit.requests == expected


def test_an_unrequested_validation_set_is_refused_by_name():
    X, y, w = _data()
    pipe = make_pipeline(_gd())
    with pytest.raises(UnsetMetadataPassedError, match=r"\[X_val\]"):
        pipe.fit(X, y, sample_weight=w, X_val=X[:10])


def test_a_requested_validation_set_reaches_fit():
    # The best iterate is kept: its R^2 on the routed validation set is the best recorded.
    X, y, _ = _data()
    Xv, yv, _ = _data(n=30, seed=1)
    model = GDLinearRegressor(solver="gd", learning_rate=0.02, max_iter=300, tol=None)
    pipe = make_pipeline(model.set_fit_request(X_val=True, y_val=True))
    pipe.fit(X, y, X_val=Xv, y_val=yv)
    fitted = pipe[-1]
    assert fitted.validation_scores_ is not None and len(fitted.validation_scores_) > 1
    assert np.max(fitted.validation_scores_) == pytest.approx(
        r2_score(yv, fitted.predict(Xv)), rel=1e-12
    )
