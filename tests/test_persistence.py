"""Persistence and determinism: pickle, joblib and skops round trips, the stored format
version, and bit-identical refits for a fixed random_state.

The references are the model before saving (a loaded model must predict bit for bit the same)
and a second, independent fit in a fresh interpreter.
"""

from __future__ import annotations

import io
import pickle
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

import gdlinreg
import gdlinreg._shell.persistence as persistence_module
from gdlinreg import GDLinearRegressor

_rng = np.random.default_rng(11)
X = _rng.standard_normal((60, 4)) * [1.0, 10.0, 0.1, 3.0] + [0.0, 5.0, -2.0, 100.0]
Y = X @ [1.0, -0.5, 4.0, 0.25] + 2.0 + 0.1 * _rng.standard_normal(60)
Y2 = np.c_[Y, -2.0 * Y + 1.0]

SETTINGS = {
    "default": ({}, Y),
    "multi-output": ({}, Y2),
    "float32": ({"tol": 1e-6}, Y),
    "gd-path": ({"solver": "gd", "learning_rate": 1e-4, "max_iter": 30, "tol": None}, Y),
    "sgd": ({"batch_size": 8, "random_state": 3, "max_iter": 20, "tol": None}, Y),
    "early-stopping": ({"early_stopping": True, "random_state": 5, "max_iter": 50}, Y),
    "l1": ({"penalty": "l1", "alpha": 0.05}, Y),
    "huber": ({"loss": "huber", "max_iter": 3000}, Y),
    "store-path": ({"store_path": True, "max_iter": 40, "tol": None, "solver": "agd"}, Y),
}


def _fit(name):
    params, y = SETTINGS[name]
    Xf = X.astype(np.float32) if name == "float32" else X
    return GDLinearRegressor(**params).fit(Xf, y), Xf


def _fitted_attributes(est):
    return {k: v for k, v in vars(est).items() if k.endswith("_") and not k.startswith("_")}


def _assert_same_model(loaded, est, Xf):
    assert type(loaded) is GDLinearRegressor
    assert loaded.get_params().keys() == est.get_params().keys()
    original = _fitted_attributes(est)
    assert _fitted_attributes(loaded).keys() == original.keys()
    for key, value in original.items():
        now = loaded.__dict__[key]
        assert type(now) is type(value), key
        if isinstance(value, np.ndarray | np.generic):
            assert_array_equal(now, value, err_msg=key, strict=True)
        else:
            assert now == value, key
    # Identical, not close: the same floats give the same products.
    assert_array_equal(loaded.predict(Xf), est.predict(Xf), strict=True)
    y = Y2 if np.ndim(est.coef_) == 2 else Y
    assert loaded.score(Xf, y) == est.score(Xf, y)


def _no_warnings_fit(name):
    # The huber setting may stop at max_iter; that is not what these tests are about.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return _fit(name)


@pytest.mark.parametrize("name", list(SETTINGS))
def test_pickle_round_trip_predicts_identically(name):
    est, Xf = _no_warnings_fit(name)
    for protocol in (2, pickle.HIGHEST_PROTOCOL):
        loaded = pickle.loads(pickle.dumps(est, protocol=protocol))
        _assert_same_model(loaded, est, Xf)
        # The bookkeeping keys are read on load, not left in the model.
        assert not {"_gdlinreg_format", "_gdlinreg_version"} & set(vars(loaded))


@pytest.mark.parametrize("name", ["default", "multi-output", "float32", "sgd", "store-path"])
def test_joblib_round_trip_predicts_identically(name, tmp_path):
    joblib = pytest.importorskip("joblib")
    est, Xf = _no_warnings_fit(name)
    for compress in (0, 3):
        path = tmp_path / f"model-{compress}.joblib"
        joblib.dump(est, path, compress=compress)
        _assert_same_model(joblib.load(path), est, Xf)


def test_a_loaded_model_keeps_learning_like_the_original():
    # partial_fit after a round trip continues from the same accumulated statistics.
    est = GDLinearRegressor().partial_fit(X[:30], Y[:30])
    loaded = pickle.loads(pickle.dumps(est))
    est.partial_fit(X[30:], Y[30:])
    loaded.partial_fit(X[30:], Y[30:])
    assert_array_equal(loaded.coef_, est.coef_, strict=True)
    assert_array_equal(loaded.intercept_, est.intercept_, strict=True)


# ----------------------------------------------------------------------------- format version


