"""Array API input (issue 16): array-api-strict (in CI; with its simulated "device1") and
PyTorch (CPU; skipped where it is not installed).

Arrays in host memory take zero-copy NumPy views (``views``); the ``device`` path, which a
GPU's arrays take (the moments computed by the namespace itself, gdlinreg._data.xp_source
.XpSource), is forced here for array-api-strict's device1 and for PyTorch CPU tensors.

The references are independent: weighted least squares (``numpy.linalg.lstsq``), the moments
written from their definition, and scikit-learn's own Array API checks. The equality with the
same estimator fitted on the NumPy copies of the arrays is what the issue asks for on top
(1e-12 float64, 1e-5 float32): the namespace changes where the statistics are computed, not
the fit.
"""

import pickle
import unittest

import numpy as np
import pytest
from _reference import exact_moments, lstsq
from numpy.testing import assert_allclose
from sklearn import config_context
from sklearn.utils.estimator_checks import check_array_api_input

from gdlinreg import GDLinearRegressor
from gdlinreg._data import xp_source

xps = pytest.importorskip("array_api_strict")
# scikit-learn >= 1.9 keeps Array API input in its namespace (move_to, "everything follows X")
_array_api = pytest.importorskip("sklearn.utils._array_api")
if not hasattr(_array_api, "move_to"):
    pytest.skip("Array API input needs scikit-learn >= 1.9", allow_module_level=True)
from sklearn.utils._array_api import (  # noqa: E402
    get_namespace_and_device,
    move_to,
    yield_namespace_device_dtype_combinations,
)
from sklearn.utils._testing import _array_api_for_tests  # noqa: E402

# (namespace, device, path): array-api-strict on its CPU and on its simulated second device,
# PyTorch on the CPU when installed; by NumPy views, or on the device path.
PLACES = [
    ("array_api_strict", "CPU_DEVICE", "views"),
    ("array_api_strict", "device1", "views"),
    ("torch", "cpu", "views"),
    ("array_api_strict", "device1", "device"),
    ("torch", "cpu", "device"),
]
# The tolerances for the same fit from NumPy; float32 fits round X's products to
# float32 at the end (coef_ is float32), so 1e-5 relative is some 100 float32 ulps.
RTOL = {"float64": 1e-12, "float32": 1e-5}


def _place(name, device, dtype="float64"):
    try:
        return _array_api_for_tests(name, device, dtype)
    except unittest.SkipTest as exc:  # the namespace, or the device, is not there
        pytest.skip(str(exc))


@pytest.fixture
def on_device(monkeypatch):
    """Every Array API fit on the device path (XpSource), as a GPU's arrays take it."""
    monkeypatch.setattr(xp_source, "xp_source", xp_source.XpSource)


def _path(request, path):
    if path == "device":
        request.getfixturevalue("on_device")


def _host(a):
    return np.asarray(move_to(a, xp=np, device="cpu"))


def _data(n=300, d=5, k=None, seed=0, offset=3.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) + offset
    coef = rng.standard_normal((d,) if k is None else (d, k))
    y = X @ coef + 0.5 + 0.1 * rng.standard_normal((n,) if k is None else (n, k))
    return X, y, rng.uniform(0.5, 2.0, n)


def _check_namespace(model, X_xp, names=("coef_", "intercept_", "loss_curve_")):
    """The fitted arrays live where X does (scikit-learn's Array API convention)."""
    with config_context(array_api_dispatch=True):
        xp, _, device = get_namespace_and_device(X_xp)
        for name in names:
            a_xp, _, a_device = get_namespace_and_device(getattr(model, name))
            assert a_xp.__name__ == xp.__name__, name
            assert a_device == device, name


# -- scikit-learn's own checks -------------------------------------------------------------


@pytest.mark.parametrize(
    "estimator",
    [
        GDLinearRegressor(tol=1e-12),
        GDLinearRegressor(precompute=False, fit_intercept=False),  # the data form, on the host
        # (a fixed budget: on the checks' rank-deficient data rounded to float32, FISTA
        # cannot certify tol on NumPy input either, and would warn)
        GDLinearRegressor(loss="huber", tol=None, max_iter=200),
    ],
    ids=["gram", "data", "huber"],
)
@pytest.mark.parametrize(
    "namespace, device, dtype", list(yield_namespace_device_dtype_combinations(False))
)
def test_sklearn_array_api_checks_pass_with_values(estimator, namespace, device, dtype):
    # check_values=True: every fitted array and every method's output equals the NumPy
    # fit's, to scikit-learn's tolerance for the dtype (on top of namespace, device, dtype
    # and shape, which tests/test_common.py checks for the other estimators).
    _place(namespace, device, dtype)
    check_array_api_input(
        "GDLinearRegressor",
        estimator,
        array_namespace=namespace,
        device_name=device,
        dtype_name=dtype,
        check_values=dtype == "float64",
        check_sample_weight=True,
    )


