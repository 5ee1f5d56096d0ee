"""Type aliases and protocols of the NumPy core, for static type checking only.

Nothing here runs any code at import beyond defining classes and aliases: the protocols are
structural (``typing.Protocol``), so the losses, penalties, objectives and schedules need not
inherit from them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypedDict

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from ._objective import Coordinates, Moments

#: A float array: parameters ``theta`` (p, k) or stacks of them (..., p, k), gradients,
#: moments, coefficients. float64 inside the solver; X and the fitted coefficients may be
#: float32.
FloatArray: TypeAlias = NDArray[np.floating[Any]]

#: X as the core reads it: a dense float array or a scipy.sparse matrix or array (CSR or
#: CSC; Dask chunks in ``_dask``). SciPy ships no type information, so to the type checker
#: this is ``Any``: the alias only says what a signature takes.
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
    def l1(self) -> float: ...

    @property
    def l2(self) -> float: ...

    def value(self, coef: FloatArray, weights: FloatArray | float = ...) -> Value: ...

    def smooth_gradient(
        self, coef: FloatArray, weights: FloatArray | float = ...
    ) -> FloatArray: ...

    def prox(
        self, coef: FloatArray, step: FloatArray | float, weights: FloatArray | float = ...
    ) -> FloatArray: ...


class Objective(Protocol):
    """The objective forms the solver iterates on: the Gram and data forms of
    :mod:`._objective`, and Dask's chunked data form."""

    #: Whether a gradient costs a pass over the data (not O(p^2) from statistics).
    reads_data: bool

    def value_and_gradient(self, theta: FloatArray) -> tuple[Value, FloatArray]: ...

    def hessian_product(self, v: FloatArray) -> FloatArray: ...

    def lipschitz(self, rtol: float = ...) -> float: ...


class DataSource(Protocol):
    """Data that build their own objective (Dask's row chunks)."""

    def objective(self, coords: Coordinates, loss: Loss) -> Objective: ...


class MiniBatchSource(DataSource, Protocol):
    """Data that run mini-batch SGD themselves (Dask's streamed row chunks,
    :class:`gdlinreg._dask_stream.ChunkStream`): the hooks of the solver's "sgd" branch."""

    def minibatch_curvature(
        self, coords: Coordinates, loss: Loss, lipschitz: float, batch_size: int
    ) -> float: ...

    def updates_per_epoch(self, batch_size: int) -> int: ...

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
        momentum: float = ...,
        nesterov: bool = ...,
        t0: int = ...,
    ) -> Blocks: ...


#: The data of the data form: ``(X, Y, p)``, p the normalised sample weights.
ArrayData: TypeAlias = "tuple[Matrix, FloatArray, FloatArray]"


class Prepared(TypedDict):
    """What ``prepare`` hands to ``solve``: the problem, checked, with its statistics."""

    stats: Moments
    data: ArrayData | DataSource | None
    method: str
    fixed: bool
    one_target: bool
    dtype: np.dtype[Any]
    use_gram: bool
    loss: Loss
    penalty: Penalty | None


class ProblemOptions(TypedDict):
    """The estimator's options that ``prepare`` checks (``GDLinearRegressor._problem_options``)."""

    loss: str | Loss
    epsilon: float
    penalty: str | Penalty | None
    alpha: float
    l1_ratio: float
    positive: bool
    solver: str
    learning_rate: LearningRate
    max_iter: int
    tol: float | None
    momentum: float
    line_search: bool
    batch_size: int | None
    n_iter_no_change: int
    precompute: bool | str
