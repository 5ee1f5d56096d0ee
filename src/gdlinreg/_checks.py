"""Input checks and shape conventions of the NumPy core; NumPy only, no scikit-learn."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._sparse import check_sparse, is_sparse

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, DTypeLike

    from ._objective import Moments
    from ._typing import FloatArray, Matrix


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
    _check_magnitudes("y", Y)
    if not defer:
        _check_magnitudes("X", X.data if is_sparse(X) else X)
    if sample_weight is None:
        weights = np.ones(X.shape[0])
    else:
        weights = np.asarray(sample_weight, dtype=np.float64)
        if weights.ndim == 0:
            weights = np.full(X.shape[0], float(weights))
        if weights.shape != (X.shape[0],):
            raise ValueError(f"sample_weight must have shape ({X.shape[0]},); got {weights.shape}.")
        if not np.isfinite(weights).all():
            raise ValueError("sample_weight contains NaN or infinity; pass finite weights.")
        if (weights < 0).any():
            raise ValueError(
                f"sample_weight must be >= 0; got {int((weights < 0).sum())} negative weight(s)."
            )
        if weights.sum() <= 0:
            raise ValueError(
                "sample_weight is all zero: give at least one sample a positive weight."
            )
        if not _TINY < weights.max() < _HUGE:
            # Rescaling here would be silent and would break partial_fit's merges, whose
            # batches must keep their relative weights.
            raise ValueError(
                f"sample_weight has a largest value of {weights.max():.3g}, outside "
                f"[{_TINY:g}, {_HUGE:g}], where sums of weighted squares lose precision; the "
                "fit only depends on relative weights, so multiply them by a common factor."
            )
    return X, Y, one_target, weights


# Weighted squares (the Gram form, the loss) must stay inside float64 (about 1e-308..1e308):
# values and weights within 1e-100..1e100 keep every product weight * value**2 there.
_HUGE, _TINY = 1e100, 1e-100


def confirm_magnitudes(X: Matrix, weights: FloatArray, stats: Moments, d: int) -> None:
    """The magnitude check of X, from its moments where they show that all is well.

    A value ``x`` of a column with weighted second moment ``m2`` obeys
    ``w_min * x**2 <= sum(w) * m2``, and its column's variance bounds its spread from below,
    so finite moments inside these bounds prove that :func:`_check_magnitudes` would pass.
    Otherwise (NaN, infinity, extreme or vanishing or constant columns, zero weights that hide
    rows, or a false alarm) X itself is checked, which raises the precise error.
    """
    w_min = float(weights.min())
    with np.errstate(all="ignore"):
        scatter = stats.scatter if stats.scatter.ndim == 1 else np.diagonal(stats.scatter)
        var = scatter[:d] / stats.weight_sum
        second = var + stats.mean[:d] * stats.mean[:d]
        fine = (
            w_min > 0
            and bool(np.isfinite(stats.scatter).all() and np.isfinite(stats.mean).all())
            and float(np.max(second)) * (stats.weight_sum / w_min) <= _HUGE**2
            and bool(np.all(var >= _TINY**2))
        )
    if not fine:
        # (A sparse column's zeros are exact: only its stored values can be out of range.)
        _check_magnitudes("X", X.data if is_sparse(X) else X)


def _check_magnitudes(name: str, a: FloatArray) -> None:
    """NaN, infinity, and magnitudes whose squares leave float64, each with its remedy.

    Column minima and maxima cost two passes and no temporary the size of the data. For
    sparse X, ``a`` is its stored values.
    """
    if a.size == 0:
        return
    low = a.min(axis=0).astype(np.float64)
    high = a.max(axis=0).astype(np.float64)
    if np.isnan(low).any() or np.isnan(high).any():
        raise ValueError(f"Input {name} contains NaN; remove or impute those values.")
    if not (np.isfinite(low).all() and np.isfinite(high).all()):
        raise ValueError(f"Input {name} contains infinity; remove or replace those values.")
    largest = np.maximum(np.abs(low), np.abs(high))
    if largest.max() > _HUGE:
        raise ValueError(
            f"{name} holds values up to {largest.max():.3g}, whose squares overflow float64; "
            f"rescale {name} (e.g. divide by a power of 10, or StandardScaler for X)."
        )
    spread = high - low
    tiny = (largest > 0) & (largest < _TINY) | (spread > 0) & (spread < _TINY)
    if tiny.any():
        raise ValueError(
            f"{name} holds columns whose values (or differences) are below {_TINY:g}, whose "
            f"squares underflow float64; rescale {name} (e.g. multiply by a power of 10)."
        )


def initial_point(
    coef_init: ArrayLike | None, intercept_init: ArrayLike | None, d: int, k: int, one_target: bool
) -> tuple[FloatArray, FloatArray]:
    coef = np.zeros((d, k))
    if coef_init is not None:
        c = np.asarray(coef_init, dtype=np.float64)
        expected = (d,) if one_target else (k, d)
        if c.shape != expected:
            raise ValueError(f"coef_init must have shape {expected}; got {c.shape}.")
        if not np.isfinite(c).all():
            raise ValueError("coef_init contains NaN or infinity; pass finite values.")
        coef = c.reshape(-1, d).T.copy()
    intercept = np.zeros(k)
    if intercept_init is not None:
        b = np.asarray(intercept_init, dtype=np.float64).reshape(-1)
        if b.size not in (1, k) or not np.isfinite(b).all():
            raise ValueError(
                f"intercept_init must be a finite float or an array of shape "
                f"({k},); got {intercept_init!r}."
            )
        intercept = np.broadcast_to(b, (k,)).copy()
    return coef, intercept


def to_sklearn_shapes(
    coef: FloatArray, intercept: FloatArray, one_target: bool, dtype: DTypeLike
) -> tuple[FloatArray, FloatArray | np.floating[Any]]:
    """(..., d, k) and (..., k) into scikit-learn's shapes and the input's float dtype."""
    limit = np.finfo(dtype).max
    if np.abs(coef).max(initial=0.0) > limit or np.abs(intercept).max(initial=0.0) > limit:
        raise ValueError(
            f"The fitted coefficients exceed the range of {np.dtype(dtype).name}; pass X as "
            "float64 (or rescale X and y)."
        )
    coef = np.swapaxes(coef, -1, -2).astype(dtype)
    intercept = np.asarray(intercept).astype(dtype)
    if one_target:
        coef, intercept = coef[..., 0, :], intercept[..., 0]
        if intercept.ndim == 0:
            intercept = intercept.dtype.type(intercept)
    return coef, intercept
