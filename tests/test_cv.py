"""GDLinearRegressorCV (issue 23): every fold and every alpha from one pass, equal to the slow
way (refitting GDLinearRegressor on each training fold and scoring its test fold) and to
scikit-learn's LassoCV, ElasticNetCV and RidgeCV on the same splits and grid."""

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.linear_model import ElasticNetCV, LassoCV, RidgeCV
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import GroupKFold, KFold, ShuffleSplit, TimeSeriesSplit
from sklearn.utils.estimator_checks import parametrize_with_checks

from gdlinreg import GDLinearRegressor, GDLinearRegressorCV

_SKLEARN = tuple(int(v) for v in sklearn.__version__.split(".")[:2])


def _data(seed=0, n=300, k=None):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 6)) * [1, 10, 0.1, 5, 1, 2] + [3, -100, 0, 1e3, 0, 1]
    w = np.array([1, 0.2, 0, 0.01, -1, 0])
    if k is None:
        return X, X @ w + 0.5 * rng.standard_normal(n) + 7
    W = np.c_[w, rng.standard_normal((6, k - 1))]
    return X, X @ W + 0.5 * rng.standard_normal((n, k)) + 7


def _slow(X, y, splits, alphas, penalty, l1_ratio=0.5, sample_weight=None):
    """Each split's held-out (weighted) MSE, refitting GDLinearRegressor per split and alpha."""
    out = np.empty((len(alphas), len(splits)))
    sw = np.ones(len(y)) if sample_weight is None else sample_weight
    for j, (train, test) in enumerate(splits):
        for i, a in enumerate(alphas):
            model = GDLinearRegressor(
                penalty=penalty, alpha=a, l1_ratio=l1_ratio, tol=1e-13, max_iter=20_000
            ).fit(X[train], y[train], sample_weight=sw[train])
            r = (model.predict(X[test]) - y[test]).reshape(len(test), -1)
            out[i, j] = np.mean(np.average(r**2, axis=0, weights=sw[test]))
    return out


