"""Mini-batch SGD over Dask row chunks, streamed to the client a chunk at a time.

Split from :mod:`gdlinreg._dask`, which builds a :class:`ChunkStream` in ``prepare``; the
solver's SGD branch asks it for its curvature bound, its epochs and its update count.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import dask

from ._dask import DaskData, DaskObjective
from ._geometry import batch_curvature
from ._methods import sgd_iterates
from ._objective import GramObjective
from .losses import HalfMSE

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    import dask.array as da
    import numpy as np
    from dask.delayed import Delayed

    from ._objective import Coordinates, Moments
    from ._typing import (
        Blocks,
        FloatArray,
        Loss,
        Objective,
        Penalty,
        QuadraticLoss,
        Schedule,
        Value,
    )

    #: One row chunk's ``(X, Y, p)``, lazy.
    Part = tuple[Delayed, Delayed, Delayed]


class ChunkStream(DaskData):
    """Row chunks for mini-batch SGD, fetched to the client one (or, on a distributed
    client, two) at a time; X is never computed as a whole.

    An epoch visits the chunks in an order drawn from ``rng`` (when shuffling) and runs the
    in-memory SGD epoch (:func:`gdlinreg._methods.sgd_iterates`) on each, which shuffles
    the chunk's rows with the same ``rng``; batches do not straddle chunks. Each chunk's
    weights are scaled so that every batch gradient is an unbiased estimate of the full one,
    as in memory. Momentum restarts at every chunk. Curvature and the starting objective
    come from the moments of the preparatory pass, without another pass.
    """

    def __init__(
        self, X: da.Array, Y: da.Array, p: da.Array, stats: Moments, largest: FloatArray
    ) -> None:
        super().__init__(X, Y, p)
        self.stats, self.largest = stats, largest
        self.sizes: tuple[int, ...] = X.chunks[0]
        self.parts: list[Part] = list(
            zip(X.to_delayed().ravel(), Y.to_delayed().ravel(), p.to_delayed().ravel(), strict=True)
        )

    def objective(self, coords: Coordinates, loss: Loss) -> Objective:
        if self.stats.scatter.ndim != 2:  # too many features for the moments: passes
            return DaskObjective(self, coords, loss)
        d = self.X.shape[1]
        if loss.is_quadratic:
            # The cast: a quadratic loss has the factor that the Gram form reads.
            return GramObjective(self.stats, d, coords, cast("QuadraticLoss", loss))
        return _BoundedObjective(
            self, coords, loss, GramObjective(self.stats, d, coords, HalfMSE())
        )

    def minibatch_curvature(
        self, coords: Coordinates, loss: Loss, lipschitz: float, batch_size: int
    ) -> float:
        sample = loss.curvature * float(self.largest[int(coords.augment)])
        return batch_curvature(lipschitz, sample, batch_size)

    def updates_per_epoch(self, batch_size: int) -> int:
        return sum(-(-m // batch_size) for m in self.sizes)

    def sgd_iterates(
        self,
        coords: Coordinates,
        loss: Loss,
        penalty: Penalty | None,
        positive: bool,
        theta: FloatArray,
        base: float,
        schedule: Schedule,
        *,
        batch_size: int,
        shuffle: bool,
        rng: np.random.Generator,
        momentum: float = 0.0,
        nesterov: bool = False,
        t0: int = 0,
    ) -> Blocks:
        n, t = self.X.shape[0], t0
        quiet = _Unobserved(schedule)  # an adaptive schedule observes epochs, not chunks
        while True:
            order = rng.permutation(len(self.parts)) if shuffle else range(len(self.parts))
            total, step = 0.0, base * schedule(t)
            for x, y, p in _fetch([self.parts[i] for i in order]):
                if x.shape[0] == 0:
                    continue
                epoch = sgd_iterates(
                    (x, y, p * (n / x.shape[0])),
                    coords,
                    loss,
                    penalty,
                    positive,
                    theta,
                    base,
                    quiet,
                    batch_size=batch_size,
                    shuffle=shuffle,
                    rng=rng,
                    momentum=momentum,
                    nesterov=nesterov,
                    t0=t,
                )
                thetas, values, _, steps = next(epoch)
                theta, step = thetas[-1], float(steps[-1])
                total += _scalar(values[0]) * x.shape[0]
                t += -(-x.shape[0] // batch_size)
            observe = getattr(schedule, "observe", None)
            if observe is not None:
                observe(total / n)
            yield theta[None], [total / n], None, [step]


def _scalar(value: Value) -> float:
    # An epoch's value is pooled over the targets: one number.
    return float(value)


class _Unobserved:
    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule

    def __call__(self, t: int) -> float:
        return self.schedule(t)


class _BoundedObjective(DaskObjective):
    """The data form with the curvature bound of the moments (no Lanczos passes): a loss
    whose curvature is at most ``loss.curvature`` has a Hessian below that of half-MSE."""

    def __init__(
        self, data: DaskData, coords: Coordinates, loss: Loss, gram: GramObjective
    ) -> None:
        super().__init__(data, coords, loss)
        self.gram = gram

    def lipschitz(self, rtol: float = 1e-2) -> float:
        return self.loss.curvature * self.gram.lipschitz(rtol)


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