def test_the_state_records_the_format_and_the_package_version():
    state = GDLinearRegressor().fit(X, Y).__getstate__()
    assert state["_gdlinreg_format"] == persistence_module.PERSISTENCE_FORMAT == 1
    assert state["_gdlinreg_version"] == gdlinreg.__version__


def test_a_newer_format_is_refused_clearly():
    est = GDLinearRegressor().fit(X, Y)
    state = est.__getstate__()
    state["_gdlinreg_format"] = 2
    state["_gdlinreg_version"] = "9.0.0"
    blank = GDLinearRegressor.__new__(GDLinearRegressor)
    message = (
        r"saved by gdlinreg 9\.0\.0 in persistence format 2; gdlinreg .* reads format 1 at "
        r"most\. Load it with that version \(or newer\) of gdlinreg, or refit\."
    )
    with pytest.raises(ValueError, match=message):
        blank.__setstate__(state)
    assert not hasattr(blank, "coef_")  # nothing half-loaded


def test_a_pickle_written_in_a_newer_format_is_refused_by_pickle_load(monkeypatch):
    est = GDLinearRegressor().fit(X, Y)
    monkeypatch.setattr(persistence_module, "PERSISTENCE_FORMAT", 2)
    data = pickle.dumps(est)  # "a future release" writes format 2
    monkeypatch.setattr(persistence_module, "PERSISTENCE_FORMAT", 1)
    with pytest.raises(ValueError, match=r"persistence format 2; gdlinreg .* reads format 1"):
        pickle.loads(data)


def test_a_pickle_without_the_format_key_loads_as_format_1():
    # Models pickled before the key existed (format 1 by definition) still load.
    est = GDLinearRegressor().fit(X, Y)
    state = est.__getstate__()
    del state["_gdlinreg_format"], state["_gdlinreg_version"]
    blank = GDLinearRegressor.__new__(GDLinearRegressor)
    blank.__setstate__(state)
    assert_array_equal(blank.predict(X), est.predict(X), strict=True)


# ----------------------------------------------------------------------------- skops

#: The types a gdlinreg model file holds besides NumPy's and scikit-learn's: what a user lists
#: as trusted to load a model from someone else with skops (see SECURITY.md).
GDLINREG_TYPES = ["gdlinreg._estimator.GDLinearRegressor", "gdlinreg._objective.Moments"]


@pytest.mark.parametrize("name", ["default", "multi-output", "float32", "sgd", "early-stopping"])
def test_skops_round_trip_with_gdlinreg_types_trusted(name, tmp_path):
    sio = pytest.importorskip("skops.io")
    est, Xf = _no_warnings_fit(name)
    path = tmp_path / "model.skops"
    sio.dump(est, path)
    untrusted = sio.get_untrusted_types(file=path)
    # Only gdlinreg's own types need trusting: everything else is a NumPy or built-in type
    # that skops trusts by default.
    assert set(untrusted) <= set(GDLINREG_TYPES)
    assert "gdlinreg._estimator.GDLinearRegressor" in untrusted
    loaded = sio.load(path, trusted=GDLINREG_TYPES)
    _assert_same_model(loaded, est, Xf)


def test_skops_refuses_a_model_file_with_untrusted_types(tmp_path):
    sio = pytest.importorskip("skops.io")
    path = tmp_path / "model.skops"
    sio.dump(GDLinearRegressor().fit(X, Y), path)
    with pytest.raises(Exception, match="Untrusted types found") as info:
        sio.load(path)  # nothing trusted: refused before any object is built
    assert type(info.value).__name__ == "UntrustedTypesFoundException"


def test_skops_refuses_a_foreign_type_even_with_gdlinreg_trusted(tmp_path):
    # A file that smuggles another type next to the model is still refused when only
    # gdlinreg's types are trusted: trusting GDLINREG_TYPES is not trusting the file.
    sio = pytest.importorskip("skops.io")
    from fractions import Fraction

    path = tmp_path / "bundle.skops"
    sio.dump({"model": GDLinearRegressor().fit(X, Y), "extra": Fraction(1, 3)}, path)
    assert "fractions.Fraction" in sio.get_untrusted_types(file=path)
    with pytest.raises(Exception, match="Untrusted types found"):
        sio.load(path, trusted=GDLINREG_TYPES)


# ----------------------------------------------------------------------------- determinism

RANDOM_SETTINGS = [
    {"batch_size": 7, "shuffle": True, "max_iter": 15, "tol": None},
    {"early_stopping": True, "max_iter": 30},
    {"batch_size": 5, "early_stopping": True, "validation_fraction": 0.2, "max_iter": 10},
    {"batch_size": 4, "momentum": 0.5, "learning_rate": "invscaling", "max_iter": 10},
]


