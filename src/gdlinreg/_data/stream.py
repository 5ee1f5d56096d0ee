"""A ``partial_fit`` batch seen in the light of every batch before it: :class:`StreamSource`.

A streamed fit of a loss without a Gram form (Huber) reads the rows of its batch, but the
coordinates it iterates in (:func:`gdlinreg._problem.coordinates.coordinates`: the columns
centred and standardised, the intercept a coordinate) come from the running statistics, the
batch's moments merged into those of every batch seen (Chan's update, as the squared losses'
``partial_fit`` merges them). The batch's own moments bound the curvature of its steps.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from .checks import check_statistics

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .._kernels.types import Batch
    from .._problem.coordinates import Coordinates
    from .._problem.statistics import Moments
    from .._protocols.registry import Loss
    from .._protocols.source import Batches, Objective


class StreamSource:
    """The rows of one ``partial_fit`` batch (any :class:`~gdlinreg._protocols.source.Batches`
    source: in memory, Dask, Array API) with the running statistics of the stream.

    :meth:`statistics` answers the merged moments of every batch seen (the solver's
    coordinates; ``merged`` keeps them for the next batch); the objective, its curvature
    bound and the mini-batches are the batch's own. It honours ``Source``, ``DataForm`` and
    ``Batches``; not ``Rows`` (no refinement on a stream) nor ``Validated`` (``partial_fit``
    refuses early stopping). The batch's moments are built once, for every solve on it.
    """

    def __init__(self, batch: Batches, previous: Moments | None) -> None:
        self.batch = batch
        self.n_samples, self.n_features = batch.n_samples, batch.n_features
        self.n_targets, self.one_target = batch.n_targets, batch.one_target
        self.dtype, self.segmented = batch.dtype, batch.segmented
        # The full moments while they are small (the curvature bound of mini-batch steps),
        # else the columns' means and variances: what the batch's source builds for "sgd".
        self.own = batch.statistics(full=False, minibatch=True)
        self.merged = running(previous, self.own)

    @property
    def passes(self) -> int:
        """The batch's passes over its rows (its source counts them)."""
        return self.batch.passes

    @passes.setter
    def passes(self, value: int) -> None:
        self.batch.passes = value

    def prefer_gram(self) -> bool:
        return False  # (a loss without a Gram form: the rows are read)

    def statistics(self, full: bool, minibatch: bool = False) -> Moments:
        return self.merged  # (built once; the full moments when the batch's are)

    def data_objective(
        self, stats: Moments, coords: Coordinates, loss: Loss, batches: bool
    ) -> Objective:
        # The batch's curvature in the stream's coordinates: its own moments, not the merged.
        return self.batch.data_objective(self.own, coords, loss, batches)

    def default_batch(self) -> int:
        return self.batch.default_batch()

    def batch_curvature(
        self, coords: Coordinates, loss: Loss, lipschitz: float, batch_size: int
    ) -> float:
        return self.batch.batch_curvature(coords, loss, lipschitz, batch_size)

    def epoch(
        self, rng: np.random.Generator, batch_size: int, shuffle: bool
    ) -> Iterator[tuple[int, Iterator[Batch]]]:
        return self.batch.epoch(rng, batch_size, shuffle)

    def updates_per_epoch(self, batch_size: int) -> int:
        return self.batch.updates_per_epoch(batch_size)


def running(previous: Moments | None, stats: Moments) -> Moments:
    """``stats`` merged into ``previous`` (None: the stream starts here). Statistics of
    different kinds (the full scatter against its diagonal, beyond 2000 features) merge as
    their diagonals; the merge of batches in range can still overflow, which is refused."""
    if previous is None:
        return stats
    if previous.scatter.ndim != stats.scatter.ndim:
        previous, stats = _diagonal(previous), _diagonal(stats)
    merged = previous.merge(stats)
    check_statistics(merged)
    return merged


def _diagonal(stats: Moments) -> Moments:
    if stats.scatter.ndim == 1:
        return stats
    return replace(stats, scatter=np.diagonal(stats.scatter).copy())
