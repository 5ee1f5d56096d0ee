"""Type aliases and protocols of the NumPy core, for static type checking only.

Nothing here runs any code at import beyond defining classes and aliases: the protocols are
structural (``typing.Protocol``), so the losses, penalties, objectives and schedules need not
inherit from them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from ._objective import Coordinates, Moments

#: A float array: parameters ``theta`` (p, k) or stacks of them (..., p, k), gradients,
#: moments, coefficients. float64 inside the solver; X and the fitted coefficients may be
#: float32.
FloatArray: TypeAlias = NDArray[np.floating[Any]]

#: X as the core reads it: a dense float array or a scipy.sparse matrix or array (CSR or
#: CSC; Dask chunks in ``_data.dask_chunks``). SciPy ships no type information, so to the
#: type checker this is ``Any``: the alias only says what a signature takes.
Matrix: TypeAlias = Any

#: An objective value: a float for one ``theta`` (p, k), an array for a stack (..., p, k).
Value: TypeAlias = "float | FloatArray"

#: One block of iterates from a method: ``(thetas, values, gradients, steps)``, stacked on a
#: leading axis; the gradients are None where the method has none (mini-batches).
Block: TypeAlias = tuple[
    FloatArray, Sequence[Value] | FloatArray, FloatArray | None, Sequence[float] | FloatArray
]
Blocks: TypeAlias = Iterator[Block]

#: One block's product with a vector or matrix: ``v -> X_b v`` or ``r -> X_b' r``.
Product: TypeAlias = Callable[[FloatArray], FloatArray]

#: A step-size schedule: ``t -> factor`` (see :mod:`gdlinreg.schedules`).
Schedule: TypeAlias = Callable[[int], float]

#: ``learning_rate``: a float, "auto", a schedule name, or a schedule callable.
LearningRate: TypeAlias = "float | str | Schedule"


class StepSchedule(Protocol):
    """A schedule as the methods hold it (what :func:`gdlinreg.schedules.get_schedule`
    returns): ``t -> factor``, saying whether it reacts to the loss. One that does
    (``reacts_to_loss``) also answers ``bind``, ``observe`` and ``votes_stop``."""

    reacts_to_loss: bool

    def __call__(self, t: int) -> float: ...

    def bind(self, base: float, tol: float | None, patience: int) -> None: ...

    def observe(self, loss: float) -> None: ...

    def votes_stop(self) -> bool: ...


class Loss(Protocol):
    """What the solvers ask of a loss (see :mod:`gdlinreg.losses`)."""

    @property
    def name(self) -> str: ...

    @property
    def is_quadratic(self) -> bool: ...

    @property
    def curvature(self) -> float: ...

    def value(self, residual: FloatArray, weights: FloatArray) -> float: ...

    def derivative(self, residual: FloatArray) -> FloatArray: ...


class QuadraticLoss(Loss, Protocol):
    """A scaled square ``factor * r**2``: what the Gram form needs."""

    @property
    def factor(self) -> float: ...


class Penalty(Protocol):
    """What the solvers ask of a penalty (see :mod:`gdlinreg.penalties`)."""

    @property
    def l2(self) -> float: ...

    @property
    def is_smooth(self) -> bool: ...

    def value(self, coef: FloatArray, weights: FloatArray | float = ...) -> Value: ...

    def nonsmooth_value(self, coef: FloatArray, weights: FloatArray | float = ...) -> Value: ...

    def smooth_gradient(
        self, coef: FloatArray, weights: FloatArray | float = ...
    ) -> FloatArray: ...

    def prox(
        self, coef: FloatArray, step: FloatArray | float, weights: FloatArray | float = ...
    ) -> FloatArray: ...


class Constraint(Protocol):
    """A constraint on the coefficients: a penalty whose proximal map is a projection."""

    def project(self, theta: FloatArray, is_coef: NDArray[np.bool_]) -> FloatArray: ...


class Objective(Protocol):
    """The objective forms the solver iterates on: the Gram and data forms of
    :mod:`._objective`, and Dask's chunked data form."""

    #: Whether a gradient costs a pass over the data (not O(p^2) from statistics).
    reads_data: bool
    #: The passes over the data it has made (the work counter of the result).
    passes: int

    def value_and_gradient(self, theta: FloatArray) -> tuple[Value, FloatArray]: ...

    def gradient(self, theta: FloatArray) -> FloatArray: ...

    def hessian_product(self, v: FloatArray) -> FloatArray: ...

    def lipschitz(self, rtol: float = ...) -> float: ...


#: The data of the data form: ``(X, Y, p)``, p the normalised sample weights.
ArrayData: TypeAlias = "tuple[Matrix, FloatArray, FloatArray]"

#: One mini-batch ``(X_b, Y_b, p_b)``, its weights scaled to estimate the full gradient.
Batch: TypeAlias = "tuple[Matrix, FloatArray, FloatArray]"


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