def _quiet_fit(est, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args)


@pytest.mark.parametrize("params", RANDOM_SETTINGS)
def test_same_random_state_gives_bit_identical_coefficients(params):
    first = _quiet_fit(GDLinearRegressor(random_state=42, **params), X, Y)
    second = _quiet_fit(GDLinearRegressor(random_state=42, **params), X, Y)
    assert_array_equal(second.coef_, first.coef_, strict=True)
    assert_array_equal(second.intercept_, first.intercept_, strict=True)
    assert_array_equal(second.loss_curve_, first.loss_curve_, strict=True)
    # ... and a different seed really changes the path (the seed is used).
    other = _quiet_fit(GDLinearRegressor(random_state=43, **params), X, Y)
    assert not np.array_equal(other.loss_curve_, first.loss_curve_)


@pytest.mark.parametrize("params", RANDOM_SETTINGS[:2])
def test_same_random_state_is_bit_identical_across_pickling(params):
    # An unfitted estimator sent through pickle (as joblib does for n_jobs) fits identically,
    # and so does a fitted one refitted after a round trip.
    est = GDLinearRegressor(random_state=7, **params)
    copy = pickle.loads(pickle.dumps(est))
    a, b = _quiet_fit(est, X, Y), _quiet_fit(copy, X, Y)
    assert_array_equal(b.coef_, a.coef_, strict=True)
    again = _quiet_fit(pickle.loads(pickle.dumps(a)), X, Y)
    assert_array_equal(again.coef_, a.coef_, strict=True)
    assert_array_equal(_quiet_fit(clone(a), X, Y).coef_, a.coef_, strict=True)


def _default_rng_takes_random_state():
    try:
        np.random.default_rng(np.random.RandomState(0))
    except TypeError:
        return False
    return True


def test_a_random_state_instance_is_consumed_like_scikit_learn():
    # With a RandomState instance, a clone (which deep-copies it) reproduces the first fit,
    # and pickling the estimator carries the generator's state along.
    params = RANDOM_SETTINGS[0]
    est = GDLinearRegressor(random_state=np.random.RandomState(0), **params)
    twin = pickle.loads(pickle.dumps(est))
    a, b = _quiet_fit(est, X, Y).coef_.copy(), _quiet_fit(twin, X, Y).coef_
    assert_array_equal(a, b, strict=True)


_SUBPROCESS = textwrap.dedent(
    """
    import sys, warnings
    import numpy as np
    from gdlinreg import GDLinearRegressor
    warnings.simplefilter("ignore")
    X = np.frombuffer(bytes.fromhex(sys.argv[1])).reshape(60, 4)
    y = np.frombuffer(bytes.fromhex(sys.argv[2]))
    est = GDLinearRegressor(random_state=42, batch_size=7, max_iter=15, tol=None).fit(X, y)
    print(est.coef_.tobytes().hex(), np.float64(est.intercept_).tobytes().hex())
    """
)