# -- the fit equals least squares and the NumPy fit ----------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, device, path", PLACES)
@pytest.mark.parametrize(
    "case",
    ["plain", "weighted", "targets", "no_intercept", "partial", "data_form", "early_stop"],
)
def test_fit_equals_lstsq_and_the_numpy_fit(request, case, name, device, path, dtype):
    xp, dev = _place(name, device, dtype)
    _path(request, path)
    X, y, s = _data(k=3 if case == "targets" else None)
    X = X.astype(dtype)
    weights = s if case == "weighted" else None
    params = {
        "no_intercept": {"fit_intercept": False},
        "data_form": {"precompute": False},
        "early_stop": {"early_stopping": True, "random_state": 0},
    }.get(case, {})
    model = GDLinearRegressor(tol=0, max_iter=5000, **params)
    reference = GDLinearRegressor(tol=0, max_iter=5000, **params)
    X_xp, y_xp = xp.asarray(X, device=dev), xp.asarray(y, device=dev)
    s_xp = None if weights is None else xp.asarray(weights, device=dev)
    with config_context(array_api_dispatch=True):
        if case == "partial":
            for rows in (slice(0, 100), slice(100, 180), slice(180, None)):
                model.partial_fit(X_xp[rows, ...], y_xp[rows, ...])
                reference.partial_fit(X[rows], y[rows])
        else:
            model.fit(X_xp, y_xp, sample_weight=s_xp)
            reference.fit(X, y, sample_weight=weights)
        prediction = model.predict(X_xp)
        score = model.score(X_xp, y_xp, sample_weight=s_xp)
    _check_namespace(model, X_xp)
    assert _host(model.coef_).dtype == np.dtype(dtype)
    assert _host(prediction).dtype == np.dtype(dtype)
    rtol = RTOL[dtype]
    atol = rtol * np.abs(reference.coef_).max()
    assert_allclose(_host(model.coef_), reference.coef_, rtol=rtol, atol=atol)
    assert_allclose(_host(model.intercept_), reference.intercept_, rtol=rtol, atol=atol)
    assert_allclose(_host(prediction), reference.predict(X), rtol=rtol, atol=atol * 10)
    assert score == pytest.approx(reference.score(X, y, sample_weight=weights), abs=rtol)
    if case != "early_stop":  # (which fits only the rows it does not hold out)
        solution = lstsq(X.astype(np.float64), y, weights)
        if case == "no_intercept":
            r = np.sqrt(np.ones(len(y)))[:, None]
            solution = np.linalg.lstsq(X.astype(np.float64) * r, y.reshape(len(y), -1), None)[0]
        # float64: the condition number (~40) times rounding; float32: the fit rounds X's
        # products to float32 only at the end, coef_ to float32 (6e-8 relative).
        tol = 1e-11 if dtype == "float64" else 2e-6
        coef = _host(model.coef_).reshape(-1, X.shape[1]).T
        assert_allclose(coef, solution[: X.shape[1]], rtol=tol, atol=tol * np.abs(solution).max())


@pytest.mark.parametrize("name, device, path", PLACES)
def test_huber_and_minibatch_fits_equal_the_numpy_fit(request, name, device, path):
    # The data-form losses and SGD copy X to the host once (on the device path) and run the
    # NumPy path there: the same iterates, with the same seed.
    xp, dev = _place(name, device)
    _path(request, path)
    X, y, _ = _data(n=200)
    for params in ({"loss": "huber"}, {"batch_size": 32, "random_state": 0, "max_iter": 20}):
        model = GDLinearRegressor(tol=None, **params)
        with config_context(array_api_dispatch=True):
            model.fit(xp.asarray(X, device=dev), xp.asarray(y, device=dev))
        reference = GDLinearRegressor(tol=None, **params).fit(X, y)
        assert_allclose(_host(model.coef_), reference.coef_, rtol=1e-12, atol=1e-12)
        assert_allclose(_host(model.loss_curve_), reference.loss_curve_, rtol=1e-12)


