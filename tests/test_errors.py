"""Bad inputs and parameters: each one raises a clear error, in the estimator and in the core.

Every case names what ``GDLinearRegressor.fit`` must raise and what ``gradient_descent`` must
raise for the same data and parameters (the core validates without scikit-learn, so its
messages are its own). The regexes require the message to name the parameter or the problem.
"""

import contextlib
import copy
import re

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.exceptions import NotFittedError

from gdlinreg import DivergenceError, GDLinearRegressor, gradient_descent

N, D = 20, 3
_rng = np.random.default_rng(0)
X_OK = _rng.standard_normal((N, D))
Y_OK = X_OK @ np.array([1.0, 2.0, 3.0]) + 0.5 + 0.1 * _rng.standard_normal(N)


def _with(a, index, value):
    a = a.astype(np.result_type(a, type(value))).copy()
    a[index] = value
    return a


def case(id, *, X=X_OK, y=Y_OK, params=None, fit=None, est=None, core=None):
    """One bad input. ``est``/``core``: (exception, regex) for the estimator and the core."""
    core = est if core is None else core
    return pytest.param(X, y, params or {}, fit or {}, est, core, id=id)


PARAM = "The '{}' parameter of GDLinearRegressor must be"


def EXACT(message):
    """A regex matching ``message`` whole."""
    return "^" + re.escape(message) + "$"


