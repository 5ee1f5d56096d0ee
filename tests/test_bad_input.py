"""A table of malformed inputs and parameter values for fit, partial_fit, predict and score.

Every case states what must happen: a clear error (whose message names the parameter or the
problem), a correct result (checked against ``numpy.linalg.lstsq`` / ``pinv`` or
``sklearn.metrics.r2_score``, never against gdlinreg itself), or either of the two. For every
case, whatever the outcome, the harness also checks that

* no input array is modified (values, dtype, shape),
* nothing hangs (a 30 s alarm per call),
* no warning escapes (pytest runs with ``filterwarnings=error``: an overflow RuntimeWarning
  fails the case),
* a fitted model has finite coefficients,
* a failing ``fit`` / ``partial_fit`` on an already fitted model leaves that model exactly as
  it was, and usable.

tests/test_errors.py holds the message table for ``fit`` and the NumPy core on the common bad
data; this file covers the other methods, the other positions of bad values (validation set,
initial values, weights), dtypes and magnitudes, rank deficiency and every hyperparameter.
The cases marked ``xfail`` are known bugs, reported with their reproducer in the reason.
"""

from __future__ import annotations

import copy
import re
import signal
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from _reference import exact_lstsq, exact_mse
from numpy.testing import assert_allclose, assert_array_equal, assert_equal
from sklearn.exceptions import ConvergenceWarning, UndefinedMetricWarning
from sklearn.metrics import r2_score

from gdlinreg import GDLinearRegressor

N, D = 30, 3
W_TRUE = np.array([1.0, 2.0, 3.0])
B_TRUE = 0.5
_rng = np.random.default_rng(7)
X_OK = _rng.standard_normal((N, D))
Y_OK = X_OK @ W_TRUE + B_TRUE + 0.1 * _rng.standard_normal(N)
Y_EXACT = X_OK @ W_TRUE + B_TRUE  # noise-free: every loss has the same minimiser


# ----------------------------------------------------------------------------- references


