"""Mini-batch SGD over Dask row chunks, streamed to the client a chunk at a time.

Split from :mod:`gdlinreg._dask`, which builds a :class:`ChunkStream` in ``prepare``; the
solver's SGD branch asks it for its curvature bound, its epochs and its update count.
"""

from __future__ import annotations

import dask

from ._dask import DaskData, DaskObjective
from ._methods import sgd_iterates
from ._objective import GramObjective
from .losses import HalfMSE


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

    def __init__(self, X, Y, p, stats, largest):
        super().__init__(X, Y, p)
        self.stats, self.largest = stats, largest
        self.sizes = X.chunks[0]
        self.parts = list(
            zip(X.to_delayed().ravel(), Y.to_delayed().ravel(), p.to_delayed().ravel(), strict=True)
        )

    def objective(self, coords, loss):
        if self.stats.scatter.ndim != 2:  # too many features for the moments: passes
            return DaskObjective(self, coords, loss)
        d = self.X.shape[1]
        if loss.is_quadratic:
            return GramObjective(self.stats, d, coords, loss)
        return _BoundedObjective(
            self, coords, loss, GramObjective(self.stats, d, coords, HalfMSE())
        )

    def minibatch_curvature(self, coords, loss, lipschitz, batch_size):
        sample = loss.curvature * float(self.largest[int(coords.augment)])
        return max(lipschitz + (sample - lipschitz) / batch_size, lipschitz)

    def updates_per_epoch(self, batch_size):
        return sum(-(-m // batch_size) for m in self.sizes)

    def sgd_iterates(self, coords, loss, penalty, positive, theta, base, schedule, **options):
        n, t = self.X.shape[0], options.pop("t0")
        rng, shuffle, batch = options["rng"], options["shuffle"], options["batch_size"]
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
                    t0=t,
                    **options,
                )
                thetas, values, _, steps = next(epoch)
                theta, step = thetas[-1], steps[-1]
                total += values[0] * x.shape[0]
                t += -(-x.shape[0] // batch)
            observe = getattr(schedule, "observe", None)
            if observe is not None:
                observe(total / n)
            yield theta[None], [total / n], None, [step]


class _Unobserved:
    def __init__(self, schedule):
        self.schedule = schedule

    def __call__(self, t):
        return self.schedule(t)


class _BoundedObjective(DaskObjective):
    """The data form with the curvature bound of the moments (no Lanczos passes): a loss
    whose curvature is at most ``loss.curvature`` has a Hessian below that of half-MSE."""

    def __init__(self, data, coords, loss, gram):
        super().__init__(data, coords, loss)
        self.gram = gram

    def lipschitz(self, rtol=1e-2):
        return self.loss.curvature * self.gram.lipschitz(rtol)


def _fetch(parts):
    """Compute ``parts`` (tuples of Delayed) one after the other; on a distributed client the
    next one is computed while the caller works on the current one."""
    get = dask.base.get_scheduler()
    client = getattr(get, "__self__", None)
    if not hasattr(client, "gather"):
        for part in parts:
            yield dask.compute(*part)
        return
    ahead = client.compute(list(parts[0])) if parts else None
    for i in range(len(parts)):
        current = ahead
        if i + 1 < len(parts):
            ahead = client.compute(list(parts[i + 1]))
        yield client.gather(current)
