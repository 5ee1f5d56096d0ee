"""Models saved by an earlier gdlinreg still load and predict the same.

The fixtures in tests/data/saved_models were fitted and saved once, by the commit named in
their MANIFEST.json (``make.py`` there wrote them), and are never regenerated: they are what
a user's saved model looks like to this version. The reference is each model's prediction
at save time, stored beside it.
"""

from __future__ import annotations

import json
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.exceptions import InconsistentVersionWarning

from gdlinreg import GDLinearRegressor

HERE = Path(__file__).parent / "data" / "saved_models"
MANIFEST = json.loads((HERE / "MANIFEST.json").read_text())
X_QUERY = np.load(HERE / "X_query.npy")
#: What a user trusts to load a gdlinreg model file with skops (SECURITY.md names them).
GDLINREG_TYPES = ["gdlinreg._estimator.GDLinearRegressor", "gdlinreg._objective.Moments"]


def _check(model: object, name: str) -> None:
    assert isinstance(model, GDLinearRegressor)
    expected = np.load(HERE / f"{name}.predict.npy")
    # The same coefficients applied the same way; only a BLAS kernel's summation order may
    # differ from the machine that saved them.
    assert_allclose(model.predict(X_QUERY), expected, rtol=1e-12, atol=0)


# NumPy 2 pickles its arrays by the module path numpy._core, which NumPy 1.x lacks: a pickle
# written under NumPy 2 loads only under NumPy 2 (NumPy's rule, not gdlinreg's; SECURITY.md
# says so). skops files carry no such path and load under either.
needs_numpy_of_the_pickles = pytest.mark.skipif(
    int(np.__version__.split(".")[0]) < int(MANIFEST["numpy"].split(".")[0]),
    reason=f"pickled under NumPy {MANIFEST['numpy']}; NumPy 1.x cannot read NumPy 2 pickles",
)


def _unpickle(name: str) -> object:
    with open(HERE / f"{name}.pkl", "rb") as f, warnings.catch_warnings():
        # scikit-learn warns whenever its version differs from the pickle's; that is its
        # behaviour on any estimator, and this test is about gdlinreg's part.
        warnings.simplefilter("ignore", InconsistentVersionWarning)
        return pickle.load(f)


@needs_numpy_of_the_pickles
@pytest.mark.parametrize("name", MANIFEST["models"])
def test_pickle_saved_by_an_earlier_version_loads_and_predicts_the_same(name):
    _check(_unpickle(name), name)


@pytest.mark.parametrize("name", MANIFEST["models"])
def test_skops_file_saved_by_an_earlier_version_loads_with_gdlinreg_types(name):
    sio = pytest.importorskip("skops.io")
    path = HERE / f"{name}.skops"
    assert set(sio.get_untrusted_types(file=path)) <= set(GDLINREG_TYPES)
    _check(sio.load(path, trusted=GDLINREG_TYPES), name)


@needs_numpy_of_the_pickles
def test_a_saved_partial_fit_stream_continues():
    # The kept statistics survive the round trip: one more chunk after loading gives the
    # least-squares fit of all rows seen (rows regenerated exactly as make.py drew them).
    model = _unpickle("partial-fit")
    rng = np.random.default_rng(20261202)
    X = rng.standard_normal((80, 4)) * [1.0, 10.0, 0.1, 3.0] + [0.0, 5.0, -2.0, 100.0]
    y = X @ [1.0, -0.5, 4.0, 0.25] + 2.0 + 0.1 * rng.standard_normal(80)
    X_new = X_QUERY
    y_new = X_new @ [1.0, -0.5, 4.0, 0.25] + 2.0
    model.partial_fit(X_new, y_new)
    X_all, y_all = np.vstack([X, X_new]), np.r_[y, y_new]
    A = np.c_[X_all, np.ones(len(X_all))]
    ref = np.linalg.lstsq(A, y_all, rcond=None)[0]
    assert_allclose(np.r_[model.coef_, model.intercept_], ref, rtol=1e-8, atol=1e-10)
