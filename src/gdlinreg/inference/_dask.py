"""Dask input for :mod:`gdlinreg.inference`: the residual pass as one reduction over the row
chunks (the blockwise leverages and meat of ``_statistics.block_parts`` on every chunk,
summed in a tree; clusters' score sums merged by label). Only d x d numbers per chunk (and
per cluster) travel; X is never gathered. Imported only when the data are Dask collections
(so ``import gdlinreg.inference`` never imports Dask)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import dask
import dask.array as da
import numpy as np

import gdlinreg.inference._statistics as _core

from .._data.dask_chunks import _check_weights, as_arrays, reduce_moments

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from .._kernels.types import FloatArray
    from .._problem.statistics import Moments
    from ._statistics import Fit

_FAN_IN = 8


def reduce(
    fit: Fit,
    model: tuple[FloatArray, FloatArray],
    data: tuple[Any, Any, ArrayLike | None],
    cov_type: str,
    groups: ArrayLike | None,
) -> tuple[Moments, _core.Parts]:
    """The statistics (the fit's, or one reduction when the model kept none) and the merged
    ``Parts`` of the residual pass over Dask ``data``."""
    X, Y, w, _ = as_arrays(*data)
    stats = fit.stats if _core.usable(fit.stats) else reduce_moments(X, Y, w)
    assert stats is not None
    B = _core.bread(stats, X.shape[1], fit.fit_intercept)
    rows = X.chunks[0]
    xs, ys = X.to_delayed().ravel(), Y.to_delayed().ravel()
    ws = [None] * len(xs) if w is None else list(w.to_delayed().ravel())
    gs: list[Any] = [None] * len(xs)
    if groups is not None:
        g: Any = groups if dask.is_dask_collection(groups) else da.from_array(np.asarray(groups))
        if g.shape != (X.shape[0],):
            raise ValueError(
                f"groups must have shape ({X.shape[0]},), one label per row of X; got {g.shape}."
            )
        gs = list(g.rechunk((rows,)).to_delayed().ravel())
    model_b = (*model, B)
    assert stats.rows is not None
    kind = _core.pass_kind(cov_type, stats.rows, B)
    parts = [
        dask.delayed(_chunk_parts, pure=True)(x, y, wi, model_b, kind, gi)
        for x, y, wi, gi in zip(xs, ys, ws, gs, strict=True)
    ]
    while len(parts) > 1:
        parts = [
            dask.delayed(_merge, pure=True)(parts[i : i + _FAN_IN])
            for i in range(0, len(parts), _FAN_IN)
        ]
    (merged,) = dask.compute(parts[0])
    _core.check_same_data(stats, merged)
    return stats, merged


def _chunk_parts(
    x: FloatArray,
    y: FloatArray,
    w: FloatArray | None,
    model: tuple[FloatArray, FloatArray, _core.Bread],
    cov_type: str,
    groups: np.ndarray[Any, Any] | None,
) -> _core.Parts:
    if w is None:
        w = np.ones(x.shape[0])
    else:
        _check_weights(w)
    return _core.block_parts(x, y, w, model, cov_type, groups)


def _merge(parts: list[_core.Parts]) -> _core.Parts:
    out = parts[0]
    for part in parts[1:]:
        out = out.add(part)
    return out