def lstsq_ref(X, y, sample_weight=None, fit_intercept=True):
    """Weighted least squares by numpy.linalg.lstsq (minimum norm over [X, 1])."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    w = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    w = np.broadcast_to(w, (len(X),))
    A = np.c_[X, np.ones(len(X))] if fit_intercept else X
    r = np.sqrt(w)
    theta = np.linalg.lstsq(A * r[:, None], (y.T * r).T, rcond=None)[0]
    if fit_intercept:
        return theta[:-1].T, theta[-1]
    return theta.T, np.zeros(theta.shape[1:]) if theta.ndim > 1 else 0.0


_REFERENCE = lstsq_ref(X_OK, Y_OK)
_REF_COEF = _REFERENCE[0]


def weighted_mse(X, y, coef, intercept, sample_weight=None):
    X = np.asarray(X, dtype=np.float64)
    r = X @ np.asarray(coef, np.float64).T + intercept - np.asarray(y, np.float64)
    w = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    w = np.broadcast_to(w, (len(X),))
    return float(np.sum(w * (r.T**2)) / np.sum(w))


# ----------------------------------------------------------------------------- expectations


@dataclass
class Raises:
    """A clear error: ``exc`` whose message matches ``regex`` (which names the culprit)."""

    exc: type[BaseException] | tuple[type[BaseException], ...]
    regex: str


@dataclass
class Fits:
    """A correct fit: the objective of the least-squares reference (so any minimiser of a
    rank-deficient problem passes) and, where the minimiser is unique, its coefficients.
    ``coef`` / ``intercept`` override the lstsq reference (for rescaled problems)."""

    coef: Any = None
    intercept: Any = None
    unique: bool = True
    rtol: float = 1e-6
    warns: tuple[type[Warning], str] | None = None


@dataclass
class Either:
    """A clear ValueError matching ``regex``, or the correct fit ``fits``."""

    regex: str
    fits: Fits = field(default_factory=Fits)


@dataclass
class Predicts:
    """predict returns ``X @ w + b`` with the least-squares (w, b) of the training data."""

    rtol: float = 1e-6


@dataclass
class Scores:
    """score equals ``r2_score`` of the least-squares predictions (optionally warning)."""

    warns: tuple[type[Warning], str] | None = None


@dataclass
class Case:
    id: str
    method: str  # fit | partial_fit | predict | score
    expect: Any
    X: Any = None
    y: Any = None
    params: dict = field(default_factory=dict)
    kwargs: dict = field(default_factory=dict)
    marks: tuple = ()
    prefit: bool = False  # call the method on a fitted model (else on a fresh one)

    def param(self):
        return pytest.param(self, id=f"{self.method}-{self.id}", marks=self.marks)


def _with(a, index, value):
    a = np.array(a, dtype=np.result_type(a, type(value)))
    a[index] = value
    return a


def _bug(reason):
    return (pytest.mark.xfail(reason=f"BUG: {reason}", strict=True),)


PARAM = r"'{}' parameter of GDLinearRegressor must be"
NAN_X = _with(X_OK, (3, 1), np.nan)
INF_X = _with(X_OK, (0, 2), np.inf)
NAN_Y = _with(Y_OK, 5, np.nan)
INF_Y = _with(Y_OK, 5, -np.inf)
RAGGED = [[1.0, 2.0, 3.0], [4.0, 5.0]] + [[1.0, 2.0, 3.0]] * (N - 2)

CASES: list[Case] = [
    # --- NaN / inf anywhere (fit's X and y are in test_errors.py)
    Case(
        "nan-X",
        "partial_fit",
        Raises(ValueError, "Input X contains NaN at row 3, column 1 "),
        NAN_X,
    ),
    Case(
        "inf-X",
        "partial_fit",
        Raises(ValueError, "Input X contains infinity at row 0, column 2 "),
        INF_X,
    ),
    Case("nan-y", "partial_fit", Raises(ValueError, "Input y contains NaN at row 5 "), y=NAN_Y),
    Case(
        "inf-y", "partial_fit", Raises(ValueError, "Input y contains infinity at row 5 "), y=INF_Y
    ),
    Case(
        "nan-X",
        "predict",
        Raises(
            ValueError,
            r"^Input X contains NaN at row 3, column 1 \(the first such value\); "
            r"remove or impute those values\.$",
        ),
        NAN_X,
    ),
    Case(
        "inf-X",
        "predict",
        Raises(ValueError, "Input X contains infinity at row 0, column 2 "),
        INF_X,
    ),
    Case("nan-X", "score", Raises(ValueError, "Input X contains NaN at row 3, column 1 "), NAN_X),
    Case("nan-y", "score", Raises(ValueError, "Input y contains NaN at row 5 "), y=NAN_Y),
    Case("inf-y", "score", Raises(ValueError, "Input y contains infinity at row 5 "), y=INF_Y),
    Case(
        "nan-X_val",
        "fit",
        Raises(ValueError, "Input X_val contains NaN at row 3, column 1 "),
        kwargs={"X_val": NAN_X, "y_val": Y_OK},
    ),
    Case(
        "inf-y_val",
        "fit",
        Raises(ValueError, "Input y_val contains infinity at row 5 "),
        kwargs={"X_val": X_OK, "y_val": INF_Y},
    ),
    Case(
        "nan-sample_weight",
        "partial_fit",
        Raises(ValueError, "sample_weight contains NaN or infinity"),
        kwargs={"sample_weight": _with(np.ones(N), 2, np.nan)},
    ),
    Case(
        "nan-sample_weight",
        "score",
        Raises(ValueError, "sample_weight contains NaN"),
        kwargs={"sample_weight": _with(np.ones(N), 2, np.nan)},
    ),
    Case(
        "nan-intercept_init",
        "fit",
        Raises(ValueError, "intercept_init must be a finite float"),
        kwargs={"intercept_init": np.nan},
    ),
    Case(
        "inf-coef_init",
        "fit",
        Raises(ValueError, "coef_init contains NaN or infinity"),
        kwargs={"coef_init": [0.0, np.inf, 0.0]},
    ),
    # --- empty, single sample, no features
    Case(
        "empty",
        "partial_fit",
        Raises(ValueError, r"0 sample\(s\).*minimum of 1"),
        X_OK[:0],
        Y_OK[:0],
    ),
    Case("empty", "predict", Raises(ValueError, r"0 sample\(s\).*minimum of 1"), X_OK[:0]),
    Case("empty", "score", Raises(ValueError, r"0 sample\(s\).*minimum of 1"), X_OK[:0], Y_OK[:0]),
    Case(
        "zero-features",
        "partial_fit",
        Raises(ValueError, r"0 feature\(s\).*minimum of 1"),
        np.empty((N, 0)),
    ),
    Case(
        "zero-targets",
        "fit",
        Raises(ValueError, r"y has shape \(30, 0\): no target columns"),
        y=np.empty((N, 0)),
    ),
    # One sample: every column is constant, so the coefficients are the minimum-norm zeros and
    # the intercept is y.
    Case("one-sample", "fit", Fits(coef=np.zeros(D), intercept=Y_OK[0]), X_OK[:1], Y_OK[:1]),
    Case(
        "one-sample", "partial_fit", Fits(coef=np.zeros(D), intercept=Y_OK[0]), X_OK[:1], Y_OK[:1]
    ),
    Case("one-sample", "predict", Predicts(), X_OK[:1]),
    Case(
        "one-sample",
        "score",
        Scores(warns=(UndefinedMetricWarning, "less than two samples")),
        X_OK[:1],
        Y_OK[:1],
    ),
    Case(
        "early-stopping-one-sample",
        "fit",
        Raises(ValueError, "validation_fraction=0.1 of 1 samples, leaving none to train on"),
        X_OK[:1],
        Y_OK[:1],
        params={"early_stopping": True},
    ),
    # --- shapes
    Case("X-1d", "partial_fit", Raises(ValueError, "Expected 2D array, got 1D"), X_OK[:, 0]),
    Case("X-3d", "predict", Raises(ValueError, "Found array with dim 3"), X_OK[:, :, None]),
    Case("X-1d", "score", Raises(ValueError, "Expected 2D array, got 1D"), X_OK[:, 0]),
    Case("ragged-X", "fit", Raises(ValueError, "inhomogeneous shape"), RAGGED, Y_OK),
    Case("ragged-X", "partial_fit", Raises(ValueError, "inhomogeneous shape"), RAGGED, Y_OK),
    Case("ragged-X", "predict", Raises(ValueError, "inhomogeneous shape"), RAGGED),
    Case(
        "y-longer",
        "partial_fit",
        Raises(ValueError, r"inconsistent numbers of samples: \[30, 31\]"),
        y=np.r_[Y_OK, 0.0],
    ),
    Case(
        "y-shorter",
        "score",
        Raises(ValueError, r"inconsistent numbers of samples"),
        y=Y_OK[:-1],
    ),
    Case(
        "y-2-targets-for-1-target-model",
        "score",
        Raises(ValueError, r"different number of output \(2!=1\)"),
        y=np.c_[Y_OK, Y_OK],
    ),
    Case(
        "n-features-2-for-3",
        "predict",
        Raises(ValueError, "X has 2 features, but GDLinearRegressor is expecting 3"),
        X_OK[:, :2],
    ),
    Case(
        "n-features-4-for-3",
        "partial_fit",
        Raises(ValueError, "X has 4 features, but GDLinearRegressor is expecting 3"),
        np.c_[X_OK, X_OK[:, 0]],
        prefit=True,
    ),
    Case(
        "n-features-2-for-3",
        "score",
        Raises(ValueError, "X has 2 features, but GDLinearRegressor is expecting 3"),
        X_OK[:, :2],
    ),
    Case(
        "X_val-n-features",
        "fit",
        Raises(ValueError, "X has 2 features, but GDLinearRegressor is expecting 3"),
        kwargs={"X_val": X_OK[:, :2], "y_val": Y_OK},
    ),
    Case(
        "X_val-without-y_val",
        "fit",
        Raises(ValueError, "Pass both X_val and y_val"),
        kwargs={"X_val": X_OK},
    ),
    Case(
        "targets-change",
        "partial_fit",
        Raises(ValueError, r"partial_fit: the model has coef_ of shape \(3,\)"),
        y=np.c_[Y_OK, Y_OK],
        prefit=True,
    ),
    Case(
        "warm-start-n-features-change",
        "fit",
        Raises(ValueError, r"warm_start=True: the model has coef_ of shape \(3,\)"),
        X_OK[:, :2],
        params={"warm_start": True},
    ),
    # --- dtypes
    Case(
        "X-object-str",
        "partial_fit",
        Raises(ValueError, "could not convert string to float"),
        np.full((N, D), "abc", dtype=object),
    ),
    Case("X-str", "predict", Raises(ValueError, "bytes/strings"), X_OK.astype(str)),
    Case("X-complex", "partial_fit", Raises(ValueError, "Complex data not supported"), X_OK + 1j),
    Case("X-complex", "score", Raises(ValueError, "Complex data not supported"), X_OK + 0j),
    Case("y-complex", "fit", Raises(ValueError, "Complex data not supported"), y=Y_OK + 1j),
    Case(
        "coef_init-str",
        "fit",
        Raises(ValueError, "could not convert string to float"),
        kwargs={"coef_init": ["a", "b", "c"]},
    ),
    Case(
        "sample_weight-str",
        "fit",
        Raises(ValueError, "could not convert string to float"),
        kwargs={"sample_weight": np.full(N, "w")},
    ),
    Case("X-bool", "fit", Fits(), X_OK > 0),
    Case("y-bool", "fit", Fits(), y=Y_OK > 1),
    Case("X-object-numbers", "fit", Fits(), X_OK.astype(object)),
    Case("y-object-numbers", "partial_fit", Fits(), y=Y_OK.astype(object)),
    Case("X-int64", "fit", Fits(), np.round(10 * X_OK).astype(np.int64)),
    Case("X-uint8", "partial_fit", Fits(), (np.abs(X_OK) * 50).astype(np.uint8)),
    Case("X-float16", "fit", Fits(rtol=1e-4), X_OK.astype(np.float16)),
    Case("X-float32", "fit", Fits(rtol=1e-4), X_OK.astype(np.float32)),
    Case("X-list", "fit", Fits(), X_OK.tolist(), Y_OK.tolist()),
    Case("X-bool", "predict", Predicts(), X_OK > 0),
    Case("X-list", "score", Scores(), X_OK.tolist(), Y_OK.tolist()),
    Case(
        "X-float32-coef-overflow",
        "fit",
        Either("float32|float64", Fits(coef=[2e39], intercept=-1e38, rtol=1e-3)),
        np.array([[0.1], [-0.1]], dtype=np.float32),
        np.array([3e38, -1e38]),
    ),
    Case("X-fortran", "fit", Fits(), np.asfortranarray(X_OK)),
    Case("X-non-contiguous", "partial_fit", Fits(), np.repeat(X_OK, 2, axis=1)[:, ::2]),
    # --- sample weights
    Case(
        "negative-sample_weight",
        "partial_fit",
        Raises(ValueError, r"sample_weight must be >= 0; got 1 negative"),
        kwargs={"sample_weight": _with(np.ones(N), 0, -1.0)},
    ),
    Case(
        "all-zero-sample_weight",
        "partial_fit",
        Raises(ValueError, "sample_weight is all zero"),
        kwargs={"sample_weight": np.zeros(N)},
    ),
    Case(
        "all-zero-sample_weight",
        "score",
        # scikit-learn < 1.7 (r2_score's np.average) raises ZeroDivisionError
        Raises((ValueError, ZeroDivisionError), "(non-zero number|Weights sum to zero)"),
        kwargs={"sample_weight": np.zeros(N)},
    ),
    Case(
        "negative-sample_weight_val",
        "fit",
        Raises(ValueError, r"sample_weight must be >= 0"),
        kwargs={"X_val": X_OK, "y_val": Y_OK, "sample_weight_val": -np.ones(N)},
    ),
    Case(
        "sample_weight-2d",
        "fit",
        Raises(ValueError, r"sample_weight must have shape \(30,\); got \(30, 1\)"),
        kwargs={"sample_weight": np.ones((N, 1))},
    ),
    Case("sample_weight-scalar", "fit", Fits(), kwargs={"sample_weight": 3.0}),
    Case(
        "sample_weight-int",
        "partial_fit",
        Fits(),
        kwargs={"sample_weight": np.arange(N) % 3},
    ),
    Case(
        "sample_weight-one-positive",
        "fit",
        Fits(coef=np.zeros(D), intercept=Y_OK[4]),
        kwargs={"sample_weight": np.eye(N)[4]},
    ),
    Case(
        "sample_weight-1e-300",
        "fit",
        Either("sample_weight", Fits()),
        kwargs={"sample_weight": np.full(N, 1e-300)},
    ),
    Case("sample_weight-1e-90", "fit", Fits(), kwargs={"sample_weight": np.full(N, 1e-90)}),
    Case(
        "sample_weight-1e300",
        "fit",
        Either("sample_weight", Fits()),
        kwargs={"sample_weight": np.full(N, 1e300)},
    ),
    Case(
        "sample_weight-subnormal",
        "fit",
        Either("sample_weight", Fits(rtol=1e-4)),
        kwargs={"sample_weight": np.full(N, 5e-324)},
    ),
    # score is scikit-learn's R^2, which accepts negative weights: the result is r2_score's.
    Case("negative-sample_weight", "score", Scores(), kwargs={"sample_weight": -np.ones(N)}),
    # --- magnitudes
    Case("X-1e90", "fit", Fits(coef=lstsq_ref(X_OK, Y_OK)[0] / 1e90), X_OK * 1e90),
    Case("X-1e-90", "fit", Fits(coef=lstsq_ref(X_OK, Y_OK)[0] * 1e90), X_OK * 1e-90),
    Case(
        "y-1e90",
        "fit",
        Fits(coef=lstsq_ref(X_OK, Y_OK)[0] * 1e90, intercept=lstsq_ref(X_OK, Y_OK)[1] * 1e90),
        y=Y_OK * 1e90,
    ),
    Case(
        "X-1e150",
        "fit",
        Either(r"\bX\b.*(overflow|rescale)", Fits(coef=lstsq_ref(X_OK, Y_OK)[0] / 1e150)),
        X_OK * 1e150,
    ),
    Case(
        "X-1e-150",
        "fit",
        Either(r"\bX\b.*(underflow|rescale)", Fits(coef=lstsq_ref(X_OK, Y_OK)[0] * 1e150)),
        X_OK * 1e-150,
    ),
    Case(
        "X-1e300",
        "fit",
        Either(r"\bX\b.*(overflow|rescale|scale)", Fits(coef=lstsq_ref(X_OK, Y_OK)[0] / 1e300)),
        X_OK * 1e300,
    ),
    Case(
        "X-1e-300",
        "fit",
        Either(r"\bX\b.*(underflow|rescale|scale)", Fits(coef=lstsq_ref(X_OK, Y_OK)[0] * 1e300)),
        X_OK * 1e-300,
    ),
    Case(
        "y-1e300",
        "fit",
        Either(
            r"\by\b.*(overflow|rescale|scale)",
            Fits(coef=lstsq_ref(X_OK, Y_OK)[0] * 1e300, intercept=lstsq_ref(X_OK, Y_OK)[1] * 1e300),
        ),
        y=Y_OK * 1e300,
    ),
    Case(
        "X-1e300",
        "partial_fit",
        Either(r"\bX\b.*(overflow|rescale|scale)", Fits(coef=lstsq_ref(X_OK, Y_OK)[0] / 1e300)),
        X_OK * 1e300,
    ),
    *[
        Case(
            name,
            "fit",
            Either(r"\bX\b.*(overflow|rescale)", fits),
            X,
            y,
            params=params,
        )
        for name, X, y, params, fits in [
            (
                "gd-data-form-X-1e77",
                np.array([[1.2573e77]]),
                np.array([-0.006]),
                {"solver": "gd", "precompute": False, "fit_intercept": False},
                Fits(coef=[-0.006 / 1.2573e77], intercept=0.0),
            ),
            (
                # Mini-batch SGD with the default step stays noisy: only finiteness and the
                # order of magnitude are the point here. Its noise floor is not certified
                # by the full-objective tol test (issue 14): "stalled", with a warning.
                "sgd-X-1e85",
                X_OK * 1e85,
                Y_OK,
                {"solver": "gd", "batch_size": 5, "random_state": 0, "max_iter": 2000},
                Fits(coef=_REF_COEF / 1e85, rtol=0.3, warns=(ConvergenceWarning, "stalled")),
            ),
        ]
    ],
    Case("X-1e300", "predict", Predicts(), X_OK * 1e300),
    Case(
        "huber-epsilon-1e-100",
        "fit",
        Either("epsilon", Fits(rtol=1e-3)),
        y=Y_EXACT,
        params={"loss": "huber", "epsilon": 1e-100},
    ),
    Case("huber-epsilon-1e300", "fit", Fits(), params={"loss": "huber", "epsilon": 1e300}),
    Case(
        "l2-alpha-1e300",
        "fit",
        Fits(coef=np.zeros(D), intercept=float(np.mean(Y_OK)), rtol=1e-9),
        params={"penalty": "l2", "alpha": 1e300},
    ),
    Case(
        "learning-rate-1e300",
        "fit",
        Raises(ValueError, r"learning_rate=1e\+300 makes 'gd' diverge.*largest stable step"),
        params={"solver": "gd", "learning_rate": 1e300},
    ),
    Case("max-iter-huge", "fit", Fits(), params={"max_iter": 10**30}),
    Case(
        "batch-size-above-n",
        "fit",
        Fits(rtol=1e-4, warns=(UserWarning, r"batch_size=1000000000 is larger than the 30 ")),
        params={"batch_size": 10**9},
    ),
    # --- degenerate columns and rank deficiency (see also test_rank_deficient_* below)
    Case("constant-column", "fit", Fits(unique=False), np.c_[X_OK, np.full(N, 7.0)]),
    Case("duplicate-column", "fit", Fits(unique=False), np.c_[X_OK, X_OK[:, 1]]),
    Case("duplicate-column", "partial_fit", Fits(unique=False), np.c_[X_OK, X_OK[:, 1]]),
    Case("all-zero-X", "fit", Fits(coef=np.zeros(D), intercept=float(np.mean(Y_OK))), X_OK * 0),
    Case(
        "all-zero-X-no-intercept",
        "fit",
        Fits(coef=np.zeros(D), intercept=0.0),
        X_OK * 0,
        params={"fit_intercept": False},
    ),
    Case("constant-y", "fit", Fits(coef=np.zeros(D), intercept=4.0), y=np.full(N, 4.0)),
    Case("more-features-than-samples", "fit", Fits(unique=False), X_OK[:2], Y_OK[:2]),
    Case(
        "more-features-than-samples",
        "partial_fit",
        Fits(unique=False),
        np.c_[X_OK, X_OK**2][:4],
        Y_OK[:4],
    ),
]

# --- every hyperparameter: an invalid value and an invalid type, for fit and partial_fit
BAD_PARAMS = {
    "loss": ["l1", 1, None],
    "learning_rate": [-0.5, "0.1", [0.1]],
    "max_iter": [0, "10", 10.0],
    "tol": [-1e-3, "1e-3", float("inf")],
    "fit_intercept": ["yes", 1],
    "solver": ["sag", None],
    "epsilon": [0.0, float("nan"), "1.35"],
    "penalty": ["none", 0],
    "alpha": [-1.0, float("inf"), "0.1"],
    "l1_ratio": [1.5, float("nan"), None],
    "positive": ["no"],
    "momentum": [1.0, -0.1, "0.9"],
    "nesterovs_momentum": ["yes"],
    "line_search": [1],
    "batch_size": [0, 2.5, "32"],
    "shuffle": [None],
    "random_state": ["seed", -1, 1.5],
    "early_stopping": ["yes"],
    "validation_fraction": [0.0, 1.0, "0.1"],
    "n_iter_no_change": [0, None],
    "warm_start": ["yes"],
    "store_path": [2],
    "precompute": ["yes", 1],
    "verbose": [-1, "loud"],
}
for _name, _values in BAD_PARAMS.items():
    for _value in _values:
        for _method in ("fit", "partial_fit"):
            CASES.append(
                Case(
                    f"{_name}={_value!r}",
                    _method,
                    Raises(ValueError, PARAM.format(_name)),
                    params={_name: _value},
                )
            )
# Combinations that are each valid alone: the error names the conflicting parameters.
CASES += [
    Case(
        "cg-with-momentum",
        "fit",
        Raises(ValueError, "solver='cg' takes full batches, no momentum"),
        params={"solver": "cg", "momentum": 0.5},
    ),
    Case(
        "line-search-with-batches",
        "fit",
        Raises(ValueError, "line_search=True needs full batches and momentum=0"),
        params={"line_search": True, "batch_size": 5},
    ),
    Case(
        "precompute-with-huber",
        "fit",
        Raises(ValueError, r"precompute=True needs a quadratic loss"),
        params={"precompute": True, "loss": "huber"},
    ),
    Case(
        "learning-rate-True",
        "fit",
        Raises(ValueError, "learning_rate must be a float > 0"),
        params={"learning_rate": True},
    ),
    Case(
        "max-iter-True",
        "partial_fit",
        Raises(ValueError, "max_iter must be an integer >= 1"),
        params={"max_iter": True},
    ),
    Case(
        "batch-size-True",
        "fit",
        Raises(ValueError, "batch_size must be None"),
        params={"batch_size": True},
    ),
]


# ----------------------------------------------------------------------------- the harness


@contextmanager
def no_hang(seconds=30):
    def alarm(signum, frame):
        raise TimeoutError(f"the call ran for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _fitted():
    return GDLinearRegressor().fit(X_OK, Y_OK)


def _snapshot(est):
    state = {}
    for key, value in vars(est).items():
        state[key] = copy.deepcopy(value) if isinstance(value, np.ndarray) else value
    return state


def _assert_same_state(est, before):
    assert set(vars(est)) == set(before)
    for key, value in before.items():
        now = vars(est)[key]
        if isinstance(value, np.ndarray):
            assert_array_equal(now, value, err_msg=key)
        elif key != "_stats":
            assert now is value or now == value, key


def _call(est, case):
    method = getattr(est, case.method)
    if case.method in ("fit", "partial_fit"):
        return method(case.X, case.y, **case.kwargs)
    if case.method == "predict":
        return method(case.X)
    return method(case.X, case.y, **case.kwargs)


def _check_fit(est, case, fits):
    coef, intercept = np.asarray(est.coef_), np.asarray(est.intercept_)
    assert np.isfinite(coef).all() and np.isfinite(intercept).all()
    sw = case.kwargs.get("sample_weight")
    fit_intercept = case.params.get("fit_intercept", True)
    if fits.coef is not None:
        ref_coef = np.asarray(fits.coef, dtype=np.float64)
        ref_b = _REFERENCE[1] if fits.intercept is None else fits.intercept
        scale = np.max(np.abs(ref_coef)) if np.any(ref_coef) else 1.0
        assert_allclose(coef, ref_coef, rtol=fits.rtol, atol=fits.rtol * scale)
        b_scale = max(abs(float(ref_b)), float(np.std(np.asarray(case.y, dtype=np.float64))))
        assert_allclose(intercept, ref_b, rtol=fits.rtol, atol=fits.rtol * b_scale)
        return
    ref_coef, ref_b = lstsq_ref(case.X, case.y, sw, fit_intercept)
    best = weighted_mse(case.X, case.y, ref_coef, ref_b, sw)
    got = weighted_mse(case.X, case.y, coef, intercept, sw)
    var = weighted_mse(case.X, case.y, np.zeros_like(ref_coef), np.mean(np.asarray(case.y, float)))
    assert got <= best + fits.rtol * max(var, 1e-300), (got, best)
    if fits.unique:
        atol = fits.rtol * max(np.max(np.abs(ref_coef)), 1.0)
        assert_allclose(coef, ref_coef, rtol=fits.rtol, atol=atol)
        assert_allclose(intercept, ref_b, rtol=fits.rtol, atol=atol)


def _run_ok(est, case, warns):
    if warns is None:
        return _call(est, case)
    with pytest.warns(warns[0], match=warns[1]):
        return _call(est, case)


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_bad_input(case):
    defaults = {"X": X_OK, "y": Y_OK}
    case = copy.copy(case)
    for name in ("X", "y"):
        if getattr(case, name) is None:
            setattr(case, name, defaults[name])
    inputs = [case.X, case.y, *case.kwargs.values()]
    originals = copy.deepcopy(inputs)
    expect = case.expect
    fresh = case.method in ("fit", "partial_fit") and not case.params.get("warm_start")
    fresh = fresh and not case.prefit
    est = GDLinearRegressor(**case.params) if fresh else _fitted().set_params(**case.params)

    with no_hang():
        if isinstance(expect, Raises):
            before = _snapshot(est)
            with pytest.raises(expect.exc, match=expect.regex):
                _call(est, case)
            _assert_same_state(est, before)
            if case.method in ("fit", "partial_fit"):
                # A failing refit of a fitted model leaves it as it was, and usable.
                est = _fitted()
                predictions = est.predict(X_OK)
                est.set_params(**case.params)
                before = _snapshot(est)
                with pytest.raises(expect.exc, match=expect.regex):
                    _call(est, case)
                _assert_same_state(est, before)
                assert_array_equal(est.predict(X_OK), predictions)
        elif isinstance(expect, Either):
            try:
                _run_ok(est, case, expect.fits.warns)
            except ValueError as error:
                assert re.search(expect.regex, str(error)), str(error)
            else:
                _check_fit(est, case, expect.fits)
        elif isinstance(expect, Fits):
            _run_ok(est, case, expect.warns)
            _check_fit(est, case, expect)
        elif isinstance(expect, Predicts):
            got = _call(est, case)
            X = np.asarray(case.X, dtype=np.float64)
            ref = X @ _REFERENCE[0] + _REFERENCE[1]
            assert np.isfinite(got).all()
            assert_allclose(got, ref, rtol=expect.rtol, atol=expect.rtol * np.abs(ref).max())
        elif isinstance(expect, Scores):
            got = _run_ok(est, case, expect.warns)
            X = np.asarray(case.X, dtype=np.float64)
            ref_pred = X @ _REFERENCE[0] + _REFERENCE[1]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UndefinedMetricWarning)
                ref = r2_score(case.y, ref_pred, sample_weight=case.kwargs.get("sample_weight"))
            assert_allclose(got, ref, rtol=1e-6, equal_nan=True)
        else:  # pragma: no cover
            raise AssertionError(expect)
    for original, now in zip(originals, inputs, strict=True):
        if isinstance(original, np.ndarray):
            assert now.dtype == original.dtype and now.shape == original.shape
        assert_equal(now, original)


def test_the_table_is_large_enough():
    # The issue asks for at least 40 malformed inputs and parameter values.
    assert len(CASES) >= 40
    assert {c.method for c in CASES} == {"fit", "partial_fit", "predict", "score"}


# ----------------------------------------------------------------------------- rank deficiency


def _underdetermined(seed=0, n=5, d=10):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.1, 10, d) + rng.uniform(-3, 3, d)
    return X, rng.standard_normal(n)


@pytest.mark.parametrize("solver", ["cg", "agd"])
def test_rank_deficient_standardised_solvers_return_the_minimum_norm_standardised_solution(
    solver,
):
    """ "cg" and "agd" iterate from zero on the centred problem with columns scaled to unit
    variance; on a rank-deficient problem they return the minimum-norm solution *in those
    coordinates*: v = pinv(Z) (y - mean y), w = v / std, with Z the standardised X."""
    X, y = _underdetermined()
    est = GDLinearRegressor(solver=solver, tol=1e-14, max_iter=100_000).fit(X, y)
    mean, std = X.mean(axis=0), X.std(axis=0)
    v = np.linalg.pinv((X - mean) / std) @ (y - y.mean())
    assert_allclose(est.coef_, v / std, rtol=1e-8, atol=1e-10)
    assert_allclose(est.intercept_, y.mean() - mean @ (v / std), rtol=1e-8, atol=1e-10)
    assert_allclose(est.predict(X), y, atol=1e-9)  # it interpolates


def test_rank_deficient_gd_returns_the_minimum_norm_solution_of_the_raw_problem():
    """Textbook "gd" from zero stays in the row space of [X, 1]: it converges to the minimum-
    norm solution over (w, b) in the user's coordinates, pinv([X, 1]) y."""
    X, y = _underdetermined()
    est = GDLinearRegressor(solver="gd", tol=1e-14, max_iter=200_000).fit(X, y)
    theta = np.linalg.pinv(np.c_[X, np.ones(len(X))]) @ y
    assert_allclose(est.coef_, theta[:-1], rtol=1e-8, atol=1e-10)
    assert_allclose(est.intercept_, theta[-1], rtol=1e-8, atol=1e-10)


