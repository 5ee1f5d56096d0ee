"""Dask input: sufficient statistics as one reduction over row chunks, lazy predictions.

Imported only when Dask input arrives, so that ``import gdlinreg`` never imports Dask. No
scikit-learn here: the estimator validates parameters and feature names. The Source that
fits on Dask input is :class:`gdlinreg._data.dask_source.DaskSource`.

For the squared losses a fit is one pass over the data: every row chunk gives its weighted,
centred :class:`~gdlinreg._problem.statistics.Moments` (the in-memory engine's blocked, shifted,
corrected two-pass statistics), the chunks' moments are merged in a tree with Chan's stable
update, and the solver then iterates locally on the d x d problem, as ``partial_fit`` does.
X and y are never gathered: only (d + k)^2 numbers per chunk travel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import dask
import dask.array as da
import numpy as np

from .._problem.statistics import Moments, moments
from .checks import _check_magnitudes, check_statistics

if TYPE_CHECKING:
    from dask.delayed import Delayed
    from numpy.typing import ArrayLike, NDArray

    from .._kernels.types import FloatArray

    #: ``(X_val, y_val, sample_weight_val)``, Dask or in memory, as the estimator passes them.
    ValidationArrays = tuple[object, object, ArrayLike | None]
    #: ``(X, Y, weights)`` as :func:`as_arrays` returns them.
    DaskTriple = tuple[da.Array, da.Array, da.Array | None]

# Chunk moments merged per task in the tree: a few levels even for thousands of chunks.
_FAN_IN = 8


def as_arrays(
    X_in: object, y: object, sample_weight: ArrayLike | None = None
) -> tuple[da.Array, da.Array, da.Array | None, bool]:
    """Dask arrays ``(X, Y, weights, one_target)`` with matching row chunks.

    X gets one column chunk (each task needs whole rows); ``Y`` is 2-D float64; ``weights`` is
    a Dask array or None. Nothing is computed except the lengths of DataFrame partitions.
    """
    X = _as_dask_array(X_in, "X")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, (n_samples, n_features); got {X.ndim}-D.")
    if X.dtype.kind not in "fiub":
        raise ValueError(f"X must hold real numbers; got dtype {X.dtype}.")
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X needs at least 1 sample and 1 feature; got shape {X.shape}.")
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    X = X.rechunk({1: -1})
    rows = X.chunks[0]
    Y = _as_dask_array(y, "y")
    if Y.dtype.kind not in "fiub":
        raise ValueError(f"y must hold real numbers; got dtype {Y.dtype}.")
    if Y.ndim not in (1, 2) or Y.shape[0] != X.shape[0]:
        raise ValueError(
            f"y must have shape ({X.shape[0]},) or ({X.shape[0]}, n_targets) to match X; "
            f"got {Y.shape}."
        )
    one_target = Y.ndim == 1
    Y = Y.reshape(X.shape[0], -1) if one_target else Y
    Y = Y.astype(np.float64).rechunk((rows, -1))
    weights: da.Array | None = None
    if sample_weight is not None:
        if np.ndim(sample_weight) == 0:  # a scalar: the same weight for every sample
            sample_weight = da.full(X.shape[0], sample_weight, chunks=(rows,))
        weights = _as_dask_array(sample_weight, "sample_weight").astype(np.float64)
        if weights.shape != (X.shape[0],):
            raise ValueError(
                f"sample_weight must have shape ({X.shape[0]},); got {weights.shape}. Pass one "
                "weight per sample (row of X), or a scalar: the same weight for every sample."
            )
        weights = weights.rechunk((rows,))
    return X, Y, weights, one_target


def _as_dask_array(a: object, name: str) -> da.Array:
    if isinstance(a, da.Array):
        out = a
    elif hasattr(a, "to_dask_array"):  # Dask DataFrame / Series
        # lengths=True counts the rows of every partition (a cheap pass), so that the chunks
        # of X, y and the weights can be aligned.
        out = a.to_dask_array(lengths=True)
    elif dask.is_dask_collection(a):
        raise TypeError(f"{name}: a {type(a).__name__} is not supported; pass a dask.array.")
    else:  # a NumPy array beside Dask ones: chunked like them below
        out = da.asarray(np.asarray(a))
    if any(np.isnan(c) for dim in out.chunks for c in dim):
        raise ValueError(
            f"{name} has unknown chunk sizes; use X.to_dask_array(lengths=True) or "
            "compute_chunk_sizes() first."
        )
    return out


def validation_arrays(validation: ValidationArrays, d: int, k: int) -> DaskTriple:
    X_val, y_val, w_val = validation
    Xv, Yv, wv, _ = as_arrays(X_val, y_val, w_val)
    if Xv.shape[1] != d:
        raise ValueError(f"X_val has {Xv.shape[1]} features; the training X has {d}.")
    if Yv.shape[1] != k:
        raise ValueError(f"y_val has {Yv.shape[1]} target(s); the training y has {k}.")
    return Xv, Yv, wv


def held_out(sizes: tuple[int, ...], fraction: float, seed: int) -> da.Array:
    """The rows that ``early_stopping=True`` holds out, as a lazy boolean Dask array: in chunk
    ``i`` of ``m`` rows, ``int(fraction * m + 0.5)`` rows drawn by
    ``numpy.random.default_rng([seed, i]).permutation(m)``. Each chunk decides its own rows,
    so the split is reproducible and costs no pass of its own."""
    held: da.Array = da.map_blocks(
        _held_out_block, fraction=fraction, seed=seed, chunks=(sizes,), dtype=bool
    )
    return held


def _held_out_block(
    fraction: float, seed: int, block_info: dict[Any, dict[str, Any]] | None = None
) -> NDArray[np.bool_]:
    assert block_info is not None  # map_blocks always passes it
    (m,) = block_info[None]["chunk-shape"]
    (i,) = block_info[None]["chunk-location"]
    out = np.zeros(m, dtype=bool)
    out[np.random.default_rng([seed, i]).permutation(m)[: int(fraction * m + 0.5)]] = True
    return out


def split_rows(
    X: da.Array, Y: da.Array, weights: da.Array | None, fraction: float, seed: int
) -> tuple[DaskTriple, DaskTriple]:
    """``(X, Y, weights)`` of the training rows and of the held-out rows, chunk by chunk."""
    held = held_out(X.chunks[0], fraction, seed)
    n_held = tuple(int(fraction * m + 0.5) for m in X.chunks[0])
    kept = tuple(int(m) for m in np.subtract(X.chunks[0], n_held))

    def rows(keep: bool, sizes: tuple[int, ...]) -> DaskTriple:
        w = None if weights is None else _rows(weights, held, keep, sizes)
        return _rows(X, held, keep, sizes), _rows(Y, held, keep, sizes), w

    return rows(False, kept), rows(True, n_held)


def _rows(a: da.Array, held: da.Array, keep: bool, sizes: tuple[int, ...]) -> da.Array:
    index = "ij"[: a.ndim]
    rows: da.Array = da.blockwise(
        _take, index, a, index, held, "i", keep=keep, adjust_chunks={"i": sizes}, dtype=a.dtype
    )
    return rows


def _take(a: FloatArray, held: NDArray[np.bool_], keep: bool) -> FloatArray:
    taken: FloatArray = a[held == keep]
    return taken


def reduce_moments(
    X: da.Array, Y: da.Array, weights: da.Array | None = None, *, full: bool = True
) -> Moments:
    """Merged moments of ``[X | Y]`` over all row chunks: one pass, one ``compute``."""
    stats: Moments
    (stats,) = dask.compute(moments_graph(X, Y, weights, full=full))
    if stats.weight_sum <= 0:
        raise ValueError("sample_weight is all zero: give at least one sample a positive weight.")
    return stats


def moments_graph(
    X: da.Array, Y: da.Array, weights: da.Array | None = None, *, full: bool = True
) -> Delayed:
    """The lazy merged moments of ``[X | Y]`` (a Delayed), to compute with other graphs."""
    # One blockwise task per row chunk, in the same graph as X, Y and the weights: a chunk
    # that several of them share (y computed from X, say) is computed once, not once each.
    args = [X, "ij", Y, "ik"] if weights is None else [X, "ij", Y, "ik", weights, "i"]
    # concatenate=False: the column index is contracted, and concatenating its single block
    # would copy every chunk of X (as long as the syrk that follows) before the task starts.
    per_chunk = da.blockwise(
        _block_moments,
        "i",
        *args,
        full=full,
        adjust_chunks={"i": 1},
        concatenate=False,
        dtype=object,
        meta=np.empty((0,), dtype=object),
    )
    parts = list(per_chunk.to_delayed().ravel())
    # Merge neighbours in order, so that the result keeps the first chunk's shift, as the
    # in-memory pass keeps the first row's.
    while len(parts) > 1:
        groups = [parts[i : i + _FAN_IN] for i in range(0, len(parts), _FAN_IN)]
        parts = [dask.delayed(_merge_all, pure=True)(g) for g in groups]
    delayed: Delayed = dask.delayed(_merge_all, pure=True)(parts)
    return delayed


def _block_moments(
    xs: list[FloatArray], ys: list[FloatArray], w: FloatArray | None = None, *, full: bool
) -> NDArray[np.object_]:
    # X and Y have one column block each (as_arrays rechunks them so): the lists hold it.
    (x,), (y,) = xs, ys
    return _chunk_moments(x, y, w, full=full)


def _chunk_moments(
    x: FloatArray, y: FloatArray, w: FloatArray | None = None, *, full: bool
) -> NDArray[np.object_]:
    """One chunk's moments (zero weight for an empty chunk), in a 1-element object array;
    the checks run where the data are."""
    if w is None:
        w = np.ones(x.shape[0])
    else:
        _check_weights(w)
    p = x.shape[1] + y.shape[1]
    out = np.empty(1, dtype=object)
    if x.shape[0] == 0 or w.sum() == 0:
        _check_finite(x, y)
        # Merge skips zero weight; an all-zero-weight chunk has no block to shift by.
        out[0] = Moments(0.0, np.zeros(p), np.zeros((p, p) if full else p))
        return out
    with np.errstate(all="ignore"):  # non-finite moments are reported below
        stats = moments(x, y, w, full=full)
    # NaN and infinity propagate into the moments (a zero weight times NaN is NaN), so the
    # chunk is scanned for them only when the moments are not finite: a separate isfinite
    # pass over every chunk costs a sixth of the syrk that builds the statistics.
    if not (np.isfinite(stats.mean).all() and np.isfinite(stats.scatter).all()):
        _check_finite(x, y, float(w.max()))
        check_statistics(stats)
    out[0] = stats
    return out


def _check_weights(w: FloatArray) -> None:
    if not np.isfinite(w).all():
        raise ValueError("sample_weight contains NaN or infinity; pass finite weights.")
    if (w < 0).any():
        raise ValueError(
            f"sample_weight must be >= 0; got {int((w < 0).sum())} negative weight(s)."
        )


def _check_finite(x: FloatArray, y: FloatArray, heaviest: float = 1.0) -> None:
    # The in-memory checks, with their messages (NaN, infinity, squares out of range).
    # (A chunk's row numbers are not the collection's: the message names the column only.)
    # (One target: named without a column, as a 1-D y is.)
    for name, a in (("X", x), ("y", y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y)):
        _check_magnitudes(name, a, heaviest, rows=False)


def _merge_all(parts: list[NDArray[np.object_] | Moments]) -> Moments:
    # Leaves are the 1-element arrays of _chunk_moments; inner nodes are Moments.
    merged: list[Moments] = [p[0] if isinstance(p, np.ndarray) else p for p in parts]
    out = merged[0]
    for part in merged[1:]:
        out = out.merge(part)
    return out


def predict(X_in: object, coef: ArrayLike, intercept: ArrayLike) -> da.Array:
    """Lazy ``X @ coef.T + intercept``, chunk by chunk."""
    X = _as_dask_array(X_in, "X")
    if X.ndim != 2 or X.shape[1] != np.shape(coef)[-1]:
        raise ValueError(
            f"X has shape {X.shape}; the model expects (n_samples, {np.shape(coef)[-1]})."
        )
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    X = X.rechunk({1: -1})
    coef, intercept = np.asarray(coef), np.asarray(intercept)
    prediction: da.Array
    if coef.ndim == 1:
        prediction = X.map_blocks(_predict_block, coef, intercept, drop_axis=1, dtype=coef.dtype)
        return prediction
    chunks = (X.chunks[0], (coef.shape[0],))
    prediction = X.map_blocks(_predict_block, coef, intercept, chunks=chunks, dtype=coef.dtype)
    return prediction


def _predict_block(x: FloatArray, coef: FloatArray, intercept: FloatArray) -> FloatArray:
    prediction: FloatArray = x @ coef.T + intercept
    return prediction


def r2_score(
    y: object, y_pred: da.Array | FloatArray, sample_weight: ArrayLike | None = None
) -> float:
    """scikit-learn's ``r2_score`` (uniform average over targets) as one reduction.

    The residuals' and y's moments come from the same stable pass as the fit's statistics.
    """
    Y = _as_dask_array(y, "y")
    Y = Y.reshape(Y.shape[0], -1).astype(np.float64)
    P = y_pred.reshape(y_pred.shape[0], -1).astype(np.float64)
    Y, R, weights, _ = as_arrays(Y, Y - P, sample_weight)
    k = Y.shape[1]
    stats = reduce_moments(Y, R, weights, full=False)
    total = stats.scatter[:k]
    residual = stats.scatter[k:] + stats.weight_sum * stats.mean[k:] ** 2
    # As scikit-learn's force_finite: a constant y scores 1 if predicted exactly, else 0.
    ok = total != 0
    scores = np.where(ok, 1.0 - residual / np.where(ok, total, 1.0), 0.0)
    scores = np.where(~ok & (residual == 0), 1.0, scores)
    return float(np.mean(scores))
