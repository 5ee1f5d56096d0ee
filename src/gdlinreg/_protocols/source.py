"""What the loop asks of the data: an objective form, and a source of data.

Implemented by the Gram and data forms (:mod:`gdlinreg._problem`) and by the sources
(:mod:`gdlinreg._data`): in memory, Dask, Array API.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from .._kernels.types import ArrayData, Batch, FloatArray, Value
    from .._problem.coordinates import Coordinates
    from .._problem.statistics import Moments
    from .registry import Loss, QuadraticLoss


class Objective(Protocol):
    """The objective forms the solver iterates on: the Gram and data forms of
    :mod:`gdlinreg._problem`, and Dask's chunked data form."""

    #: Whether a gradient costs a pass over the data (not O(p^2) from statistics).
    reads_data: bool
    #: The passes over the data it has made (the work counter of the result).
    passes: int

    def value_and_gradient(self, theta: FloatArray) -> tuple[Value, FloatArray]: ...

    def gradient(self, theta: FloatArray) -> FloatArray: ...

    def hessian_product(self, v: FloatArray) -> FloatArray: ...

    def lipschitz(self, rtol: float = ...) -> float: ...


class Source(Protocol):
    """Where the numbers of a fit come from (:mod:`._data.arrays`, :mod:`._data.dask_source`).

    ``segmented``: an epoch's batches come in segments (Dask's row chunks), momentum
    restarting at each. ``passes`` counts the passes over the data so far.
    """

    n_samples: int
    n_features: int
    n_targets: int
    one_target: bool
    dtype: np.dtype[Any]
    passes: int
    segmented: bool

    def prefer_gram(self) -> bool: ...

    def default_batch(self) -> int: ...

    def statistics(self, full: bool, minibatch: bool = ...) -> Moments: ...

    def objective(
        self, stats: Moments, coords: Coordinates, loss: Loss, form: str
    ) -> Objective: ...

    def batch_curvature(
        self, coords: Coordinates, loss: Loss, lipschitz: float, batch_size: int
    ) -> float: ...

    def epoch(
        self, rng: np.random.Generator, batch_size: int, shuffle: bool
    ) -> Iterator[tuple[int, Iterator[Batch]]]: ...

    def updates_per_epoch(self, batch_size: int) -> int: ...

    def rows(self) -> ArrayData | None: ...

    def validation_objective(
        self, coords: Coordinates, gram: bool, loss: QuadraticLoss
    ) -> tuple[Objective, Moments] | None: ...