def test_duplicate_columns_share_the_coefficient_equally():
    # Minimum norm splits a duplicated column's coefficient evenly between the copies.
    X = np.c_[X_OK, X_OK[:, 1]]
    est = GDLinearRegressor().fit(X, Y_OK)
    ref = _REFERENCE[0]
    assert_allclose(est.coef_, [ref[0], ref[1] / 2, ref[2], ref[1] / 2], rtol=1e-8)


def _near_collinear(gap, seed=3, n=50):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    X = np.c_[x, x + gap * rng.standard_normal(n), rng.standard_normal(n)]
    return X, X @ [1.0, 1.0, 1.0] + 0.1 * rng.standard_normal(n)


@pytest.mark.parametrize(
    "gap, seed, tol",
    [
        (1e-4, 3, 1e-10),  # standardised condition number 5e8
        # The Gram form alone cannot resolve these (4e14 .. inf): refined on the data.
        (1e-7, 1, 0.0),
        (1e-8, 1, 1e-10),
        (1e-10, 0, 1e-10),
        (1e-8, 3, 0.0),
    ],
)
def test_ill_conditioned_fit_reaches_least_squares_or_warns(gap, seed, tol):
    """Either the fit's objective is the least-squares minimum to 1e-8 (relative), or a
    ConvergenceWarning says why not; never a silent, claimed convergence short of it."""
    _reaches_least_squares_or_warns(*_near_collinear(gap, seed), tol)


