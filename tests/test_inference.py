"""GDLinearRegressor.inference against statsmodels' OLS / WLS (and, where statsmodels' own
leverages lose digits, against its formulas evaluated through a QR factorisation)."""

import itertools
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from gdlinreg import GDLinearRegressor
from gdlinreg.inference import InferenceResult

sm = pytest.importorskip("statsmodels.api")

RTOL = 1e-8
KINDS = ["HC0", "HC1", "HC2", "HC3"]


def _tight(**kwargs):
    # tol=0: to rounding, so that the coefficients carry the digits the comparisons need.
    return GDLinearRegressor(tol=0.0, max_iter=100_000, **kwargs)


def _reference(X, y, w=None, const=True, **fit_kwargs):
    A = sm.add_constant(X, has_constant="add") if const else X
    model = sm.OLS(y, A) if w is None else sm.WLS(y, A, weights=w)
    with warnings.catch_warnings():  # statsmodels' word on a rank-deficient design
        warnings.simplefilter("ignore")
        return model.fit(**fit_kwargs)


def _close(actual, expected, rtol=RTOL, scale=None):
    actual, expected = np.asarray(actual, float), np.asarray(expected, float)
    # Entries near zero (an interval's end, a p-value of a large t) are compared on the
    # scale of their row: rtol relative to the largest magnitude it holds.
    atol = 0.0 if scale is None else rtol * np.asarray(scale, float)
    assert actual.shape == expected.shape
    bad = ~(np.abs(actual - expected) <= rtol * np.abs(expected) + atol)
    assert not bad.any(), (actual[bad], expected[bad], rtol)


def _check_classical(res, ref, rtol=RTOL):
    _close(res.coef, ref.params, rtol)
    _close(res.std_err, ref.bse, rtol)
    _close(res.t_stat, ref.tvalues, rtol)
    # dp/p = (t * pdf / sf) dt/t: about t^2 times t's relative error.
    _close(res.p_value, ref.pvalues, rtol * (1 + np.max(ref.tvalues**2)))
    ci, ref_ci = res.conf_int(), np.asarray(ref.conf_int())
    _close(ci, ref_ci, rtol, scale=np.max(np.abs(ref_ci), axis=1, keepdims=True))
    _close(res.conf_int(0.1), ref.conf_int(0.1), rtol, scale=np.max(np.abs(ref_ci)))
    for ours, theirs in [
        (res.r2, ref.rsquared),
        (res.r2_adj, ref.rsquared_adj),
        (res.f_stat, ref.fvalue),
        (res.log_likelihood, ref.llf),
        (res.aic, ref.aic),
        (res.bic, ref.bic),
        (res.sigma2, ref.scale),
        (res.df_resid, ref.df_resid),
        (res.df_model, ref.df_model),
        (res.nobs, ref.nobs),
    ]:
        _close(ours, theirs, rtol)
    _close(res.f_p_value, ref.f_pvalue, rtol * (1 + ref.fvalue))


def _check_robust(res, ref, rtol=RTOL, f_rtol=None):
    _close(res.cov, ref.cov_params(), rtol, scale=np.max(np.abs(np.diag(ref.cov_params()))))
    _close(res.std_err, ref.bse, rtol)
    _close(res.t_stat, ref.tvalues, rtol)
    _close(res.p_value, ref.pvalues, rtol * (1 + np.max(ref.tvalues**2)))
    _close(res.conf_int(), ref.conf_int(), rtol, scale=np.max(np.abs(ref.conf_int())))
    f_rtol = rtol if f_rtol is None else f_rtol
    _close(res.f_stat, ref.fvalue, f_rtol)
    _close(res.f_p_value, ref.f_pvalue, f_rtol * (1 + ref.fvalue))
    assert not res.use_t


def _longley():
    data = sm.datasets.longley.load_pandas()
    return data.exog.to_numpy(), data.endog.to_numpy()