CASES = [
    # --- data
    case(
        "nan-in-X",
        X=_with(X_OK, (2, 1), np.nan),
        est=(
            ValueError,
            EXACT(
                "Input X contains NaN at row 2, column 1 (the first such value); "
                "remove or impute those values."
            ),
        ),
        core=(
            ValueError,
            EXACT(
                "Input X contains NaN at row 2, column 1 (the first such value); "
                "remove or impute those values."
            ),
        ),
    ),
    case(
        "inf-in-X",
        X=_with(X_OK, (0, 0), -np.inf),
        est=(
            ValueError,
            EXACT(
                "Input X contains infinity at row 0, column 0 (the first such value); "
                "remove or replace those values."
            ),
        ),
        core=(
            ValueError,
            EXACT(
                "Input X contains infinity at row 0, column 0 (the first such value); "
                "remove or replace those values."
            ),
        ),
    ),
    case(
        "nan-in-y",
        y=_with(Y_OK, 4, np.nan),
        est=(
            ValueError,
            EXACT(
                "Input y contains NaN at row 4 (the first such value); "
                "remove or impute those values."
            ),
        ),
        core=(
            ValueError,
            EXACT(
                "Input y contains NaN at row 4 (the first such value); "
                "remove or impute those values."
            ),
        ),
    ),
    case(
        "inf-in-y",
        y=_with(Y_OK, 4, np.inf),
        est=(
            ValueError,
            EXACT(
                "Input y contains infinity at row 4 (the first such value); "
                "remove or replace those values."
            ),
        ),
        core=(
            ValueError,
            EXACT(
                "Input y contains infinity at row 4 (the first such value); "
                "remove or replace those values."
            ),
        ),
    ),
    case(
        "empty-X",
        X=np.empty((0, D)),
        y=np.empty(0),
        est=(ValueError, r"0 sample\(s\) \(shape=\(0, 3\)\) while a minimum of 1 is required"),
        core=(ValueError, r"X needs at least 1 sample and 1 feature; got shape \(0, 3\)"),
    ),
    case(
        "zero-features",
        X=np.empty((N, 0)),
        est=(ValueError, r"0 feature\(s\) \(shape=\(20, 0\)\) while a minimum of 1 is required"),
        core=(ValueError, r"X needs at least 1 sample and 1 feature; got shape \(20, 0\)"),
    ),
    case(
        "y-shorter-than-X",
        y=Y_OK[:-1],
        est=(ValueError, r"inconsistent numbers of samples: \[20, 19\]"),
        core=(ValueError, r"y must have shape \(20,\) or \(20, n_targets\).*got \(19,\)"),
    ),
    case(
        "y-3d",
        y=Y_OK.reshape(N, 1, 1),
        est=(ValueError, "dim 3"),
        core=(ValueError, r"y must have shape \(20,\) or \(20, n_targets\)"),
    ),
    case(
        "X-3d",
        X=X_OK.reshape(N, D, 1),
        est=(ValueError, "Found array with dim 3"),
        core=(ValueError, "X must be 2-D, .* got 3-D"),
    ),
    case(
        "X-1d",
        X=X_OK[:, 0],
        est=(ValueError, r"(?s)Expected 2D array, got 1D array.*reshape\(-1, 1\)"),
        core=(ValueError, r"X must be 2-D.*got 1-D.*X.reshape\(-1, 1\)"),
    ),
    case(
        "X-strings",
        X=np.full((N, D), "abc"),
        est=(ValueError, "dtype='numeric' is not compatible with arrays of bytes/strings"),
        core=(ValueError, "X must hold real numbers; got dtype <U3"),
    ),
    case(
        "X-object-with-strings",
        X=np.array([["a", 1.0, 2.0]] * N, dtype=object),
        est=(ValueError, "could not convert string to float: 'a'"),
        core=(ValueError, "X must hold real numbers; got dtype object"),
    ),
    case(
        "X-complex",
        X=X_OK + 1j,
        est=(ValueError, "Complex data not supported"),
        core=(ValueError, "X must hold real numbers; got dtype complex128"),
    ),
    case(
        "y-strings",
        y=np.full(N, "abc"),
        est=(ValueError, "y must hold real numbers"),
    ),
    # --- sample weights
    case(
        "negative-sample-weight",
        fit={"sample_weight": _with(np.ones(N), 3, -1.0)},
        est=(ValueError, r"sample_weight must be >= 0; got 1 negative weight"),
    ),
    case(
        "all-zero-sample-weight",
        fit={"sample_weight": np.zeros(N)},
        est=(ValueError, "sample_weight is all zero: give at least one sample a positive"),
    ),
    case(
        "nan-sample-weight",
        fit={"sample_weight": _with(np.ones(N), 0, np.nan)},
        est=(ValueError, "sample_weight contains NaN or infinity; pass finite weights"),
    ),
    case(
        "inf-sample-weight",
        fit={"sample_weight": _with(np.ones(N), 0, np.inf)},
        est=(ValueError, "sample_weight contains NaN or infinity"),
    ),
    case(
        "sample-weight-wrong-length",
        fit={"sample_weight": np.ones(N - 1)},
        est=(ValueError, r"sample_weight must have shape \(20,\); got \(19,\)"),
    ),
    # --- parameters
    case(
        "unknown-loss",
        params={"loss": "l1"},
        est=(ValueError, PARAM.format("loss") + r".*'half_mse'.*Got 'l1'"),
        core=(
            ValueError,
            r"loss='l1' is not a known loss; use one of \['half_mse', 'huber', 'mse'\]",
        ),
    ),
    case(
        "unknown-solver",
        params={"solver": "sag"},
        est=(ValueError, PARAM.format("solver") + r".*Got 'sag'"),
        core=(ValueError, r"solver='sag' is not a known solver; use one of"),
    ),
    *[
        case(
            f"learning-rate-{value}",
            params={"learning_rate": value},
            est=(ValueError, PARAM.format("learning_rate") + r" a float in the range \(0.0, inf\)"),
            core=(ValueError, r"learning_rate must be a float > 0, 'auto', a schedule name or a"),
        )
        for value in (0, 0.0, -0.1, float("nan"), float("inf"))
    ],
    case(
        "learning-rate-fast",
        params={"learning_rate": "fast"},
        est=(ValueError, PARAM.format("learning_rate") + r".*Got 'fast'"),
        core=(ValueError, r"learning_rate='fast' is not valid; use a float > 0, 'auto', one of"),
    ),
    case(
        "learning-rate-with-cg",
        params={"learning_rate": 0.1, "solver": "cg"},
        est=(ValueError, r"solver='cg' needs a squared loss.*learning_rate='auto' \(it picks"),
    ),
    *[
        case(
            f"max-iter-{value!r}",
            params={"max_iter": value},
            est=(ValueError, PARAM.format("max_iter") + r" an int in the range \[1, inf\)"),
            core=(ValueError, r"max_iter must be an integer >= 1"),
        )
        for value in (0, -5, 10.0, 2.5)
    ],
    *[
        case(
            f"tol-{value}",
            params={"tol": value},
            est=(ValueError, PARAM.format("tol") + r" a float in the range \[0.0, inf\) or None"),
            core=(ValueError, r"tol must be a float >= 0, or None"),
        )
        for value in (-1e-3, float("nan"))
    ],
    case(
        "precompute-unknown",
        params={"precompute": "yes"},
        est=(ValueError, PARAM.format("precompute")),
        core=(ValueError, r"precompute must be 'auto', True or False; got 'yes'"),
    ),
    # --- starting point
    case(
        "coef-init-wrong-shape",
        fit={"coef_init": np.zeros(D - 1)},
        est=(ValueError, r"coef_init must have shape \(3,\); got \(2,\)"),
    ),
    case(
        "coef-init-2d-for-1d-y",
        fit={"coef_init": np.zeros((1, D))},
        est=(ValueError, r"coef_init must have shape \(3,\); got \(1, 3\)"),
    ),
    case(
        "coef-init-nan",
        fit={"coef_init": _with(np.zeros(D), 1, np.nan)},
        est=(ValueError, r"coef_init contains NaN or infinity; pass finite values"),
    ),
    case(
        "intercept-init-wrong-shape",
        fit={"intercept_init": np.zeros(2)},
        est=(
            ValueError,
            r"intercept_init must be a finite float or an array of shape \(1,\); got array",
        ),
    ),
    # --- divergence
    case(
        "divergent-learning-rate-gd",
        params={"learning_rate": 10.0, "solver": "gd"},
        est=(
            DivergenceError,
            r"learning_rate=10 makes 'gd' diverge.*largest stable step for this data and loss "
            r"is [0-9.]+ \(2/L.*use a smaller learning_rate or learning_rate='auto'",
        ),
    ),
    case(
        "divergent-learning-rate-auto",  # a number is a step: "auto" runs textbook "gd"
        params={"learning_rate": 10.0},
        est=(
            DivergenceError,
            r"learning_rate=10 makes 'gd' diverge.*largest stable step for this data and loss "
            r"is [0-9.]+ \(2/L",
        ),
    ),
    case(
        "divergent-learning-rate-agd",
        params={"learning_rate": 10.0, "solver": "agd"},
        est=(DivergenceError, r"learning_rate=10 makes 'agd' diverge.*largest stable step"),
    ),
]