def _polynomial(degree, seed, offset=0.0, n=60):
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 1, n)) + offset
    return np.vander(t, degree + 1, increasing=True)[:, 1:], np.sin(3 * t) + 0.01 * rng.normal(
        size=n
    )


@pytest.mark.parametrize("degree", [4, 6, 8, 10, 12, 14, 16, 20])
@pytest.mark.parametrize("seed", [0, 1])
def test_polynomial_designs_reach_least_squares_or_warn(degree, seed):
    # Monomials on [0, 1]: standardised condition numbers from 1e5 to beyond float64.
    _reaches_least_squares_or_warns(*_polynomial(degree, seed), 1e-10)


@pytest.mark.parametrize("degree", [6, 10])
def test_polynomial_designs_with_offsets_and_weights_reach_least_squares(degree):
    # Standardised condition numbers of 1e11 (degree 6) and 5e16 (degree 10: beyond what
    # float64 resolves, so the fit rests on the refinement on the data). The minimum is
    # computed and the objectives evaluated in exact rational arithmetic: in float64 the
    # objective of these coefficients (up to 1e5) errs by 1e-8 relative, by an amount that
    # depends on the BLAS kernel, which is as large as the bound. Measured over kernels,
    # thread counts and NumPy 1.24 / 2.x: numpy.linalg.lstsq's excess is 1e-14 relative, the
    # fit's 6e-14 where it says "tol". At degree 10 whether the stop test can certify the
    # minimum is itself decided by rounding (NumPy 1.24's OpenBLAS, Haswell or Sandybridge
    # kernels: "stalled" at an excess of 8e-12 or 2e-10), so there the stop reason is held to
    # its promise: "tol" only at the minimum, or "stalled" with a ConvergenceWarning.
    X, y = _polynomial(degree, 2, offset=0.5)
    weights = np.random.default_rng(0).uniform(0.5, 2.0, X.shape[0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = GDLinearRegressor().fit(X, y, sample_weight=weights)
    warned = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    b, coef = exact_lstsq(X.tolist(), y.tolist(), weights.tolist())
    best = exact_mse(X, y, coef, b, weights)
    excess = float((exact_mse(X, y, est.coef_, est.intercept_, weights) - best) / best)
    assert 0 <= excess <= 1e-8, (excess, est.stop_reason_)
    if degree == 6 or est.converged_:
        assert est.converged_ and est.stop_reason_ == "tol" and not warned
        assert excess <= 1e-10, excess
    else:
        assert est.stop_reason_ == "stalled" and len(warned) == 1
        assert "ill-conditioned" in warned[0]


def _reaches_least_squares_or_warns(X, y, tol):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = GDLinearRegressor(tol=tol).fit(X, y)
    warned = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert np.isfinite(est.coef_).all()
    coef, b = lstsq_ref(X, y)
    best = exact_mse(X, y, coef, b)
    excess = exact_mse(X, y, est.coef_, est.intercept_) - best
    if warned:
        assert "ill-conditioned" in str(warned[0].message) or "max_iter" in str(warned[0].message)
        assert not est.converged_
    else:
        assert excess <= 1e-8 * best, (excess / best, est.stop_reason_)


@pytest.mark.parametrize("scale", [1.0, 1e3, 1e10])
def test_badly_scaled_textbook_gd_reaches_least_squares_or_warns(scale):
    """solver="gd" iterates in the user's coordinates, so unscaled features slow it down; it
    must then say so (ConvergenceWarning), not claim convergence short of the solution."""
    X = X_OK * scale
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = GDLinearRegressor(solver="gd", max_iter=2000).fit(X, Y_OK)
    warned = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    if warned:
        assert not est.converged_
        return
    coef, b = lstsq_ref(X, Y_OK)
    assert_allclose(est.coef_ * scale, coef * scale, rtol=1e-6)
    assert_allclose(est.intercept_, b, rtol=1e-6)