def test_longley_classical_matches_statsmodels():
    # Longley: raw condition number 5e9 (statsmodels' classic accuracy benchmark).
    X, y = _longley()
    model = _tight().fit(X, y)
    res = model.inference()
    assert isinstance(res, InferenceResult)
    assert res.names == ("intercept", "x0", "x1", "x2", "x3", "x4", "x5")
    _check_classical(res, _reference(X, y))
    assert res.use_t and res.cov_type == "nonrobust" and res.unidentified == ()


def _qr_sandwich(A, y, kind, w=None):
    """statsmodels' HC formulas through a QR factorisation of the whitened design: the
    leverages are the row sums of Q**2 (backward stable), where statsmodels forms
    A (A'A)^-1 A' and loses digits to the condition number squared."""
    root = np.ones(len(y)) if w is None else np.sqrt(w)
    Aw, yw = A * root[:, None], y * root
    Q, R = np.linalg.qr(Aw)
    e = yw - Q @ (Q.T @ yw)
    h = np.sum(Q**2, axis=1)
    n, p = A.shape
    u = {
        "HC0": e,
        "HC1": e * np.sqrt(n / (n - p)),
        "HC2": e / np.sqrt(1 - h),
        "HC3": e / (1 - h),
    }[kind]
    Ri = np.linalg.inv(R)
    return Ri @ (Q.T * u**2) @ Q @ Ri.T


@pytest.mark.parametrize("kind", KINDS)
def test_longley_robust_matches_the_sandwich(kind):
    X, y = _longley()
    model = _tight().fit(X, y)
    res = model.inference(X, y, cov_type=kind)
    ref = _reference(X, y, cov_type=kind)
    cov = _qr_sandwich(sm.add_constant(X), y, kind)
    _close(res.std_err, np.sqrt(np.diag(cov)), RTOL)
    _close(res.cov, cov, RTOL, scale=np.max(np.abs(np.diag(cov))))
    beta = res.coef[1:]
    wald = beta @ np.linalg.solve(cov[1:, 1:], beta) / beta.size
    _close(res.f_stat, wald, RTOL)
    # statsmodels' own leverages on Longley carry relative errors of about 1e-8, and its
    # Wald F inverts a slope covariance of condition number ~1e8 (its HC0 F is 1e-8 off).
    rtol = RTOL if kind in ("HC0", "HC1") else 1e-6
    _check_robust(res, ref, rtol, f_rtol=1e-6)


@pytest.mark.parametrize("kind", ["nonrobust", *KINDS])
def test_stackloss_and_weighted_ccard_match_statsmodels(kind):
    data = sm.datasets.stackloss.load_pandas()
    X, y = data.exog.to_numpy(), data.endog.to_numpy()
    model = _tight().fit(X, y)
    if kind == "nonrobust":
        _check_classical(model.inference(), _reference(X, y))
    else:
        _check_robust(model.inference(X, y, cov_type=kind), _reference(X, y, cov_type=kind))
    # statsmodels' WLS example: credit-card spending, weights 1 / income.
    cc = sm.datasets.ccard.load_pandas()
    X, y = cc.exog.to_numpy(), cc.endog.to_numpy()
    w = 1.0 / cc.exog["INCOME"].to_numpy()
    model = _tight().fit(X, y, sample_weight=w)
    ref = _reference(X, y, w, cov_type=kind)
    if kind == "nonrobust":
        _check_classical(model.inference(), ref)
    else:
        _check_robust(model.inference(X, y, sample_weight=w, cov_type=kind), ref)


def test_grunfeld_cluster_by_firm_matches_statsmodels():
    data = sm.datasets.grunfeld.load_pandas()
    X = data.exog[["value", "capital"]].to_numpy()
    y, firm = data.endog.to_numpy(), data.exog["firm"].to_numpy()
    model = _tight().fit(X, y)
    res = model.inference(X, y, cov_type="cluster", groups=firm)
    ref = _reference(X, y, cov_type="cluster", cov_kwds={"groups": firm})
    _check_robust(res, ref)
    assert res.cov_type == "cluster"