def _copies(*arrays):
    return [copy.deepcopy(a) for a in arrays]


def _assert_unchanged(originals, arrays):
    for original, array in zip(originals, arrays, strict=True):
        if isinstance(original, np.ndarray):
            assert array.dtype == original.dtype
            assert array.shape == original.shape
        assert_array_equal(array, original)


@pytest.mark.parametrize("X, y, params, fit_kw, est_error, core_error", CASES)
def test_estimator_error(X, y, params, fit_kw, est_error, core_error):
    inputs = [X, y, *fit_kw.values()]
    originals = _copies(*inputs)
    exc, regex = est_error
    with pytest.raises(exc, match=regex):
        GDLinearRegressor(**params).fit(X, y, **fit_kw)
    _assert_unchanged(originals, inputs)


@pytest.mark.parametrize("X, y, params, fit_kw, est_error, core_error", CASES)
def test_gradient_descent_error(X, y, params, fit_kw, est_error, core_error):
    inputs = [X, y, *fit_kw.values()]
    originals = _copies(*inputs)
    exc, regex = core_error
    with pytest.raises(exc, match=regex):
        gradient_descent(X, y, **params, **fit_kw)
    _assert_unchanged(originals, inputs)


def test_divergence_error_is_a_value_error_with_the_losses_so_far():
    with pytest.raises(ValueError, match="diverge") as info:
        gradient_descent(X_OK, Y_OK, solver="gd", learning_rate=10.0, tol=None)
    assert isinstance(info.value, DivergenceError)
    assert info.value.loss_history.ndim == 1
    assert np.isfinite(info.value.loss_history).all()


def test_estimator_rejects_numeric_strings():
    # Strings that hold numbers are refused, not parsed: as LinearRegression and the core do.
    with pytest.raises(ValueError, match=r"(real numbers|strings)"):
        GDLinearRegressor().fit(X_OK.astype(str), Y_OK)


