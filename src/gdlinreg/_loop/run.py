"""What every method starts from (:class:`Run`) and what it declares (:class:`Method`).

Below the methods and their registry, so that a method's module and the registry that lists it
both name these types without importing each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .._kernels.types import Blocks, FloatArray
    from .._problem.composite import Problem
    from .._problem.coordinates import Coordinates
    from .._protocols.registry import StepSchedule
    from .._protocols.source import Source
    from .options import Options


@dataclass
class Run:
    """What a method's iterations start from: the problem, the start, the step and the
    source (for the batches of "sgd" and "svrg")."""

    problem: Problem
    coords: Coordinates
    theta: FloatArray
    base: float
    safe_step: float
    schedule: StepSchedule
    options: Options
    source: Source
    rng: np.random.Generator | None = None
    t0: int = 0
    lanczos: list[tuple[FloatArray, FloatArray]] | None = None


@dataclass(frozen=True)
class Method:
    """One entry of :data:`~gdlinreg._loop.methods.METHODS`: its update rule and what it
    needs and reports.

    ``standardised``: iterates on centred, standardised coordinates (else the user's);
    ``quadratic``: needs a quadratic, smooth objective; ``batches``: mini-batches from the
    source (an iteration is an epoch); ``own_steps``: chooses its steps by exact line search
    (no curvature bound needed before the run); ``plain``: plain gradient steps, stable up to
    2/L; ``refines``: may finish on the data by iterative refinement; ``certified``: yields the
    full objective's gradient at every iterate, which the ``tol`` test reads (mini-batch epochs
    otherwise only propose a stop, see :mod:`.verdict`).
    """

    name: str
    iterates: Callable[[Run], Blocks]
    standardised: bool = True
    quadratic: bool = False
    batches: bool = False
    own_steps: bool = False
    plain: bool = False
    refines: bool = False
    certified: bool = False

    @property
    def unit(self) -> str:
        return "epoch" if self.batches else "step"