def _synthetic(n=300, d=4, seed=0, offset=0.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 3.0, d) + offset
    beta = rng.standard_normal(d)
    noise = rng.standard_normal(n) * (0.5 + np.abs(X[:, 0] - offset))
    return X, X @ beta + 1.5 + noise, rng.uniform(0.2, 3.0, n)


@pytest.mark.parametrize("kind", ["nonrobust", *KINDS, "cluster"])
def test_synthetic_offsets_weights_sparse_and_no_intercept(kind):
    X, y, w = _synthetic(offset=1e3)
    groups = np.arange(X.shape[0]) % 37
    extra = {"groups": groups} if kind == "cluster" else {}
    sm_kwargs = {"cov_type": kind} if kind != "nonrobust" else {}
    if kind == "cluster":
        sm_kwargs["cov_kwds"] = {"groups": groups}
    cases = [
        (X, w, True),  # large offsets (centred internally), weights
        (X - 1e3, None, False),  # no intercept: uncentred R^2, as statsmodels
    ]
    rng = np.random.default_rng(1)
    Xs = sp.random(300, 6, density=0.3, random_state=2, format="csr") * 4.0
    ys = Xs @ rng.standard_normal(6) + 0.5 * rng.standard_normal(300)
    for X_, w_, const in [*cases, (Xs, w, True)]:
        y_ = ys if sp.issparse(X_) else (y if const else y - 1.5)
        model = _tight(fit_intercept=const).fit(X_, y_, sample_weight=w_)
        dense = X_.toarray() if sp.issparse(X_) else X_
        ref = _reference(dense, y_, w_, const=const, **sm_kwargs)
        if kind == "nonrobust":
            _check_classical(model.inference(), ref)
            _check_classical(model.inference(X_, y_, sample_weight=w_), ref)
        else:
            _check_robust(model.inference(X_, y_, sample_weight=w_, cov_type=kind, **extra), ref)


def test_data_form_fit_needs_the_data_and_then_matches():
    X, y, w = _synthetic(seed=3)
    model = _tight(precompute=False).fit(X, y, sample_weight=w)
    with pytest.raises(ValueError, match="pass X and y"):
        model.inference()
    _check_classical(model.inference(X, y, sample_weight=w), _reference(X, y, w))
    _check_robust(
        model.inference(X, y, sample_weight=w, cov_type="HC3"),
        _reference(X, y, w, cov_type="HC3"),
    )


def test_multi_output_gives_one_result_per_target():
    X, y, w = _synthetic(seed=4)
    Y = np.c_[y, 2.0 - 0.5 * y + np.sin(np.arange(y.size))]
    model = _tight().fit(X, Y, sample_weight=w)
    results = model.inference(X, Y, sample_weight=w, cov_type="HC1")
    classical = model.inference()
    assert isinstance(results, list) and len(results) == 2 and len(classical) == 2
    for t in range(2):
        _check_robust(results[t], _reference(X, Y[:, t], w, cov_type="HC1"))
        _check_classical(classical[t], _reference(X, Y[:, t], w))


def test_rank_deficiency_names_what_the_data_do_not_determine():
    X, y, _ = _synthetic(seed=5)
    Xd = np.c_[X, X[:, 1] - 2.0 * X[:, 2]]  # a fifth column in the span of two others
    model = _tight().fit(Xd, y)
    with pytest.warns(UserWarning, match="rank 5 < 6") as record:
        res = model.inference()
    assert "x1" in str(record[0].message) and "x4" in str(record[0].message)
    assert res.unidentified == ("x1", "x2", "x4") and res.rank == 5
    ref = _reference(Xd, y)
    ok = [0, 1, 4]  # intercept, x0, x3: estimable, so any generalised inverse agrees
    _close(res.std_err[ok], ref.bse[ok])
    assert np.all(np.isnan(res.std_err[[2, 3, 5]]))
    for ours, theirs in [
        (res.df_resid, ref.df_resid),
        (res.sigma2, ref.scale),
        (res.r2, ref.rsquared),
        (res.log_likelihood, ref.llf),
        (res.f_stat, ref.fvalue),
    ]:
        _close(ours, theirs)


