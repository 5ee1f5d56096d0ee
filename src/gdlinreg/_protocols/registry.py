"""What an entry of a registry answers: a loss, a penalty, a constraint, a step schedule.

Structural protocols (``typing.Protocol``): the classes of :mod:`gdlinreg.losses`,
:mod:`gdlinreg.penalties` and :mod:`gdlinreg.schedules` need not inherit from them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from .._kernels.types import FloatArray, Value


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


class StepSchedule(Protocol):
    """A schedule as the methods hold it (what :func:`gdlinreg.schedules.get_schedule`
    returns): ``t -> factor``, saying whether it reacts to the loss. One that does
    (``reacts_to_loss``) also answers ``bind``, ``observe`` and ``votes_stop``."""

    reacts_to_loss: bool

    def __call__(self, t: int) -> float: ...

    def bind(self, base: float, tol: float | None, patience: int) -> None: ...

    def observe(self, loss: float) -> None: ...

    def votes_stop(self) -> bool: ...