def test_the_device_moments_equal_their_definition():
    # The device path's moments against the exact (rational) ones: offsets of 1e6 and a
    # spread of 1, where the raw sums X'X - n mu mu' would lose 12 digits. The blocks,
    # shifted and centred, keep the rounding near eps * spread^2 per entry.
    xp, dev = _place("array_api_strict", "device1")
    rng = np.random.default_rng(1)
    n, d = 3000, 3
    Z = np.round(rng.standard_normal((n, d + 1)) * 2**10) / 2**10 + 1e6  # exact in binary
    s = rng.integers(1, 4, n).astype(float)
    space = xp_source.Namespace(
        xp, dev, lambda a: move_to(a, xp=np, device="cpu"), lambda a: xp.asarray(a, device=dev)
    )
    X_xp, Y_xp = xp.asarray(Z[:, :d], device=dev), xp.asarray(Z[:, d:], device=dev)
    monkey = xp_source._BLOCK_VALUES
    try:
        xp_source._BLOCK_VALUES = 1024 * (d + 1)  # several blocks: the merges are tested too
        stats = xp_source.xp_moments(space, X_xp, Y_xp, s)
    finally:
        xp_source._BLOCK_VALUES = monkey
    mean, scatter = exact_moments(Z, s)
    assert stats.weight_sum == s.sum()
    assert_allclose(stats.mean, mean, rtol=0, atol=1e-9)  # a few ulps of 1e6 (1.2e-10)
    floor = 64 * np.finfo(float).eps * s.sum() * np.abs(np.diagonal(scatter)).max() / s.sum()
    assert_allclose(stats.scatter, scatter, rtol=0, atol=floor * n)


# -- what stays as it was, what is refused --------------------------------------------------


def test_with_dispatch_off_arrays_are_converted_to_numpy_as_in_scikit_learn():
    # As Ridge does without array_api_dispatch: np.asarray, NumPy attributes and predictions.
    X, y, _ = _data()
    model = GDLinearRegressor(tol=0).fit(xps.asarray(X), xps.asarray(y))
    assert isinstance(model.coef_, np.ndarray)
    assert isinstance(model.predict(xps.asarray(X)), np.ndarray)
    assert_allclose(model.coef_, lstsq(X, y)[:-1, 0], rtol=1e-11)


def test_inputs_are_not_modified_and_a_failed_refit_leaves_the_model(on_device):
    xp, dev = _place("array_api_strict", "device1")
    X, y, s = _data()
    X_xp, y_xp, s_xp = (xp.asarray(a, device=dev) for a in (X, y, s))
    bad = np.array(X)
    bad[3, 1] = np.nan
    with config_context(array_api_dispatch=True):
        model = GDLinearRegressor().fit(X_xp, y_xp, sample_weight=s_xp)
        before = _host(model.coef_).copy()
        with pytest.raises(ValueError, match="X contains NaN"):
            model.fit(xp.asarray(bad, device=dev), y_xp)
    assert_allclose(_host(model.coef_), before, rtol=0, atol=0)
    for original, passed in ((X, X_xp), (y, y_xp), (s, s_xp)):
        assert np.array_equal(_host(passed), original)


def test_partial_fit_continues_from_host_statistics_after_pickling(on_device):
    # The statistics partial_fit merges stay on the host (NumPy): a pickled model continues.
    xp, dev = _place("array_api_strict", "device1")
    X, y, _ = _data(n=400)
    X_xp, y_xp = xp.asarray(X, device=dev), xp.asarray(y, device=dev)
    with config_context(array_api_dispatch=True):
        model = GDLinearRegressor(tol=0).partial_fit(X_xp[:200, ...], y_xp[:200])
        model = pickle.loads(pickle.dumps(model))
        model.partial_fit(X_xp[200:, ...], y_xp[200:])
    assert isinstance(model._stats.scatter, np.ndarray)
    assert_allclose(_host(model.coef_), lstsq(X, y)[:-1, 0], rtol=1e-11)


@pytest.mark.parametrize(
    "bad, match",
    [
        ("y", "y holds values up to"),
        ("weights", "sample_weight must be >= 0"),
        ("nan", "Input X contains NaN"),
        ("inf", "Input X contains infinity"),
    ],
)
def test_bad_device_input_gets_the_numpy_paths_errors(on_device, bad, match):
    xp, dev = _place("array_api_strict", "device1")
    X, y, s = _data()
    if bad == "y":
        y = y * 1e200
    elif bad == "weights":
        s = -s
    else:
        X[5, 2] = np.nan if bad == "nan" else np.inf
    with config_context(array_api_dispatch=True), pytest.raises(ValueError, match=match):
        GDLinearRegressor().fit(
            xp.asarray(X, device=dev), xp.asarray(y, device=dev), xp.asarray(s, device=dev)
        )