@settings(max_examples=15, deadline=None)
@given(
    cuts=st.lists(st.integers(1, 119), min_size=1, max_size=4, unique=True),
    weighted=st.booleans(),
)
def test_partial_fit_over_any_split_gives_the_inference_of_all_rows(cuts, weighted):
    X, y, w = _synthetic(n=120, d=3, seed=6)
    w = w if weighted else None
    model = _tight()
    edges = [0, *sorted(cuts), 120]
    for a, b in itertools.pairwise(edges):
        model.partial_fit(X[a:b], y[a:b], sample_weight=None if w is None else w[a:b])
    _check_classical(model.inference(), _reference(X, y, w))


def test_hc3_intervals_cover_the_true_coefficients():
    # 2000 seeds as 2000 targets on one design: the same fit and pass, vectorised.
    rng = np.random.default_rng(11)
    n, d, seeds = 200, 3, 2000
    X = rng.standard_normal((n, d))
    beta = np.array([1.0, -2.0, 0.5])
    scale = 0.3 + np.abs(X[:, 0]) + X[:, 1] ** 2  # heteroscedastic
    Y = (X @ beta + 3.0)[:, None] + scale[:, None] * rng.standard_normal((n, seeds))
    results = _tight().fit(X, Y).inference(X, Y, cov_type="HC3")
    truth = np.r_[3.0, beta]
    intervals = np.stack([r.conf_int() for r in results])  # (seeds, p, 2)
    covered = (intervals[:, :, 0] <= truth) & (truth <= intervals[:, :, 1])
    rates = covered.mean(axis=0)
    assert np.all((rates >= 0.93) & (rates <= 0.97)), rates


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"loss": "huber"}, "huber"),
        ({"penalty": "l2", "alpha": 0.1}, "penalty"),
        ({"positive": True}, "positive"),
    ],
)
def test_not_least_squares_is_refused_naming_the_bootstrap(params, match):
    X, y, _ = _synthetic(seed=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = GDLinearRegressor(**params).fit(X, y)
    with pytest.raises(ValueError, match=f"(?s){match}.*bootstrap"):
        model.inference(X, y)


def test_unconverged_fit_warns():
    X, y, _ = _synthetic(seed=8)
    with pytest.warns(ConvergenceWarning):
        model = GDLinearRegressor(solver="gd", learning_rate=1e-3, max_iter=3).fit(X, y)
    with pytest.warns(ConvergenceWarning, match="bootstrap"):
        model.inference()


def test_bad_calls_say_what_to_pass():
    X, y, w = _synthetic(seed=9)
    with pytest.raises(NotFittedError):
        GDLinearRegressor().inference()
    model = _tight().fit(X, y)
    with pytest.raises(ValueError, match="cov_type must be one of"):
        model.inference(cov_type="HC4")
    with pytest.raises(ValueError, match="needs the data of the fit"):
        model.inference(cov_type="HC3")
    with pytest.raises(ValueError, match="needs groups"):
        model.inference(X, y, cov_type="cluster")
    with pytest.raises(ValueError, match="only with cov_type='cluster'"):
        model.inference(X, y, groups=np.zeros(len(y)))
    with pytest.raises(ValueError, match="groups must have shape"):
        model.inference(X, y, cov_type="cluster", groups=np.zeros(3))
    with pytest.raises(ValueError, match="both X and y"):
        model.inference(X)
    with pytest.raises(ValueError, match="must be the data of the fit"):
        model.inference(X[:-1], y[:-1], cov_type="HC0")
    with pytest.raises(ValueError, match="must be the data of the fit"):
        model.inference(X, y, sample_weight=w, cov_type="HC0")
    model.discard_statistics()
    with pytest.raises(ValueError, match="discard_statistics"):
        model.inference()
    _check_classical(model.inference(X, y), _reference(X, y))


def test_inputs_are_not_modified_and_the_result_is_frozen():
    X, y, w = _synthetic(seed=10)
    copies = X.copy(), y.copy(), w.copy()
    res = _tight().fit(X, y, sample_weight=w).inference(X, y, sample_weight=w, cov_type="HC2")
    for a, b in zip((X, y, w), copies, strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(AttributeError):
        res.coef = None
    with pytest.raises(ValueError):
        res.std_err[0] = 0.0
    with pytest.raises(ValueError, match="alpha"):
        res.conf_int(1.5)


def test_summary_frame_and_html_show_the_numbers():
    pd = pytest.importorskip("pandas")
    X, y, _ = _synthetic(seed=12)
    frame_in = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    res = _tight().fit(frame_in, y).inference()
    ref = _reference(X, y)
    text = res.summary()
    for name in res.names:
        assert name in text
    assert f"{ref.rsquared:.4f}" in text and "nonrobust" in text
    frame = res.to_frame()
    assert list(frame.index) == ["intercept", "a", "b", "c", "d"]
    _close(frame["std_err"].to_numpy(), ref.bse)
    ci = frame[["ci_low", "ci_high"]].to_numpy()
    _close(ci, ref.conf_int(), scale=np.max(np.abs(ref.params)))
    html = res._repr_html_()
    assert html.startswith("<table>") and html.count("<tr>") == 6


@pytest.mark.skipif(
    int(np.__version__.split(".")[0]) < 2,
    reason="default.pkl was pickled under NumPy 2; NumPy 1.x cannot read NumPy 2 pickles",
)
def test_a_model_saved_before_the_row_count_needs_the_data():
    # tests/data/saved_models/default.pkl was saved without Moments.rows.
    path = Path(__file__).parent / "data" / "saved_models" / "default.pkl"
    with path.open("rb") as f:
        model = pickle.load(f)
    with pytest.raises(ValueError, match="older gdlinreg"):
        model.inference()
    rng = np.random.default_rng(20261202)  # the data of make.py
    X = rng.standard_normal((80, 4)) * [1.0, 10.0, 0.1, 3.0] + [0.0, 5.0, -2.0, 100.0]
    y = X @ [1.0, -0.5, 4.0, 0.25] + 2.0 + 0.1 * rng.standard_normal(80)
    res = model.inference(X, y)
    ref = _reference(X, y)
    # The default tol (1e-10) leaves the coefficients some 1e-10 from lstsq.
    _close(res.std_err, ref.bse, 1e-6)
    _close(res.r2, ref.rsquared, 1e-6)


# Saturated designs: as many rows as the rank of the design, no residual degrees of freedom.
SATURATED = {
    "n = d + 1": (np.array([[1.0], [2.0]]), np.array([1.0, 3.0]), True),
    "n = d + 1 = 4": (
        np.array([[1.0, 0.5, -2.0], [2.0, 1.5, 0.3], [0.2, -1.0, 1.0], [3.0, 2.0, 2.5]]),
        np.array([1.0, 3.0, -0.7, 2.2]),
        True,
    ),
    "n < d + 1": (np.arange(12.0).reshape(3, 4) ** 1.5, np.array([1.0, 2.0, 4.0]), True),
    "no intercept, n = d": (
        np.array([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]]),
        np.array([1.0, -2.0, 0.5]),
        False,
    ),
}
SATURATION = (
    r"The design is saturated: n = {n} rows and rank {n}, so df_resid = n - rank = 0\. With no "
    r"residual degrees of freedom the fit interpolates the data and the variance of the errors "
    r"cannot be estimated: .*Fit more rows than parameters \(n > {p}\), or fewer columns\."
)


def _pattern(a):
    """Where an array is NaN, +inf, -inf or finite."""
    a = np.asarray(a, float)
    kind = np.where(np.isnan(a), "nan", "finite").astype(object)
    kind[np.isposinf(a)], kind[np.isneginf(a)] = "+inf", "-inf"
    return kind


def _saturated_reference(X, y, const):
    """statsmodels' classical numbers (read under its own 0/0 warnings)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = _reference(X, y, const=const)
        names = ["scale", "rsquared", "rsquared_adj", "f_pvalue", "df_resid", "df_model"]
        names += ["bse", "tvalues", "pvalues"]
        out = {name: np.asarray(getattr(ref, name)) for name in names}
        out.update(ci=np.asarray(ref.conf_int()), ci10=np.asarray(ref.conf_int(0.1)))
        return {**out, "cov": np.asarray(ref.cov_params())}


def _saturated_inference(model, X, y, kind, **kwargs):
    """``model.inference`` on a saturated design: exactly one warning, ours, and no
    RuntimeWarning of NumPy or SciPy (the filter turns one into an error)."""
    n, p = len(y), model.n_features_in_ + model.fit_intercept
    extra = {"groups": np.arange(n) % 2} if kind == "cluster" else {}
    pass_data = kwargs.pop("data", False) or kind != "nonrobust"
    data = (X, y) if pass_data else ()
    with pytest.warns(UserWarning, match=SATURATION.format(n=n, p=p)) as record:
        warnings.simplefilter("error", RuntimeWarning)
        res = model.inference(*data, cov_type=kind, **extra, **kwargs)
    assert len(record) == 1, [str(w.message) for w in record]
    return res


@pytest.mark.parametrize("kind", ["nonrobust", *KINDS, "cluster"])
@pytest.mark.parametrize("case", list(SATURATED))
def test_saturated_design_warns_once_and_gives_statsmodels_inf_and_nan(case, kind):
    X, y, const = SATURATED[case]
    model = GDLinearRegressor(fit_intercept=const).fit(X, y)
    res = _saturated_inference(model, X, y, kind)
    # The parameters are those of the fit.
    fitted = np.r_[model.intercept_, model.coef_] if const else model.coef_
    np.testing.assert_array_equal(res.coef, fitted)
    assert res.df_resid == 0 and res.nobs == len(y) and res.rank == len(y)
    ok = ~np.isin(res.names, res.unidentified)
    ref = _saturated_reference(X, y, const)  # statsmodels' classical numbers
    # Every kind shares statsmodels' scale (SSR / 0 = inf), its NaN adjusted R^2 and F
    # p-value, and its R^2 (1: the fit interpolates).
    assert res.sigma2 == ref["scale"] == np.inf
    assert np.isnan(res.r2_adj) and np.isnan(ref["rsquared_adj"])
    assert np.isnan(res.f_stat) and np.isnan(res.f_p_value) and np.isnan(ref["f_pvalue"])
    _close(res.r2, ref["rsquared"], 1e-6)
    assert res.df_resid == ref["df_resid"]
    if const:  # (statsmodels finds the constant that any n = d design spans: one df less)
        assert res.df_model == ref["df_model"]
    if kind == "nonrobust":
        # statsmodels' pattern: infinite standard errors, t = 0, NaN p-values and intervals.
        assert np.all(np.isposinf(ref["bse"])) and np.all(ref["tvalues"] == 0)
        for ours, theirs in [
            (res.std_err, ref["bse"]),
            (res.t_stat, ref["tvalues"]),
            (res.p_value, ref["pvalues"]),
            (res.conf_int(), ref["ci"]),
            (res.conf_int(0.1), ref["ci10"]),
        ]:
            np.testing.assert_array_equal(_pattern(ours[ok]), _pattern(theirs[ok]))
        both = np.outer(ok, ok)
        np.testing.assert_array_equal(_pattern(res.cov[both]), _pattern(ref["cov"][both]))
        np.testing.assert_array_equal(res.t_stat[ok], 0.0)
        assert res.use_t
    else:
        # The robust kinds have zero residuals and unit leverages here: HC1 is n/0 * 0,
        # HC2 and HC3 0/0, the cluster factor (n-1)/(n-p) infinite or negative times a zero
        # meat. statsmodels returns NaN for some of them and rounding noise for others (HC0's
        # standard errors of 1e-16, HC3's of any size) or raises: gdlinreg says NaN.
        for name in ("std_err", "t_stat", "p_value", "cov"):
            assert np.all(np.isnan(getattr(res, name))), name
        assert np.all(np.isnan(res.conf_int())) and not res.use_t
    # Parameters the data do not determine stay NaN (statsmodels' pinv gives them inf).
    assert np.all(np.isnan(res.std_err[~ok])) and np.all(np.isnan(res.p_value[~ok]))
    assert (case == "n < d + 1") == bool(res.unidentified)


def test_saturated_design_from_data_sparse_and_partial_fit_agree():
    X, y, _ = SATURATED["n = d + 1 = 4"]
    dense = GDLinearRegressor().fit(X, y)
    expected = {kind: _saturated_inference(dense, X, y, kind) for kind in ["nonrobust", *KINDS]}
    Xs = sp.csr_matrix(X)
    for model, X_ in [
        (GDLinearRegressor().fit(Xs, y), Xs),  # sparse X
        (GDLinearRegressor(precompute=False).fit(X, y), X),  # no statistics: built from X
        (GDLinearRegressor().partial_fit(X[:2], y[:2]).partial_fit(X[2:], y[2:]), X),
    ]:
        for kind, exp in expected.items():
            res = _saturated_inference(model, X_, y, kind, data=True)
            np.testing.assert_array_equal(_pattern(res.std_err), _pattern(exp.std_err))
            np.testing.assert_array_equal(_pattern(res.p_value), _pattern(exp.p_value))
            assert res.sigma2 == np.inf and np.isnan(res.f_stat)
    # Two targets share the design and its warning.
    Y = np.c_[y, 2.0 * y - 1.0]
    results = _saturated_inference(GDLinearRegressor().fit(X, Y), X, Y, "HC3")
    assert len(results) == 2 and all(np.all(np.isnan(r.std_err)) for r in results)


def test_saturated_design_on_dask_chunks():
    da = pytest.importorskip("dask.array")
    dask = pytest.importorskip("dask")
    X, y, _ = SATURATED["n = d + 1 = 4"]
    Xd, yd = da.from_array(X, chunks=(2, 3)), da.from_array(y, chunks=2)
    with dask.config.set(scheduler="sync"):
        model = GDLinearRegressor().fit(Xd, yd)
        for kind in ["nonrobust", *KINDS, "cluster"]:
            res = _saturated_inference(model, Xd, yd, kind, data=True)
            assert res.df_resid == 0 and res.sigma2 == np.inf and np.isnan(res.f_stat)
            se = res.std_err
            assert np.all(np.isposinf(se) if kind == "nonrobust" else np.isnan(se))


@pytest.mark.parametrize("kind", ["nonrobust", "HC3"])
def test_saturated_summary_frame_and_html_show_inf_and_nan(kind):
    pytest.importorskip("pandas")
    X, y, _ = SATURATED["n < d + 1"]
    model = GDLinearRegressor().fit(X, y)
    res = _saturated_inference(model, X, y, kind)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        text, frame, html = res.summary(), res.to_frame(), res._repr_html_()
        ci = res.conf_int(0.01)
    assert "Df residuals    0" in text and "nan" in text and "Not identified" in text
    assert list(frame.index) == list(res.names) and frame["p_value"].isna().all()
    assert html.count("<tr>") == len(res.names) + 1 and np.all(np.isnan(ci))