@pytest.mark.parametrize("penalty", ["l1", "elasticnet", "l2"])
@pytest.mark.parametrize("weighted", [False, True])
def test_fold_errors_equal_the_slow_way(penalty, weighted):
    X, y = _data()
    sw = np.random.default_rng(1).uniform(0.2, 3.0, len(y)) if weighted else None
    cv = KFold(5, shuffle=True, random_state=0)
    model = GDLinearRegressorCV(penalty=penalty, alphas=12, cv=cv, tol=1e-13).fit(
        X, y, sample_weight=sw
    )
    slow = _slow(X, y, list(cv.split(X)), model.alphas_, penalty, sample_weight=sw)
    np.testing.assert_allclose(model.mse_path_, slow, rtol=1e-8)
    assert model.alpha_ == model.alphas_[np.argmin(slow.mean(axis=1))]
    refit = GDLinearRegressor(penalty=penalty, alpha=model.alpha_, l1_ratio=0.5, tol=1e-13)
    refit.fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(model.coef_, refit.coef_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(model.intercept_, refit.intercept_, rtol=1e-8)


@pytest.mark.parametrize("sparse", [False, True])
def test_lasso_and_elastic_net_equal_scikit_learn(sparse):
    X, y = _data(2)
    cv = KFold(5)
    Xf = sp.csr_matrix(X) if sparse else X
    lasso = GDLinearRegressorCV(penalty="l1", alphas=20, cv=cv, tol=1e-13).fit(Xf, y)
    ref = LassoCV(alphas=lasso.alphas_, cv=cv, tol=1e-12, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(lasso.mse_path_, ref.mse_path_, rtol=1e-6)
    assert lasso.alpha_ == pytest.approx(ref.alpha_, rel=1e-12)
    ratios = [0.3, 0.8]
    enet = GDLinearRegressorCV(
        penalty="elasticnet", l1_ratio=ratios, alphas=15, cv=cv, tol=1e-13
    ).fit(Xf, y)
    # (scikit-learn < 1.7 takes the grid's size as n_alphas)
    size = {"alphas": 15} if _SKLEARN >= (1, 7) else {"n_alphas": 15}
    ref = ElasticNetCV(l1_ratio=ratios, cv=cv, tol=1e-12, max_iter=100_000, **size).fit(X, y)
    np.testing.assert_allclose(enet.alphas_, ref.alphas_, rtol=1e-10)
    np.testing.assert_allclose(enet.mse_path_, ref.mse_path_, rtol=1e-6)
    assert (enet.alpha_, enet.l1_ratio_) == pytest.approx((ref.alpha_, ref.l1_ratio_))


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_leave_one_out_equals_ridge_cv(fit_intercept):
    X, y = _data(3, n=120)
    model = GDLinearRegressorCV(alphas=25, cv=None, fit_intercept=fit_intercept).fit(X, y)
    ref = RidgeCV(alphas=model.alphas_ * len(y), fit_intercept=fit_intercept).fit(X, y)
    assert model.alpha_ * len(y) == pytest.approx(ref.alpha_, rel=1e-12)
    assert model.best_score_ == pytest.approx(ref.best_score_, rel=1e-8)
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-7, atol=1e-9)


def test_k_fold_ridge_equals_ridge_cv_with_the_same_splits():
    X, y = _data(4)
    cv = KFold(4)
    model = GDLinearRegressorCV(alphas=10, cv=cv, tol=1e-13).fit(X, y)
    ref = RidgeCV(alphas=model.alphas_ * len(y) * 3 / 4, cv=cv).fit(X, y)
    # (RidgeCV's alpha is per training fold's sum of squares: n_train = 3n/4 rows)
    assert model.alpha_ * len(y) * 3 / 4 == pytest.approx(ref.alpha_, rel=1e-12)


@pytest.mark.parametrize(
    "cv", [ShuffleSplit(4, test_size=0.3, random_state=0), TimeSeriesSplit(4)], ids=str
)
def test_splitters_that_do_not_partition_the_rows(cv):
    X, y = _data(5)
    model = GDLinearRegressorCV(penalty="l1", alphas=8, cv=cv, tol=1e-13).fit(X, y)
    slow = _slow(X, y, list(cv.split(X)), model.alphas_, "l1")
    np.testing.assert_allclose(model.mse_path_, slow, rtol=1e-8)


def test_groups_reach_the_splitter():
    X, y = _data(6)
    groups = np.repeat(np.arange(30), 10)
    model = GDLinearRegressorCV(penalty="l1", alphas=8, cv=GroupKFold(3), tol=1e-13)
    model.fit(X, y, groups=groups)
    slow = _slow(X, y, list(GroupKFold(3).split(X, y, groups)), model.alphas_, "l1")
    np.testing.assert_allclose(model.mse_path_, slow, rtol=1e-8)


def test_a_scorer_that_needs_predictions():
    X, y = _data(7)
    cv = KFold(3)
    model = GDLinearRegressorCV(
        penalty="l1", alphas=6, cv=cv, scoring="neg_mean_absolute_error", tol=1e-13
    ).fit(X, y)
    for j, (train, test) in enumerate(cv.split(X)):
        for i, a in enumerate(model.alphas_):
            fit = GDLinearRegressor(penalty="l1", alpha=a, tol=1e-13).fit(X[train], y[train])
            want = -mean_absolute_error(y[test], fit.predict(X[test]))
            assert model.cv_results_[f"split{j}_test_score"][i] == pytest.approx(want, rel=1e-8)


def test_several_targets_and_an_alpha_per_target():
    X, Y = _data(8, k=3)
    model = GDLinearRegressorCV(alphas=10, alpha_per_target=True, cv=KFold(3)).fit(X, Y)
    assert model.alpha_.shape == (3,) and model.coef_.shape == (3, 6)
    for t in range(3):
        one = GDLinearRegressorCV(alphas=model.alphas_, cv=KFold(3)).fit(X, Y[:, t])
        assert one.alpha_ == model.alpha_[t]
        np.testing.assert_allclose(model.coef_[t], one.coef_, rtol=1e-8, atol=1e-10)


def test_float32_input_gives_float32_coefficients():
    X, y = _data(9)
    model = GDLinearRegressorCV(penalty="l1", alphas=5).fit(X.astype(np.float32), y)
    assert model.coef_.dtype == np.float32


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"loss": "huber"}, "GridSearchCV"),
        ({"cv": None, "penalty": "l1"}, "leave-one-out"),
        ({"penalty": "elasticnet", "l1_ratio": 0.0}, "l1_ratio"),
        ({"alphas": [1.0, -1.0]}, "positive"),
    ],
)
def test_refusals_name_the_fix(params, match):
    X, y = _data()
    with pytest.raises(ValueError, match=match):
        GDLinearRegressorCV(**params).fit(X, y)


