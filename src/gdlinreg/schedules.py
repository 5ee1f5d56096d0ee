"""Step-size schedules: callables ``step -> factor`` applied to the base step; one registry.

The step taken at update ``t`` (counting from 0) is ``base * schedule(t)``, where ``base`` is the
schedule's ``initial`` step if given, else the safe step :math:`1/L`. A plain Python callable
``f(t) -> factor`` works too (base :math:`1/L`).

To add a schedule, write one small class with ``__call__(t)`` and add one line to
:data:`SCHEDULES`; the contract test in ``tests/test_schedules.py`` picks it up. A schedule that
reacts to the loss says so: ``reacts_to_loss = True``, with ``bind(base, tol, patience)``
(called as a fit starts), ``observe(loss)`` (after every step, or epoch for mini-batches) and
``votes_stop()`` (whether a mini-batch fit should stop now), as :class:`Adaptive` does. The
methods read that flag and nothing else.
"""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from collections.abc import Callable

    from ._kernels.types import LearningRate
    from ._protocols.registry import StepSchedule

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
    #: Whether the factor depends on the losses observed (see :class:`Adaptive`).
    reacts_to_loss = False

    def __init__(self, initial: float | None = None) -> None:
        self.initial = initial

    def __call__(self, t: int) -> float:
        return 1.0

    # A schedule that does not react to the loss ignores what a fit tells it.
    def bind(self, base: float, tol: float | None, patience: int) -> None:
        """Start a fit with base step ``base`` (only a reacting schedule cares)."""

    def observe(self, loss: float) -> None:
        """See one step's (or epoch's) loss (only a reacting schedule cares)."""

    def votes_stop(self) -> bool:
        """Whether the fit should stop now: never, for a schedule that ignores the loss."""
        return False

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
    """Scikit-learn's "adaptive" (``SGDRegressor(learning_rate="adaptive")``): :math:`f`
    starts at 1; whenever ``patience`` consecutive observations (epochs for mini-batches,
    steps otherwise) each failed to come below the best loss seen minus ``tol``, it is divided
    by ``divisor`` (5), as long as the step ``base * f`` is above ``min_step`` (1e-6); once it
    is not, the schedule proposes that the fit stop (see :meth:`votes_stop`).

    ``patience=None`` and ``tol=None`` take the fit's ``n_iter_no_change`` and ``tol`` (as
    scikit-learn's rule does; a fit with ``tol=None`` never divides), or 5 and 1e-3 (its
    defaults) outside a
    fit. For mini-batches this rule replaces the fit's own stop proposal (the epoch loss not
    improving by ``tol`` for ``n_iter_no_change`` epochs): the step is divided instead of
    stopping, and the stop is proposed only once the step cannot be divided. Where it differs
    from scikit-learn: a proposed stop is still certified on the full objective (the ``tol``
    criterion of ``GDLinearRegressor``; the fit goes on while the full gradient map still
    shrinks, else it is "stalled"); the observed loss is the mean of the epoch's batch
    objectives (penalty included); with a validation set, the validation score's early
    stopping ends the fit (scikit-learn divides the step there too); and full-batch "gd" is
    ended by its ``tol`` test or ``max_iter``, not by the schedule.

    Examples
    --------
    >>> s = Adaptive(patience=1)
    >>> for loss in (1.0, 0.5, 0.5):
    ...     s.observe(loss)
    >>> s(0)
    0.2
    """

    name = "adaptive"
    reacts_to_loss = True

    def __init__(
        self,
        divisor: float = 5.0,
        patience: int | None = None,
        tol: float | None = None,
        initial: float | None = None,
        min_step: float = 1e-6,
    ) -> None:
        self.divisor = divisor
        self.patience = patience
        self.tol = tol
        self.initial = initial
        self.min_step = min_step
        self.bind(1.0, 1e-3, 5)

    def bind(self, base: float, tol: float | None, patience: int) -> None:
        """Start a fit whose base step is ``base`` (the fit's ``tol`` and ``n_iter_no_change``
        standing in for ``tol=None`` and ``patience=None``): called by the methods."""
        self._base = base
        tol = self.tol if self.tol is not None else tol
        self._tol = -math.inf if tol is None else tol
        self._patience = self.patience if self.patience is not None else patience
        self.reset()

    def reset(self) -> None:
        """Forget the losses seen (called at the start of every fit)."""
        self._factor, self._best, self._stalled, self._exhausted = 1.0, math.inf, 0, False

    def observe(self, loss: float) -> None:
        # scikit-learn's _plain_sgd: no improvement unless below best - tol; best is the
        # running minimum.
        if loss > self._best - self._tol:
            self._stalled += 1
        else:
            self._stalled = 0
        self._best = min(self._best, loss)
        if self._stalled >= self._patience:
            if self._base * self._factor > self.min_step:
                self._factor /= self.divisor
                self._stalled = 0
            else:
                self._exhausted = True

    def votes_stop(self) -> bool:
        """Whether the fit should stop now (the step can be divided no more); asking starts
        the count afresh. A schedule with this method owns the mini-batch stop proposal."""
        vote, self._exhausted = self._exhausted, False
        if vote:
            self._stalled = 0
        return vote

    def __call__(self, t: int) -> float:
        return self._factor


class Function(Constant):
    """A plain callable ``t -> factor`` given as ``learning_rate``, as a schedule that does
    not react to the loss."""

    name = "function"

    def __init__(self, function: Callable[[int], float], initial: float | None = None) -> None:
        self.function = function
        self.initial = initial

    def __call__(self, t: int) -> float:
        return float(self.function(t))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.function!r})"


#: The schedule registry: ``learning_rate=<key>`` uses the class with its defaults.
SCHEDULES: dict[str, type[Constant]] = {
    cls.name: cls for cls in (Constant, InverseScaling, ExponentialDecay, Adaptive)
}


def get_schedule(learning_rate: LearningRate) -> tuple[StepSchedule, float | None]:
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
        initial = getattr(own, "initial", None)
        # A callable of the user's own that does not declare whether it reacts to the loss
        # (a function, a lambda) does not: the methods then read one flag, never probe.
        if not hasattr(own, "reacts_to_loss"):
            own = Function(own, initial)
        return cast("StepSchedule", own), initial
    raise TypeError(
        f"learning_rate must be a float, a string or a callable; got "
        f"{type(learning_rate).__name__}."
    )
