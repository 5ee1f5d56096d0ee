"""Input checks and shape conventions of the NumPy core; NumPy only, no scikit-learn."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._kernels.finite import columns_nonfinite, first_nonfinite
from .._kernels.sparse import check_sparse, is_sparse

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from .._kernels.types import FloatArray, Matrix
    from .._problem.statistics import Moments


def check_arrays(
    X: Matrix, y: ArrayLike, sample_weight: ArrayLike | None, *, defer: bool = False
) -> tuple[Matrix, FloatArray, bool, FloatArray]:
    """Shapes, dtypes, magnitudes and weights of the data, as the core reads them.

    ``defer=True`` leaves X's finiteness and magnitude checks to :func:`confirm_magnitudes`,
    which reads the moments instead of X: passes over X fewer on every fit.
    """
    # Neither path copies float32 or float64 X, C- or F-ordered: the objectives read it in place.
    X = check_sparse(X, defer) if is_sparse(X) else np.asarray(X)
    if X.dtype.kind not in "fiub":
        raise ValueError(f"X must hold real numbers; got dtype {X.dtype}.")
    if X.ndim != 2:
        raise ValueError(
            f"X must be 2-D, (n_samples, n_features); got {X.ndim}-D. For one "
            "feature use X.reshape(-1, 1)."
        )
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X needs at least 1 sample and 1 feature; got shape {X.shape}.")
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    Y = np.asarray(y)
    if Y.dtype.kind not in "fiub":
        raise ValueError(f"y must hold real numbers; got dtype {Y.dtype}.")
    if Y.ndim not in (1, 2) or Y.shape[0] != X.shape[0] or (Y.ndim == 2 and Y.shape[1] < 1):
        raise ValueError(
            f"y must have shape ({X.shape[0]},) or ({X.shape[0]}, n_targets) to "
            f"match X; got {Y.shape}."
        )
    one_target = Y.ndim == 1
    Y = Y.reshape(X.shape[0], -1).astype(np.float64, copy=False)
    weights = check_sample_weight(sample_weight, X.shape[0])
    heaviest = float(weights.max())
    _check_magnitudes("y", Y, heaviest, where=Y[:, 0] if one_target else Y)
    if not defer:
        _check_magnitudes("X", X.data if is_sparse(X) else X, heaviest, where=X)
    return X, Y, one_target, weights


def check_sample_weight(sample_weight: ArrayLike | None, n_samples: int) -> FloatArray:
    """``sample_weight`` as float64 of shape ``(n_samples,)``, or the error that says why not.

    As scikit-learn's ``_check_sample_weight``: None means all ones and a scalar is the same
    weight for every sample (``numpy.full``); anything else must be one weight per sample.
    The weights must be finite, >= 0 and not all zero, with the largest in
    [1e-100, 1e100]. Run it on the caller's data before any split, so that errors name the
    shapes the caller passed. The caller's array is never modified.
    """
    if sample_weight is None:
        return np.ones(n_samples)
    weights = np.asarray(sample_weight, dtype=np.float64)
    if weights.ndim == 0:
        weights = np.full(n_samples, float(weights))
    if weights.shape != (n_samples,):
        raise ValueError(
            f"sample_weight must have shape ({n_samples},); got {weights.shape}. Pass one weight "
            "per sample (row of X), or a scalar: the same weight for every sample."
        )
    if not np.isfinite(weights).all():
        raise ValueError("sample_weight contains NaN or infinity; pass finite weights.")
    if (weights < 0).any():
        raise ValueError(
            f"sample_weight must be >= 0; got {int((weights < 0).sum())} negative weight(s)."
        )
    if weights.sum() <= 0:
        raise ValueError("sample_weight is all zero: give at least one sample a positive weight.")
    if not _TINY < weights.max() < _WEIGHT_MAX:
        # Rescaling here would be silent and would break partial_fit's merges, whose
        # batches must keep their relative weights.
        raise ValueError(
            f"sample_weight has a largest value of {weights.max():.3g}, outside "
            f"[{_TINY:g}, {_WEIGHT_MAX:g}], where sums of weighted squares lose precision; the "
            "fit only depends on relative weights, so multiply them by a common factor."
        )
    return weights


# float64 reaches about 1.8e308, so a value's square overflows beyond 1.34e154. The core
# sums squares, though: over rows (the Gram statistics, the loss), over features (a row's
# squared norm, the curvature L). Values up to _HUGE = 1e150 have squares up to
# _SQUARES = 1e300, which leaves a factor of 1.8e8 for those sums: a deliberate margin, as
# the statistics of a fit are only checked for overflow once built. Weighted squares obey the
# same bound: max(sample_weight) * value**2 <= 1e300. Below, values and differences under
# _TINY = 1e-100 would have squares (and weighted squares) near float64's underflow, 2.2e-308.
_HUGE, _TINY = 1e150, 1e-100
_SQUARES = _HUGE**2
_WEIGHT_MAX = 1e100
_FLOAT_MAX = float(np.finfo(np.float64).max)


def confirm_magnitudes(X: Matrix, weights: FloatArray, stats: Moments, d: int) -> None:
    """The magnitude check of X, from its moments where they show that all is well.

    A value ``x`` of a column with weighted second moment ``m2`` obeys
    ``w_min * x**2 <= sum(w) * m2``, and its column's variance bounds its spread from below,
    so finite moments inside these bounds prove that :func:`_check_magnitudes` would pass.
    Otherwise (NaN, infinity, extreme or vanishing or constant columns, zero weights that hide
    rows, or a false alarm) X itself is checked, which raises the precise error; and moments
    that overflow although every value is in range (more than about 1e8 rows of values near
    1e150) are refused by :func:`check_statistics`.
    """
    if not moments_in_range(weights, stats, d):
        # (A sparse column's zeros are exact: only its stored values can be out of range.)
        _check_magnitudes("X", X.data if is_sparse(X) else X, float(weights.max()), where=X)
        check_statistics(stats)


def moments_in_range(weights: FloatArray, stats: Moments, d: int) -> bool:
    """Whether the moments of the first ``d`` columns prove them in range (see
    :func:`confirm_magnitudes`)."""
    w_min = float(weights.min())
    heaviest = float(weights.max())
    with np.errstate(all="ignore"):
        scatter = stats.scatter if stats.scatter.ndim == 1 else stats.scatter.diagonal()
        var = scatter[:d] / stats.weight_sum
        second = var + stats.mean[:d] * stats.mean[:d]
        return (
            w_min > 0
            and bool(np.isfinite(stats.scatter).all() and np.isfinite(stats.mean).all())
            and float(second.max()) * (stats.weight_sum / w_min) * max(heaviest, 1.0) <= _SQUARES
            and bool((var >= _TINY**2).all())
        )


def check_range(name: str, low: FloatArray, high: FloatArray, heaviest: float) -> None:
    """:func:`_check_magnitudes` from each column's minimum and maximum (computed elsewhere,
    e.g. on a device): the same checks and errors as on the values themselves (the rows
    unread, a NaN or infinity is named by its column only)."""
    found = columns_nonfinite(name, low, high)
    if found is not None:
        raise found
    _check_magnitudes(name, np.stack([low, high]).reshape(2, -1), heaviest)


def check_statistics(stats: Moments) -> None:
    """Refuse sums of squares that overflowed although every value was in range."""
    with np.errstate(all="ignore"):
        finite = bool(np.isfinite(stats.scatter).all() and np.isfinite(stats.mean).all())
        finite = finite and bool(np.isfinite(stats.weight_sum))
    if not finite:
        raise ValueError(
            "The weighted sums of squares of X and y over the rows (the Gram statistics) "
            f"overflow float64 (beyond {_FLOAT_MAX:.3g}), although every value is within "
            f"{_HUGE:g}: too many rows of values that large. Rescale X and y (e.g. divide by a "
            "power of 10), or multiply sample_weight by a common factor below 1."
        )


def _check_magnitudes(
    name: str, a: FloatArray, heaviest: float = 1.0, where: object = None, rows: bool = True
) -> float:
    """NaN, infinity, and magnitudes whose squares leave float64, each with its remedy.

    ``heaviest`` is the largest sample weight: weighted squares must stay below 1e300 too.
    Returns the largest magnitude. Column minima and maxima cost two passes and no temporary
    the size of the data. For sparse X, ``a`` is its stored values. ``where``: the array
    (sparse X itself, a 1-D y) in which a NaN or infinity is located, ``a`` by default;
    ``rows=False``: ``a`` is a block of the rows, whose positions the message leaves out.
    """
    if a.size == 0:
        return 0.0
    if a.ndim == 1 or a.shape[1] == 1:
        # One column (y, or sparse X's values): the fast path below in Python floats.
        lo, hi = float(a.min()), float(a.max())
        big = max(abs(lo), abs(hi))
        if (
            lo == lo
            and hi == hi
            and big <= _HUGE
            and heaviest * big * big <= _SQUARES
            and not (0 < big < _TINY or 0 < hi - lo < _TINY)
        ):
            return big
    low = a.min(axis=0).astype(np.float64)
    high = a.max(axis=0).astype(np.float64)
    magnitude = np.maximum(np.abs(low), np.abs(high))
    spread = high - low
    largest = float(magnitude.max())
    # All in range (NaN would propagate to largest, infinity exceed _HUGE): the checks below,
    # a dozen small NumPy calls, only find the precise error.
    if (
        largest <= _HUGE
        and heaviest * largest * largest <= _SQUARES
        and not ((magnitude > 0) & (magnitude < _TINY) | (spread > 0) & (spread < _TINY)).any()
    ):
        return largest
    if not (np.isfinite(low).all() and np.isfinite(high).all()):
        found = first_nonfinite(name, a if where is None else where, rows)
        if found is not None:
            raise found
    scaler = ", or StandardScaler" if name == "X" else ""
    fix = f"{name} (e.g. divide by a power of 10{scaler})"
    if largest > _HUGE:
        why = (
            f"whose squares overflow float64 (beyond {np.sqrt(_FLOAT_MAX):.3g})"
            if largest > np.sqrt(_FLOAT_MAX)
            else f"whose squares (up to {largest * largest:.3g}) fit in float64 but leave "
            "too little room for sums of them"
        )
        raise ValueError(
            f"{name} holds values up to {largest:.3g}, {why}. gdlinreg accepts magnitudes up "
            f"to {_HUGE:g}, whose squares stay below {_SQUARES:g}: a factor of 1e8 below "
            f"float64's largest value ({_FLOAT_MAX:.3g}) for the sums of squares over rows and "
            f"features (the Gram statistics, the loss, the curvature); rescale {fix}: the "
            "coefficients scale with the data."
        )
    if heaviest * largest * largest > _SQUARES:
        raise ValueError(
            f"sample_weight up to {heaviest:.3g} times the squares of {name} values up to "
            f"{largest:.3g} gives weighted squares beyond the "
            f"{_SQUARES:g} gdlinreg accepts (a factor of 1e8 below float64's largest value, "
            f"{_FLOAT_MAX:.3g}, for their sums); the fit only depends on relative weights, "
            f"so divide sample_weight by a common factor, or rescale {fix}."
        )
    tiny = (magnitude > 0) & (magnitude < _TINY) | (spread > 0) & (spread < _TINY)
    if tiny.any():
        raise ValueError(
            f"{name} holds columns whose values (or differences) are below {_TINY:g}: their "
            f"squares (below {_TINY * _TINY:g}), times small sample weights, can come near "
            "float64's underflow (2.2e-308), where they lose precision, so gdlinreg accepts "
            f"magnitudes down to {_TINY:g} only; rescale {name} (e.g. multiply by a power of 10)."
        )
    return largest