def test_predict_refuses_another_namespace_than_fit():
    X, y, _ = _data()
    with config_context(array_api_dispatch=True):
        model = GDLinearRegressor().fit(xps.asarray(X), xps.asarray(y))
        with pytest.raises(ValueError, match="must use the same namespace"):
            model.predict(X)


def test_sparse_and_autograd_tensors_are_refused_by_name():
    torch = pytest.importorskip("torch")
    X, y, _ = _data()
    with config_context(array_api_dispatch=True):
        with pytest.raises(TypeError, match=r"sparse array of torch .*to_dense"):
            GDLinearRegressor().fit(torch.asarray(X).to_sparse(), torch.asarray(y))
        with pytest.raises(TypeError, match=r"requires grad.*X\.detach\(\)"):
            GDLinearRegressor().fit(torch.asarray(X).requires_grad_(), torch.asarray(y))


def test_refinement_reads_device_rows_a_block_at_a_time(on_device, monkeypatch):
    # Near-collinear columns (x and x + 1e-7 noise): the Gram form alone loses the flat
    # direction, so the fit is refined on the data, which stay on the device and are read in
    # row blocks. The reference: lstsq's predictions (well determined, unlike the two
    # coefficients along the flat direction).
    xp, dev = _place("array_api_strict", "device1")
    rng = np.random.default_rng(3)
    x = rng.standard_normal(2000)
    X = np.column_stack([x, x + 1e-7 * rng.standard_normal(2000), rng.standard_normal(2000)])
    y = X @ [1.0, 2.0, -1.0] + 0.01 * rng.standard_normal(2000)
    reads = []
    original = xp_source._HostRows.__getitem__
    monkeypatch.setattr(
        xp_source._HostRows,
        "__getitem__",
        lambda self, rows: reads.append(rows) or original(self, rows),
    )
    with config_context(array_api_dispatch=True):
        model = GDLinearRegressor(tol=1e-15).fit(
            xp.asarray(X, device=dev), xp.asarray(y, device=dev)
        )
        prediction = _host(model.predict(xp.asarray(X, device=dev)))
    assert reads, "no refinement pass read the rows"
    solution = lstsq(X, y)
    expected = X @ solution[:-1, 0] + solution[-1, 0]
    # The residual's rounding floor: a few eps of y's size (the fit is certified to it).
    assert_allclose(prediction, expected, rtol=0, atol=1e-9 * np.abs(y).max())


def test_a_validation_set_on_the_device_gives_the_numpy_fit(on_device):
    # X_val, y_val with early stopping: the fit runs on host copies (the NumPy path).
    xp, dev = _place("array_api_strict", "device1")
    X, y, _ = _data(n=400)
    Xv, yv, _ = _data(n=100, seed=1)
    params = {"early_stopping": True, "solver": "gd", "learning_rate": 0.01, "max_iter": 50}
    with config_context(array_api_dispatch=True):
        model = GDLinearRegressor(**params).fit(
            xp.asarray(X, device=dev),
            xp.asarray(y, device=dev),
            X_val=xp.asarray(Xv, device=dev),
            y_val=xp.asarray(yv, device=dev),
        )
    reference = GDLinearRegressor(**params).fit(X, y, X_val=Xv, y_val=yv)
    _check_namespace(model, xp.asarray(X, device=dev), ("coef_", "validation_scores_"))
    assert_allclose(_host(model.coef_), reference.coef_, rtol=1e-12, atol=1e-12)
    assert_allclose(_host(model.validation_scores_), reference.validation_scores_, rtol=1e-12)


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC3"])
def test_inference_after_a_device_fit_equals_statsmodels(on_device, cov_type):
    # The device path keeps the row count inference needs; the robust pass copies the data
    # to the host once. Reference: statsmodels' WLS on the NumPy data.
    sm = pytest.importorskip("statsmodels.api")
    xp, dev = _place("array_api_strict", "device1")
    X, y, s = _data()
    X_xp, y_xp, s_xp = (xp.asarray(a, device=dev) for a in (X, y, s))
    with config_context(array_api_dispatch=True):
        model = GDLinearRegressor(tol=0).fit(X_xp, y_xp, sample_weight=s_xp)
        if cov_type == "nonrobust":
            res = model.inference()
        else:
            res = model.inference(X_xp, y_xp, sample_weight=s_xp, cov_type=cov_type)
    kwargs = {} if cov_type == "nonrobust" else {"cov_type": cov_type}
    ref = sm.WLS(y, sm.add_constant(X), weights=s).fit(**kwargs)
    assert_allclose(res.coef, ref.params, rtol=1e-9)
    assert_allclose(res.std_err, ref.bse, rtol=1e-8)
