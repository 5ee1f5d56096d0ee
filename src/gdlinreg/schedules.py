"""Step-size schedules: callables ``step -> factor`` applied to the base step; one registry.

The step taken at update ``t`` (counting from 0) is ``base * schedule(t)``, where ``base`` is the
schedule's ``initial`` step if given, else the safe step :math:`1/L`. A plain Python callable
``f(t) -> factor`` works too (base :math:`1/L`).

To add a schedule, write one small class with ``__call__(t)`` (and, if it reacts to the loss,
``observe(loss)``) and add one line to :data:`SCHEDULES`; the contract test in
``tests/test_schedules.py`` picks it up.
"""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._typing import LearningRate, Schedule

__all__ = [
    "SCHEDULES",
    "Adaptive",
    "Constant",
    "ExponentialDecay",
    "InverseScaling",
    "get_schedule",
]


class Constant:
    """:math:`f(t) = 1`: the base step at every update.

    Examples
    --------
    >>> Constant()(0), Constant(initial=0.1)(7)
    (1.0, 1.0)
    """

    name = "constant"

    def __init__(self, initial: float | None = None) -> None:
        self.initial = initial

    def __call__(self, t: int) -> float:
        return 1.0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(initial={self.initial!r})"


class InverseScaling(Constant):
    """:math:`f(t) = (t + 1)^{-p}` with ``power_t`` :math:`p` (scikit-learn's "invscaling").

    The Robbins-Monro conditions (:math:`\\sum f = \\infty`, :math:`\\sum f^2 < \\infty`) that
    make stochastic gradient descent converge hold for :math:`1/2 < p \\le 1`.

    Examples
    --------
    >>> InverseScaling(power_t=0.5)(3)
    0.5
    """

    name = "invscaling"

    def __init__(self, power_t: float = 0.25, initial: float | None = None) -> None:
        self.power_t = power_t
        self.initial = initial

    def __call__(self, t: int) -> float:
        return float((t + 1.0) ** -self.power_t)


class ExponentialDecay(Constant):
    """:math:`f(t) = r^{t}` with ``decay_rate`` :math:`0 < r \\le 1`.

    Examples
    --------
    >>> ExponentialDecay(decay_rate=0.5)(2)
    0.25
    """

    name = "exponential"

    def __init__(self, decay_rate: float = 0.999, initial: float | None = None) -> None:
        self.decay_rate = decay_rate
        self.initial = initial

    def __call__(self, t: int) -> float:
        return self.decay_rate**t


class Adaptive(Constant):
    """Scikit-learn's "adaptive": :math:`f` starts at 1 and is divided by ``divisor`` (5)
    whenever the loss has failed to fall by more than ``tol`` (relative) for ``patience``
    consecutive observations (epochs for mini-batches, steps otherwise).

    Examples
    --------
    >>> s = Adaptive(patience=1)
    >>> for loss in (1.0, 0.5, 0.5):
    ...     s.observe(loss)
    >>> s(0)
    0.2
    """

    name = "adaptive"

    def __init__(
        self,
        divisor: float = 5.0,
        patience: int = 5,
        tol: float = 1e-4,
        initial: float | None = None,
    ) -> None:
        self.divisor = divisor
        self.patience = patience
        self.tol = tol
        self.initial = initial
        self.reset()

    def reset(self) -> None:
        """Forget the losses seen (called at the start of every fit)."""
        self._factor, self._best, self._stalled = 1.0, math.inf, 0

    def observe(self, loss: float) -> None:
        if loss < self._best * (1.0 - self.tol):
            self._best, self._stalled = loss, 0
            return
        self._stalled += 1
        if self._stalled >= self.patience:
            self._factor /= self.divisor
            self._stalled = 0

    def __call__(self, t: int) -> float:
        return self._factor


#: The schedule registry: ``learning_rate=<key>`` uses the class with its defaults.
SCHEDULES: dict[str, type[Constant]] = {
    cls.name: cls for cls in (Constant, InverseScaling, ExponentialDecay, Adaptive)
}


def get_schedule(learning_rate: LearningRate) -> tuple[Schedule, float | None]:
    """Return ``(schedule, initial)`` for a ``learning_rate`` that is a name or a callable.

    Examples
    --------
    >>> get_schedule("invscaling")
    (InverseScaling(initial=None), None)
    """
    if isinstance(learning_rate, str):
        try:
            schedule = SCHEDULES[learning_rate]()
        except KeyError:
            raise ValueError(
                f"learning_rate={learning_rate!r} is not valid; use a float > 0, 'auto', one "
                f"of {sorted(SCHEDULES)}, or a callable step -> factor."
            ) from None
        return schedule, None
    if callable(learning_rate):
        # A fit works on its own copy: a stateful schedule given as a parameter stays as given.
        own = copy.deepcopy(learning_rate)
        if hasattr(own, "reset"):
            own.reset()
        return own, getattr(own, "initial", None)
    raise TypeError(
        f"learning_rate must be a float, a string or a callable; got "
        f"{type(learning_rate).__name__}."
    )
