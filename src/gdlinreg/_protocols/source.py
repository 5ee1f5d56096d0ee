"""What the loop asks of the data: an objective form, and a source of data.

Implemented by the Gram and data forms (:mod:`gdlinreg._problem`) and by the sources
(:mod:`gdlinreg._data`): in memory, Dask, Array API. A source honours :class:`Source` (the
statistics) and, by what it can do, some of :class:`DataForm`, :class:`Batches`,
:class:`Rows` (or :class:`RowParts`) and :class:`Validated`, each whole: no stubs. The code
that needs one checks for it where the choice is made
(:meth:`gdlinreg._loop.options.Options.for_source`, :func:`honours`):

==============  ======  ========  =======  ========  =========
source          Source  DataForm  Batches  Rows      Validated
==============  ======  ========  =======  ========  =========
ArraySource     yes     yes       yes      yes       yes
DaskSource      yes     yes       yes      RowParts  yes
XpSource        yes     yes       yes      yes
MomentsSource   yes
StreamSource    yes     yes       yes
==============  ======  ========  =======  ========  =="""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

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


@runtime_checkable
class Source(Protocol):
    """What every source of a fit answers (:mod:`._data.arrays`, :mod:`._data.dask_source`,
    :mod:`._data.xp_source`): the data's shape and dtype, the passes over them so far, and
    their statistics, from which the Gram form is built (``_data.arrays.form_objective``).
    ``MomentsSource`` (the statistics ``partial_fit`` has merged) answers this and no more.

    What a source can do beyond, it declares by the narrower protocols below, each honoured
    whole: :class:`DataForm`, :class:`Batches`, :class:`Rows`, :class:`Validated`.
    """

    n_samples: int
    n_features: int
    n_targets: int
    one_target: bool
    dtype: np.dtype[Any]
    passes: int

    def prefer_gram(self) -> bool: ...

    def statistics(self, full: bool, minibatch: bool = ...) -> Moments: ...


@runtime_checkable
class DataForm(Source, Protocol):
    """A source whose rows can be read at every step: the data form of the objective (any
    loss), for ``precompute=False``, the Huber loss, and the full objective of mini-batch
    runs (``batches``)."""

    def data_objective(
        self, stats: Moments, coords: Coordinates, loss: Loss, batches: bool
    ) -> Objective: ...


@runtime_checkable
class Batches(DataForm, Protocol):
    """A source that yields mini-batches: the epochs of "sgd" and "svrg".

    ``segmented``: an epoch's batches come in segments (Dask's row chunks), momentum
    restarting at each.
    """

    segmented: bool

    def default_batch(self) -> int: ...

    def batch_curvature(
        self, coords: Coordinates, loss: Loss, lipschitz: float, batch_size: int
    ) -> float: ...

    def epoch(
        self, rng: np.random.Generator, batch_size: int, shuffle: bool
    ) -> Iterator[tuple[int, Iterator[Batch]]]: ...

    def updates_per_epoch(self, batch_size: int) -> int: ...


#: How iterative refinement reads rows: ``read(fn)`` runs ``fn(X, Y, p)`` over the parts
#: of the rows (one in memory; a Dask chunk each) and returns the results, one per part.
Reader = Callable[[Callable[[Any, Any, Any], Any]], list[Any]]


@runtime_checkable
class Rows(Source, Protocol):
    """A source whose rows iterative refinement can read (:mod:`.._loop.refine`): in memory
    (dense or CSR), or read from a device in blocks."""

    def rows(self) -> ArrayData | None: ...


@runtime_checkable
class RowParts(Source, Protocol):
    """A source whose rows come in parts that are never gathered (Dask's chunks):
    ``map_rows(fn)`` runs ``fn(X_part, Y_part, p_part)`` where each part lives (``p``: the
    weights normalised over all rows) and returns the results, one per part: a pass over the
    data for iterative refinement, of which only the results travel."""

    def map_rows(self, fn: Callable[[Any, Any, Any], Any]) -> list[Any]: ...


@runtime_checkable
class Validated(Source, Protocol):
    """A source that can carry a validation set: its objective and moments, for early
    stopping (None when this fit has none)."""

    def validation_objective(
        self, coords: Coordinates, gram: bool, loss: QuadraticLoss
    ) -> tuple[Objective, Moments] | None: ...


#: What :func:`honours` has found, by (class, protocol).
_HONOURED: dict[tuple[type, type], bool] = {}


def honours(source: Source, protocol: type) -> bool:
    """``isinstance(source, protocol)`` for the protocols above, remembered by class (a
    source's class honours one or not; the structural check costs some 10-20 us a call on
    Python 3.11, a few percent of a small fit)."""
    key = (type(source), protocol)
    found = _HONOURED.get(key)
    if found is None:
        found = _HONOURED[key] = isinstance(source, protocol)
    return found
