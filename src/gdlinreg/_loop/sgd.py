"""Mini-batch stochastic gradient descent: the textbook update on one batch at a time."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np

from .._problem.composite import Problem
from .._problem.data import DataObjective

if TYPE_CHECKING:
    from .._kernels.types import Blocks, Value
    from .._protocols.source import Batches
    from .run import Run


def sgd_iterates(run: Run) -> Blocks:
    """Mini-batch stochastic (proximal) gradient descent; one block per epoch.

    The source yields an epoch's batches (:func:`gdlinreg._data.arrays.batches`), in segments:
    all the rows in memory, one row chunk at a time for Dask (momentum restarting at each).
    The value reported for an epoch is the mean of its batch objectives (as scikit-learn's
    MLP reports), not a separate pass over the data.
    """
    options, coords, schedule = run.options, run.coords, run.schedule
    source = cast("Batches", run.source)  # (Options.for_source: mini-batches need Batches)
    n, theta, t = source.n_samples, run.theta, run.t0
    momentum, nesterov = options.momentum, options.nesterov
    velocity = np.zeros_like(theta)
    batch_size = cast(int, options.batch_size)  # (the "sgd" method is chosen only with one)
    if schedule.reacts_to_loss:
        schedule.bind(run.base, options.tol, options.n_iter_no_change)
    while True:
        total: Value = 0.0
        step = run.base * schedule(t)
        rng = cast("np.random.Generator", run.rng)  # (drawn for every mini-batch method)
        for m, segment in source.epoch(rng, batch_size, options.shuffle):
            if source.segmented:
                velocity = np.zeros_like(theta)
            part: Value = 0.0
            for Xb, Yb, pb in segment:
                batch = Problem(
                    DataObjective(Xb, Yb, pb, coords, options.loss),
                    coords,
                    options.penalty,
                    options.constraint,
                )
                step = run.base * schedule(t)
                look = theta + momentum * velocity if nesterov else theta
                value, grad = batch.value_and_gradient(look)
                shift = 0.0 if nesterov else momentum * velocity
                new = batch.prox(look - step * grad + shift, step)
                velocity = new - theta
                theta = new
                part += value * Yb.shape[0]
                t += 1
            # A segment's mean, pooled by its size (the whole epoch: its total as it is).
            total += float(part / m) * m if source.segmented else part
        epoch_value = total / n
        if schedule.reacts_to_loss:
            schedule.observe(float(epoch_value))
        yield theta[None], [epoch_value], None, [step]