# ----------------------------------------------------------------------------- predict


def test_predict_before_fit():
    with pytest.raises(NotFittedError, match=r"not fitted yet.*Call 'fit'"):
        GDLinearRegressor().predict(X_OK)


@pytest.mark.parametrize(
    "X, regex",
    [
        pytest.param(X_OK[:, :2], "X has 2 features, but GDLinearRegressor is expecting 3", id="2"),
        pytest.param(np.c_[X_OK, X_OK], "X has 6 features, but .* expecting 3", id="6"),
        pytest.param(_with(X_OK, (1, 1), np.nan), "Input X contains NaN", id="nan"),
        pytest.param(X_OK[:, 0], r"Expected 2D array, got 1D array", id="1d"),
        pytest.param(X_OK + 1j, "Complex data not supported", id="complex"),
    ],
)
def test_predict_bad_X(X, regex):
    est = GDLinearRegressor().fit(X_OK, Y_OK)
    original = X.copy()
    with pytest.raises(ValueError, match=regex):
        est.predict(X)
    assert_array_equal(X, original)


# ----------------------------------------------------------------------------- immutability


def _inputs(kind):
    """(X, y, fit kwargs) in layouts and dtypes that tempt an in-place conversion."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((30, 3)) + 5.0
    y = X @ [1.0, -1.0, 2.0] + rng.standard_normal(30)
    if kind == "float32":
        X = X.astype(np.float32)
    elif kind == "fortran":
        X = np.asfortranarray(X)
    elif kind == "int":
        X = np.round(X * 10).astype(np.int64)
    elif kind == "multi-output":
        y = np.c_[y, -y, 2 * y]
    elif kind == "weighted":
        return X, y, {"sample_weight": rng.uniform(0.0, 2.0, 30)}
    elif kind == "int-weights":
        return X, y, {"sample_weight": rng.integers(1, 4, 30)}
    elif kind == "coef-init":
        return X, y, {"coef_init": np.array([0.5, 0.5, 0.5]), "intercept_init": np.array(1.0)}
    return X, y, {}


KINDS = ["float64", "float32", "fortran", "int", "multi-output", "weighted", "int-weights"]
KINDS += ["coef-init"]
SETTINGS = [
    {},
    {"solver": "gd", "learning_rate": 1e-4, "tol": None, "max_iter": 50},
    {"solver": "agd", "learning_rate": 0.2, "precompute": False},
    {"fit_intercept": False, "store_path": True},
]


def _ignored_intercept_warning(settings, fit_kw):
    # The centring solvers say that they cannot start from intercept_init.
    standardised = settings.get("solver") != "gd" and settings.get("fit_intercept", True)
    if "intercept_init" in fit_kw and standardised:
        return pytest.warns(UserWarning, match="intercept_init has no effect")
    return contextlib.nullcontext()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("settings", SETTINGS, ids=["default", "gd", "agd-data", "no-intercept"])
def test_fit_does_not_modify_inputs(kind, settings):
    X, y, fit_kw = _inputs(kind)
    inputs = [X, y, *fit_kw.values()]
    originals = _copies(*inputs)
    flags = [a.flags.c_contiguous for a in inputs]
    with _ignored_intercept_warning(settings, fit_kw):
        GDLinearRegressor(**settings).fit(X, y, **fit_kw)
    _assert_unchanged(originals, inputs)
    with _ignored_intercept_warning(settings, fit_kw):
        gradient_descent(X, y, **settings_for_core(settings), **fit_kw)
    _assert_unchanged(originals, inputs)
    assert [a.flags.c_contiguous for a in inputs] == flags


def settings_for_core(settings):
    out = dict(settings)
    if "store_path" in out:
        out["return_path"] = out.pop("store_path")
    return out


def test_warm_start_and_predict_do_not_modify_inputs_or_state_arrays():
    X, y, _ = _inputs("float64")
    est = GDLinearRegressor(warm_start=True).fit(X, y)
    coef = est.coef_  # the warm start reads it: it must not be written into
    coef_copy = coef.copy()
    X2, y2 = X.copy(), y.copy()
    est.fit(X, y + 1.0)
    assert_array_equal(coef, coef_copy)
    est.predict(X)
    assert_array_equal(X, X2)
    assert_array_equal(y, y2)


def test_dataframe_inputs_are_not_modified():
    pd = pytest.importorskip("pandas")
    X, y, _ = _inputs("float64")
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    series = pd.Series(y, name="y")
    df_copy, series_copy = df.copy(deep=True), series.copy(deep=True)
    est = GDLinearRegressor().fit(df, series, sample_weight=np.ones(30))
    est.predict(df)
    pd.testing.assert_frame_equal(df, df_copy)
    pd.testing.assert_series_equal(series, series_copy)


@pytest.mark.parametrize(
    "value, message",
    [
        (np.nan, "Input X contains NaN"),
        (np.inf, "Input X contains infinity"),
        (1e200, "overflow"),
        (1e-120, "underflow"),
    ],
)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("precompute", ["auto", False])
def test_bad_values_are_found_even_in_rows_of_zero_weight(value, message, weighted, precompute):
    # The magnitude check reads the (weighted) moments where it can: a bad value must still be
    # refused when its row's weight hides it from them, and in either objective form.
    X = np.array(X_OK, dtype=float)
    X[3, 1] = value
    if value == 1e-120:
        X[:, 1] = value * np.arange(X.shape[0])
    weights = np.ones(X.shape[0])
    if weighted:
        weights[3] = 0.0
    with pytest.raises(ValueError, match=message):
        gradient_descent(X, Y_OK, sample_weight=weights, precompute=precompute)
    with pytest.raises(ValueError, match=message):
        GDLinearRegressor(precompute=precompute).fit(X, Y_OK, sample_weight=weights)


# ----------------------------------------------------------------------------- weights and split
# Early stopping holds out part of the rows; the weights are checked on the rows the caller
# passed, before the split (issue 12): their errors name the caller's shapes, not the split's.


@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("shape", [(2 * N,), (N // 2,), (N, 1), (1, N)])
def test_sample_weight_of_the_wrong_shape_is_refused_before_any_split(shape, early_stopping):
    weights = np.ones(shape)
    message = rf"sample_weight must have shape \({N},\); got \({', '.join(map(str, shape))},?\)"
    est = GDLinearRegressor(early_stopping=early_stopping, random_state=0)
    with pytest.raises(ValueError, match=message):
        est.fit(X_OK, Y_OK, sample_weight=weights)
    with pytest.raises(ValueError, match=message):
        gradient_descent(X_OK, Y_OK, sample_weight=weights)


@pytest.mark.parametrize("scalar", [3, 2.5, np.float32(0.5)])
@pytest.mark.parametrize("early_stopping", [False, True])
def test_a_scalar_sample_weight_is_spread_over_the_samples_as_scikit_learn_does(
    scalar, early_stopping
):
    # The reference is scikit-learn's own reading of a scalar weight.
    from sklearn.utils.validation import _check_sample_weight

    spread = np.asarray(_check_sample_weight(scalar, X_OK), dtype=np.float64)
    assert spread.shape == (N,)
    params = {"early_stopping": early_stopping, "random_state": 0, "max_iter": 50}
    with_scalar = GDLinearRegressor(**params).fit(X_OK, Y_OK, sample_weight=scalar)
    with_array = GDLinearRegressor(**params).fit(X_OK, Y_OK, sample_weight=spread)
    assert_array_equal(with_scalar.coef_, with_array.coef_)
    assert with_scalar.intercept_ == with_array.intercept_


@pytest.mark.parametrize("zeros", [0, 0.0, np.zeros(N)], ids=["int", "float", "array"])
@pytest.mark.parametrize("early_stopping", [False, True])
def test_all_zero_weights_are_called_all_zero_with_or_without_a_split(zeros, early_stopping):
    est = GDLinearRegressor(early_stopping=early_stopping, random_state=0)
    with pytest.raises(ValueError, match="sample_weight is all zero: give at least one sample"):
        est.fit(X_OK, Y_OK, sample_weight=zeros)


def test_a_split_that_holds_out_only_zero_weights_says_so():
    est = GDLinearRegressor(early_stopping=True, validation_fraction=0.25, random_state=0)
    n_val = int(np.ceil(0.25 * N))
    held_out = np.random.RandomState(0).permutation(N)[:n_val]  # the documented split
    weights = np.ones(N)
    weights[held_out] = 0.0
    with pytest.raises(ValueError, match="held out only samples of zero sample_weight"):
        est.fit(X_OK, Y_OK, sample_weight=weights)
    weights = np.zeros(N)
    weights[held_out] = 1.0
    with pytest.raises(ValueError, match="held out every sample with a positive sample_weight"):
        est.fit(X_OK, Y_OK, sample_weight=weights)


def _dask_inputs(weights):
    da = pytest.importorskip("dask.array")
    chunks = N // 4
    w = weights if np.ndim(weights) == 0 else da.from_array(weights, chunks=chunks)
    return da.from_array(X_OK, chunks=(chunks, D)), da.from_array(Y_OK, chunks=chunks), w


@pytest.mark.parametrize("length", [2 * N, N // 2])
def test_dask_sample_weight_of_the_wrong_length_is_refused_before_the_split(length):
    X, y, _ = _dask_inputs(0.0)
    est = GDLinearRegressor(early_stopping=True, random_state=0)
    with pytest.raises(
        ValueError, match=rf"sample_weight must have shape \({N},\); got \({length},\)"
    ):
        est.fit(X, y, sample_weight=np.ones(length))


@pytest.mark.parametrize("zeros", [0.0, np.zeros(N)], ids=["scalar", "array"])
def test_dask_all_zero_weights_with_early_stopping_are_called_all_zero(zeros):
    # (The split's own message, "held out every sample with a positive sample_weight", would
    # be false here: there is no positive weight at all.)
    X, y, w = _dask_inputs(zeros)
    est = GDLinearRegressor(early_stopping=True, random_state=0)
    with pytest.raises(ValueError, match="sample_weight is all zero"):
        est.fit(X, y, sample_weight=w)


def test_dask_scalar_weight_with_early_stopping_equals_unit_weights():
    X, y, _ = _dask_inputs(0.0)
    params = {"early_stopping": True, "random_state": 0}
    scalar = GDLinearRegressor(**params).fit(X, y, sample_weight=4.0)
    ones = GDLinearRegressor(**params).fit(X, y)
    # Equal weights of any size give the same weighted least-squares problem.
    np.testing.assert_allclose(scalar.coef_, ones.coef_, rtol=1e-12)


# ----------------------------------------------------------------------------- partial_fit


def test_partial_fit_refuses_early_stopping_as_sgd_regressor_does():
    from sklearn.linear_model import SGDRegressor

    with pytest.raises(ValueError, match="early_stopping"):  # scikit-learn's behaviour
        SGDRegressor(early_stopping=True).partial_fit(X_OK, Y_OK)
    message = r"partial_fit does not support early_stopping=True.*Use fit.*early_stopping=False"
    with pytest.raises(ValueError, match=message):
        GDLinearRegressor(early_stopping=True).partial_fit(X_OK, Y_OK)
    # A fitted model is left as it was, and keeps learning once early stopping is off.
    est = GDLinearRegressor().partial_fit(X_OK[:10], Y_OK[:10])
    coef = est.coef_.copy()
    est.set_params(early_stopping=True)
    with pytest.raises(ValueError, match=message):
        est.partial_fit(X_OK[10:], Y_OK[10:])
    assert_array_equal(est.coef_, coef)
    est.set_params(early_stopping=False).partial_fit(X_OK[10:], Y_OK[10:])
    A = np.c_[X_OK, np.ones(N)]
    reference = np.linalg.lstsq(A, Y_OK, rcond=None)[0]
    np.testing.assert_allclose(np.r_[est.coef_, est.intercept_], reference, rtol=1e-8)


def test_dask_partial_fit_refuses_early_stopping():
    X, y, _ = _dask_inputs(0.0)
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        GDLinearRegressor(early_stopping=True).partial_fit(X, y)


# ----------------------------------------------------------------------------- magnitude limits
# float64 reaches 1.8e308: one square overflows beyond 1.34e154, but the fit sums squares over
# rows and features, so gdlinreg accepts magnitudes up to 1e150 (squares up to 1e300) and
# weighted squares up to 1e300. Just inside, a fit is the rescaled least-squares solution.


def _scaled(a, top):
    return a * (top / np.max(np.abs(a)))


@pytest.mark.parametrize(
    "params",
    [{}, {"solver": "agd"}, {"precompute": False}, {"penalty": "l2", "alpha": 0.0}],
    ids=["cg-gram", "agd", "data-form", "agd-l2"],
)
def test_values_just_below_the_limit_fit_the_rescaled_least_squares_solution(params):
    X, y = _scaled(X_OK, 0.99e150), _scaled(Y_OK, 0.99e150)
    assert np.max(np.abs(X)) <= 1e150 and np.max(np.abs(y)) <= 1e150
    sx, sy = 0.99e150 / np.max(np.abs(X_OK)), 0.99e150 / np.max(np.abs(Y_OK))
    # The reference: numpy's least squares on the same numbers brought back to order one.
    coef, intercept = _lstsq(X / sx, y / sy)
    est = GDLinearRegressor(tol=1e-14, max_iter=5000, **params).fit(X, y)
    np.testing.assert_allclose(est.coef_ * sx / sy, coef, rtol=1e-7)
    np.testing.assert_allclose(est.intercept_ / sy, intercept, rtol=1e-7)
    assert np.isfinite(est.predict(X)).all()


def _lstsq(X, y):
    solution = np.linalg.lstsq(np.c_[X, np.ones(len(X))], y, rcond=None)[0]
    return solution[:-1], solution[-1]


@pytest.mark.parametrize("name", ["X", "y"])
def test_values_just_above_the_limit_are_refused_with_the_true_reason(name):
    X, y = (_scaled(X_OK, 1.01e150), Y_OK) if name == "X" else (X_OK, _scaled(Y_OK, 1.01e150))
    # Their squares (1.02e300) are finite: the message must not claim they overflow.
    message = (
        rf"{name} holds values up to 1.01e\+150, whose squares \(up to 1.02e\+300\) fit in "
        r"float64 but leave too little room for sums of them\. gdlinreg accepts magnitudes up "
        r"to 1e\+150, whose squares stay below 1e\+300: a factor of 1e8 below float64's "
        r"largest value \(1.8e\+308\)"
    )
    with pytest.raises(ValueError, match=message):
        GDLinearRegressor().fit(X, y)
    with pytest.raises(ValueError, match=message):
        gradient_descent(X, y)
    with pytest.raises(ValueError, match=message):
        GDLinearRegressor(precompute=False).fit(X, y)


def test_values_whose_squares_overflow_are_refused_as_such():
    X = _scaled(X_OK, 2e154)  # 2e154 ** 2 = 4e308: beyond float64
    assert np.sqrt(np.finfo(np.float64).max) < 2e154
    with pytest.raises(ValueError, match=r"whose squares overflow float64 \(beyond 1.34e\+154\)"):
        GDLinearRegressor().fit(X, Y_OK)


def test_weighted_squares_beyond_the_limit_name_sample_weight():
    X = _scaled(X_OK, 0.99e150)
    with pytest.raises(ValueError, match=r"sample_weight up to 100 times the squares of X values"):
        GDLinearRegressor().fit(X, Y_OK, sample_weight=np.full(N, 100.0))
    # Relative weights are what count: the same weights, divided by a common factor, fit.
    est = GDLinearRegressor().fit(X, Y_OK, sample_weight=np.full(N, 0.01))
    coef, _ = _lstsq(X_OK, Y_OK)
    np.testing.assert_allclose(est.coef_ * (0.99e150 / np.max(np.abs(X_OK))), coef, rtol=1e-7)


def test_statistics_that_overflow_although_every_value_is_in_range_are_refused():
    # More than about 1e8 rows of values near 1e150 overflow the sums of squares; a test of
    # that size is out of reach, so the check is given such moments directly.
    from gdlinreg._data.checks import confirm_magnitudes
    from gdlinreg._problem.statistics import Moments

    stats = Moments(2e8, np.zeros(D + 1), np.full((D + 1, D + 1), np.inf))
    with pytest.raises(ValueError, match=r"sums of squares .* overflow float64.*within 1e\+150"):
        confirm_magnitudes(X_OK, np.ones(N), stats, D)


# ----------------------------------------------------------------------------- counts in words


def test_divergence_after_one_step_says_one_step():
    from gdlinreg.datasets import load_seed_example

    X, y = load_seed_example()
    a = 1e3
    # By hand: one textbook step from zero, theta = a * mean([x, 1] * y), on half the MSE.
    A = np.c_[X, np.ones(len(X))]
    start = 0.5 * np.mean(y**2)
    after = 0.5 * np.mean((A @ (a * A.T @ y / len(y)) - y) ** 2)
    assert after > 1e4 * start  # the divergence test fires at the first step
    with pytest.raises(DivergenceError) as info:
        gradient_descent(X, y, solver="gd", learning_rate=a, max_iter=100, tol=None)
    assert f"from {start:.4g} to {after:.4g} in 1 step." in str(info.value)
    assert "1 steps" not in str(info.value)


@pytest.mark.parametrize(
    "params, words",
    [
        ({"solver": "gd", "learning_rate": 1e-3}, "max_iter=1 step ran"),
        ({"batch_size": 5, "learning_rate": 1e-3, "random_state": 0}, "max_iter=1 epoch ran"),
        ({"solver": "gd", "learning_rate": 1e-3, "max_iter": 2}, "max_iter=2 steps ran"),
    ],
)
def test_iteration_counts_take_their_plural_only_when_plural(params, words):
    from sklearn.exceptions import ConvergenceWarning

    params = {"max_iter": 1, "tol": 1e-12, **params}
    with pytest.warns(ConvergenceWarning, match=words):
        GDLinearRegressor(**params).fit(X_OK, Y_OK)


@pytest.mark.parametrize("kind", ["NaN", "infinity"])
def test_nonfinite_messages_name_the_column_and_row_alike(kind):
    """One wording for fit, partial_fit, predict, early stopping's split, X and y: the first
    bad value's row, and its column by feature name when X is a DataFrame."""
    pd = pytest.importorskip("pandas")
    bad = np.nan if kind == "NaN" else -np.inf
    fix = "impute" if kind == "NaN" else "replace"
    X = pd.DataFrame(X_OK, columns=["age", "height", "weight"])
    X_bad = X.copy()
    X_bad.iloc[7, 2] = bad
    X_bad.iloc[9, 0] = bad  # a later row: not the first
    message = (
        "Input {} contains {} at row 7, column 'weight' (the first such value); "
        "remove or {} those values."
    )
    named = EXACT(message.format("X", kind, fix))
    with pytest.raises(ValueError, match=named):
        GDLinearRegressor().fit(X_bad, Y_OK)
    with pytest.raises(ValueError, match=named):
        GDLinearRegressor().partial_fit(X_bad, Y_OK)
    # early_stopping's split reorders the rows: the row named is still the caller's.
    with pytest.raises(ValueError, match=named):
        GDLinearRegressor(early_stopping=True, random_state=0).fit(X_bad, Y_OK)
    model = GDLinearRegressor().fit(X, Y_OK)
    with pytest.raises(ValueError, match=named):
        model.predict(X_bad)
    with pytest.raises(ValueError, match=named):
        model.score(X_bad, Y_OK)
    with pytest.raises(ValueError, match=EXACT(message.format("X_val", kind, fix))):
        GDLinearRegressor().fit(X, Y_OK, X_val=X_bad, y_val=Y_OK)
    # Without names, the column's index; two targets: the target column.
    index = EXACT(
        f"Input X contains {kind} at row 7, column 2 (the first such value); "
        f"remove or {fix} those values."
    )
    with pytest.raises(ValueError, match=index):
        GDLinearRegressor().fit(X_bad.to_numpy(), Y_OK)
    with pytest.raises(ValueError, match=index):
        GDLinearRegressor().fit(X.to_numpy(), Y_OK).predict(X_bad.to_numpy())
    Y2 = np.c_[Y_OK, Y_OK]
    Y2[11, 1] = bad
    targets = EXACT(
        f"Input y contains {kind} at row 11, target column 1 (the first such value); "
        f"remove or {fix} those values."
    )
    with pytest.raises(ValueError, match=targets):
        GDLinearRegressor().fit(X, Y2)
    with pytest.raises(ValueError, match=targets):
        gradient_descent(X_OK, Y2)