def test_same_random_state_is_bit_identical_in_a_fresh_interpreter():
    est = _quiet_fit(GDLinearRegressor(random_state=42, batch_size=7, max_iter=15, tol=None), X, Y)
    out = subprocess.run(
        [sys.executable, "-c", _SUBPROCESS, X.tobytes().hex(), Y.tobytes().hex()],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.split()
    assert out == [est.coef_.tobytes().hex(), np.float64(est.intercept_).tobytes().hex()]


def test_pickled_bytes_do_not_depend_on_the_run():
    # Two identical fits pickle to the same bytes (no clocks, ids or addresses in the state).
    a = GDLinearRegressor(random_state=1, batch_size=9, max_iter=5, tol=None)
    b = clone(a)
    buffers = []
    for est in (a, b):
        _quiet_fit(est, X, Y)
        buffer = io.BytesIO()
        pickle.dump(est, buffer, protocol=4)
        buffers.append(buffer.getvalue())
    assert buffers[0] == buffers[1]


# ----------------------------------------------------------------------------- statistics
# A Gram-form fit keeps the (d + k) x (d + k) statistics that partial_fit continues from;
# discard_statistics() drops them before a model is saved or published (issue 12).


def _wide_fit():
    rng = np.random.default_rng(5)
    Xw = rng.standard_normal((300, 250)) + 3.0
    yw = Xw @ rng.standard_normal(250) + 1.0
    return GDLinearRegressor().fit(Xw, yw), Xw, yw


def test_discard_statistics_shrinks_the_pickle_to_the_size_of_linear_regression():
    from sklearn.linear_model import LinearRegression

    est, Xw, yw = _wide_fit()
    d = Xw.shape[1]
    before = len(pickle.dumps(est))
    assert before > 8 * (d + 1) ** 2  # the scatter matrix of [X | y] alone
    prediction = est.predict(Xw)
    public = {
        k: np.copy(v) if isinstance(v, np.ndarray) else v
        for k, v in _fitted_attributes(est).items()
    }
    assert est.discard_statistics() is est
    after = len(pickle.dumps(est))
    # O(d): coef_ and a few scalars, no more than LinearRegression stores for the same data
    # (plus the loss curve, one float per iteration).
    reference = len(pickle.dumps(LinearRegression().fit(Xw, yw)))
    assert after <= reference + est.loss_curve_.nbytes
    assert after < before / 100
    assert_array_equal(est.predict(Xw), prediction, strict=True)
    loaded = pickle.loads(pickle.dumps(est))
    assert_array_equal(loaded.predict(Xw), prediction, strict=True)
    assert loaded.score(Xw, yw) == est.score(Xw, yw)
    for key, value in public.items():  # the fitted model itself is untouched
        now = vars(est)[key]
        if isinstance(value, np.ndarray):
            assert_array_equal(now, value, strict=True)
        else:
            assert now == value, key


def test_discarded_statistics_are_not_in_the_pickled_bytes():
    est, Xw, _ = _wide_fit()
    # The bytes of the scatter matrix (second moments) and of the means, as pickle stores them.
    scatter = est._stats.scatter[100, :50].tobytes()
    means = est._stats.mean[:50].tobytes()
    data = pickle.dumps(est)
    assert scatter in data and means in data and b"Moments" in data  # the search finds them
    data = pickle.dumps(est.discard_statistics())
    assert scatter not in data and means not in data and b"Moments" not in data
    # Nothing in the file holds X's column means any more, to any digits.
    column_means = Xw.mean(axis=0)
    assert not any(np.float64(m).tobytes() in data for m in column_means)


def test_skops_file_of_a_model_without_statistics_needs_only_the_estimator_type(tmp_path):
    sio = pytest.importorskip("skops.io")
    est = GDLinearRegressor().fit(X, Y).discard_statistics()
    path = tmp_path / "model.skops"
    sio.dump(est, path)
    assert sio.get_untrusted_types(file=path) == ["gdlinreg._estimator.GDLinearRegressor"]
    loaded = sio.load(path, trusted=["gdlinreg._estimator.GDLinearRegressor"])
    assert_array_equal(loaded.predict(X), est.predict(X), strict=True)


@pytest.mark.parametrize("params", [{}, {"loss": "huber", "max_iter": 3000}], ids=["gram", "huber"])
def test_partial_fit_after_discard_statistics_is_refused_and_fit_starts_afresh(params):
    est = GDLinearRegressor(**params).partial_fit(X[:30], Y[:30]).discard_statistics()
    before = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in vars(est).items()}
    message = r"partial_fit cannot continue this model: discard_statistics\(\) dropped"
    with pytest.raises(ValueError, match=message):
        est.partial_fit(X[30:], Y[30:])
    assert vars(est).keys() == before.keys()
    assert_array_equal(est.coef_, before["coef_"], strict=True)
    with pytest.raises(ValueError, match=message):  # the saved model remembers it
        pickle.loads(pickle.dumps(est)).partial_fit(X[30:], Y[30:])
    # fit works as always and keeps statistics again: partial_fit then continues from it.
    est.fit(X[:30], Y[:30]).partial_fit(X[30:], Y[30:])
    if "loss" not in params:  # squared loss: the least-squares fit of all rows seen
        A = np.c_[X, np.ones(len(X))]
        reference = np.linalg.lstsq(A, Y, rcond=None)[0]
        np.testing.assert_allclose(np.r_[est.coef_, est.intercept_], reference, rtol=1e-8)


def test_discard_statistics_needs_a_fitted_model():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        GDLinearRegressor().discard_statistics()


def test_pickling_leaves_the_model_as_it_was():
    # __getstate__ adds the format keys to a copy of the state, not to the model.
    est = GDLinearRegressor().fit(X, Y)
    keys = set(vars(est))
    pickle.dumps(est)
    assert set(vars(est)) == keys
