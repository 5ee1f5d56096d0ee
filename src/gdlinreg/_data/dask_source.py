"""Dask input as a Source: statistics as one reduction over row chunks, the data form as
one reduction per gradient, mini-batches streamed to the client a chunk at a time.

Imported only when Dask input arrives (``import gdlinreg`` never imports Dask). The
reductions themselves (chunk moments, the held-out split, predictions) are :mod:`.dask_chunks`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import dask
import dask.array as da
import numpy as np

from .._kernels.lanczos import lanczos
from .._problem.data import DataObjective
from .._problem.gram import GramObjective
from .._problem.statistics import MAX_FEATURES_FOR_GRAM
from ..losses import HalfMSE
from .arrays import batch_curvature, batches
from .checks import check_statistics
from .dask_chunks import as_arrays, moments_graph, split_rows, validation_arrays

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from dask.delayed import Delayed
    from numpy.typing import ArrayLike

    from .._kernels.types import Batch, FloatArray, Value
    from .._problem.coordinates import Coordinates
    from .._problem.statistics import Moments
    from .._protocols.registry import Loss, QuadraticLoss
    from .._protocols.source import Objective
    from .dask_chunks import DaskTriple, ValidationArrays

    #: One row chunk's ``(X, Y, p)``, lazy.
    Part = tuple[Delayed, Delayed, Delayed]


class DaskSource:
    """Row-chunked ``X``, ``y`` and sample weights (Dask arrays or DataFrames), with an
    optional validation set or a held-out ``split`` ``(fraction, seed)`` of every chunk.

    :meth:`statistics` computes, in one ``dask.compute``, the merged moments of all chunks,
    those of the validation rows, and (for mini-batches) each sample's largest curvature. X
    and y are never gathered: only (d + k)^2 numbers per chunk travel, except in mini-batch
    epochs, which fetch the chunks one (on a distributed client, two) at a time, in an order
    drawn from ``rng``, each shuffled by the same ``rng``; batches do not straddle chunks and
    momentum restarts at every chunk.

    It honours :class:`~gdlinreg._protocols.source.Source`, ``DataForm``, ``Batches``,
    ``RowParts`` (iterative refinement's passes run where the chunks live; only their sums
    travel) and ``Validated``.
    """

    #: Epochs come in row chunks: momentum restarts at each, and their means are pooled.
    segmented = True

    def __init__(
        self,
        X: object,
        y: object,
        sample_weight: ArrayLike | None = None,
        validation: ValidationArrays | None = None,
        split: tuple[float, int] | None = None,
    ) -> None:
        X, Y, weights, self.one_target = as_arrays(X, y, sample_weight)
        self.val: DaskTriple | None = None
        if split is not None:
            (X, Y, weights), self.val = split_rows(X, Y, weights, *split)
        elif validation is not None:
            self.val = validation_arrays(validation, X.shape[1], Y.shape[1])
        self.X, self.Y, self.weights, self.split = X, Y, weights, split is not None
        self.n_samples, self.n_features = X.shape
        self.n_targets = Y.shape[1]
        self.dtype = X.dtype
        self.sizes: tuple[int, ...] = X.chunks[0]
        self.passes = 0
        self.validation_stats: Moments | None = None

    def prefer_gram(self) -> bool:
        # One reduction builds the statistics whatever d; the data form costs one per step.
        return True

    def default_batch(self) -> int:
        return int(max(self.sizes))

    def statistics(self, full: bool, minibatch: bool = False) -> Moments:
        X, Y = self.X, self.Y
        # Mini-batch SGD takes its curvature bound from the full moments while they are
        # small; the data form needs only the columns' means and variances.
        full = full or (minibatch and self.n_features <= MAX_FEATURES_FOR_GRAM)
        w = da.ones(X.shape[0], chunks=(X.chunks[0],)) if self.weights is None else self.weights
        graphs: list[Delayed | da.Array] = [moments_graph(X, Y, self.weights, full=full)]
        if self.val is not None:
            graphs.append(moments_graph(*self.val, full=True))
        if minibatch:  # each sample's curvature (without, with the intercept)
            norms = da.sum(da.square(X.astype(np.float64)), axis=1)
            graphs += [da.max(w * norms), da.max(w * (norms + 1.0))]
        # One compute: chunks shared by the graphs (the split's, y computed from X) are read once.
        computed = dask.compute(*graphs)
        stats: Moments = computed[0]
        rest = list(computed[1:])
        self.passes += 1
        check_statistics(stats)  # chunks in range can still overflow when merged
        self.validation_stats = rest.pop(0) if self.val is not None else None
        if stats.weight_sum <= 0:
            # With a split, the held-out rows' weight tells an all-zero sample_weight apart.
            held = self.validation_stats if self.split else None
            held_weight = held.weight_sum if held is not None else 0.0
            raise ValueError(
                "early_stopping=True held out every sample with a positive sample_weight, "
                "leaving none to train on; lower validation_fraction or pass X_val and y_val."
                if held_weight > 0
                else "sample_weight is all zero: give at least one sample a positive weight."
            )
        if self.validation_stats is not None and self.validation_stats.weight_sum <= 0:
            raise ValueError(
                "early_stopping=True held out only samples of zero sample_weight, which give "
                "no validation score; raise validation_fraction, change random_state, or pass "
                "X_val and y_val."
                if self.split
                else "The validation set has no sample with a positive weight."
            )
        self.p = w / stats.weight_sum
        self.weight_sum = stats.weight_sum
        self.largest = np.array(rest) * (X.shape[0] / stats.weight_sum)
        self.parts: list[Part] = list(
            zip(
                X.to_delayed().ravel(),
                Y.to_delayed().ravel(),
                self.p.to_delayed().ravel(),
                strict=True,
            )
        )
        return stats

    def map_rows(self, fn: Callable[[Any, Any, Any], Any]) -> list[Any]:
        """``fn(X_chunk, Y_chunk, p_chunk)`` for every row chunk, in one ``dask.compute``
        (after :meth:`statistics`, which normalises the weights). Refinement counts the
        passes it makes."""
        return list(dask.compute(*(dask.delayed(fn)(x, y, p) for x, y, p in self.parts)))

    def data_objective(
        self, stats: Moments, coords: Coordinates, loss: Loss, batches: bool
    ) -> Objective:
        d = self.n_features
        if batches and stats.scatter.ndim == 2:
            # Curvature and the starting objective from the moments, without another pass.
            if loss.is_quadratic:
                return GramObjective(stats, d, coords, _quadratic(loss))
            return _BoundedObjective(self, coords, loss, GramObjective(stats, d, coords, HalfMSE()))
        return DaskObjective(self, coords, loss)

    def batch_curvature(
        self, coords: Coordinates, loss: Loss, lipschitz: float, batch_size: int
    ) -> float:
        largest = float(self.largest[int(coords.augment)])
        if not coords.plain:
            # The solver's coordinates (centred, standardised): one more reduction.
            w = (
                da.ones(self.n_samples, chunks=(self.sizes,))
                if self.weights is None
                else self.weights
            )
            # (row chunks of all the columns: as_arrays)
            norms = da.map_blocks(coords.squared_norms, self.X, drop_axis=1, dtype=np.float64)
            largest = float(da.max(w * norms).compute()) * (self.n_samples / self.weight_sum)
            self.passes += 1
        return batch_curvature(lipschitz, loss.curvature * largest, batch_size)

    def epoch(
        self, rng: np.random.Generator, batch_size: int, shuffle: bool
    ) -> Iterator[tuple[int, Iterator[Batch]]]:
        """The segments of one epoch, ``(rows, batches)``: the chunks, fetched in turn, each
        weighted so that every batch gradient estimates the full one without bias."""
        n = self.n_samples
        order = rng.permutation(len(self.parts)) if shuffle else range(len(self.parts))
        for x, y, p in _fetch([self.parts[i] for i in order]):
            if x.shape[0]:
                yield x.shape[0], batches(x, y, p * (n / x.shape[0]), rng, batch_size, shuffle)

    def updates_per_epoch(self, batch_size: int) -> int:
        return sum(-(-m // batch_size) for m in self.sizes)

    def validation_objective(
        self, coords: Coordinates, gram: bool, loss: QuadraticLoss
    ) -> tuple[Objective, Moments] | None:
        if self.validation_stats is None:
            return None
        stats = self.validation_stats
        return GramObjective(stats, self.n_features, coords, loss), stats


class DaskObjective:
    """The in-memory :class:`~gdlinreg._problem.data.DataObjective` on every chunk, summed: the
    chunks' weights are the global normalised ones, so the parts add up to the whole."""

    #: A gradient costs a Dask reduction over the chunks.
    reads_data = True

    def __init__(self, source: DaskSource, coords: Coordinates, loss: Loss) -> None:
        self.coords, self.loss, self.chunks, self.passes = coords, loss, source.parts, 0

    def _sum(self, method: str, v: FloatArray) -> Any:  # what the method returns, summed
        self.passes += 1
        parts = [
            dask.delayed(_chunk_call, pure=True)(x, y, p, self.coords, self.loss, method, v)
            for x, y, p in self.chunks
        ]
        return _tree_sum(dask.compute(*parts))

    def value_and_gradient(self, theta: FloatArray) -> tuple[Value, FloatArray]:
        value, grad = self._sum("value_and_gradient", theta)
        return value, grad

    def gradient(self, theta: FloatArray) -> FloatArray:
        return self.value_and_gradient(theta)[1]

    def hessian_product(self, v: FloatArray) -> FloatArray:
        product: FloatArray = self._sum("hessian_product", v)
        return product

    def newton_system(self, theta: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        # (Each chunk's p x p Hessians, as small as a gradient for the p Newton runs with.)
        value, grad, hess = self._sum("newton_system", theta)
        return value, grad, hess

    def lipschitz(self, rtol: float = 1e-2) -> float:
        p = self.coords.n_params
        return lanczos(lambda v: self.hessian_product(v[:, None])[:, 0], p, rtol=rtol)


class _BoundedObjective(DaskObjective):
    """The data form with the curvature bound of the moments (no Lanczos passes): a loss
    whose curvature is at most ``loss.curvature`` has a Hessian below that of half-MSE."""

    def __init__(
        self, source: DaskSource, coords: Coordinates, loss: Loss, gram: GramObjective
    ) -> None:
        super().__init__(source, coords, loss)
        self.gram = gram

    def lipschitz(self, rtol: float = 1e-2) -> float:
        return self.loss.curvature * self.gram.lipschitz(rtol)


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


def _quadratic(loss: Loss) -> QuadraticLoss:
    # The Gram form is chosen only for quadratic losses, which have the factor it reads.
    return loss  # type: ignore[return-value]


def _fetch(parts: Sequence[Part]) -> Iterator[tuple[FloatArray, ...]]:
    """Compute ``parts`` (tuples of Delayed) one after the other; on a distributed client the
    next one is computed while the caller works on the current one."""
    get = dask.base.get_scheduler()
    client = getattr(get, "__self__", None)
    if client is None or not hasattr(client, "gather"):
        for part in parts:
            yield dask.compute(*part)
        return
    ahead = client.compute(list(parts[0])) if parts else None
    for i in range(len(parts)):
        current = ahead
        if i + 1 < len(parts):
            ahead = client.compute(list(parts[i + 1]))
        yield client.gather(current)
