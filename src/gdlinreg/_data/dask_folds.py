"""Cross-validation's one pass on Dask: each row chunk's statistics by group, where the chunk
lives; only (d + k)^2 numbers per group and chunk travel, and X is never gathered."""

from __future__ import annotations

from typing import TYPE_CHECKING

import dask
import numpy as np

from .dask_chunks import _chunk_moments
from .folds import merged

if TYPE_CHECKING:
    import dask.array as da
    from numpy.typing import NDArray

    from .._kernels.types import FloatArray
    from .._problem.statistics import Moments


def dask_group_moments(
    X: da.Array,
    Y: da.Array,
    weights: da.Array | None,
    labels: NDArray[np.intp],
    n_groups: int,
) -> list[Moments]:
    """The statistics of the rows of each group (``labels``, one per row, in memory), in one
    ``dask.compute`` over the row chunks of X, Y and the weights."""
    xs, ys = X.to_delayed().ravel(), Y.to_delayed().ravel()
    ws = [None] * len(xs) if weights is None else list(weights.to_delayed().ravel())
    bounds = np.cumsum((0, *X.chunks[0]))
    parts = [
        dask.delayed(_chunk_groups, pure=True)(x, y, w, labels[a:b], n_groups)
        for x, y, w, a, b in zip(xs, ys, ws, bounds[:-1], bounds[1:], strict=True)
    ]
    per_chunk: tuple[list[Moments], ...] = dask.compute(*parts)
    return [merged([chunk[g] for chunk in per_chunk]) for g in range(n_groups)]


def _chunk_groups(
    x: FloatArray, y: FloatArray, w: FloatArray | None, labels: NDArray[np.intp], n_groups: int
) -> list[Moments]:
    out = []
    for g in range(n_groups):
        rows = labels == g
        part = None if w is None else w[rows]
        out.append(_chunk_moments(x[rows], y[rows], part, full=True)[0])
    return out
