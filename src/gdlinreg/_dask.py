"""Dask input: sufficient statistics as one reduction over row chunks, lazy predictions.

Imported by the estimator only when Dask input arrives, so that ``import gdlinreg`` never
imports Dask. No scikit-learn here: the estimator validates parameters and feature names.

For the squared losses a fit is one pass over the data: every row chunk gives its weighted,
centred :class:`~gdlinreg._objective.Moments` (the in-memory engine's blocked, shifted,
corrected two-pass statistics), the chunks' moments are merged in a tree with Chan's stable
update, and the solver then iterates locally on the d x d problem, as ``partial_fit`` does.
X and y are never gathered: only (d + k)^2 numbers per chunk travel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import dask
import dask.array as da
import numpy as np

from ._checks import _check_magnitudes, check_options, check_statistics
from ._objective import (
    _MAX_FEATURES_FOR_GRAM,
    DataObjective,
    Moments,
    _lanczos,
    moments,
)
from .losses import get_loss
from .penalties import get_penalty

if TYPE_CHECKING:
    from dask.delayed import Delayed
    from numpy.typing import ArrayLike, NDArray
    from typing_extensions import Unpack

    from ._objective import Coordinates
    from ._typing import FloatArray, Loss, Objective, Prepared, ProblemOptions, Value

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


def prepare(
    X: object,
    y: object,
    sample_weight: ArrayLike | None,
    *,
    validation: ValidationArrays | None = None,
    split: tuple[float, int] | None = None,
    **options: Unpack[ProblemOptions],
) -> tuple[Prepared, int, Moments | None]:
    """The Dask counterpart of :func:`gdlinreg._solver.prepare`.

    Returns ``(prepared, n_targets, validation_stats)``: the keyword arguments of
    :func:`gdlinreg._solver.solve`, with the statistics of all the data, computed in one pass,
    and the :class:`~gdlinreg._objective.Moments` of ``validation`` (a tuple ``(X_val, y_val,
    sample_weight_val)``) or of the rows that ``split`` ``(fraction, seed)`` holds out
    (:func:`held_out`), reduced in the same pass (None without either).
    """
    loss = get_loss(options["loss"], epsilon=options["epsilon"])
    penalty = get_penalty(options["penalty"], options["alpha"], options["l1_ratio"])
    method, fixed = check_options(
        solver=options["solver"],
        learning_rate=options["learning_rate"],
        loss=loss,
        penalty=penalty,
        positive=options["positive"],
        max_iter=options["max_iter"],
        tol=options["tol"],
        momentum=options["momentum"],
        line_search=options["line_search"],
        batch_size=options["batch_size"],
        n_iter_no_change=options["n_iter_no_change"],
    )
    X, Y, weights, one_target = as_arrays(X, y, sample_weight)
    val: DaskTriple | None = None
    if split is not None:
        (X, Y, weights), val = _split(X, Y, weights, *split)
    elif validation is not None:
        val = _validation_arrays(validation, X.shape[1], Y.shape[1])
    sgd = method == "sgd"
    gram = not sgd and loss.is_quadratic and options["precompute"] is not False
    # Mini-batch SGD takes its curvature bound from the full moments while they are small;
    # the data form needs only the columns' means and variances (d numbers per chunk).
    full = gram or (sgd and X.shape[1] <= _MAX_FEATURES_FOR_GRAM)
    w = da.ones(X.shape[0], chunks=(X.chunks[0],)) if weights is None else weights
    graphs: list[Delayed | da.Array] = [moments_graph(X, Y, weights, full=full)]
    if val is not None:
        graphs.append(moments_graph(*val, full=True))
    if sgd:  # each sample's curvature, for the mini-batch step (without, with the intercept)
        norms = da.sum(da.square(X.astype(np.float64)), axis=1)
        graphs += [da.max(w * norms), da.max(w * (norms + 1.0))]
    # One compute: chunks shared by the graphs (the split's, y computed from X) are read once.
    stats, *rest = dask.compute(*graphs)
    check_statistics(stats)  # chunks in range can still overflow when merged
    validation_stats = rest.pop(0) if val is not None else None
    if stats.weight_sum <= 0:
        # With a split, the held-out rows' weight tells an all-zero sample_weight apart.
        held = validation_stats if split is not None else None
        held_weight = held.weight_sum if held is not None else 0.0
        raise ValueError(
            "early_stopping=True held out every sample with a positive sample_weight, leaving "
            "none to train on; lower validation_fraction or pass X_val and y_val."
            if held_weight > 0
            else "sample_weight is all zero: give at least one sample a positive weight."
        )
    if validation_stats is not None and validation_stats.weight_sum <= 0:
        raise ValueError(
            "early_stopping=True held out only samples of zero sample_weight, which give no "
            "validation score; raise validation_fraction, change random_state, or pass X_val "
            "and y_val."
            if split is not None
            else "The validation set has no sample with a positive weight."
        )
    data: DaskData | None = None
    if sgd:
        from ._dask_stream import ChunkStream

        largest = np.array(rest) * (X.shape[0] / stats.weight_sum)
        data = ChunkStream(X, Y, w / stats.weight_sum, stats, largest)
    elif not gram:
        data = DaskData(X, Y, w / stats.weight_sum)
    prepared: Prepared = {
        "stats": stats,
        "data": data,
        "method": method,
        "fixed": fixed,
        "one_target": one_target,
        "dtype": X.dtype,
        "use_gram": gram,
        "loss": loss,
        "penalty": penalty,
    }
    return prepared, Y.shape[1], validation_stats


def _validation_arrays(validation: ValidationArrays, d: int, k: int) -> DaskTriple:
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


def _split(
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


class DaskData:
    """Row-chunked ``(X, Y, p)`` for the data form: ``objective`` builds the objective whose
    every value, gradient and Hessian product is one Dask reduction over the chunks."""

    def __init__(self, X: da.Array, Y: da.Array, p: da.Array) -> None:
        self.X, self.Y, self.p = X, Y, p

    def objective(self, coords: Coordinates, loss: Loss) -> Objective:
        return DaskObjective(self, coords, loss)


class DaskObjective:
    """The in-memory :class:`~gdlinreg._objective.DataObjective` on every chunk, summed: the
    chunks' weights are the global normalised ones, so the parts add up to the whole."""

    #: A gradient costs a Dask reduction over the chunks.
    reads_data = True

    def __init__(self, data: DaskData, coords: Coordinates, loss: Loss) -> None:
        self.coords, self.loss = coords, loss
        self.chunks = list(
            zip(
                data.X.to_delayed().ravel(),
                data.Y.to_delayed().ravel(),
                data.p.to_delayed().ravel(),
                strict=True,
            )
        )

    def _sum(self, method: str, v: FloatArray) -> Any:  # what the method returns, summed
        parts = [
            dask.delayed(_chunk_call, pure=True)(x, y, p, self.coords, self.loss, method, v)
            for x, y, p in self.chunks
        ]
        return _tree_sum(dask.compute(*parts))

    def value_and_gradient(self, theta: FloatArray) -> tuple[Value, FloatArray]:
        value, grad = self._sum("value_and_gradient", theta)
        return value, grad

    def hessian_product(self, v: FloatArray) -> FloatArray:
        product: FloatArray = self._sum("hessian_product", v)
        return product

    def lipschitz(self, rtol: float = 1e-2) -> float:
        p = self.coords.n_params
        return _lanczos(lambda v: self.hessian_product(v[:, None])[:, 0], p, rtol=rtol)


def _chunk_call(
    x: FloatArray,
    y: FloatArray,
    p: FloatArray,
    coords: Coordinates,
    loss: Loss,
    method: str,
    v: FloatArray,
) -> object:
    return getattr(DataObjective(x, y, p, coords, loss), method)(v)


def _tree_sum(parts: tuple[Any, ...]) -> Any:
    if isinstance(parts[0], tuple):
        return tuple(sum(part[i] for part in parts) for i in range(len(parts[0])))
    return sum(parts)


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
    for name, a in (("X", x), ("y", y)):
        _check_magnitudes(name, a, heaviest)


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
