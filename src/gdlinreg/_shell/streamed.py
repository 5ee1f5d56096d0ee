"""``partial_fit`` for a loss without a Gram form (Huber) with the "auto" step: a stream.

One epoch of mini-batch gradient descent over the batch, as with any step, but in the
coordinates of the whole stream: the running means and spreads of X's columns (the batch's
moments merged into those of every batch seen, :class:`~gdlinreg._data.stream.StreamSource`)
centre and standardise the columns, and the intercept is a coordinate of that centred problem.
The step is ``1/L`` of the batch's curvature there. A fresh model first fits its first batch
(the Huber fit ``fit`` gives on it), so that the stream starts at y's level and scale, where
one bounded Huber step per batch could not have travelled.

No ``tol`` test runs (the full objective of a stream is never at hand): the result says
"max_iter" and no ``ConvergenceWarning`` follows. A numeric ``learning_rate`` or a schedule
keeps the textbook epoch in the user's coordinates (:func:`.fit.fit_model`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .._data.stream import StreamSource
from .._loop.options import Options
from .._loop.solve import solve
from .._problem.coordinates import Start

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .._loop.result import GDResult
    from .._loop.solve import Callbacks
    from .._problem.statistics import Moments
    from .._protocols.source import Batches


def streams(params: Mapping[str, Any]) -> bool:
    """Whether ``partial_fit`` runs the stream of this module: the "auto" step."""
    rate = params["learning_rate"]
    return isinstance(rate, str) and rate == "auto"


def fit_streamed(
    params: Mapping[str, Any],
    source: Batches,
    start: Start,
    memory: Moments | None,
    callbacks: Callbacks | None = None,
) -> tuple[GDResult, Moments]:
    """One ``partial_fit`` step of the stream on ``source`` (the batch), continuing from
    ``start`` and the running statistics ``memory`` (None: they start with this batch).
    Returns the result of the epoch and the running statistics to keep."""
    stream = StreamSource(source, memory)
    if start.label is None:  # a fresh model: from the Huber fit of its first batch
        start = _first_fit(params, stream, start.step)
    batch = params["batch_size"] or stream.default_batch()
    epoch = {**params, "batch_size": batch, "solver": "gd", "max_iter": 1, "tol": None}
    options = replace(Options.from_params(epoch), standardise=True)
    result, _ = solve(stream, options, start, callbacks)
    return result, stream.merged


def _first_fit(params: Mapping[str, Any], stream: StreamSource, step: int) -> Start:
    """Where a fresh stream starts: the fit of its first batch by the full-batch method
    ``fit`` would choose (Newton's for Huber), with the model's penalty, ``tol`` and
    ``max_iter``."""
    full = {
        **params,
        "solver": "auto",
        "batch_size": None,
        "momentum": 0.0,
        "nesterovs_momentum": False,
        "line_search": False,
        "precompute": "auto",
        "return_path": False,
    }
    found, _ = solve(stream, Options.from_params(full), Start())
    return Start(found.coef, found.intercept, step, label="partial_fit")
