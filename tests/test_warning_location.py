"""Every warning a user can trigger points at the user's own line (issue 21).

A recorded warning's ``filename`` / ``lineno`` are compared with this file's ``__file__`` and
the line of the statement that made the call (read from the test's own frame), for direct
calls, ``partial_fit``, :func:`gdlinreg.gradient_descent`, inside ``Pipeline`` and
``GridSearchCV``, and with scikit-learn's callbacks attached where it has them.
"""

import contextlib
import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from gdlinreg import GDLinearRegressor, gradient_descent

try:
    import sklearn.callback  # noqa: F401  (scikit-learn >= 1.9)

    HAS_CALLBACKS = True
except ImportError:
    HAS_CALLBACKS = False

#: Too few steps for the tol criterion: a ConvergenceWarning ("max_iter=5 steps ran ...").
SHORT = dict(solver="gd", learning_rate=0.01, max_iter=5, tol=1e-12)
MISSED = (ConvergenceWarning, "max_iter=5 steps ran before")
IGNORED = (UserWarning, "intercept_init has no effect")


def make_data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3)) + np.array([0.0, 0.5, -1.0])
    y = X @ np.array([1.5, -2.0, 0.5]) + 1.0 + 0.5 * rng.standard_normal(n)
    return X, y


class Silent:
    """A scikit-learn callback that only counts its tasks; auto-propagated from a
    meta-estimator."""

    max_propagation_depth = None

    def __init__(self):
        self.tasks = 0

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        self.tasks += 1

    def on_fit_task_end(self, estimator, context, **kwargs):
        return False


@pytest.fixture(params=["no-callbacks", "callbacks"])
def attach(request):
    """Returns ``attach(estimator)``: the estimator, with a callback set in the second case."""
    if request.param == "no-callbacks":
        yield lambda est: est
        return
    if not HAS_CALLBACKS:
        pytest.skip("scikit-learn >= 1.9 callbacks")
    callback = Silent()
    yield lambda est: est.set_callbacks(callback)
    assert callback.tasks > 0  # the fit ran under scikit-learn's callback machinery


@contextlib.contextmanager
def recorded():
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        yield record


def next_line():
    """The line after the caller's: the one statement under test, written on one line."""
    return sys._getframe(1).f_lineno + 1


def assert_points_at(record, line, expected, count=1):
    """``count`` warnings of ``expected`` (category, words) were recorded, each at ``line``
    of this file."""
    category, words = expected
    ours = [w for w in record if issubclass(w.category, category) and words in str(w.message)]
    assert len(ours) == count, [str(w.message) for w in record]
    for w in ours:
        assert (w.filename, w.lineno) == (__file__, line), (w.filename, w.lineno, str(w.message))


# ----------------------------------------------------------------------------- the estimator


def test_fit_convergence_warning(attach):
    X, y = make_data()
    est = attach(GDLinearRegressor(**SHORT))
    with recorded() as record:
        line = next_line()
        est.fit(X, y)
    assert_points_at(record, line, MISSED)


def test_fit_stalled_warning(attach):
    # Constant-step mini-batch SGD reaches its noise floor before the tol criterion holds.
    X, y = load_diabetes(return_X_y=True)
    est = attach(GDLinearRegressor(solver="gd", batch_size=32, random_state=3))
    with recorded() as record:
        line = next_line()
        est.fit(X, y)
    assert est.stop_reason_ == "stalled"
    assert_points_at(record, line, (ConvergenceWarning, "stalled after"))


def test_fit_ignored_intercept_init(attach):
    X, y = make_data()
    est = attach(GDLinearRegressor())  # the default solver centres the data
    with recorded() as record:
        line = next_line()
        est.fit(X, y, intercept_init=1.0)
    assert_points_at(record, line, IGNORED)


def test_partial_fit_convergence_warning(attach):
    X, y = make_data()
    est = attach(GDLinearRegressor(**SHORT))
    with recorded() as record:
        line = next_line()
        est.partial_fit(X, y)
    assert_points_at(record, line, MISSED)


def test_inference_of_an_unconverged_fit():
    X, y = make_data()
    with recorded():
        est = GDLinearRegressor(**SHORT).fit(X, y)
    with recorded() as record:
        line = next_line()
        est.inference()
    assert_points_at(record, line, (ConvergenceWarning, "This fit stopped by 'max_iter'"))


def test_inference_rank_warning():
    X, y = make_data()
    Xd = np.c_[X, X[:, 1] - 2.0 * X[:, 2]]  # a fourth column in the span of two others
    est = GDLinearRegressor(tol=0.0).fit(Xd, y)
    with recorded() as record:
        line = next_line()
        est.inference()
    assert_points_at(record, line, (UserWarning, "The design has rank 4 < 5"))


@pytest.mark.parametrize("kind", ["nonrobust", "HC3"])
def test_inference_saturated_design_warning(kind):
    X, y = make_data(n=4)  # four rows, three features and the intercept: df_resid = 0
    est = GDLinearRegressor().fit(X, y)
    data = (X, y) if kind != "nonrobust" else ()
    with recorded() as record:
        line = next_line()
        est.inference(*data, cov_type=kind)
    assert_points_at(record, line, (UserWarning, "The design is saturated: n = 4 rows"))
    assert len(record) == 1, [str(w.message) for w in record]


# ----------------------------------------------------------------------------- gradient_descent


def test_gradient_descent_ignored_intercept_init():
    X, y = make_data()
    with recorded() as record:
        line = next_line()
        gradient_descent(X, y, intercept_init=1.0)
    assert_points_at(record, line, IGNORED)


# ----------------------------------------------------------------------------- meta-estimators


def test_pipeline_fit(attach):
    X, y = make_data()
    pipe = attach(make_pipeline(StandardScaler(), GDLinearRegressor(**SHORT)))
    with recorded() as record:
        line = next_line()
        pipe.fit(X, y)
    assert_points_at(record, line, MISSED)


def test_pipeline_fit_ignored_intercept_init(attach):
    X, y = make_data()
    pipe = attach(make_pipeline(StandardScaler(), GDLinearRegressor()))
    with recorded() as record:
        line = next_line()
        pipe.fit(X, y, gdlinearregressor__intercept_init=1.0)
    assert_points_at(record, line, IGNORED)


def test_grid_search_fit(attach):
    X, y = make_data()
    grid = attach(GridSearchCV(GDLinearRegressor(**SHORT), {"alpha": [0.0]}, cv=KFold(2)))
    with recorded() as record:
        line = next_line()
        grid.fit(X, y)
    assert_points_at(record, line, MISSED, count=2 + 1)  # two splits and the refit


def test_grid_search_over_a_pipeline(attach):
    X, y = make_data()
    pipe = make_pipeline(StandardScaler(), GDLinearRegressor(**SHORT))
    grid = attach(GridSearchCV(pipe, {"gdlinearregressor__alpha": [0.0]}, cv=KFold(2)))
    with recorded() as record:
        line = next_line()
        grid.fit(X, y)
    assert_points_at(record, line, MISSED, count=2 + 1)


# ----------------------------------------------------------------------------- the helper


def test_a_warning_made_outside_the_libraries_points_at_its_caller():
    # Called from a file outside gdlinreg and scikit-learn, the helper attributes the
    # warning to that file's line, as stacklevel=2 would.
    from gdlinreg._kernels.warnings import warn

    with recorded() as record:
        line = next_line()
        warn("plain", UserWarning)
    assert_points_at(record, line, (UserWarning, "plain"))