def test_a_split_whose_rows_all_weigh_zero_is_refused():
    # (its weighted error is 0/0: scikit-learn's scorers raise too)
    X, y = _data()
    sw = np.ones(len(y))
    sw[:60] = 0.0  # KFold(5)'s first test fold
    with pytest.raises(ValueError, match="split 0: every test row has sample_weight 0"):
        GDLinearRegressorCV(cv=KFold(5)).fit(X, y, sample_weight=sw)


@parametrize_with_checks(
    [GDLinearRegressorCV(alphas=5), GDLinearRegressorCV(penalty="l1", alphas=5)]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_dask_input_reads_each_chunk_once_into_the_same_path():
    da = pytest.importorskip("dask.array")
    X, y = _data(10, n=400)
    cv = KFold(4)
    here = GDLinearRegressorCV(penalty="l1", alphas=10, cv=cv, tol=1e-13).fit(X, y)
    lazy = GDLinearRegressorCV(penalty="l1", alphas=10, cv=cv, tol=1e-13)
    lazy.fit(da.from_array(X, chunks=(70, 6)), da.from_array(y, chunks=70))
    np.testing.assert_allclose(lazy.mse_path_, here.mse_path_, rtol=1e-9)
    assert lazy.alpha_ == pytest.approx(here.alpha_, rel=1e-12)
    np.testing.assert_allclose(lazy.coef_, here.coef_, rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="K-fold"):
        GDLinearRegressorCV(cv=None).fit(da.from_array(X, chunks=(70, 6)), da.from_array(y))


def test_groups_reach_the_splitter_through_metadata_routing_too():
    sklearn = pytest.importorskip("sklearn")
    X, y = _data(11, n=120)
    groups = np.repeat(np.arange(12), 10)
    plain = GDLinearRegressorCV(penalty="l1", alphas=5, cv=GroupKFold(3)).fit(X, y, groups=groups)
    with sklearn.config_context(enable_metadata_routing=True):
        routed = GDLinearRegressorCV(penalty="l1", alphas=5, cv=GroupKFold(3))
        routed.fit(X, y, groups=groups)
    np.testing.assert_allclose(routed.mse_path_, plain.mse_path_, rtol=1e-12)


def test_stratified_folds_on_binned_y_as_an_iterable():
    from sklearn.model_selection import StratifiedKFold

    X, y = _data(12)
    bins = np.digitize(y, np.quantile(y, [0.25, 0.5, 0.75]))
    splits = list(StratifiedKFold(4).split(X, bins))
    model = GDLinearRegressorCV(penalty="l1", alphas=6, cv=splits, tol=1e-13).fit(X, y)
    np.testing.assert_allclose(model.mse_path_, _slow(X, y, splits, model.alphas_, "l1"), rtol=1e-8)


def test_nan_gets_the_words_of_gdlinearregressor_in_fit_and_predict():
    pd = pytest.importorskip("pandas")
    X, y = _data()
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(6)])
    bad = frame.copy()
    bad.iloc[7, 2] = np.nan
    for cv in (5, None):
        with pytest.raises(ValueError, match=r"Input X contains NaN at row 7, column 'x2'"):
            GDLinearRegressorCV(cv=cv).fit(bad, y)
    model = GDLinearRegressorCV().fit(frame, y)
    with pytest.raises(ValueError, match=r"Input X contains NaN at row 7, column 'x2'"):
        model.predict(bad)
